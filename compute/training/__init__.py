"""Training with captures and checkpoint folders. May import compute.config, model, data, execution.
"""
