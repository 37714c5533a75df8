"""Which symmetry operations a CIF block declares, and in which setting.

In this order (the first that the block has wins): the operations of a magnetic CIF (mcif: the
spatial parts of each magnetic operation times each centring; time reversal dropped; a modulated
structure refused); the ``_space_group_symop_operation_xyz`` / ``_symmetry_equiv_pos_as_xyz`` loop;
the Hall symbol (through gemmi); the Hermann-Mauguin symbol or the group number, which give one
setting when it is determined (an explicit ``:1``/``:2``/``:H``/``:R``, a coordinate-system code,
or, for a bare rhombohedral symbol, the cell's axes) and both origin choices otherwise, for the
reader of :mod:`~crystal_fourier.runtime.structure_io._cif` to decide from the file's atoms.
Operations are returned as (rotation, translation) pairs, integer rotations and translations
converted from exact fractions once.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.structure_io._cif_expansion import MAX_CIF_OPERATIONS
from crystal_fourier.runtime.structure_io._cif_syntax import CifBlock, cif_number
from crystal_fourier.runtime.structure_io._structures import cell_parameters

__all__ = ["file_operations", "magnetic_operations", "hall_operations", "symbol_settings", "setting_operations",
           "origin_choices"]

_AXES_LENGTH_TOLERANCE = 1e-3
"""Relative difference of cell lengths under which a bare R symbol's cell counts as a = b = c."""
_AXES_ANGLE_TOLERANCE = 1e-2
"""Degrees; cell angles closer than this count as equal (and to 120 as 120) when telling R axes apart."""

_SYMOP_TAGS = ("_space_group_symop_operation_xyz", "_space_group_symop.operation_xyz",
               "_symmetry_equiv_pos_as_xyz", "_symmetry_equiv.pos_as_xyz")
_MAGNETIC_OPERATION_TAGS = ("_space_group_symop_magn_operation.xyz", "_space_group_symop.magn_operation_xyz",
                            "_space_group_symop_magn_operation_xyz")
_MAGNETIC_CENTERING_TAGS = ("_space_group_symop_magn_centering.xyz", "_space_group_symop.magn_centering_xyz",
                            "_space_group_symop_magn_centering_xyz")
_MAGNETIC_PREFIXES = ("_space_group_magn", "_space_group_symop_magn", "_space_group_symop.magn",
                      "_magnetic_space_group", "_atom_site_moment")
"""Tags that mark a magnetic CIF (mcif): its symmetry is in the magnetic operation loops, nowhere else."""
_INCOMMENSURATE_PREFIXES = ("_cell_modulation_dimension", "_cell.modulation_dimension", "_cell_wave_vector",
                            "_cell.wave_vector", "_space_group_symop_magn_ssg", "_space_group_symop_ssg",
                            "_space_group_symop.ssg", "_atom_site_fourier_wave_vector")
"""Tags of a modulated (incommensurate, superspace) structure: no finite cell holds its atoms."""
_HALL_TAGS = ("_space_group_name_hall", "_space_group.name_hall", "_symmetry_space_group_name_hall",
              "_symmetry.space_group_name_hall")
_SYMBOL_TAGS = ("_space_group_name_h-m_alt", "_space_group.name_h-m_alt", "_symmetry_space_group_name_h-m",
                "_symmetry.space_group_name_h-m")
_NUMBER_TAGS = ("_space_group_it_number", "_space_group.it_number", "_symmetry_int_tables_number",
                "_symmetry.int_tables_number")
_CODE_TAGS = ("_space_group_it_coordinate_system_code", "_space_group.it_coordinate_system_code")


def _operation_arrays(operations) -> list[tuple[np.ndarray, np.ndarray]]:
    from crystal_fourier.derive._operations import DEN

    return [(np.array(op.rotation, dtype=np.int64), np.array(op.translation_24, dtype=np.float64) / DEN)
            for op in operations]


def file_operations(block: CifBlock):
    """Operations of the symop loop, or None."""
    from crystal_fourier.derive._operations import Operation

    tag, values = block.first_column(_SYMOP_TAGS)
    if not values:
        return None
    operations, seen = [], set()
    for row, text in enumerate(values, start=1):
        spelling = "".join(str(text).split()).lower()
        if spelling in seen:  # a repeated line is parsed once (6,000 copies of 'x,y,z' cost nothing)
            continue
        seen.add(spelling)
        try:
            operations.append(Operation.parse(text))
        except CrystalFourierError as error:
            raise CrystalFourierError(f"{block.where(tag)}: symmetry operation {row} ({text!r}) of {tag}: "
                                      f"{error}") from None
    return _operation_arrays(operations)


