"""Labelled data: data-set files (CDVAE CSV, extxyz, matbench JSON) and EMT labels of generated crystals."""
