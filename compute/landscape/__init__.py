"""The slice of weight space and the heart of the compute stage: directions, the grid,
and `evaluate_tile`. May import compute.config, model.
"""
