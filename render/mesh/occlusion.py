"""Ambient occlusion of a height field, exact along grid directions, on the CPU.

A height field needs no screen-space guess: the horizon seen from each vertex along a
direction is the largest elevation angle to any grid point in that direction (horizon-
based ambient occlusion, Bavoil & Sainz 2008, evaluated on the grid itself instead of the
depth buffer). What the horizons hide is the sky's cosine-weighted light, integrated
exactly per vertical slice: around the vertical axis a direction at elevation ``theta``
and azimuth ``psi`` has solid angle ``cos(theta) dtheta dpsi`` and receives
``max(n . w, 0) = a cos(theta) + b sin(theta)`` (``a`` the normal's horizontal part along
the slice, ``b`` its height), so a slice sees

    S(lo) = integral from lo to pi/2 of (a cos + b sin) cos dtheta
          = a (pi/4 - lo/2 - sin(2 lo)/4) + b cos^2(lo) / 2,

from ``lo`` = the higher of its horizon and of the tangent plane's elevation ``theta0``
(below which the surface faces away). The visibility is the sum of ``S(horizon)`` over the
8 slices over the sum of ``S(theta0)``: a slope facing downhill gets most of its light
from the downhill slices, and they weigh more. (Two earlier versions averaged the
slices with equal weights, hiding ``sin(theta)`` and then ``sin^2(phi)`` of the angle
above the tangent plane, the slice integral only for a slice through the normal; on a
landscape of creases in a bowl they found 0.74 to 0.86 of the sky seen where 1024 rays
cast through the heights find 0.57, and the path tracer agreed with the rays:
``benchmarks/pathtrace.py``.) A flat or convex neighbourhood sees no horizon above its
tangent plane and keeps visibility exactly 1; a crease or the bottom of a downfall goes
dark.

Horizons come from samples at :data:`MAX_STEPS` geometrically spaced distances up to
``radius``, each a whole-array shift of the grid (the 8 directions are the axes and the
diagonals, the steps whole cells), so a frame is ``8 x steps`` vectorized numpy
operations: see ``benchmarks/look.py`` for its cost per frame at 256^2 and 512^2 vertices.
Samples that leave the grid are
skipped: beyond the cut edge there is nothing to occlude.
"""

from __future__ import annotations

import numpy as np

__all__ = ["horizon_occlusion", "slice_sums", "linear_weights", "DIRECTIONS", "MAX_STEPS", "GRID"]

#: the 8 grid directions (row step, column step): axes and diagonals.
DIRECTIONS = ((0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1), (-1, 0), (-1, 1))
#: largest number of distinct march distances per direction (geometric spacing).
MAX_STEPS = 16
#: the largest grid side evaluated whole; denser grids are decimated to it.
GRID = 256


def linear_weights(n: int, m: int, stride: int) -> np.ndarray:
    """(n, m) float32: linear interpolation from every ``stride``-th of n samples back to all n."""
    t = np.minimum(np.arange(n) / stride, m - 1)
    i = np.minimum(t.astype(int), max(m - 2, 0))
    w = (t - i).astype(np.float32)
    out = np.zeros((n, m), np.float32)
    out[np.arange(n), i] = 1.0 - w
    out[np.arange(n), np.minimum(i + 1, m - 1)] += w
    return out


def _march_cells(radius_cells: float, max_steps: int = MAX_STEPS) -> np.ndarray:
    """Distinct whole-cell steps from 1 to ``radius_cells``, geometrically spaced."""
    top = max(1.0, float(radius_cells))
    steps = np.unique(np.rint(np.geomspace(1.0, top, max_steps)).astype(int))
    return steps[steps >= 1]


