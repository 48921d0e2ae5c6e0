"""Where tasks run (serial, process pool, Dask, SLURM) and progress lines. Used by both
stages. May import compute.config only.
"""
