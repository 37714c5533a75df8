"""Machine-checkable certificates for one group at one cutoff.

A certificate is a JSON document (stable key order) recording four exact checks
on derive's output (issue 2):

1. invariance: for every basis function, every operation and every term, the
   image term is a term of the same function with the right exact phase,
   i.e. a_{R^T m} = a_m e(m.t), with the coefficients a_m = 1/2 e(p/48)
   stored as integers (and, optionally, SymPy's exact residual of f(g x) - f(x));
2. absences: every absent frequency with a witness operation, each re-checked;
3. completeness: dim equals the character formula, computed independently of
   the orbit code (:func:`crystal_fourier.derive.character_dimension`);
4. independence: distinct functions have disjoint frequency support or are the
   Re/Im pair of one orbit.

Everything here is integer arithmetic on derive's output; SymPy enters only in
the optional residual check.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np

from crystal_fourier._version import __version__
from crystal_fourier.derive import DEN, character_dimension, systematic_absences
from crystal_fourier.derive._absences import is_witness
from crystal_fourier.derive._real_bases import PHASE_DEN

if TYPE_CHECKING:
    from crystal_fourier.derive import Basis, RealBasis

__all__ = ["CHECKS", "certificate", "complex_coefficients", "check_invariance", "check_absences",
           "check_completeness", "check_independence", "check_sympy", "certificate_json", "check_plane_group",
           "PLANE_CHECKS"]

CHECKS = ("invariance", "absences", "completeness", "independence")
PLANE_CHECKS = ("reflection_conditions", "structure_factor")
"""The checks a plane group's certificate adds to :data:`CHECKS` (:func:`check_plane_group`)."""


