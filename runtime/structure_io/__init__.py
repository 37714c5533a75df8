"""Structure files in and out: crystals, CIF (gemmi syntax, exact semantics), POSCAR, extended XYZ, pymatgen dicts.

The first layer of ``runtime`` (structure_io -> symmetry -> data -> network -> learning): it imports
from no other sub-package.
"""
