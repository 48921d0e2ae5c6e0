"""Hessian spectra and the curvature pass. May import compute.config, model, data,
landscape, store, execution, experiments.
"""
