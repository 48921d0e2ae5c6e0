"""Terrain under the camera: heights of a grid surface at points, lifts and clip planes.

The camera reads the landscape on its coarse grid: bilinear heights and safe per-cell
ceilings (to keep clearance), a smooth upper envelope of the heights it must clear, and
near/far planes that never cut the surface. Pure functions on numpy arrays.

World units are landscape units (see :mod:`lossfilm.render.mesh.frame`): ``x = a``, ``y = b``, ``z`` up.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.ndimage import gaussian_filter1d, maximum_filter1d

from lossfilm.render.mesh.resample import grid_cells

__all__ = [
    "bilinear_height",
    "cell_max_height",
    "clip_planes",
    "upper_envelope",
]

#: near plane as a fraction of the distance to the closest surface point (frustum corners
#: sit ~30 degrees off axis at fov 40..90, so half the distance never clips the surface).
NEAR_FRACTION = 0.4
#: the near plane never drops below far * this (24-bit depth keeps ~1e-4 of precision).
NEAR_FAR_RATIO = 2e-5
#: far plane = farthest corner of the bounds times this.
FAR_MARGIN = 1.1


def bilinear_height(x0: np.ndarray, y0: np.ndarray, z: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Heights of a grid surface at points, bilinear; clamped to the grid's edge outside.

    Parameters
    ----------
    x0 : (nx,) float, y0 : (ny,) float
        Increasing grid coordinates.
    z : (ny, nx) float
        Heights.
    xy : (m, 2) float
        Query points.

    Returns
    -------
    (m,) float
    """
    xy = np.atleast_2d(xy)
    i, fx = grid_cells(x0, xy[:, 0])
    j, fy = grid_cells(y0, xy[:, 1])
    z00, z01 = z[j, i], z[j, i + 1]
    z10, z11 = z[j + 1, i], z[j + 1, i + 1]
    return (z00 * (1 - fx) + z01 * fx) * (1 - fy) + (z10 * (1 - fx) + z11 * fx) * fy


def cell_max_height(x0: np.ndarray, y0: np.ndarray, z: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Highest corner of the grid cell under each point (m, 2) -> (m,): a safe ceiling.

    Always at least :func:`bilinear_height`, so clearance measured against it holds
    against any interpolation that stays within the cell's corners.
    """
    xy = np.atleast_2d(xy)
    i, _ = grid_cells(x0, xy[:, 0])
    j, _ = grid_cells(y0, xy[:, 1])
    return np.max(np.stack([z[j, i], z[j, i + 1], z[j + 1, i], z[j + 1, i + 1]]), axis=0)


def upper_envelope(values: np.ndarray, sigma_samples: float) -> np.ndarray:
    """A smooth curve never below ``values`` (m,): a running max, then a Gaussian.

    The max window covers the Gaussian's support, so every weighted average it takes is
    over values already at least the original sample: the result stays above it.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.size < 3 or sigma_samples <= 0:
        return v.copy()
    radius = int(np.ceil(3.0 * sigma_samples))
    wide = maximum_filter1d(v, size=2 * radius + 1, mode="nearest")
    return gaussian_filter1d(wide, sigma_samples, mode="nearest", truncate=3.0)


def clip_planes(
    eye: np.ndarray,
    lo: Sequence[float],
    hi: Sequence[float],
    x0: np.ndarray,
    y0: np.ndarray,
    z: np.ndarray,
) -> tuple[float, float]:
    """Near and far planes for a camera at ``eye`` (3,) over a surface.

    ``near`` is ``NEAR_FRACTION`` of the distance to the closest surface sample (grid
    vertices of the coarse surface, and the surface straight below or above the eye), so
    the surface is never clipped, also when skimming it; ``far`` covers the bounds
    ``lo``/``hi`` from the eye. ``near >= far * NEAR_FAR_RATIO`` keeps depth precision.
    """
    eye = np.asarray(eye, dtype=np.float64)
    corners = np.array(
        [[a, b, c] for a in (lo[0], hi[0]) for b in (lo[1], hi[1]) for c in (lo[2], hi[2])]
    )
    far = float(np.max(np.linalg.norm(corners - eye, axis=1))) * FAR_MARGIN
    gx, gy = np.meshgrid(x0, y0)
    d2 = (gx - eye[0]) ** 2 + (gy - eye[1]) ** 2 + (z - eye[2]) ** 2
    dist = float(np.sqrt(np.min(d2)))
    if x0[0] <= eye[0] <= x0[-1] and y0[0] <= eye[1] <= y0[-1]:
        dist = min(dist, abs(eye[2] - float(bilinear_height(x0, y0, z, eye[None, :2])[0])))
    near = max(NEAR_FRACTION * dist, far * NEAR_FAR_RATIO)
    return near, far
