"""The key light's shadow of a height field on itself, exact along the light, on the CPU.

A shadow map sees the surface as triangles from the light. Where the light grazes a
steep wall, each texel and each triangle edge of the caster is stretched over many
pixels of the wall: a crest that runs slantwise through the grid throws a saw-toothed
shadow, whatever the map's resolution. A height field needs no map. A point ``(p, z)`` is
lit when nothing ahead of it, toward the light, rises above the ray that leaves it at the
light's elevation ``alpha``:

    lit  <=>  z >= S(p) = max over t > 0 of  z(p + t d) - t tan(alpha),

with ``d`` the light's horizontal direction. ``S`` is the *shadow sheet*: the height below
which the light is hidden at ``p``. Along one line of direction ``d`` it is a running
maximum (``w = z - u tan(alpha)``, ``u`` the distance along ``d``; ``S = max of w ahead +
u tan(alpha)``). So the heights are resampled onto a grid turned to the light (rows along
``d``), and one ``maximum.accumulate`` per row gives every sample's sheet with no march
radius and nothing skipped. The renderer samples the turned grid itself as a texture
(:attr:`SunShadow.uv` maps the plane onto it), so nothing is resampled back.

The renderer compares each pixel's own height with the sheets (``shaders/shadow.glsl``):
the shadow's edge is where the drawn surface crosses a sheet, so it follows the surface as
drawn, not the triangulation's facets (a visibility sampled by ``(x, y)`` and laid on a
faceted steep wall shows those facets as teeth).

The key light is a disk, not a point: there is one sheet for each of :data:`LEVELS` equal
bands of its elevations, and a point sees the bands whose sheets lie below it. Each band
fades in over the distance to the next sheet, so for a single caster the seen fraction
rises linearly across the penumbra, which widens with the distance to the caster, as
under a real sun or softbox.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SunShadow", "lit_fraction", "LEVELS", "NO_SHADOW"]

#: bands of the light's disk, one sheet each (the renderer's texture holds four channels).
LEVELS = 4
#: the sheet where nothing lies ahead (a finite "minus infinity": it survives bilinear filtering).
NO_SHADOW = -1.0e30


def lit_fraction(sheets, z, ramp: float = 0.0):
    """Seen fraction of the light's disk at height ``z`` over ``sheets`` (..., LEVELS), numpy.

    The same as ``sun_visibility`` in ``shaders/shadow.glsl``: each band is seen from its
    sheet on, faded in over the distance to its neighbours' sheets (at least ``ramp``).
    """
    s = np.asarray(sheets, np.float64)
    z = np.asarray(z, np.float64)[..., None]
    gap = np.abs(np.diff(s, axis=-1))
    gap = np.where(gap > 1e20, 0.0, gap)  # a neighbour with nothing ahead says nothing
    width = np.maximum(np.concatenate([gap[..., :1], gap], axis=-1), np.concatenate([gap, gap[..., -1:]], axis=-1))
    width = np.maximum(width, ramp)
    seen = np.clip((z - s) / np.maximum(width, 1e-30) + 0.5, 0.0, 1.0)
    return seen.mean(axis=-1)


def _bilinear(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]):
    """Flat indices (4, M) and weights (4, M) of a bilinear lookup, clamped to the edges."""
    ny, nx = shape
    r = np.clip(rows, 0.0, ny - 1.0)
    c = np.clip(cols, 0.0, nx - 1.0)
    r0 = np.minimum(np.floor(r).astype(np.int64), max(ny - 2, 0))
    c0 = np.minimum(np.floor(c).astype(np.int64), max(nx - 2, 0))
    fr, fc = (r - r0).astype(np.float32), (c - c0).astype(np.float32)
    r1, c1 = np.minimum(r0 + 1, ny - 1), np.minimum(c0 + 1, nx - 1)
    index = np.stack([r0 * nx + c0, r0 * nx + c1, r1 * nx + c0, r1 * nx + c1]).astype(np.intp)
    weight = np.stack([(1 - fr) * (1 - fc), (1 - fr) * fc, fr * (1 - fc), fr * fc])
    return index, weight


class SunShadow:
    """The shadow sheets of a disk-shaped directional light over one grid.

    The turned grid and both bilinear lookups depend only on the grid and the light, so
    they are computed once; each frame costs a gather of the heights onto the turned grid,
    :data:`LEVELS` running maxima over it, and a gather back.

    Parameters
    ----------
    x : (nx,) float
        World x of each column, evenly spaced.
    y : (ny,) float
        World y of each row, evenly spaced.
    direction : (3,) float
        Unit vector toward the light.
    size_deg : float
        Angular diameter of the light in degrees (0.53 for the sun; a few degrees for a
        softbox-like key). 0 gives a hard edge.
    refine : float
        The turned grid's step is the heights' finest step over ``refine`` (a finer grid
        follows a crest closer; the cost grows with its square).

    Attributes
    ----------
    texture_shape : (nv, nu)
        The turned grid: rows across the light, columns toward it.
    uv : (2, 3) float
        Texture coordinates of world ``(x, y)`` on the turned grid, texel centres at
        ``(i + 0.5) / n``: ``uv @ (x, y, 1)``.
    ramp : float
        The narrowest fade worth drawing, in height units: a quarter of the ray's rise over
        one step of the turned grid (anti-aliasing of a hard edge).
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, direction: np.ndarray, size_deg: float,
                 refine: float = 1.0) -> None:
        x = np.asarray(x, np.float64)
        y = np.asarray(y, np.float64)
        self.shape = (y.size, x.size)
        refine = max(float(refine), 1e-3)
        self.texture_shape = (2, 2)
        self.uv = np.zeros((2, 3))
        self._vertex_lookup = None  # vertex_fraction's bilinear lookup of its last grid
        d = np.asarray(direction, np.float64)
        horizontal = float(np.hypot(d[0], d[1]))
        dx = (x[-1] - x[0]) / max(x.size - 1, 1)
        dy = (y[-1] - y[0]) / max(y.size - 1, 1)
        self.ramp = 0.0
        # a light straight above, or a degenerate grid, casts no shadow on a height field
        self.trivial = horizontal < 1e-6 or x.size < 2 or y.size < 2 or dx == 0 or dy == 0
        if self.trivial:
            return
        along = d[:2] / horizontal
        across = np.array([-along[1], along[0]])
        elevation = np.arctan2(d[2], horizontal)
        size = np.radians(max(size_deg, 0.0))
        # the centres of equal bands of elevation, top band first (the lowest sheet)
        centres = elevation + size * (0.5 - (np.arange(LEVELS) + 0.5) / LEVELS)
        self.tangents = np.tan(np.clip(centres, 1e-4, np.pi / 2 - 1e-4)).astype(np.float32)
        step = min(abs(dx), abs(dy)) / refine
        self.ramp = 0.25 * step * float(np.tan(elevation))
        corners = np.array([[x[0], y[0]], [x[-1], y[0]], [x[0], y[-1]], [x[-1], y[-1]]])
        u_range = corners @ along
        v_range = corners @ across
        nu = int(np.ceil((u_range.max() - u_range.min()) / step)) + 2
        nv = int(np.ceil((v_range.max() - v_range.min()) / step)) + 2
        # columns run from the light's side away from it, so "ahead" is "before" in a row
        # and the running maximum is a plain prefix maximum over contiguous memory
        u = u_range.max() + 0.5 * step - step * np.arange(nu)
        v = v_range.min() - 0.5 * step + step * np.arange(nv)
        uu, vv = np.meshgrid(u, v)  # (nv, nu): each row a line away from the light (-u)
        cols = (uu * along[0] + vv * across[0] - x[0]) / dx
        rows = (uu * along[1] + vv * across[1] - y[0]) / dy
        self._forward = _bilinear(rows.ravel(), cols.ravel(), self.shape)
        # outside the grid nothing casts a shadow (the cut edge ends the world)
        self._outside = ((rows < -0.5) | (rows > y.size - 0.5) | (cols < -0.5) | (cols > x.size - 0.5))
        self._u = u.astype(np.float32)
        self.texture_shape = (nv, nu)
        self.uv = np.array([[-along[0], -along[1], u[0]], [across[0], across[1], -v[0]]]) / step
        self.uv[:, 2] += 0.5
        self.uv /= np.array([[nu], [nv]])

    def __call__(self, heights: np.ndarray) -> np.ndarray:
        """(nv, nu, LEVELS) float32 on the turned grid: the sheets, lowest first.

        A point at height z sees the band of the light's disk whose sheet lies below it
        (:func:`lit_fraction`; :meth:`at` reads the sheets at points of the plane).
        :data:`NO_SHADOW` where nothing lies ahead. Non-finite heights cast nothing.
        """
        z = np.asarray(heights, np.float32)
        if z.shape != self.shape:
            raise ValueError(f"heights: expected shape {self.shape}, got {z.shape}")
        finite = np.isfinite(z)
        if self.trivial or not finite.any():
            return np.full((*self.texture_shape, LEVELS), NO_SHADOW, np.float32)
        if not finite.all():
            lo, hi = float(z[finite].min()), float(z[finite].max())
            z = np.where(finite, z, np.float32(lo - 10.0 * (hi - lo) - 1.0))
        index, weight = self._forward
        flat = z.ravel()
        caster = flat[index[0]] * weight[0]
        for k in range(1, 4):
            caster += flat[index[k]] * weight[k]
        caster = caster.reshape(self.texture_shape)
        caster[self._outside] = -np.inf
        sheets = np.empty((*self.texture_shape, LEVELS), np.float32)
        w = np.empty(self.texture_shape, np.float32)
        for k, tangent in enumerate(self.tangents):
            ray = self._u * tangent
            # the largest w = z - u tan strictly ahead (toward the light: earlier in the row)
            np.subtract(caster, ray, out=w)
            np.maximum.accumulate(w, axis=1, out=w)
            np.add(w[:, :-1], ray[1:], out=sheets[:, 1:, k])
        sheets[:, 0, :] = NO_SHADOW
        return np.maximum(sheets, np.float32(NO_SHADOW), out=sheets)

    def vertex_fraction(self, sheets: np.ndarray, x: np.ndarray, y: np.ndarray, heights: np.ndarray) -> np.ndarray:
        """(ny, nx) float32: the seen fraction of the light at each vertex of the grid ``(y, x)``
        (any grid over the plane) at ``heights`` (its bilinear lookup is kept for the next frame)."""
        if self.trivial:
            return np.ones((np.size(y), np.size(x)), np.float32)
        key = (np.size(x), np.size(y), float(x[0]), float(x[-1]), float(y[0]), float(y[-1]))
        if self._vertex_lookup is None or self._vertex_lookup[0] != key:
            X, Y = np.meshgrid(np.asarray(x, np.float64), np.asarray(y, np.float64))
            self._vertex_lookup = (key, self._lookup(X, Y))
        seen = lit_fraction(self._gather(sheets, self._vertex_lookup[1]),
                            np.where(np.isfinite(heights), heights, np.inf).reshape(-1), self.ramp)
        return seen.reshape(np.size(y), np.size(x)).astype(np.float32)

    def fraction_at(self, sheets: np.ndarray, point) -> float:
        """The seen fraction of the light at world ``point`` (x, y, z) over ``sheets``."""
        return float(lit_fraction(self.at(sheets, point[0], point[1]), point[2], self.ramp))

    def at(self, sheets: np.ndarray, x, y) -> np.ndarray:
        """The sheets at world points ``(x, y)`` (any matching shapes), bilinear as the
        renderer's texture reads them: shape ``(*x.shape, LEVELS)``."""
        x, y = np.broadcast_arrays(np.asarray(x, np.float64), np.asarray(y, np.float64))
        return self._gather(sheets, self._lookup(x, y)).astype(np.float64).reshape(*x.shape, LEVELS)

    def _lookup(self, x: np.ndarray, y: np.ndarray):
        """The bilinear lookup (indices, weights) of world points on the turned grid."""
        nv, nu = self.texture_shape
        cols = (self.uv[0, 0] * x + self.uv[0, 1] * y + self.uv[0, 2]) * nu - 0.5
        rows = (self.uv[1, 0] * x + self.uv[1, 1] * y + self.uv[1, 2]) * nv - 0.5
        return _bilinear(np.ravel(rows), np.ravel(cols), self.texture_shape)

    @staticmethod
    def _gather(sheets: np.ndarray, lookup) -> np.ndarray:
        """(M, LEVELS) the sheets at the lookup's points."""
        index, weight = lookup
        flat = sheets.reshape(-1, LEVELS)
        out = flat[index[0]] * weight[0, :, None]
        for k in range(1, 4):
            out += flat[index[k]] * weight[k, :, None]
        return out
