"""Code generation: derived bases -> stamped torch modules of exact tables (the one producer of generated/).

Pure functions from derivation to text; writing is :mod:`crystal_fourier.derive._writer`'s job
and the command line is ``crystal-fourier generate``. Templates live in ``derive/templates``
and are rendered by jinja2 with ``StrictUndefined``, ``keep_trailing_newline`` and
``trim_blocks``/``lstrip_blocks``; every table is passed in canonical order, so the output is
byte-for-byte deterministic. The generated code imports torch, numpy and the hand-written
kernel (:mod:`crystal_fourier.kernel`), never derive/.

One shell and cutoff give a package ``<shell>_<cutoff>/``: an index ``__init__.py`` with the
shell's frequencies (cubic and hexagonal axes) and ``sg001.py`` ... ``sg230.py``, each a thin
subclass of :class:`crystal_fourier.kernel.GeneratedBasis` holding only its exact tables (the
real basis of derive/_real_bases.py: shell row and phase of every term, function offsets, part
letters). The transformer's routing encoder reads the same modules (one encoding).

Stamps carry :data:`crystal_fourier._version.GENERATOR_VERSION`, the generator's own version:
it changes only when the output does (the ledger generated/VERSIONS.txt records the hash of a
reference render per version), not with every release of the package.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from crystal_fourier._version import GENERATOR_VERSION
from crystal_fourier.derive._bases import Basis, basis
from crystal_fourier.derive._frequency_sets import check_shell_cutoff, shell_frequencies
from crystal_fourier.derive._stamps import inputs_sha256, stamp
from crystal_fourier.errors import CrystalFourierError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

__all__ = [
    "SHIPPED", "TEMPLATE_DIR", "GROUP_TEMPLATE", "INDEX_TEMPLATE", "PACKAGE_TEMPLATE",
    "group_record", "directory_name", "module_name", "class_name",
    "render_group_module", "render_index", "render_package", "iter_directory",
]

SHIPPED = (("ball", 5), ("ball", 6))
"""(shell, cutoff) pairs shipped in generated/: the paper's ball R = 5 and ball R = 6 (faithful for
every group, the runtime default). Other sets (e.g. the box K = 2 of the fast tests) are
rendered on demand into the user cache or a directory of the caller's choice."""

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
GROUP_TEMPLATE = "group.py.j2"
INDEX_TEMPLATE = "index.py.j2"
PACKAGE_TEMPLATE = "package.py.j2"
_TEMPLATE_PREFIX = "crystal_fourier/derive/templates"
_WIDTH = 100
_PART_LETTER = {"centric": "c", "re": "r", "im": "i"}


def directory_name(shell: str, cutoff: int) -> str:
    """``'<shell>_<cutoff>'``, the package of one frequency set.

    Parameters
    ----------
    shell : str
        The frequency shell, ``'ball'`` or ``'box'``.
    cutoff : int
        The frequency cutoff.

    Returns
    -------
    str

    Examples
    --------
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

    ``term_rows`` are the rows of the shell (canonical order, :func:`shell_frequencies`) of the
    real basis' terms, grouped by function; ``term_phases_48`` their phases, ``offsets`` the
    function boundaries and ``parts`` one letter per function ('c' centric, 'r'/'i' the real and
    imaginary part of a pair of orbits O, -O).

    Examples
    --------
    >>> record = group_record(basis(1, 2, "box"))
    >>> record["dim"], len(record["term_rows"]), record["parts"][:3]
    (125, 125, 'cri')
    """
    real, group, d = derived.real, derived.group, derived.decomposition
    frequencies = derived.frequencies
    shell = shell_frequencies(frequencies.shell, frequencies.cutoff, bool(frequencies.hexagonal))
    if not np.array_equal(np.asarray(shell), frequencies.hkl):  # the index's table must be the derivation's
        raise CrystalFourierError(f"{group}: derived frequencies are not the canonical {frequencies.shell} shell")
    offsets = np.searchsorted(real.term_function, np.arange(len(real) + 1))
    return {
        "sg": group.number,
        "hall_number": group.hall_number,
        "symbol": group.symbol,
        "hall_symbol": group.hall_symbol,
        "standard": group.is_standard,
        "shell": frequencies.shell,
        "cutoff": frequencies.cutoff,
        "hexagonal": bool(frequencies.hexagonal),
        "n_operations": len(group.operations),
        "n_shell": len(frequencies),
        "n_orbits": len(d),
        "n_absent_orbits": int(d.absent.sum()),
        "dim": len(real),
        "term_rows": real.term_frequency.tolist(),
        "term_phases_48": real.term_phase_48.tolist(),
        "offsets": offsets.tolist(),
        "parts": "".join(_PART_LETTER[part] for part in real.part),
    }


def _text_block(values, indent: int, per_line: int | None = None) -> str:
    """Integers as adjacent string literals of space-separated numbers (compact, fast to compile and parse).

    ``per_line`` keeps that many numbers to a line (3 for h k l rows); otherwise lines are filled
    to 100 columns.
    """
    items = [str(int(v)) for v in np.asarray(values, dtype=np.int64).reshape(-1)]
    return _string_block(items, indent, per_line)


def _string_block(items, indent: int, per_line: int | None = None, separator: str = " ") -> str:
    if not items:
        return " " * indent + '""'
    lines, line, count = [], "", 0
    for item in items:
        full = count == per_line if per_line else (line and indent + len(line) + len(item) + 4 > _WIDTH)
        if full:
            lines.append(line)
            line, count = item, 1
        else:
            line = f"{line}{separator}{item}" if line else item
            count += 1
    lines.append(line)
    last = len(lines) - 1
    return "\n".join(" " * indent + f'"{text}{separator if i < last else ""}"' for i, text in enumerate(lines))


