"""lossfilm's compute stage (installed as ``lossfilm.compute``): train or load a network and
evaluate its loss on 2-D slices of weight space.

Rooms, lowest first; a room imports only rooms before it (``tests/test_layout.py``):

- ``config``: the compute section of the scene schema, torch-free dataclasses.
- ``model``: the model zoo and the losses. ``data``: generated and user data sets.
- ``execution``: where tasks run (serial, process pool, Dask, SLURM) and progress lines.
- ``training``: training with captures, checkpoint folders.
- ``store``: the surface-sequence store, the only contract with :mod:`lossfilm.render`.
- ``landscape``: directions, planes, the grid and the heart, ``evaluate_tile``.
- ``experiments``: states from curves, pruning, dropout, SWAG, WGAN, variants.
- ``curvature``: Hessian spectra and the curvature pass.
- ``stage``: the orchestration that writes a store (``compute_sequence``).

Never imports :mod:`lossfilm.render`.
"""
