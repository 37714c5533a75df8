"""Run an audit: every chosen re-description of every crystal, compared with the mapped reference outputs."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from crystal_fourier.audit._adapters import ModelAdapter
from crystal_fourier.audit._calls import ModelError, guarded_calls
from crystal_fourier.audit._claims import Claim, audit_tolerance
from crystal_fourier.audit._kinds import KINDS, parse_kinds, redescriptions
from crystal_fourier.audit._redescriptions import Redescription
from crystal_fourier.audit._report_files import write_report
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime import Crystal

__all__ = ["Check", "AuditReport", "audit"]

QUANTITIES = ("energy", "forces", "stress", "elastic")


@dataclass(frozen=True)
class Check:
    """One comparison: a quantity of one re-description against the mapped reference.

    Attributes
    ----------
    crystal : str
        Name of the audited crystal. ``group`` its space-group number (spglib, default symprec).
    kind, label : str
        The re-description (see :class:`~crystal_fourier.audit.Redescription`).
    quantity : str
        ``energy``, ``forces``, ``stress`` or ``elastic`` (a rank-4 stiffness tensor).
    error : float
        max |expected - got| in the output's units.
    scale, tolerance : float
        max(1, max |reference|) and the tolerance it gives (:func:`audit_tolerance`).
    float64_error : float or None
        The error of a float64 rerun, when the model is float32, failed, and can run in float64.
    float64_tolerance : float or None
        What the rerun is held to (None: :func:`audit_tolerance` in float64; the ``continuity``
        kind gives its own).
    detail : str
        What the model gave on this case, beyond the error, in words (``continuity``: the fourth
        differences per step, and the groups on a failed path); the label names the case only.
    """

    crystal: str
    group: int
    kind: str
    label: str
    quantity: str
    error: float
    scale: float
    tolerance: float
    float64_error: "float | None" = None
    float64_tolerance: "float | None" = None
    detail: str = ""

    @property
    def failed(self) -> bool:
        """Above tolerance, and not explained by float32 round-off (a float64 rerun within its tolerance)."""
        if not self.error > self.tolerance:
            return False
        if self.float64_error is None:
            return True
        limit = audit_tolerance(np.float64, self.scale) if self.float64_tolerance is None else self.float64_tolerance
        return not self.float64_error <= limit

    @property
    def ratio(self) -> float:
        """error / tolerance (above 1: over the tolerance)."""
        return self.error / self.tolerance

    @property
    def roundoff(self) -> bool:
        """Above the float32 tolerance but within float64's on a float64 rerun."""
        return self.error > self.tolerance and not self.failed


