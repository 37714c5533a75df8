"""Code generation of the tensor-basis tables: derive/_tensors.py -> generated/tensor_bases.py.

One flat module of exact integers, rendered by the same jinja2 environment and stamped like the
Fourier modules (:mod:`crystal_fourier.derive._codegen`), written by ``crystal-fourier generate
--shipped`` beside the shipped sets and read at run time by
:func:`crystal_fourier.runtime.cartesian_tensor_basis` (no SymPy, no derivation at run time).
The bases depend only on the point group in its setting, so the table holds each distinct one
once and maps the 530 Hall numbers to it.
"""

from __future__ import annotations

from fractions import Fraction
from math import lcm

from crystal_fourier._spglib import spacegroup_type
from crystal_fourier._version import GENERATOR_VERSION
from crystal_fourier.derive._codegen import _render, _string_block, _text_block
from crystal_fourier.derive._space_groups import space_group
from crystal_fourier.derive._tensors import TENSOR_KINDS, _component_maps, tensor_basis, tensor_components

__all__ = ["TENSOR_MODULE", "TENSOR_TEMPLATE", "tensor_table_record", "render_tensor_module"]

TENSOR_MODULE = "tensor_bases.py"
"""File name of the tensor tables in generated/."""

TENSOR_TEMPLATE = "tensors.py.j2"
_HALL_NUMBERS = range(1, 531)


def _integer_row_block(values: list[Fraction]) -> tuple[int, list[int]]:
    """(denominator, numerators) of exact rationals over their least common denominator."""
    denominator = lcm(*(value.denominator for value in values)) if values else 1
    return denominator, [int(value * denominator) for value in values]


def tensor_table_record() -> dict:
    """Everything generated/tensor_bases.py is rendered from, as JSON-able ints and strings.

    ``point_groups``: the distinct point groups in their settings (sorted rotations), in order of
    their first Hall number, each with its spglib symbol; ``point_group_of_hall``: the index of
    Hall numbers 1-530; ``bases[kind]``: per point group, [dimension, denominator, numerators...].

    Examples
    --------
    >>> record = tensor_table_record()
    >>> len(record["point_group_of_hall"]), record["bases"]["elastic"][0][:2]
    (530, [21, 1])
    """
    keys: dict[tuple, int] = {}
    groups, of_hall = [], []
    for hall in _HALL_NUMBERS:
        rotations = tuple(sorted(space_group(hall_number=hall).rotations))
        if rotations not in keys:
            keys[rotations] = len(keys)
            groups.append({"symbol": spacegroup_type(hall).pointgroup_international.strip(),
                           "first_hall": hall, "order": len(rotations)})
        of_hall.append(keys[rotations])
    bases = {}
    for kind in TENSOR_KINDS:
        entries = []
        for group in groups:
            basis = tensor_basis(hall_number=group["first_hall"], kind=kind)
            denominator, numerators = _integer_row_block([v for row in basis.components for v in row])
            entries.append([basis.dimension, denominator, *numerators])
        bases[kind] = entries
    components = {kind: [list(label) for label in tensor_components(kind)] for kind in TENSOR_KINDS}
    full = {kind: [int(row.argmax()) for row in _component_maps(kind)[0]] for kind in TENSOR_KINDS}
    return {"kinds": list(TENSOR_KINDS), "point_groups": groups, "point_group_of_hall": of_hall,
            "components": components, "full_component": full, "bases": bases}


def render_tensor_module(version: str = GENERATOR_VERSION) -> str:
    """The stamped source of generated/tensor_bases.py.

    Parameters
    ----------
    version : str, default GENERATOR_VERSION
        The generator version stamped into the file.

    Returns
    -------
    str
        The module's text.

    Examples
    --------
    >>> render_tensor_module().splitlines()[2]
    '# tensors kinds=symmetric2,piezoelectric,elastic,axial2 hall_numbers=1-530'
    """
    record = tensor_table_record()
    kinds = []
    for kind in record["kinds"]:
        n_components = len(record["components"][kind])
        entries = []
        for index, (group, entry) in enumerate(zip(record["point_groups"], record["bases"][kind], strict=True)):
            dimension = entry[0]
            items = [str(value) for value in entry]
            # one string literal per basis row after the dimension and denominator
            rows = [" ".join(items[:2])] + [" ".join(items[2 + r * n_components:2 + (r + 1) * n_components])
                                             for r in range(dimension)]
            entries.append({"index": index, "symbol": group["symbol"], "dimension": dimension,
                            "text": "        (" + _string_block(rows, 0, per_line=1).replace("\n", "\n         ")
                                    + ")"})
        kinds.append({"name": kind, "rank": tensor_basis(1, kind).rank,
                      "labels": " ".join("".join(str(v) for v in label) for label in record["components"][kind]),
                      "full_component": _text_block(record["full_component"][kind], 8),
                      "entries": entries})
    point_groups = [dict(group, index=index) for index, group in enumerate(record["point_groups"])]
    context = {
        "kinds": kinds,
        "kinds_text": ", ".join(record["kinds"]),
        "kinds_tuple": ", ".join(f'"{kind}"' for kind in record["kinds"]),
        "n_point_groups": len(point_groups),
        "point_groups": point_groups,
        "point_group_of_hall": _text_block(record["point_group_of_hall"], 4),
    }
    fields = f"tensors kinds={','.join(record['kinds'])} hall_numbers=1-530"
    return _render(TENSOR_TEMPLATE, record, context, fields, version)