def complex_coefficients(real_basis: RealBasis) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fourier coefficients of every real basis function, exactly.

    Returns ``(function, frequency, phase_48)`` arrays of equal length: the
    function has coefficient (1/2) e(phase_48/48) at that frequency index
    (the cosine term (m, p) gives 1/2 e(p/48) at m and 1/2 e(-p/48) at -m).
    The constant k = 0 term appears twice with phase 0 (1/2 + 1/2 = 1).

    Parameters
    ----------
    real_basis : RealBasis
        The real basis whose terms are expanded.

    Returns
    -------
    function : numpy.ndarray
        shape=(2 t,), int64: the function index of each coefficient (t = number of cosine terms).
    frequency : numpy.ndarray
        shape=(2 t,), int64: the frequency index.
    phase_48 : numpy.ndarray
        shape=(2 t,), int64: the phase in 48ths, 0-47.
    """
    frequencies = real_basis.decomposition.graph.frequencies
    negatives = frequencies.index(-frequencies.hkl)
    function = np.concatenate([real_basis.term_function, real_basis.term_function])
    frequency = np.concatenate([real_basis.term_frequency, negatives[real_basis.term_frequency]])
    phase = np.concatenate([real_basis.term_phase_48, (-real_basis.term_phase_48) % PHASE_DEN])
    return function, frequency, phase


def check_invariance(basis: Basis) -> dict:
    """Check a_{R^T m} = a_m e(m.t) for every function, operation and term, exactly.

    The coefficient table is keyed by (function, frequency); the image of each
    term under each operation must be present with phase p + 2 (m . t24) mod 48.

    Parameters
    ----------
    basis : Basis
        A derived basis.

    Returns
    -------
    dict
        ``{"ok", "terms_checked", "failures"}`` (at most 20 failures, each a function, operation and
        frequency).
    """
    function, frequency, phase = complex_coefficients(basis.real)
    n_frequencies = len(basis.frequencies)
    key = function * n_frequencies + frequency
    order = np.argsort(key, kind="stable")
    sorted_key, sorted_phase = key[order], phase[order]
    image, phase_24 = basis.graph.image, basis.graph.phase_24
    failures = []
    n_checked = 0
    for g, operation in enumerate(basis.group.operations):
        image_key = function * n_frequencies + image[frequency, g]
        expected = (phase + 2 * phase_24[frequency, g]) % PHASE_DEN
        position = np.clip(np.searchsorted(sorted_key, image_key), 0, max(len(sorted_key) - 1, 0))
        ok = (sorted_key[position] == image_key) & (sorted_phase[position] == expected)
        n_checked += len(ok)
        for index in np.flatnonzero(~ok)[:5]:
            failures.append({
                "function": int(function[index]),
                "operation": operation.xyz,
                "frequency": basis.frequencies.hkl[frequency[index]].tolist(),
            })
    return {"ok": not failures, "terms_checked": n_checked, "failures": failures[:20]}


def check_absences(basis: Basis) -> dict:
    """Every absent frequency with its witness (re-checked), and no function touches one.

    Parameters
    ----------
    basis : Basis
        A derived basis.

    Returns
    -------
    dict
        ``{"ok", "n_absent_frequencies", "absent", "failures"}``: ``absent`` lists each absent
        frequency with its witness (operation index and xyz).
    """
    absences = systematic_absences(basis.decomposition)
    records = []
    failures = []
    operations = basis.group.operations
    index_of = {op: i for i, op in enumerate(operations)}
    for hkl, witness in absences:
        if not is_witness(witness, hkl):
            failures.append({"frequency": list(hkl), "witness": witness.xyz})
        records.append({"hkl": list(hkl), "witness": index_of[witness], "xyz": witness.xyz})
    _, frequency, _ = complex_coefficients(basis.real)
    absent_frequency = basis.decomposition.absent[basis.decomposition.orbit_of]
    touching = np.flatnonzero(absent_frequency[frequency])
    for index in touching[:5]:
        failures.append({"frequency": basis.frequencies.hkl[frequency[index]].tolist(),
                         "reason": "a basis function has a coefficient on an absent frequency"})
    # Every frequency not fixed by a violating operation must be present (absence is exactly the rule).
    stabilizes = basis.graph.image == np.arange(len(basis.frequencies))[:, None]
    rule = np.any(stabilizes & (basis.graph.phase_24 != 0), axis=1)
    if not np.array_equal(rule, absent_frequency):
        failures.append({"reason": "absent set differs from the rule R^T k = k, k.t not integer"})
    return {"ok": not failures, "n_absent_frequencies": len(records), "absent": records, "failures": failures}


def check_completeness(basis: Basis) -> dict:
    """dim == character formula (independent of the orbit code).

    Parameters
    ----------
    basis : Basis
        A derived basis.

    Returns
    -------
    dict
        ``{"ok", "dim", "character_formula"}``.
    """
    expected = character_dimension(basis.group, basis.frequencies.hkl)
    return {"ok": expected == basis.dim, "dim": basis.dim, "character_formula": expected}


def check_independence(basis: Basis) -> dict:
    """Supports of distinct functions are disjoint unless they are the Re/Im pair of one orbit.

    Parameters
    ----------
    basis : Basis
        A derived basis.

    Returns
    -------
    dict
        ``{"ok", "failures"}`` (at most 20 failures, each a shared frequency and its functions).
    """
    function, frequency, _ = complex_coefficients(basis.real)
    owners: dict[int, set[int]] = {}
    for f, m in zip(function.tolist(), frequency.tolist(), strict=True):
        owners.setdefault(m, set()).add(f)
    failures = []
    for m, functions in owners.items():
        if len(functions) == 1:
            continue
        orbits = {int(basis.real.orbit[f]) for f in functions}
        parts = sorted(basis.real.part[f] for f in functions)
        if len(functions) != 2 or len(orbits) != 1 or parts != ["im", "re"]:
            failures.append({"frequency": basis.frequencies.hkl[m].tolist(), "functions": sorted(functions)})
    return {"ok": not failures, "failures": failures[:20]}


def check_sympy(basis: Basis, max_functions: int | None = None) -> dict:
    """SymPy's exact residual f(g x) - f(x) is 0 for every function and operation.

    Parameters
    ----------
    basis : Basis
        A derived basis.
    max_functions : int, optional
        Check only the first ``max_functions`` functions; all by default.

    Returns
    -------
    dict
        ``{"ok", "functions_checked", "failures"}`` (at most 20 failures, each with its residual).
    """
    from crystal_fourier.derive._symbolic_forms import closed_form, invariance_residual

    functions = basis.real.functions()[:max_functions]
    failures = []
    for index, function in enumerate(functions):
        expression = closed_form(function)
        for operation in basis.group.operations:
            residual = invariance_residual(expression, operation)
            if residual != 0:
                failures.append({"function": index, "operation": operation.xyz, "residual": str(residual)})
    return {"ok": not failures, "functions_checked": len(functions), "failures": failures[:20]}


def check_plane_group(basis: Basis) -> dict:
    """A plane group's own checks: its reflection conditions and its structure-factor forms.

    ``reflection_conditions``: on every frequency (h, k) of the basis, Volume A's conditions
    (:func:`~crystal_fourier.derive.plane_reflection_conditions`) hold exactly where the orbit is
    present. ``structure_factor``: the plane group's forms in h, k and x, y are certified by
    :func:`structure_factor_certificate` (``plane=True``), an exact identity.

    Parameters
    ----------
    basis : Basis
        A plane group's basis (``basis("p4gm", ...)``).

    Returns
    -------
    dict
        ``{"reflection_conditions": {...}, "structure_factor": {...}}``, each with ``ok``.
    """
    from crystal_fourier.derive._reflection_conditions import allowed_mask
    from crystal_fourier.derive._plane_groups import plane_group_document, plane_zone_conditions
    from crystal_fourier.proofs._structure_factor_certificates import structure_factor_certificate

    plane = basis.plane_group
    decomposition = basis.decomposition
    present = ~decomposition.absent[decomposition.orbit_of]
    allowed = allowed_mask(plane_zone_conditions(plane), basis.frequencies.hkl)
    wrong = np.flatnonzero(allowed != present)
    forms = structure_factor_certificate(plane_group_document(plane), plane=True)
    return {
        "reflection_conditions": {"ok": not len(wrong), "frequencies_checked": len(present),
                                  "failures": [basis.frequencies.hkl[i, :2].tolist() for i in wrong[:20]]},
        "structure_factor": {"ok": bool(forms["ok"]), "classes": len(plane_group_document(plane)["classes"]),
                             "failures": forms["failures"][:20]},
    }


def certificate(basis: Basis, *, sympy: bool = False) -> dict:
    """The certificate of one derived basis: all checks, exact, in a JSON-ready dict.

    Parameters
    ----------
    basis : Basis
        A basis from :func:`crystal_fourier.derive.basis`.
    sympy : bool
        Also prove f(g x) - f(x) = 0 for the closed forms with SymPy (slower).

    Returns
    -------
    dict
        ``ok`` (all checks passed) and one entry per check: ``invariance``, ``absences``,
        ``completeness`` (``dim`` against the exact character formula), ``independence``
        (and ``sympy`` when asked), each with its own ``ok`` and the numbers it checked. A plane
        group's certificate also has ``reflection_conditions`` and ``structure_factor``
        (:func:`check_plane_group`), and ``plane_group``, ``symbol``, ``embedding_hall_number``
        in place of ``sg``, ``hall_number``, ``symbol``.

    Examples
    --------
    >>> from crystal_fourier.derive import basis
    >>> c = certificate(basis(227, 2, "box"))
    >>> c["ok"], c["completeness"]["dim"], c["completeness"]["character_formula"]
    (True, 4, 4)
    """
    checks = {
        "invariance": check_invariance(basis),
        "absences": check_absences(basis),
        "completeness": check_completeness(basis),
        "independence": check_independence(basis),
    }
    if sympy:
        checks["sympy"] = check_sympy(basis)
    plane = basis.plane_group
    if plane is not None:
        checks.update(check_plane_group(basis))
    head = ({"sg": basis.group.number, "hall_number": basis.group.hall_number, "symbol": basis.group.symbol}
            if plane is None else
            {"plane_group": plane.number, "symbol": plane.symbol, "embedding_hall_number": basis.group.hall_number})
    return {
        "generator": f"crystal_fourier {__version__}",
        **head,
        "shell": basis.frequencies.shell,
        "cutoff": basis.frequencies.cutoff,
        "n_operations": len(basis.group.operations),
        "translation_denominator": DEN,
        "dim": basis.dim,
        **checks,
        "ok": all(check["ok"] for check in checks.values()),
    }


def certificate_json(document: dict) -> str:
    """Stable JSON text of a certificate (sorted keys, trailing newline).

    Parameters
    ----------
    document : dict
        A JSON-ready certificate.

    Returns
    -------
    str
        Indented JSON with sorted keys and a trailing newline.
    """
    return json.dumps(document, sort_keys=True, indent=1) + "\n"