@dataclass(frozen=True, eq=False)
class AuditReport:
    """The result of :func:`audit`: every check, the claim, the model, and the failing cases.

    ``cases`` maps (crystal, kind, label) to the Redescription and the two output dicts
    (reference mapped, and got), kept for the reproducer scripts of failures. ``errors`` lists
    the model calls that raised or timed out (:class:`~crystal_fourier.audit.ModelError`);
    ``skipped_improper`` counts the improper group operations left out under an SE3 claim;
    ``notes`` are lines for the reader (the model's declared symmetry, kinds that had nothing to check).
    """

    model: str
    spec: "str | None"
    claim: Claim
    dtype: str
    checks: tuple[Check, ...]
    kinds: tuple[str, ...]
    crystals: int
    seconds: float = 0.0
    model_seconds: float = 0.0
    cases: dict = field(default_factory=dict, repr=False)
    errors: "tuple[ModelError, ...]" = ()
    skipped_improper: int = 0
    notes: tuple[str, ...] = ()

    @property
    def failures(self) -> tuple[Check, ...]:
        """The failed checks, worst (largest error / tolerance) first."""
        return tuple(sorted((c for c in self.checks if c.failed), key=lambda c: -c.error / c.tolerance))

    @property
    def failing_kinds(self) -> tuple[str, ...]:
        """Kinds with at least one failure, in report order."""
        bad = {c.kind for c in self.checks if c.failed}
        return tuple(k for k in KINDS if k in bad)

    @property
    def ok(self) -> bool:
        """No failure."""
        return not any(c.failed for c in self.checks)

    def write(self, out: "str | os.PathLike[str]", *, picture: bool = True) -> dict:
        """Write the report files into directory ``out`` (see :func:`~crystal_fourier.audit.write_report`).

        Parameters
        ----------
        out : str or os.PathLike
            The directory to write (created if needed).
        picture : bool, default True
            Also draw summary.png.

        Returns
        -------
        dict of str to pathlib.Path
            File name -> path written, as :func:`~crystal_fourier.audit.write_report` returns.
        """
        return write_report(self, out, picture=picture)

    def summary(self, worst: int = 3) -> list[dict]:
        """One row per (kind, quantity): n, max, median, above (count over tolerance, round-off
        excluded), roundoff, tolerance (largest used) and the ``worst`` crystals with their group,
        re-description, error and error / tolerance (``ratio``).

        Parameters
        ----------
        worst : int, default 3
            How many of the worst checks to list per row.

        Returns
        -------
        list of dict
        """
        rows = []
        quantities = [*QUANTITIES, *sorted({c.quantity for c in self.checks} - set(QUANTITIES))]
        for kind in self.kinds:
            for quantity in quantities:
                chosen = [c for c in self.checks if c.kind == kind and c.quantity == quantity]
                if not chosen:
                    continue
                errors = np.array([c.error for c in chosen])
                ranked = sorted(chosen, key=lambda c: -c.error / c.tolerance)[:worst]
                rows.append({
                    "kind": kind, "quantity": quantity, "n": len(chosen), "max": float(errors.max()),
                    "median": float(np.median(errors)), "above": sum(c.failed for c in chosen),
                    "roundoff": sum(c.roundoff for c in chosen), "tolerance": max(c.tolerance for c in chosen),
                    "worst": [{"crystal": c.crystal, "group": c.group, "label": c.label, "detail": c.detail,
                               "error": c.error, "ratio": c.ratio} for c in ranked]})
        return rows

    def assert_ok(self) -> dict[str, np.ndarray]:
        """Raise AssertionError naming the worst failure; return the measured errors per kind.

        In the style of :func:`crystal_fourier.testing.assert_invariant`: the message names the
        crystal, its group, the re-description, the quantity, the error and the tolerance.

        Returns
        -------
        dict
            kind -> numpy.ndarray of the errors / tolerance of its checks.
        """
        __tracebackhide__ = True
        failures = self.failures
        if failures:
            worst = failures[0]
            kinds = ", ".join(f"{k} ({sum(c.kind == k for c in failures)})" for k in self.failing_kinds)
            raise AssertionError(
                f"{self.model} breaks its claim ({self.claim.describe()}) in {len(failures)} of "
                f"{len(self.checks)} checks, kinds {kinds}; worst: {worst.quantity} of crystal {worst.crystal} "
                f"(sg{worst.group}) under {worst.kind} '{worst.label}': error {worst.error:.3g} > tolerance "
                f"{worst.tolerance:.3g}" + (f" ({worst.detail})" if worst.detail else ""))
        return {kind: np.array([c.error / c.tolerance for c in self.checks if c.kind == kind]) for kind in self.kinds}


def _compare(case: Redescription, reference: dict, got: dict, claim: Claim,
             declared: "dict[str, str] | None" = None) -> list[tuple[str, float, float]]:
    """(quantity, error, scale) for each claimed quantity both outputs have; ``declared`` adds the
    adapter's other outputs, name -> how they transform (``'vectors'``, ``'pseudotensor'``, ...)."""
    found = []
    expected_energy = case.expected("scalar", reference["energy"], extensive=claim.energy == "extensive")
    scale = max(1.0, abs(float(expected_energy)))
    found.append(("energy", float(abs(expected_energy - got["energy"])), scale))
    # elastic: a model's rank-4 stiffness tensor (3, 3, 3, 3), checked whenever the model returns it
    extra = [(name, mapping, True) for name, mapping in (declared or {}).items()]
    for quantity, mapping, wanted in (("forces", "vectors", claim.forces), ("stress", "tensor", claim.stress),
                                      ("elastic", "tensor", True), *extra):
        if wanted and quantity in reference and quantity in got:
            expected = case.expected(mapping, reference[quantity])
            if expected.shape != got[quantity].shape:
                raise CrystalFourierError(f"{quantity} of shape {got[quantity].shape}, expected {expected.shape}")
            found.append((quantity, float(np.max(np.abs(expected - got[quantity]), initial=0.0)),
                          max(1.0, float(np.max(np.abs(reference[quantity]), initial=0.0)))))
    return found


