"""Crystals from pymatgen ``Structure.as_dict()`` dictionaries, without pymatgen.

Read by :func:`~crystal_fourier.runtime.structure_io._structure_files.read_structure` for a ``.json``
structure file and by the matbench / pymatgen JSON data-set loader of ``runtime.data``.
"""

from __future__ import annotations

import numpy as np

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.structure_io._coincident import check_no_coincident_atoms
from crystal_fourier.runtime.structure_io._elements import element_number
from crystal_fourier.runtime.structure_io._structures import Crystal

__all__ = ["structure_from_dict"]

_OCCUPANCY_TOLERANCE = 1e-3
"""Largest |occupancy - 1| of a pymatgen site that still counts as fully occupied (ordered)."""


def structure_from_dict(data: dict, *, where: str = "<dict>") -> Crystal:
    """A crystal from a pymatgen ``Structure.as_dict()`` dictionary (no pymatgen needed).

    Uses ``lattice.matrix`` and each site's ``species[0].element`` with its ``abc``
    (or Cartesian ``xyz``); a site with several species or occupancy below 1 is an error.

    Parameters
    ----------
    data : dict
        The ``Structure.as_dict()`` dictionary.
    where : str, default "<dict>"
        Where the dictionary comes from, for error messages.

    Returns
    -------
    Crystal

    Raises
    ------
    CrystalFourierError
        Not a Structure dict, no lattice matrix, or a disordered or unknown site.

    Examples
    --------
    >>> structure_from_dict({"lattice": {"matrix": [[3, 0, 0], [0, 3, 0], [0, 0, 3]]},
    ...                      "sites": [{"species": [{"element": "Cu", "occu": 1}], "abc": [0, 0, 0]}]}).formula
    'Cu'
    """
    if not isinstance(data, dict) or "lattice" not in data or "sites" not in data:
        raise CrystalFourierError(f"{where}: not a pymatgen Structure dict (needs 'lattice' and 'sites')")
    lattice_data = data["lattice"]
    matrix = lattice_data.get("matrix") if isinstance(lattice_data, dict) else lattice_data
    if matrix is None:
        raise CrystalFourierError(f"{where}: the structure's lattice has no 'matrix'")
    lattice = np.asarray(matrix, dtype=np.float64)
    positions, numbers, cartesian = [], [], False
    for index, site in enumerate(data["sites"]):
        species = site.get("species") or []
        if len(species) != 1 or abs(float(species[0].get("occu", 1.0)) - 1.0) > _OCCUPANCY_TOLERANCE:
            raise CrystalFourierError(f"{where}: site {index} is disordered ({species}); only ordered structures "
                                      "are supported")
        element = species[0].get("element")
        if element is None:
            raise CrystalFourierError(f"{where}: site {index} has no element")
        numbers.append(element_number(str(element), where=f"{where}: site {index}"))
        if "abc" in site:
            positions.append(site["abc"])
        elif "xyz" in site:
            positions.append(site["xyz"])
            cartesian = True
        else:
            raise CrystalFourierError(f"{where}: site {index} has neither 'abc' nor 'xyz' coordinates")
    return check_no_coincident_atoms(Crystal.from_arrays(lattice, positions, numbers, cartesian=cartesian), where)
