"""Crystal symmetry at run time: standardization, tolerances, exact periodic distances, random symmetric crystals."""