def _magnetic_operation(text: str, where: str) -> tuple[np.ndarray, tuple]:
    """Spatial part (R, exact t) of one magnetic operation 'x,y+1/2,-z,-1'; the time reversal +-1 is dropped."""
    from crystal_fourier.derive._operations import _affine_form

    parts = text.replace(" ", "").split(",")
    if len(parts) != 4 or parts[3] not in ("1", "+1", "-1"):
        raise CrystalFourierError(f"{where} ({text!r}): a magnetic operation is x,y,z-style with a fourth "
                                  "part +1 or -1 (time reversal)")
    try:
        rotation, translation = _affine_form(",".join(parts[:3]))
    except CrystalFourierError as error:
        raise CrystalFourierError(f"{where}: {error}") from None
    return np.array(rotation, dtype=np.int64), translation


def _distinct(operations):
    """Exact (rotation, translation) pairs without repeats, in file order."""
    seen = {}
    for rotation, translation in operations:
        seen.setdefault((rotation.tobytes(), tuple(t % 1 for t in translation)), (rotation, translation))
    return list(seen.values())


def magnetic_operations(block: CifBlock):
    """Operations of a magnetic CIF: each magnetic operation times each centring, spatial parts only.

    The time reversal (the fourth part, +1 or -1) acts on spins only, which are not read, so it
    is dropped; translations stay exact fractions (supercell settings can need 1/8) until the
    float conversion here. Returns None for a block that is not magnetic, or a magnetic one that
    gives its (non-magnetic) symmetry operations instead. A magnetic block with neither (a BNS
    or OG symbol alone), or a modulated (incommensurate) one, is refused: reading it as anything
    else would give another crystal.
    """
    tags = block.tags()
    modulated = sorted({t for t in tags if t.startswith(_INCOMMENSURATE_PREFIXES)})
    if modulated:
        raise CrystalFourierError(
            f"{block.where(modulated[0])}: a modulated (incommensurate) structure ({', '.join(modulated[:3])}); "
            "its atoms repeat in no finite cell, so it cannot be read as a crystal. Give a commensurate "
            "approximant (a supercell) instead")
    if not any(t.startswith(_MAGNETIC_PREFIXES) for t in tags):
        return None
    tag, values = block.first_column(_MAGNETIC_OPERATION_TAGS)
    if not values and block.first_column(_SYMOP_TAGS)[1]:
        return None  # the spatial group's own operations are given: they place the atoms
    if not values:
        raise CrystalFourierError(
            f"{block.where()}: a magnetic CIF without a {_MAGNETIC_OPERATION_TAGS[0]} loop; its symmetry "
            "cannot be read from the magnetic group's symbol here: write the file with its operations")
    operations = _distinct([_magnetic_operation(text, f"{block.where(tag)}: magnetic operation {row} of {tag}")
                            for row, text in enumerate(values, start=1)])
    centering_tag, centerings = block.first_column(_MAGNETIC_CENTERING_TAGS)
    centerings = _distinct([_magnetic_operation(text, f"{block.where(centering_tag)}: centring {row} of "
                                                f"{centering_tag}")
                            for row, text in enumerate(centerings or ["x,y,z,+1"], start=1)])
    if len(operations) * len(centerings) > MAX_CIF_OPERATIONS:  # bounded before the product is formed
        raise CrystalFourierError(
            f"{block.where(tag)}: {len(operations):,} distinct magnetic operations times {len(centerings):,} "
            f"centrings is more than MAX_CIF_OPERATIONS = {MAX_CIF_OPERATIONS:,}; refused before expanding its sites")
    combined = {}
    for rotation, translation in operations:
        for centering_rotation, centering_translation in centerings:
            product_rotation = centering_rotation @ rotation
            product_translation = tuple(
                (sum(int(centering_rotation[i, j]) * translation[j] for j in range(3)) + centering_translation[i]) % 1
                for i in range(3))
            combined.setdefault((product_rotation.tobytes(), product_translation),
                                (product_rotation, np.array([float(v) for v in product_translation])))
    return list(combined.values())


def hall_operations(block: CifBlock):
    import gemmi

    from crystal_fourier.derive._operations import Operation

    tag, text = block.value(_HALL_TAGS)
    if text is None:
        return None
    try:
        group_ops = gemmi.symops_from_hall(text)
    except (RuntimeError, ValueError) as error:
        raise CrystalFourierError(f"{block.where(tag)}: Hall symbol {text!r} of {tag} cannot be read ({error})") \
            from None
    return _operation_arrays(Operation.parse(op.triplet()) for op in group_ops)


@lru_cache(maxsize=1)
def _origin_choice_table() -> dict[int, dict[str, int]]:
    from crystal_fourier._spglib import spacegroup_type

    table: dict[int, dict[str, int]] = {}
    for hall in range(1, 531):
        kind = spacegroup_type(hall)
        if str(kind.choice) in ("1", "2", "H", "R"):
            table.setdefault(int(kind.number), {}).setdefault(str(kind.choice), hall)
    return table


def origin_choices(number: int) -> dict[str, int]:
    """{'1': hall, '2': hall} for the 24 groups with two origin choices, else {}.

    Parameters
    ----------
    number : int
        ITA space-group number, 1-230.

    Returns
    -------
    dict of str to int
        Origin choice (``'1'``, ``'2'``) -> spglib Hall number.
    """
    return {k: v for k, v in _origin_choice_table().get(number, {}).items() if k in ("1", "2")}


