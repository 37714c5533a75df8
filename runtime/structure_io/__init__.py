"""Structure files in and out: crystals, CIF (gemmi syntax, exact semantics), POSCAR."""
