"""Which slice of weight space a scene evaluates: its configuration and its grid.

:class:`LandscapeConfig` (directions, origin, grid, evaluation) is the ``compute.landscape``
section of a scene. :func:`grid_axes` turns a :class:`GridConfig` into the coordinates
``a (nx,)`` and ``b (ny,)`` that every state is evaluated on.
"""

from __future__ import annotations


import numpy as np

from lossfilm.compute.config.landscape import GridConfig, EvalConfig, LandscapeConfig

__all__ = ["GridConfig", "EvalConfig", "LandscapeConfig", "grid_axis", "grid_axes"]


# --------------------------------------------------------------------------- grid


def grid_axis(lo: float, hi: float, n: int) -> np.ndarray:
    """``n`` evenly spaced coordinates from ``lo`` to ``hi``, shape ``(n,)`` float64.

    Built as ``centre + half·t`` with ``t = (2i − (n−1))/(n−1)``, so for a symmetric range
    and odd ``n`` the middle coordinate is exactly ``0.0`` (the origin is on the grid, bit
    for bit) and the axis is symmetric.
    """
    if n == 1:
        return np.array([(lo + hi) / 2.0])
    i = np.arange(n, dtype=np.float64)
    t = (2.0 * i - (n - 1)) / (n - 1)
    centre, half = (lo + hi) / 2.0, (hi - lo) / 2.0
    return centre + half * t


def grid_axes(grid: GridConfig, fitted: tuple | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates ``a (nx,)`` and ``b (ny,)``.

    ``fitted`` = ``((lo_a, hi_a), (lo_b, hi_b) | None)`` replaces the configured ranges
    (fixed planes fitted to their points); ``None`` for b means a single row at ``b = 0``.
    """
    ny, nx = grid.dims
    ra = tuple(grid.range)
    rb = tuple(grid.range_b) if grid.range_b is not None else ra
    if fitted is not None:
        ra = fitted[0]
        if fitted[1] is None:
            return grid_axis(ra[0], ra[1], nx), np.zeros(1)
        rb = fitted[1]
    return grid_axis(ra[0], ra[1], nx), grid_axis(rb[0], rb[1], ny)
