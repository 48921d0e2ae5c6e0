"""The scene file: the mesh, camera, render and output sections as torch-free dataclasses,
the YAML loader with FILE:LINE:COL errors, `keys` and `schema`. Imports compute.config only.
"""
