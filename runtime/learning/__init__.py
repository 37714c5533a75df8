"""Learning: training, evaluation, classical baselines, saved models, orbit-distance pretraining, zero-shot.

The top layer of ``runtime`` (structure_io -> symmetry -> data -> network -> learning): it may import
every other sub-package, and none imports it.
"""
