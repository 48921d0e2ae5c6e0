"""The key light bounced once off the surroundings, per vertex, on the CPU.

Where the sky is hidden (a crease, the foot of a wall, the inside of a bowl, a slope
turned from the key light), what hides it is more surface, and that surface is itself
lit. A path tracer finds this light filling the shadowed side of every crease and valley;
without it those sides are darker than the reference (``benchmarks/pathtrace.py``). One
bounce, in the terms of ambient occlusion: the occluded fraction ``1 - V`` of a vertex's
cosine-weighted hemisphere sees its surroundings, whose outgoing light is (up to their
albedo, applied in the shader) the key light's irradiance there, ``max(n . l, 0)`` times
their seen fraction of the light (:mod:`lossfilm.render.mesh.sunlight`):

    bounce = (1 - V) * mean over the surroundings of max(n . l, 0) * sun

Bounce light comes from afar (across a valley, from the far wall of a bowl), so ``V`` is
the physical horizon occlusion (strength 1) within :data:`RADIUS` of the plane, and the
mean a box over the same reach. It varies slowly, so it is computed on the grid
decimated to at most :data:`GRID` a side and interpolated back.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from lossfilm.render.mesh.occlusion import horizon_occlusion, linear_weights

__all__ = ["indirect_light", "key_bounce", "RADIUS", "GRID"]

#: how far bounce light travels, as a fraction of the plane size.
RADIUS = 0.5
#: the decimated grid's largest side.
GRID = 128


def indirect_light(occlusion, heights: np.ndarray, normals: np.ndarray, x: np.ndarray, y: np.ndarray,
                   plane: float, sun, key_dir: np.ndarray) -> np.ndarray:
    """(ny, nx, 2) float32: each vertex's sky visibility (:func:`horizon_occlusion` with the
    look's ``occlusion`` keys) and the key light bounced into it (:func:`key_bounce`, zero
    when ``occlusion.bounce`` is)."""
    visibility = horizon_occlusion(heights, x, y, occlusion.radius * plane, occlusion.strength)
    bounce = np.zeros_like(visibility)
    if occlusion.bounce > 0:
        bounce = key_bounce(heights, normals, sun, key_dir, x, y, plane)
    return np.stack([visibility, bounce], axis=-1)


def key_bounce(heights: np.ndarray, normals: np.ndarray, sun: np.ndarray | None, key_dir: np.ndarray,
               x: np.ndarray, y: np.ndarray, plane: float) -> np.ndarray:
    """(ny, nx) float32 >= 0: the key light's irradiance bounced into each vertex, per unit
    albedo of the surroundings and unit key light.

    Parameters
    ----------
    heights : (ny, nx)
        World z (non-finite: nothing there).
    normals : (ny, nx, 3)
        Unit normals.
    sun : callable or None
        ``sun(xs, ys, heights)``: the seen fraction of the key light at the vertices of the
        grid ``(ys, xs)`` (a decimated one) at those heights (None: no shadows, all seen).
    key_dir : (3,)
        Unit vector toward the key light.
    x, y : (nx,), (ny,)
        The grid, evenly spaced.
    plane : float
        The plane size :data:`RADIUS` is a fraction of.
    """
    z = np.asarray(heights, np.float32)
    ny, nx = z.shape
    stride = max(1, int(np.ceil(max(ny, nx) / GRID)))
    rows, cols = np.arange(0, ny, stride), np.arange(0, nx, stride)
    xs, ys = np.asarray(x)[cols], np.asarray(y)[rows]
    zc = z[np.ix_(rows, cols)]
    lit = np.clip(np.asarray(normals, np.float32)[np.ix_(rows, cols)] @ np.asarray(key_dir, np.float32), 0.0, None)
    if sun is not None:
        lit *= sun(xs, ys, zc)
    lit = np.where(np.isfinite(lit) & np.isfinite(zc), lit, 0.0).astype(np.float32)
    radius = RADIUS * plane
    visibility = horizon_occlusion(zc, xs, ys, radius, 1.0)
    cell = min(abs(xs[-1] - xs[0]) / max(xs.size - 1, 1), abs(ys[-1] - ys[0]) / max(ys.size - 1, 1))
    size = max(1, int(round(2.0 * radius / max(cell, 1e-12))) | 1)
    around = ndimage.uniform_filter(lit, size=size, mode="nearest")
    bounce = (1.0 - visibility) * around
    if stride > 1:  # back onto every vertex, bilinear: two small matrix products
        bounce = linear_weights(ny, rows.size, stride) @ bounce @ linear_weights(nx, cols.size, stride).T
    return np.asarray(bounce, np.float32)