def audit(model: object, crystals: Iterable[Crystal], *,  # noqa: PLR0913 - keyword-only options of one run
          claim: Claim | None = None, kinds: "Iterable[str] | str" = KINDS, per_kind: int | None = 2,
          seed: int = 0, names: Iterable[str] | None = None, symprec: float | None = None,
          progress: bool | None = False, max_atoms: int | None = None, dtype: "str | None" = None,
          timeout: float | None = None, workers: int = 1, scheduler: str | None = None,
          journal: "str | os.PathLike[str] | None" = None, resume: bool = False) -> AuditReport:
    """Check ``model`` on every chosen exact re-description of each crystal.

    For each crystal the model is called once on each description; outputs are carried from
    the original to the new description by the exact atom map and frame change
    (:meth:`Redescription.expected`) and compared with what the model returns there, per
    quantity, against :func:`audit_tolerance` (per dtype, scaled by the output). A float32
    model's failures are rerun in float64 when the adapter can, and reported as round-off
    when that rerun is within the float64 tolerance.

    Parameters
    ----------
    model : ModelAdapter, callable, ASE calculator, or str
        See :func:`~crystal_fourier.audit.as_model`.
    crystals : iterable of Crystal
    claim : Claim, optional
        Default ``Claim()``: E(3), extensive energy, forces and stress.
    kinds : iterable of str or str
        Kinds of re-description (:data:`KINDS`), or ``'all'`` / a comma list.
    per_kind : int or None
        Random members drawn per kind and crystal (None: all of the finite kinds); for
        ``derivatives``, the random directions per quantity and cell handedness (None: 3).
    seed : int
        Seed of the draws (the same seed gives the same audit). Each (crystal, kind) has its own
        stream, seeded by (seed, crystal index, kind index): a kind draws the same cases whichever
        other kinds run.
    names : iterable of str, optional
        A name per crystal for the report (default ``crystal-0``, ...).
    symprec : float, optional
        Tolerance of the symmetry detection (default the standardization's).
    progress : bool or None
        Show a progress bar on stderr (None: when it is a terminal).
    max_atoms : int, optional
        Skip re-descriptions with more atoms than this (bounds the time and memory of one model call).
    dtype : {'float32', 'float64', 'auto'} or None
        The precision the model computes in, which sets the tolerance; None or ``'auto'``: the
        adapter's (read from torch parameters where there are some, else float64). ``'float64'``
        for a float32 adapter with a float64 twin (:meth:`ModelAdapter.in_float64`) runs the twin.
    timeout : float, optional
        Seconds one model call may take (POSIX, main thread); a call past it is a model error.
    workers : int, default 1
        Local worker processes, one crystal per chunk (:func:`crystal_fourier._engine.map_in_order`);
        each builds the model once from its spec (a model without one is pickled to them).
    scheduler : str, optional
        Address of a Dask distributed scheduler to audit the crystals on instead.
    journal : str or os.PathLike, optional
        A JSON-lines file that receives each finished crystal (``audit`` writes OUT/checks.jsonl).
    resume : bool, default False
        Keep the crystals ``journal`` already holds (written with the same options) and audit the rest.

    Returns
    -------
    AuditReport

    Notes
    -----
    A model call that raises or times out is recorded in ``report.errors`` (crystal and
    re-description named) and the audit goes on; when the crystal as given fails, its
    re-descriptions are skipped. Under ``Claim(symmetry='SE3')`` the group operations with an
    improper frame change (det Q = -1) are skipped, and counted in ``report.skipped_improper``.

    Examples
    --------
    >>> c = Crystal.from_arrays(np.eye(3) * 3.6, [[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]], ["Cu"] * 4)
    >>> report = audit(lambda crystal: -float(crystal.n_atoms), [c], kinds="supercell,rotation")
    >>> report.ok, [(row["kind"], row["n"]) for row in report.summary()]
    (True, [('rotation', 2), ('supercell', 2)])
    """
    import time

    from crystal_fourier._engine import check_engine_options
    from crystal_fourier._progress import progress_bar
    from crystal_fourier.audit._crystal_runs import AuditSettings, audit_crystals, audit_models

    start = time.perf_counter()
    check_engine_options(workers, scheduler)
    adapter, float64 = audit_models(model, dtype)
    claim = Claim() if claim is None else claim
    kinds = parse_kinds(kinds) if isinstance(kinds, str) else parse_kinds(",".join(kinds))
    kinds = tuple(k for k in kinds if claim.checks(k))
    crystals = list(crystals)
    labels = [f"crystal-{i}" for i in range(len(crystals))] if names is None else [str(n) for n in names]
    if len(labels) != len(crystals):
        raise CrystalFourierError(f"{len(labels)} names for {len(crystals)} crystals")
    if not crystals:
        raise CrystalFourierError("no crystals to audit")
    settings = AuditSettings(claim, kinds, seed, per_kind, symprec, max_atoms, timeout)
    with progress_bar(total=len(crystals), description=f"audit {adapter.name}", enabled=progress,
                      unit="crystal") as bar:
        results = audit_crystals((adapter, float64), settings, labels, crystals, dtype=dtype, workers=workers,
                                 scheduler=scheduler, journal=journal, resume=resume, progress=bar)
    checks = tuple(c for r in results for c in r.checks)
    cases = {(r.name, kind, label): case for r in results for (kind, label), case in r.cases.items()}
    notes = [adapter.note] if adapter.note else []
    if "batch" in kinds and not adapter.batches:
        notes.append(f"batch: {adapter.name} does not batch (one call per crystal), nothing to compare")
    return AuditReport(model=adapter.name, spec=adapter.spec, claim=claim, dtype=str(adapter.dtype),
                       checks=checks, kinds=kinds, crystals=len(crystals),
                       seconds=time.perf_counter() - start, model_seconds=sum(r.model_seconds for r in results),
                       cases=cases, errors=tuple(e for r in results for e in r.errors),
                       skipped_improper=sum(r.skipped for r in results), notes=tuple(notes))


