"""The spatial part of a film's surface: the shown window, the render grid and its operators.

A :class:`HeightField` is built once per film from the sequence's coarse axes. It owns
every step from coarse heights to the drawn mesh (smoothing and cubic upsampling as two
matrices, heights of the drawn triangles at plane points) and holds nothing that changes
in time: callers pass the coarse heights ``zc (ny0, nx0)`` of the moment they want.
"""

from __future__ import annotations

import numpy as np

from lossfilm.render.mesh.frame import Bounds, Topology
from lossfilm.render.mesh.resample import (
    Upsampler,
    gaussian_matrix,
    grid_triangles,
    heights_at_points,
    render_axes,
)

__all__ = ["HeightField", "window_of", "window_indices"]


def _bracketing(coords: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Indices of the coarse points that cover [lo, hi]: one beyond each end when inside."""
    i0 = max(int(np.searchsorted(coords, lo, side="right")) - 1, 0)
    i1 = min(int(np.searchsorted(coords, hi, side="left")), coords.size - 1)
    return np.arange(i0, i1 + 1)


def window_indices(a: np.ndarray, b: np.ndarray, window: tuple) -> tuple[np.ndarray, np.ndarray]:
    """``(ix, iy)``: the coarse columns and rows that cover ``window = (x0, x1, y0, y1)``."""
    x0, x1, y0, y1 = window
    return _bracketing(a, x0, x1), _bracketing(b, y0, y1)


def window_of(a: np.ndarray, b: np.ndarray, crop: tuple | None) -> tuple[float, float, float, float]:
    """``(x0, x1, y0, y1)``: the crop, checked against the computed plane, or the whole plane."""
    if a.size < 2 or b.size < 2:
        raise ValueError(f"the sequence grid must be at least 2x2, got {(b.size, a.size)}")
    if np.any(np.diff(a) <= 0) or np.any(np.diff(b) <= 0):
        raise ValueError("the sequence coordinates a and b must be strictly increasing")
    window = crop if crop is not None else (a[0], a[-1], b[0], b[-1])
    x0, x1, y0, y1 = (float(v) for v in window)
    if x0 < a[0] or x1 > a[-1] or y0 < b[0] or y1 > b[-1]:
        raise ValueError(
            f"mesh.crop {[x0, x1, y0, y1]} leaves the computed plane"
            f" [{a[0]}, {a[-1]}, {b[0]}, {b[-1]}]"
        )
    return x0, x1, y0, y1


class HeightField:
    """Coarse heights -> the drawn mesh, for one window and render resolution.

    Parameters
    ----------
    a : (nx0,) float64, b : (ny0,) float64
        The sequence's coarse axes (strictly increasing).
    window : (x0, x1, y0, y1)
        The shown part of the plane (:func:`window_of`).
    resolution : int
        Vertices along the longer side of the render grid.
    smooth : float
        Gaussian smoothing (coarse cells) folded into the cubic spline.
    top : float
        World height of the ceiling (the film's :class:`HeightTransform` top).
    """

    def __init__(self, a: np.ndarray, b: np.ndarray, window: tuple, resolution: int,
                 smooth: float, top: float) -> None:
        if resolution < 2:
            raise ValueError(f"mesh.resolution must be >= 2, got {resolution}")
        self.a, self.b, self.window, self.top = a, b, tuple(window), float(top)
        x0, x1, y0, y1 = self.window
        self.ix, self.iy = window_indices(a, b, self.window)
        # The spline runs through the whole coarse grid, so a crop has no edge effects.
        x, y = render_axes(self.window, resolution)
        self._x, self._y = x, y
        self._gy, self._gx = gaussian_matrix(b.size, smooth), gaussian_matrix(a.size, smooth)
        self.upsample = Upsampler(b, y, a, x, sigma=smooth)
        self._linear: Upsampler | None = None
        self.dx, self.dy = float(x[1] - x[0]), float(y[1] - y[0])
        bounds = Bounds(lo=(x0, y0, 0.0), hi=(x1, y1, self.top))
        self.topology = Topology(x=x.astype(np.float32), y=y.astype(np.float32),
                                 indices=grid_triangles(y.size, x.size), bounds=bounds)

    @property
    def linear(self) -> Upsampler:
        """Bilinear upsampling to the render grid (masks, and near cliffs); built when asked."""
        if self._linear is None:
            self._linear = Upsampler(self.b, self._y, self.a, self._x, degree=1)
        return self._linear

    def shown(self, grid: np.ndarray) -> np.ndarray:
        """The window's coarse points of a ``(..., ny0, nx0)`` array."""
        return grid[..., self.iy, :][..., self.ix]

    def coarse(self, zc: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(nx,) float64, (ny,) float64, (ny, nx) smoothed heights of the window's coarse points."""
        z = self._gy[self.iy] @ zc @ self._gx[self.ix].T
        return self.a[self.ix], self.b[self.iy], np.clip(z, 0.0, self.top)

    def heights_at(self, zc: np.ndarray, px, py) -> np.ndarray:
        """(k,) heights of the drawn mesh at plane points (clamped to the plane's edge)."""
        return heights_at_points(zc, self.upsample.ry, self.upsample.rx, self.topology.x,
                                 self.topology.y, px, py, 0.0, self.top)

    def inside(self, px: float, py: float) -> bool:
        x0, x1, y0, y1 = self.window
        return bool(x0 <= px <= x1 and y0 <= py <= y1)
