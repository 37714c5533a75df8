"""Labelled data: data-set files (CDVAE CSV, extxyz, matbench JSON) and EMT labels of generated crystals.

Third layer of ``runtime`` (structure_io -> symmetry -> data -> network -> learning): imports only
structure_io and symmetry.
"""