def _slice_light(a: np.ndarray, b: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """Cosine-weighted light of one vertical slice from elevation ``lo`` to the zenith, for a
    normal with horizontal part ``a`` along the slice and height ``b`` (see the module)."""
    return (a * (np.float32(np.pi / 4) - 0.5 * lo - 0.25 * np.sin(2.0 * lo))
            + 0.5 * b * np.cos(lo) ** 2).astype(np.float32)


def slice_sums(heights: np.ndarray, x: np.ndarray, y: np.ndarray, radius: float,
               carry: np.ndarray | None = None):
    """The 8 slices' sky light summed per vertex: ``(seen, whole, carried)``, each (ny, nx)
    float32, or None for a degenerate grid. ``seen / whole`` is the visibility;
    ``carried`` sums each slice's hidden light times ``carry`` (ny, nx) at the sample
    that set its horizon (what the hidden part of that slice looks at), or is None."""
    z = np.asarray(heights, dtype=np.float32)
    ny, nx = z.shape
    dx = float(abs(x[-1] - x[0])) / (nx - 1)
    dy = float(abs(y[-1] - y[0])) / (ny - 1)
    if dx <= 0 or dy <= 0:
        return None
    z = np.where(np.isfinite(z), z, np.float32(-np.inf))
    steps = _march_cells(radius / min(dx, dy))
    pad = int(steps[-1])
    # -inf outside the grid: a sample past the cut edge never raises the horizon
    padded = np.full((ny + 2 * pad, nx + 2 * pad), -np.inf, np.float32)
    padded[pad:pad + ny, pad:pad + nx] = z
    if carry is not None:
        carry_padded = np.zeros_like(padded)
        carry_padded[pad:pad + ny, pad:pad + nx] = carry
        carried = np.zeros((ny, nx), np.float32)
        at_horizon = np.empty((ny, nx), np.float32)
    # the tangent plane's elevation along each slice: a uniform slope occludes nothing
    gy, gx = np.gradient(np.where(np.isfinite(z), z, 0.0).astype(np.float32), dy, dx)
    norm = np.sqrt(1.0 + gx * gx + gy * gy)
    seen = np.zeros((ny, nx), np.float32)
    whole = np.zeros((ny, nx), np.float32)
    excess = np.empty((ny, nx), np.float32)
    rise = np.empty((ny, nx), np.float32)
    with np.errstate(invalid="ignore"):
        for di, dj in DIRECTIONS:
            length = float(np.hypot(di * dy, dj * dx))
            tangent = (gx * np.float32(dj * dx / length) + gy * np.float32(di * dy / length)).astype(np.float32)
            excess.fill(0.0)  # horizons below the tangent plane do not occlude
            if carry is not None:
                at_horizon.fill(0.0)
            for k in steps:
                r = k * length
                if r > radius:
                    break
                i0, j0 = pad + di * k, pad + dj * k
                np.subtract(padded[i0:i0 + ny, j0:j0 + nx], z, out=rise)
                # how far the sample's elevation tangent rises above the tangent plane's
                np.multiply(rise, np.float32(1.0 / r), out=rise)
                np.subtract(rise, tangent, out=rise)
                if carry is not None:
                    higher = rise > excess
                    at_horizon[higher] = carry_padded[i0:i0 + ny, j0:j0 + nx][higher]
                np.fmax(excess, rise, out=excess)  # fmax: a NaN (invalid - invalid) is ignored
            # the slice's light from the tangent plane up (whole) and from the horizon up (seen)
            a, b = -tangent / norm, 1.0 / norm
            whole_slice = _slice_light(a, b, np.arctan(tangent))
            seen_slice = _slice_light(a, b, np.arctan(tangent + excess))
            whole += whole_slice
            seen += seen_slice
            if carry is not None:
                carried += (whole_slice - seen_slice) * at_horizon
    return seen, whole, (carried if carry is not None else None)


def horizon_occlusion(heights: np.ndarray, x: np.ndarray, y: np.ndarray, radius: float,
                      strength: float = 1.0, grid: int = GRID) -> np.ndarray:
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
    grid : int
        Larger grids are evaluated on every k-th vertex (at most ``grid`` a side) and
        interpolated back: sky light varies slowly, and a denser grid is an upsampled one.

    Returns
    -------
    (ny, nx) float32
        In [0, 1]: 1 = open sky (flat or convex), lower in creases and pits.
    """
    z = np.asarray(heights, dtype=np.float32)
    ny, nx = z.shape
    if ny < 2 or nx < 2 or radius <= 0 or strength <= 0:
        return np.ones((ny, nx), np.float32)
    stride = max(1, int(np.ceil(max(ny, nx) / max(grid, 2))))
    if stride > 1:
        rows, cols = np.arange(0, ny, stride), np.arange(0, nx, stride)
        coarse = horizon_occlusion(z[np.ix_(rows, cols)], np.asarray(x)[cols], np.asarray(y)[rows], radius,
                                   strength, grid)
        visibility = linear_weights(ny, rows.size, stride) @ coarse @ linear_weights(nx, cols.size, stride).T
        visibility[~np.isfinite(z)] = 1.0
        return np.clip(visibility, 0.0, 1.0).astype(np.float32)
    sums = slice_sums(z, x, y, radius)
    if sums is None:
        return np.ones((ny, nx), np.float32)
    seen, whole, _ = sums
    occluded = 1.0 - seen / whole
    visibility = 1.0 - np.float32(strength) * occluded
    visibility[~np.isfinite(heights)] = 1.0
    return np.clip(visibility, 0.0, 1.0).astype(np.float32)