def _rows_per_line(rows: int) -> int:
    """h k l triples per line of a shell table, as many as fit in 100 columns."""
    return max(1, (_WIDTH - 6) // 12) * 3 if rows else 3


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


def _render(name: str, record: dict, context: dict, fields: str, version: str) -> str:
    body = _environment().get_template(name).render(**context)
    return stamp(body, version=version, template=f"{_TEMPLATE_PREFIX}/{name}", fields=fields,
                 inputs=inputs_sha256(record, (TEMPLATE_DIR / name).read_bytes().decode("utf-8"), version))


def render_group_module(derived: Basis, version: str = GENERATOR_VERSION) -> str:
    """The stamped source of one group's module: its exact tables and a thin kernel subclass.

    Parameters
    ----------
    derived : Basis
        From :func:`crystal_fourier.derive._bases`.
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
        "shell_table": "HEXAGONAL_FREQUENCIES" if record["hexagonal"] else "CUBIC_FREQUENCIES",
        "dim": record["dim"],
        "n_orbits": record["n_orbits"],
        "n_present_orbits": record["n_orbits"] - record["n_absent_orbits"],
        "n_absent_orbits": record["n_absent_orbits"],
        "n_terms": len(record["term_rows"]),
        "class_name": class_name(derived.group),
        "term_rows": _text_block(record["term_rows"], 4),
        "term_phases": _text_block(record["term_phases_48"], 4),
        "offsets": _text_block(record["offsets"], 4),
        "parts": _string_block(list(record["parts"]), 4, per_line=90, separator=""),
    }
    fields = (f"sg={record['sg']} hall_number={record['hall_number']} "
              f"shell={record['shell']} cutoff={record['cutoff']}")
    return _render(GROUP_TEMPLATE, record, context, fields, version)


def render_index(shell: str, cutoff: int, version: str = GENERATOR_VERSION) -> str:
    """The stamped index ``__init__.py`` of one set: the shell on both axes and the module lookup.

    It does not depend on which groups are rendered, so a partial run writes the same index.

    Examples
    --------
    >>> render_index("box", 1).splitlines()[2]
    '# index shell=box cutoff=1'
    """
    check_shell_cutoff(shell, cutoff)
    cubic = np.asarray(shell_frequencies(shell, cutoff, False))
    hexagonal = np.asarray(shell_frequencies(shell, cutoff, True))
    record = {"shell": shell, "cutoff": cutoff, "cubic": cubic.tolist(), "hexagonal": hexagonal.tolist()}
    context = {
        "shell": shell,
        "cutoff": cutoff,
        "n_cubic": len(cubic),
        "n_hexagonal": len(hexagonal),
        "cubic_frequencies": _text_block(cubic, 4, per_line=_rows_per_line(len(cubic))),
        "hexagonal_frequencies": _text_block(hexagonal, 4, per_line=_rows_per_line(len(hexagonal))),
    }
    return _render(INDEX_TEMPLATE, record, context, f"index shell={shell} cutoff={cutoff}", version)


def render_package(version: str = GENERATOR_VERSION) -> str:
    """The stamped ``generated/__init__.py``: names the shipped sets and adds the user cache to the path.

    Parameters
    ----------
    version : str, default GENERATOR_VERSION
        The generator version stamped into the file.

    Returns
    -------
    str
        The file's text.

    Examples
    --------
    >>> render_package().splitlines()[2]
    '# package shipped=ball_5,ball_6'
    """
    shipped = ",".join(directory_name(shell, cutoff) for shell, cutoff in SHIPPED)
    record = {"shipped": shipped}
    return _render(PACKAGE_TEMPLATE, record, {"shipped": shipped.replace(",", ", ")}, f"package shipped={shipped}",
                   version)


def iter_directory(shell: str, cutoff: int, groups: Iterable[int] | None = None, *,
                   hall_numbers: Iterable[int] = (), progress: Callable[[Iterable], Iterable] | None = None,
                   version: str = GENERATOR_VERSION) -> Iterator[tuple[str, str]]:
    """The files of ``<shell>_<cutoff>/`` one at a time: (file name, text), index first.

    Group by group, so that a caller can write each file as soon as it is rendered and memory
    stays bounded by one group's derivation.

    Parameters
    ----------
    shell : {'ball', 'box'}
    cutoff : int
    groups : iterable of int, optional
        Group numbers (standard settings); default all 230.
    hall_numbers : iterable of int
        Further settings (Hall numbers 1-530) rendered as ``sgNNN_hallHHH.py``.
    progress : callable, optional
        Wraps the iterable of group numbers (e.g. ``tqdm``).
    version : str
    """
    check_shell_cutoff(shell, cutoff)
    numbers = list(range(1, 231)) if groups is None else sorted(set(int(n) for n in groups))
    if not numbers and not hall_numbers or numbers and (numbers[0] < 1 or numbers[-1] > 230):
        raise CrystalFourierError(f"groups must be numbers in 1-230, got {groups!r}")
    yield "__init__.py", render_index(shell, cutoff, version)
    requests = [(n, None) for n in numbers] + [(None, int(h)) for h in hall_numbers]
    for number, hall in (progress(requests) if progress is not None else requests):
        derived = basis(number, cutoff, shell, hall_number=hall)
        yield f"{module_name(derived.group)}.py", render_group_module(derived, version)