def _axes_choices(number: int) -> dict[str, int]:
    """{'H': hall, 'R': hall} for the 7 rhombohedral groups (hexagonal or rhombohedral axes), else {}."""
    return {k: v for k, v in _origin_choice_table().get(number, {}).items() if k in ("H", "R")}


def _gemmi_setting(symbol: str):
    """gemmi's space-group setting for a symbol (old 'C m c a' and non-standard axes included), or None."""
    import gemmi

    try:
        return gemmi.find_spacegroup_by_name(symbol)
    except (RuntimeError, ValueError):
        return None


def _gemmi_operations(setting):
    from crystal_fourier.derive._operations import Operation

    return _operation_arrays(Operation.parse(op.triplet()) for op in setting.operations())


def symbol_settings(block: CifBlock, lattice: np.ndarray) -> tuple[list[tuple[str, list]], str]:
    """Candidate settings [(name, operations)] from the symbol or number, and how they were named.

    One candidate when the setting is determined (a bare symbol of a rhombohedral group by the
    cell: rhombohedral axes when a = b = c and alpha = beta = gamma != 120, else hexagonal); two
    (origin choice 1 and 2, in the symbol's axis setting) when only a symbol or number of a
    two-origin group is given; none when the block names no group. Symbols our table does not
    know (the pre-2002 ITA spellings such as 'C m c a', 'A b m 2') are looked up by gemmi.
    """
    from crystal_fourier.derive._space_groups import space_group

    tag, symbol = block.value(_SYMBOL_TAGS)
    number_tag, number_text = block.value(_NUMBER_TAGS)
    code_tag, code = block.value(_CODE_TAGS)
    gemmi_setting = None
    if symbol is not None:
        named = f"{tag} {symbol!r}"
        explicit = ":" in symbol
        try:
            group = space_group(symbol)
            number, label, operations = group.number, group.symbol, setting_operations(group.hall_number)
        except CrystalFourierError as error:
            gemmi_setting = _gemmi_setting(symbol)
            if gemmi_setting is None:
                raise CrystalFourierError(f"{block.where(tag)}: {tag} {symbol!r}: {error}") from None
            number, label = gemmi_setting.number, gemmi_setting.xhm()
            operations = _gemmi_operations(gemmi_setting)
    elif number_text is not None:
        value = cif_number(number_text, block.where(number_tag), number_tag)
        if value is None or not value.is_integer() or not 1 <= value <= 230:
            raise CrystalFourierError(f"{block.where(number_tag)}: {number_tag} = {number_text!r} is not a "
                                      "space-group number 1-230")
        group = space_group(int(value))
        number, label, operations = group.number, group.symbol, setting_operations(group.hall_number)
        named, explicit = f"{number_tag} {int(value)}", False
    else:
        return [], ""
    axes = _axes_choices(number)
    if axes and not explicit:  # a bare R symbol: the cell says which axes (a = b, gamma = 120: hexagonal)
        a, b, c, alpha, beta, gamma = cell_parameters(lattice)
        rhombohedral = abs(a - b) < _AXES_LENGTH_TOLERANCE * a and abs(b - c) < _AXES_LENGTH_TOLERANCE * a \
            and abs(alpha - beta) < _AXES_ANGLE_TOLERANCE and abs(beta - gamma) < _AXES_ANGLE_TOLERANCE \
            and abs(gamma - 120.0) > _AXES_ANGLE_TOLERANCE
        key = "R" if rhombohedral else "H"
        return [(f"{label} ({'rhombohedral' if rhombohedral else 'hexagonal'} axes)",
                 setting_operations(axes[key]))], named
    choices = origin_choices(number)
    if not choices or explicit:
        return [(label, operations)], named

    def choice(key: str):
        # the symbol's own axis setting with origin choice `key`; our standard axes for a number
        found = _gemmi_setting(f"{symbol}:{key}") if symbol is not None else None
        return (f"{label} origin choice {key}",
                _gemmi_operations(found) if found is not None else setting_operations(choices[key]))

    if code is not None:
        key = code.strip().lower().replace("origin", "").strip()
        if key not in choices:
            raise CrystalFourierError(f"{block.where(code_tag)}: {code_tag} = {code!r}; group {number} "
                                      f"({label}) has origin choices 1 and 2")
        return [choice(key)], named
    return [choice("1"), choice("2")], named


def setting_operations(hall_number: int):
    """(rotation, translation) of every operation of the setting ``hall_number`` (centring included)."""
    from crystal_fourier.derive._operations import DEN
    from crystal_fourier.derive._space_groups import space_group

    rotations, translations_24 = space_group(hall_number=hall_number).arrays
    return [(r, t / DEN) for r, t in zip(rotations, translations_24, strict=True)]