def _chosen(crystal: Crystal, index: int, kinds: tuple[str, ...], claim: Claim, *, seed: int, per_kind: "int | None",
            symprec: "float | None", max_atoms: "int | None") -> tuple[list[Redescription], int]:
    """The re-descriptions of crystal number ``index`` (one random stream per kind), and how many
    improper operations an SE3 claim left out."""
    chosen = [d for kind in kinds for d in redescriptions(
        crystal, (kind,), rng=np.random.default_rng([seed, index, KINDS.index(kind)]), per_kind=per_kind,
        symprec=symprec) if max_atoms is None or d.crystal.n_atoms <= max_atoms]
    if claim.symmetry != "SE3":
        return chosen, 0
    proper = [d for d in chosen if np.linalg.det(d.rotation) > 0]
    return proper, len(chosen) - len(proper)


def _run_crystal(adapter: ModelAdapter, float64: "ModelAdapter | None", claim: Claim, *,  # noqa: PLR0913
                 name: str, group: int, crystal: Crystal, chosen: list[Redescription], timeout: "float | None",
                 into: tuple) -> float:
    """Call the model on one crystal's descriptions, append to ``into`` = (checks, cases, errors);
    return the seconds spent in the model."""
    checks, cases, errors = into
    originals = {id(d.original): d.original for d in chosen}
    outputs, seconds = guarded_calls(adapter, list(originals.values()) + [d.crystal for d in chosen], timeout=timeout)
    reference = dict(zip(originals, outputs[:len(originals)], strict=True))
    for key, got in reference.items():
        if isinstance(got, str):
            label = "as given" if originals[key] is crystal else "standardized"
            errors.append(ModelError(name, "original", label, got))
    for case, got in zip(chosen, outputs[len(originals):], strict=True):
        base = reference[id(case.original)]
        if isinstance(base, str):
            continue
        if isinstance(got, str):
            errors.append(ModelError(name, case.kind, case.label, got))
            continue
        reruns = None   # the float64 rerun of this case, made once for all its quantities
        for quantity, error, scale in _compare(case, base, got, claim, adapter.outputs):
            tolerance = audit_tolerance(adapter.dtype, scale)
            rerun = None
            if error > tolerance and float64 is not None:
                if reruns is None:
                    reruns, more = _rerun_errors(float64, case, claim)
                    seconds += more   # the twin's calls are the model's time too
                rerun = reruns.get(quantity)
            check = Check(name, group, case.kind, case.label, quantity, error, scale, tolerance, rerun)
            checks.append(check)
            if check.failed:
                cases[(name, case.kind, case.label)] = (case, base, got)
    return seconds


def _rerun_errors(float64: ModelAdapter, case: Redescription, claim: Claim) -> tuple[dict, float]:
    """The error of each quantity in a float64 rerun of ``case`` (empty when the rerun raises), and the
    seconds the rerun spent in the model."""
    outputs, seconds = guarded_calls(float64, [case.original, case.crystal])
    if any(isinstance(o, str) for o in outputs):
        return {}, seconds
    return {q: e for q, e, _ in _compare(case, outputs[0], outputs[1], claim, float64.outputs)}, seconds


def _with_dtype(adapter: ModelAdapter, dtype: str) -> ModelAdapter:
    """``adapter`` in ``dtype``: float64 runs the adapter's float64 twin where it has one (CHGNet, saved
    models, callables given ``float64=``); otherwise a shallow copy declared to compute in ``dtype``."""
    import copy

    if dtype not in ("float32", "float64"):
        raise CrystalFourierError(f"dtype must be float32, float64 or auto, got {dtype!r}")
    if dtype == "float64" and adapter.dtype != np.float64:
        twin = adapter.in_float64()
        if twin is not None:
            return twin
    declared = copy.copy(adapter)
    declared.dtype = np.dtype(dtype)
    return declared


