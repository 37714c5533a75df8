"""The network: model inputs (samples, batches), the routing encoder built from the generated modules,
neighbourhoods, the transformer, its baselines.

Fourth layer of ``runtime`` (structure_io -> symmetry -> data -> network -> learning): never imports learning.
"""
