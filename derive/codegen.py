"""Code generation: derived bases -> flat, stamped torch modules (the one producer of generated/).

Pure functions from derivation to text; writing is :mod:`crystal_fourier.derive.writer`'s job
and the command line is ``crystal-fourier generate``. Templates live in ``derive/templates``
and are rendered by jinja2 with ``StrictUndefined``, ``keep_trailing_newline`` and
``trim_blocks``/``lstrip_blocks``; every table is passed in canonical order, so the output is
byte-for-byte deterministic. The generated code imports torch and nothing from derive.

One shell and cutoff give a directory ``<shell>_<cutoff>/`` holding ``sg001.py`` ...
``sg230.py`` (one ``nn.Module`` per group, standard setting) and an index ``__init__.py``
with the per-group routing tables (DESIGN.md, "The paper's routing matrix, computed
sparsely").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from crystal_fourier._version import __version__
from crystal_fourier.derive.basis import Basis, basis
from crystal_fourier.derive.frequency_sets import SHELLS, shell_frequencies
from crystal_fourier.derive.stamps import inputs_sha256, sha256_text, stamp
from crystal_fourier.errors import CrystalFourierError

__all__ = [
    "SHIPPED", "REFERENCE_RENDER", "TEMPLATE_DIR", "GROUP_TEMPLATE", "INDEX_TEMPLATE", "LEDGER",
    "RoutingTable", "routing_table", "group_record", "directory_name", "module_name", "class_name",
    "render_group_module", "render_index", "render_directory", "groups_text",
    "reference_render_sha256", "read_ledger", "check_ledger",
]

SHIPPED = (("ball", 5), ("ball", 6), ("box", 2))
"""(shell, cutoff) pairs shipped in generated/: the paper's ball R = 5, ball R = 6 (faithful for
every group) and the box K = 2 of the fast tests."""

REFERENCE_RENDER = ("box", 2, (1, 2, 194, 225))
"""(shell, cutoff, groups) whose rendered modules, and their index, the ledger generated/VERSIONS.txt hashes."""

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
GROUP_TEMPLATE = "group.py.j2"
INDEX_TEMPLATE = "index.py.j2"
LEDGER = "VERSIONS.txt"
_TEMPLATE_PREFIX = "crystal_fourier/derive/templates"
_WIDTH = 100


@dataclass(frozen=True, slots=True, eq=False)
class RoutingTable:
    """One group's routing table on its shell, stored sparsely (DESIGN.md).

    Slot n (a frequency of the shell) carries z_n(x) = e(phase_n / 24) psi_O(n)(x); absent
    frequencies (z_n = 0) are left out.

    Attributes
    ----------
    frequency : np.ndarray
        shape=(n_present_frequencies,), int64: rows of the shell, grouped by orbit.
    phase_24 : np.ndarray
        shape=(n_present_frequencies,), int64: phase_n = -phi_n mod 24, phi_n the orbit phase
        of derive/orbits.py.
    offsets : np.ndarray
        shape=(n_present_orbits + 1,), int64: orbit j owns entries offsets[j]:offsets[j+1].
    """

    frequency: np.ndarray
    phase_24: np.ndarray
    offsets: np.ndarray


def routing_table(derived: Basis) -> RoutingTable:
    """The sparse routing table of one derived basis.

    Column n of the paper's routing matrix M_G is the symmetrised plane wave
    (1/|G|) sum_g e(n . (R x + t)) = e(-phi_n / 24) psi_O(n)(x), so phase_n = -phi_n mod 24.

    Examples
    --------
    >>> table = routing_table(basis(4, 1, "box"))  # P2_1: (0, +-1, 0) absent
    >>> len(table.frequency), len(table.offsets) - 1
    (25, 13)
    """
    d = derived.decomposition
    frequency = np.flatnonzero(~d.absent[d.orbit_of])
    orbit = d.orbit_of[frequency]
    order = np.lexsort((frequency, orbit))
    frequency, orbit = frequency[order], orbit[order]
    present_orbits = np.flatnonzero(~d.absent)
    counts = np.bincount(orbit, minlength=len(d))[present_orbits]
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return RoutingTable(frequency.astype(np.int64), (-d.phase_24[frequency]) % 24, offsets)


def directory_name(shell: str, cutoff: int) -> str:
    """``'<shell>_<cutoff>'``, the package of one frequency set.

    >>> directory_name("ball", 5)
    'ball_5'
    """
    return f"{shell}_{cutoff}"


def module_name(group) -> str:
    """``sgNNN`` for a standard setting, ``sgNNN_hallHHH`` for another Hall number.

    >>> from crystal_fourier.derive import space_group
    >>> module_name(space_group(227)), module_name(space_group(hall_number=525))
    ('sg227', 'sg227_hall525')
    """
    base = f"sg{group.number:03d}"
    return base if group.is_standard else f"{base}_hall{group.hall_number:03d}"


def class_name(group) -> str:
    """``InvariantBasisN`` (standard setting) or ``InvariantBasisNHallH``.

    >>> from crystal_fourier.derive import space_group
    >>> class_name(space_group(225))
    'InvariantBasis225'
    """
    base = f"InvariantBasis{group.number}"
    return base if group.is_standard else f"{base}Hall{group.hall_number}"


def group_record(derived: Basis) -> dict:
    """Everything a group module is rendered from, as JSON-able ints and strings.

    ``frequencies`` are the m used by the real basis' terms (canonical order), ``terms`` the
    (row, phase in 48ths) pairs grouped by function and ``offsets`` the function boundaries.

    Examples
    --------
    >>> record = group_record(basis(1, 2, "box"))
    >>> record["dim"], len(record["frequencies"]), len(record["terms"])
    (125, 63, 125)
    """
    real, group, d = derived.real, derived.group, derived.decomposition
    used = np.unique(real.term_frequency)
    rows = np.searchsorted(used, real.term_frequency)
    hkl = derived.frequencies.hkl[used]
    offsets = np.searchsorted(real.term_function, np.arange(len(real) + 1))
    return {
        "sg": group.number,
        "hall_number": group.hall_number,
        "symbol": group.symbol,
        "hall_symbol": group.hall_symbol,
        "standard": group.is_standard,
        "shell": derived.frequencies.shell,
        "cutoff": derived.frequencies.cutoff,
        "hexagonal": bool(derived.frequencies.hexagonal),
        "n_operations": len(group.operations),
        "n_shell": len(derived.frequencies),
        "n_orbits": len(d),
        "n_absent_orbits": int(d.absent.sum()),
        "dim": len(real),
        "frequencies": hkl.tolist(),
        "terms": np.stack([rows, real.term_phase_48], axis=1).tolist(),
        "offsets": offsets.tolist(),
    }


def _wrap(items, indent: int) -> str:
    """Items separated by spaces, wrapped at 100 columns, each line indented."""
    lines, line = [], ""
    for item in items:
        if line and indent + len(line) + 1 + len(item) > _WIDTH:
            lines.append(line)
            line = item
        else:
            line = f"{line} {item}" if line else item
    if line:
        lines.append(line)
    return "\n".join(" " * indent + text for text in lines)


def _int_block(values, indent: int = 4, per_item: int = 1) -> str:
    """Comma-terminated integers, ``per_item`` to an item, wrapped at 100 columns."""
    flat = [int(v) for v in np.asarray(values, dtype=np.int64).reshape(-1)]
    return _wrap([", ".join(map(str, flat[i:i + per_item])) + "," for i in range(0, len(flat), per_item)], indent)


def _text_block(values, indent: int) -> str:
    """Integers as adjacent string literals of space-separated numbers (fast to compile and parse)."""
    items = [str(int(v)) for v in np.asarray(values, dtype=np.int64).reshape(-1)]
    if not items:
        return " " * indent + '""'
    lines, line = [], ""
    for item in items:
        if line and indent + len(line) + len(item) + 4 > _WIDTH:
            lines.append(line)
            line = item
        else:
            line = f"{line} {item}" if line else item
    lines.append(line)
    return "\n".join(" " * indent + f'"{text}{" " if i < len(lines) - 1 else ""}"' for i, text in enumerate(lines))


def _row_block(rows, indent: int = 4) -> str:
    """Integer rows as tuples ``(h, k, l),``, wrapped at 100 columns."""
    return _wrap([f"({', '.join(map(str, row))})," for row in np.asarray(rows, dtype=np.int64).tolist()], indent)


@lru_cache(maxsize=None)
def _environment():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def _template_text(name: str) -> str:
    return (TEMPLATE_DIR / name).read_bytes().decode("utf-8")


def _render(name: str, record: dict, context: dict, fields: str, version: str) -> str:
    body = _environment().get_template(name).render(**context)
    return stamp(body, version=version, template=f"{_TEMPLATE_PREFIX}/{name}", fields=fields,
                 inputs=inputs_sha256(record, _template_text(name), version))


def render_group_module(derived: Basis, version: str = __version__) -> str:
    """The stamped source of one group's ``nn.Module``.

    Parameters
    ----------
    derived : Basis
        From :func:`crystal_fourier.derive.basis`.
    version : str
        Generator version stamped in the header.

    Returns
    -------
    str
        Python source; its class evaluates the real basis of ``derived`` (CONVENTIONS.md).

    Examples
    --------
    >>> text = render_group_module(basis(225, 2, "box"))
    >>> text.splitlines()[2]
    '# sg=225 hall_number=523 shell=box cutoff=2'
    """
    record = group_record(derived)
    used = np.asarray(record["frequencies"], dtype=np.int64).reshape(-1, 3)
    context = {
        "number": record["sg"],
        "symbol": record["symbol"],
        "hall_number": record["hall_number"],
        "hall_symbol": record["hall_symbol"],
        "n_operations": record["n_operations"],
        "shell": record["shell"],
        "cutoff": record["cutoff"],
        "n_shell": record["n_shell"],
        "axes": "hexagonal" if record["hexagonal"] else "cubic",
        "dim": record["dim"],
        "n_orbits": record["n_orbits"],
        "n_present_orbits": record["n_orbits"] - record["n_absent_orbits"],
        "n_absent_orbits": record["n_absent_orbits"],
        "n_terms": len(record["terms"]),
        "n_frequencies": len(used),
        "max_index": int(np.abs(used).max(initial=0)),
        "class_name": class_name(derived.group),
        "frequencies": _row_block(used),
        "terms": _int_block(record["terms"], per_item=2),
        "offsets": _int_block(record["offsets"]),
    }
    fields = (f"sg={record['sg']} hall_number={record['hall_number']} "
              f"shell={record['shell']} cutoff={record['cutoff']}")
    return _render(GROUP_TEMPLATE, record, context, fields, version)


def groups_text(numbers) -> str:
    """Sorted group numbers as ranges.

    >>> groups_text([1, 2, 3, 225, 227, 228])
    '1-3,225,227-228'
    """
    numbers = sorted(set(int(n) for n in numbers))
    runs = []
    for number in numbers:
        if runs and number == runs[-1][1] + 1:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def render_index(shell: str, cutoff: int, bases, version: str = __version__) -> str:
    """The stamped index ``__init__.py`` of one directory: module map and routing tables.

    Parameters
    ----------
    shell : str
    cutoff : int
    bases : sequence of Basis
        One per group, standard settings, all of ``shell`` and ``cutoff``.
    version : str

    Examples
    --------
    >>> text = render_index("box", 1, [basis(1, 1, "box"), basis(194, 1, "box")])
    >>> text.splitlines()[2]
    '# index groups=1,194 shell=box cutoff=1'
    """
    bases = sorted(bases, key=lambda b: b.group.number)
    entries, records = [], []
    for derived in bases:
        group = derived.group
        if not group.is_standard or derived.frequencies.shell != shell or derived.frequencies.cutoff != cutoff:
            raise CrystalFourierError(f"render_index wants standard settings at {shell} {cutoff}, got {group}")
        table = routing_table(derived)
        records.append({"sg": group.number, "hall_number": group.hall_number, "module": module_name(group),
                        "class": class_name(group), "hexagonal": bool(derived.frequencies.hexagonal),
                        "frequency": table.frequency.tolist(), "phase_24": table.phase_24.tolist(),
                        "offsets": table.offsets.tolist()})
        entries.append({"number": group.number, "module": module_name(group), "class_name": class_name(group),
                        "frequency": _text_block(table.frequency, indent=12),
                        "phase_24": _text_block(table.phase_24, indent=12),
                        "offsets": _text_block(table.offsets, indent=12)})
    cubic = shell_frequencies(shell, cutoff, False)
    hexagonal = shell_frequencies(shell, cutoff, True)
    record = {"shell": shell, "cutoff": cutoff, "groups": records,
              "cubic": cubic.tolist(), "hexagonal": hexagonal.tolist()}
    numbers = [b.group.number for b in bases]
    context = {
        "shell": shell,
        "cutoff": cutoff,
        "groups_text": groups_text(numbers),
        "groups": entries,
        "hall_numbers": _wrap([f"{b.group.number}: {b.group.hall_number}," for b in bases], 4),
        "hexagonal": _int_block([b.group.number for b in bases if b.frequencies.hexagonal]),
        "n_cubic": len(cubic),
        "n_hexagonal": len(hexagonal),
        "cubic_frequencies": _row_block(cubic),
        "hexagonal_frequencies": _row_block(hexagonal),
    }
    fields = f"index groups={groups_text(numbers)} shell={shell} cutoff={cutoff}"
    return _render(INDEX_TEMPLATE, record, context, fields, version)


def _check_request(shell: str, cutoff) -> None:
    if shell not in SHELLS:
        raise CrystalFourierError(f"unknown shell {shell!r}: expected one of {', '.join(SHELLS)}")
    if isinstance(cutoff, bool) or not isinstance(cutoff, int) or cutoff < 0:
        raise CrystalFourierError(f"cutoff must be an integer >= 0, got {cutoff!r}")


def render_directory(shell: str, cutoff: int, groups=None, *, progress=None,
                     version: str = __version__) -> dict[str, str]:
    """All files of ``<shell>_<cutoff>/``: file name -> text.

    Parameters
    ----------
    shell : {'ball', 'box'}
    cutoff : int
    groups : iterable of int, optional
        Group numbers (standard settings); default all 230. The index ``__init__.py`` is
        rendered only when all 230 are, so a partial run never shrinks a shipped index.
    progress : callable, optional
        Wraps the iterable of group numbers (e.g. ``tqdm``).
    version : str

    Examples
    --------
    >>> sorted(render_directory("box", 1, [1, 2]))
    ['sg001.py', 'sg002.py']
    """
    _check_request(shell, cutoff)
    numbers = list(range(1, 231)) if groups is None else sorted(set(int(n) for n in groups))
    if not numbers or numbers[0] < 1 or numbers[-1] > 230:
        raise CrystalFourierError(f"groups must be numbers in 1-230, got {groups!r}")
    iterable = progress(numbers) if progress is not None else numbers
    files, bases = {}, []
    for number in iterable:
        derived = basis(number, cutoff, shell)
        bases.append(derived)
        files[f"{module_name(derived.group)}.py"] = render_group_module(derived, version)
    if len(numbers) == 230:
        files["__init__.py"] = render_index(shell, cutoff, bases, version)
    return dict(sorted(files.items()))


def reference_render_sha256(version: str = __version__) -> str:
    """SHA-256 of the reference render (:data:`REFERENCE_RENDER`), the ledger's entry for ``version``.

    >>> len(reference_render_sha256())
    64
    """
    shell, cutoff, numbers = REFERENCE_RENDER
    bases = [basis(n, cutoff, shell) for n in numbers]
    texts = [render_group_module(derived, version) for derived in bases]
    return sha256_text("".join(texts) + render_index(shell, cutoff, bases, version))


def read_ledger(text: str) -> dict[str, str]:
    """Parse generated/VERSIONS.txt: ``<version> <sha256>`` per line, ``#`` comments.

    >>> read_ledger("# comment\\n0.1.0 abc\\n")
    {'0.1.0': 'abc'}
    """
    ledger = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2 or parts[0] in ledger:
            raise CrystalFourierError(
                f"{LEDGER} line {number}: expected '<version> <sha256>' once per version, got {line!r}")
        ledger[parts[0]] = parts[1]
    return ledger


def check_ledger(text: str, version: str = __version__, reference: str | None = None) -> None:
    """Check that the ledger records ``version`` with the hash of today's reference render.

    Raises
    ------
    CrystalFourierError
        Naming the constant to bump (``crystal_fourier._version.__version__``) when the output
        changed under an unchanged version, or the line to add for a new version.

    Examples
    --------
    >>> check_ledger(f"0.0.1 {'0' * 64}", version="0.0.1", reference="1" * 64)
    Traceback (most recent call last):
    ...
    crystal_fourier.errors.CrystalFourierError: The generated code changed ...
    """
    reference = reference_render_sha256(version) if reference is None else reference
    ledger = read_ledger(text)
    if version not in ledger:
        raise CrystalFourierError(
            f"generated/{LEDGER} has no entry for generator version {version}: add the line "
            f"'{version} {reference}' (and regenerate: crystal-fourier generate --shipped)")
    if ledger[version] != reference:
        raise CrystalFourierError(
            f"The generated code changed but the generator version did not: the reference render "
            f"{REFERENCE_RENDER} hashes to {reference}, generated/{LEDGER} records {ledger[version]} for "
            f"{version}. Bump crystal_fourier._version.__version__ (crystal_fourier/_version.py), add "
            f"'<new version> <hash>' to generated/{LEDGER}, and run `crystal-fourier generate --shipped`.")

