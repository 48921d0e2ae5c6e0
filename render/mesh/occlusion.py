"""Ambient occlusion of a height field, exact along grid directions, on the CPU.

A height field needs no screen-space guess: the horizon seen from each vertex along a
direction is the largest elevation angle to any grid point in that direction (horizon-
based ambient occlusion, Bavoil & Sainz 2008, evaluated on the grid itself instead of the
depth buffer). Diffuse light weights the sky by the cosine to the normal: cut the
hemisphere into vertical slices, and a horizon at angle ``phi`` above the tangent plane
hides ``sin^2(phi)`` of a slice's cosine-weighted light (the slice integral of
ground-truth AO, Jimenez et al. 2016, for a slice through the normal), so the visibility is

    visibility = 1 - mean over directions of sin^2(phi),
    tan(phi + tangent elevation) = max_k tan(theta_k) * falloff(r_k)

with ``falloff(r) = 1 - (r / radius)^2`` so that distant walls fade out instead of
switching off at ``radius``. (An earlier version hid ``sin(theta)``, the solid angle:
on gentle relief full of shallow horizons that darkened far more than the light a path
tracer finds blocked, ``benchmarks/pathtrace.py``.) A flat or convex neighbourhood sees no horizon above zero
and keeps visibility exactly 1; a crease or the bottom of a downfall goes dark.

Every sample is a whole-array shift of the grid (the 8 directions are the axes and the
diagonals, the steps whole cells), so a frame is ``8 x steps`` vectorized numpy
operations: see ``benchmarks/look.py`` for its cost per frame at 256^2 and 512^2 vertices,
cheap next to a 4K frame. Samples that leave the grid are
skipped: beyond the cut edge there is nothing to occlude.
"""

from __future__ import annotations

import numpy as np

__all__ = ["horizon_occlusion", "DIRECTIONS", "MAX_STEPS"]

#: the 8 grid directions (row step, column step): axes and diagonals.
DIRECTIONS = ((0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1), (-1, 0), (-1, 1))
#: largest number of distinct march distances per direction (geometric spacing).
MAX_STEPS = 10


def _march_cells(radius_cells: float, max_steps: int = MAX_STEPS) -> np.ndarray:
    """Distinct whole-cell steps from 1 to ``radius_cells``, geometrically spaced."""
    top = max(1.0, float(radius_cells))
    steps = np.unique(np.rint(np.geomspace(1.0, top, max_steps)).astype(int))
    return steps[steps >= 1]


def horizon_occlusion(heights: np.ndarray, x: np.ndarray, y: np.ndarray, radius: float,
                      strength: float = 1.0) -> np.ndarray:
    """Sky visibility of every vertex of a height field.

    Parameters
    ----------
    heights : (ny, nx) float
        World z of each vertex (row i at ``y[i]``, column j at ``x[j]``). Non-finite
        heights occlude nothing and get visibility 1.
    x : (nx,) float
        World x of each column, evenly spaced.
    y : (ny,) float
        World y of each row, evenly spaced.
    radius : float
        How far (world units) a horizon may be to occlude; farther points are ignored.
    strength : float
        Scales the occlusion: ``1 - strength * (1 - visibility)``, clipped at 0.

    Returns
    -------
    (ny, nx) float32
        In [0, 1]: 1 = open sky (flat or convex), lower in creases and pits.
    """
    z = np.asarray(heights, dtype=np.float32)
    ny, nx = z.shape
    if ny < 2 or nx < 2 or radius <= 0 or strength <= 0:
        return np.ones((ny, nx), np.float32)
    dx = float(abs(x[-1] - x[0])) / (nx - 1)
    dy = float(abs(y[-1] - y[0])) / (ny - 1)
    if dx <= 0 or dy <= 0:
        return np.ones((ny, nx), np.float32)
    z = np.where(np.isfinite(z), z, np.float32(-np.inf))
    steps = _march_cells(radius / min(dx, dy))
    pad = int(steps[-1])
    # -inf outside the grid: a sample past the cut edge never raises the horizon
    padded = np.full((ny + 2 * pad, nx + 2 * pad), -np.inf, np.float32)
    padded[pad:pad + ny, pad:pad + nx] = z
    # the tangent plane is the zero of each slice: a uniform slope occludes nothing
    gy, gx = np.gradient(np.where(np.isfinite(z), z, 0.0).astype(np.float32), dy, dx)
    occluded = np.zeros((ny, nx), np.float32)
    excess = np.empty((ny, nx), np.float32)
    rise = np.empty((ny, nx), np.float32)
    with np.errstate(invalid="ignore"):
        for di, dj in DIRECTIONS:
            length = float(np.hypot(di * dy, dj * dx))
            tangent = (gx * np.float32(dj * dx / length) + gy * np.float32(di * dy / length)).astype(np.float32)
            excess.fill(0.0)  # horizons below the tangent plane do not occlude
            for k in steps:
                r = k * length
                if r > radius:
                    break
                i0, j0 = pad + di * k, pad + dj * k
                np.subtract(padded[i0:i0 + ny, j0:j0 + nx], z, out=rise)
                # how far the sample's elevation tangent rises above the tangent plane's, faded
                np.multiply(rise, np.float32(1.0 / r), out=rise)
                np.subtract(rise, tangent, out=rise)
                np.multiply(rise, np.float32(1.0 - (r / radius) ** 2), out=rise)
                np.fmax(excess, rise, out=excess)  # fmax: a NaN (invalid - invalid) is ignored
            # the horizon's angle phi above the tangent plane hides sin^2(phi) of the slice's
            # cosine-weighted sky; sin(atan h - atan t) = (h - t) / sqrt((1 + h^2)(1 + t^2))
            horizon = tangent + excess
            occluded += excess * excess / ((1.0 + horizon * horizon) * (1.0 + tangent * tangent))
    visibility = 1.0 - np.float32(strength / len(DIRECTIONS)) * occluded
    visibility[~np.isfinite(heights)] = 1.0
    return np.clip(visibility, 0.0, 1.0).astype(np.float32)
