"""The surface-sequence store: the only contract between compute and render.
May import compute.config, model.
"""
