"""Structure files in and out: crystals, CIF (gemmi syntax, exact semantics), POSCAR, extended XYZ, pymatgen dicts,
and sources of many structures (directories, trajectories, ASE databases, CSV files of CIFs, list files).

The first layer of ``runtime`` (structure_io -> symmetry -> data -> network -> learning): it imports
from no other sub-package.
"""
