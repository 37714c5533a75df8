"""Crystal symmetry at run time: standardization, tolerances, exact periodic distances, random symmetric crystals.

Second layer of ``runtime`` (structure_io -> symmetry -> data -> network -> learning): imports only structure_io.
"""
