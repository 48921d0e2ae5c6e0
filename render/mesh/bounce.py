"""The key light bounced once off the surroundings, per vertex, on the CPU.

Where the sky is hidden (a crease, the foot of a wall, the inside of a bowl, a slope
turned from the key light), what hides it is more surface, and that surface is itself
lit. A path tracer finds this light filling the shadowed side of every crease and valley;
without it those sides are darker than the reference (``benchmarks/pathtrace.py``). One
bounce, in the terms of ambient occlusion: the hidden part of each vertical slice of a
vertex's sky (:func:`lossfilm.render.mesh.occlusion.slice_sums`) looks at the surface
that hides it, whose outgoing light is (up to its albedo, applied in the shader) the key
light's irradiance there, ``max(n . l, 0)`` times its seen fraction of the light
(:mod:`lossfilm.render.mesh.sunlight`), read at the sample that set the slice's horizon:

    bounce = sum over slices of hidden light * lit(horizon) / sum of the slices' light

So the shadowed wall of a crease gets the light of the sunlit wall it faces, not the
landscape's mean. (The mean over a box of half the plane, the first version, lifted
every hidden slice alike: its error against the path tracer was twice this one's.)
Bounce light comes from afar (across a valley, from the far wall of a bowl), so the
horizons reach :data:`RADIUS` of the plane. It varies slowly, so it is computed on the
grid decimated to at most :data:`GRID` a side, smoothed over :data:`SMOOTH` of its cells
(the horizon's sample jumps from one crest to the next between neighbours) and
interpolated back.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from lossfilm.render.mesh.occlusion import horizon_occlusion, linear_weights, slice_sums

__all__ = ["indirect_light", "key_bounce", "RADIUS", "GRID", "SMOOTH"]

#: how far bounce light travels, as a fraction of the plane size.
RADIUS = 1.0
#: the decimated grid's largest side.
GRID = 128
#: the Gaussian smoothing of the bounce light, in cells of the decimated grid.
SMOOTH = 1.0


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
    sums = slice_sums(zc, xs, ys, RADIUS * plane, carry=lit)
    if sums is None:
        return np.zeros((ny, nx), np.float32)
    _, whole, carried = sums
    # (a slice's hidden light is >= 0 but float32 rounding leaves -1e-9 here and there)
    bounce = ndimage.gaussian_filter(np.maximum(carried / whole, 0.0), SMOOTH, mode="nearest")
    if stride > 1:  # back onto every vertex, bilinear: two small matrix products
        bounce = linear_weights(ny, rows.size, stride) @ bounce @ linear_weights(nx, cols.size, stride).T
    return np.asarray(bounce, np.float32)

