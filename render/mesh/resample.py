"""From the sequence grid to the render grid: upsampling, smoothing, crop, normals, triangles.

Every spatial step from the coarse grid to the render grid is linear in the heights, so it
is folded into operators built once per film. Along each axis the interpolating
(not-a-knot) cubic spline through the coarse points, the same spline as
``RectBivariateSpline(..., s=0)``, is ``R = B @ C``: ``C`` (n, n) turns values into
B-spline coefficients (times the Gaussian smoothing, if any) and ``B`` (m, n) is the
sparse B-spline basis at the render points, 4 non-zeros per row. A frame is
``By @ (Cy Z Cx.T) @ Bx.T``: a tiny dense product, then two sparse ones.
``benchmarks/mesh.py`` measures it against dense ``Ry @ Z @ Rx.T`` (BLAS) and
``RectBivariateSpline``: the sparse form is fastest and, being single-threaded, does not
collapse when the CPU is shared with the renderer and the encoder, as threaded BLAS does.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.interpolate import BSpline, make_interp_spline
from scipy.ndimage import gaussian_filter1d

__all__ = [
    "Upsampler",
    "spline_basis",
    "cubic_matrix",
    "gaussian_matrix",
    "render_axes",
    "grid_normals",
    "grid_triangles",
    "heights_at_points",
    "grid_cells",
    "surface_normal_at",
    "MIN_RENDER_POINTS",
]

#: The render grid has at least this many points along its shorter axis.
MIN_RENDER_POINTS = 2


def cubic_matrix(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Weights of the interpolating cubic spline through ``src``, evaluated at ``dst``.

    Parameters
    ----------
    src : (n,) float, increasing, n >= 2
    dst : (m,) float, inside ``[src[0], src[-1]]``

    Returns
    -------
    (m, n) float64
        ``M @ f(src)`` is the spline through ``f(src)`` at ``dst``. With fewer than 4
        points the degree drops (quadratic, linear) so any grid of 2+ points works.
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    n = src.size
    if n < 2:
        raise ValueError(f"a grid axis needs at least 2 points, got {n}")
    k = min(3, n - 1)
    # The spline is linear in its data: fitting it to the identity gives the weights.
    spline = make_interp_spline(src, np.eye(n), k=k, axis=0)
    return np.asarray(spline(dst), dtype=np.float64)


def spline_basis(
    src: np.ndarray, dst: np.ndarray, degree: int = 3
) -> tuple[sparse.csr_array, np.ndarray]:
    """The interpolating spline through ``src`` at ``dst`` as ``basis @ coef``.

    Parameters
    ----------
    src : (n,) float, increasing, n >= 2
    dst : (m,) float, inside ``[src[0], src[-1]]``
    degree : int
        3 for cubic (not-a-knot), 1 for linear; drops to ``n - 1`` on short axes.

    Returns
    -------
    basis : (m, n) sparse CSR float64
        B-spline basis functions at ``dst`` (``degree + 1`` non-zeros per row).
    coef : (n, n) float64
        Values at ``src`` -> B-spline coefficients.
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.clip(np.asarray(dst, dtype=np.float64), src[0], src[-1])
    n = src.size
    if n < 2:
        raise ValueError(f"a grid axis needs at least 2 points, got {n}")
    k = min(degree, n - 1)
    spline = make_interp_spline(src, np.eye(n), k=k, axis=0)
    basis = sparse.csr_array(BSpline.design_matrix(dst, spline.t, k))
    return basis, np.asarray(spline.c, dtype=np.float64)


class Upsampler:
    """Coarse ``(ny0, nx0)`` -> render ``(ny, nx)`` grid through a tensor-product spline.

    Parameters
    ----------
    src_y : (ny0,), dst_y : (ny,), src_x : (nx0,), dst_x : (nx,) float
        Coarse and render coordinates along each axis.
    sigma : float
        Gaussian smoothing of the coarse grid, in coarse cells, folded into the operator.
    degree : int
        3: cubic (heights, channels); 1: linear (masks).

    Attributes
    ----------
    ry : (ny, ny0) float32, rx : (nx, nx0) float32
        The same operators as dense matrices (``frame = ry @ z @ rx.T``), for reading
        a few render vertices without building a frame.
    """

    def __init__(self, src_y, dst_y, src_x, dst_x, sigma: float = 0.0, degree: int = 3) -> None:
        (by, cy), (bx, cx) = spline_basis(src_y, dst_y, degree), spline_basis(src_x, dst_x, degree)
        cy = cy @ gaussian_matrix(cy.shape[1], sigma)
        cx = cx @ gaussian_matrix(cx.shape[1], sigma)
        self.by, self.bx = by.astype(np.float32), bx.astype(np.float32)
        self.cy, self.cx = cy.astype(np.float32), cx.astype(np.float32)
        self.ry = np.asarray((by @ cy), dtype=np.float32)
        self.rx = np.asarray((bx @ cx), dtype=np.float32)

    @property
    def shape(self) -> tuple[int, int]:
        """Render grid shape ``(ny, nx)``."""
        return int(self.by.shape[0]), int(self.bx.shape[0])

    def __call__(self, z: np.ndarray) -> np.ndarray:
        """(ny0, nx0) coarse values -> (ny, nx) float32 C-contiguous render values."""
        coef = self.cy @ np.asarray(z, dtype=np.float32) @ self.cx.T
        half = np.ascontiguousarray((self.bx @ coef.T).T)  # (ny0, nx)
        return np.ascontiguousarray(self.by @ half, dtype=np.float32)


def gaussian_matrix(n: int, sigma: float) -> np.ndarray:
    """(n, n) Gaussian smoothing along one axis, ``sigma`` in grid cells (edges repeat)."""
    if sigma <= 0:
        return np.eye(n)
    return gaussian_filter1d(np.eye(n), sigma, axis=0, mode="nearest")


def render_axes(
    window: tuple[float, float, float, float], resolution: int
) -> tuple[np.ndarray, np.ndarray]:
    """Render-grid coordinates for ``window = (x0, x1, y0, y1)``.

    ``resolution`` points along the longer side; the shorter side gets as many as keep the
    cells square (at least :data:`MIN_RENDER_POINTS`).

    Returns
    -------
    x : (nx,) float64
    y : (ny,) float64
    """
    x0, x1, y0, y1 = window
    wx, wy = x1 - x0, y1 - y0
    if wx >= wy:
        nx = resolution
        ny = max(MIN_RENDER_POINTS, int(round((resolution - 1) * wy / wx)) + 1)
    else:
        ny = resolution
        nx = max(MIN_RENDER_POINTS, int(round((resolution - 1) * wx / wy)) + 1)
    return np.linspace(x0, x1, nx), np.linspace(y0, y1, ny)


def grid_normals(z: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """Unit normals of a height field on a regular grid.

    Slopes by central differences inside and one-sided differences at the edges (as
    ``np.gradient``), normal ``(-dz/dx, -dz/dy, 1) / norm``.

    Parameters
    ----------
    z : (ny, nx) float32
    dx, dy : float
        Grid step along x (columns) and y (rows).

    Returns
    -------
    (ny, nx, 3) float32
    """
    z = np.asarray(z, dtype=np.float32)
    ny, nx = z.shape
    out = np.empty((ny, nx, 3), dtype=np.float32)
    gx, gy, gz = out[..., 0], out[..., 1], out[..., 2]
    # Written into the output slices to avoid 1M-element temporaries per frame.
    if nx > 1:
        np.subtract(z[:, 2:], z[:, :-2], out=gx[:, 1:-1])
        gx[:, 1:-1] *= np.float32(-0.5 / dx)
        np.subtract(z[:, 1], z[:, 0], out=gx[:, 0])
        np.subtract(z[:, -1], z[:, -2], out=gx[:, -1])
        gx[:, 0] *= np.float32(-1.0 / dx)
        gx[:, -1] *= np.float32(-1.0 / dx)
    else:
        gx[...] = 0.0
    if ny > 1:
        np.subtract(z[2:], z[:-2], out=gy[1:-1])
        gy[1:-1] *= np.float32(-0.5 / dy)
        np.subtract(z[1], z[0], out=gy[0])
        np.subtract(z[-1], z[-2], out=gy[-1])
        gy[0] *= np.float32(-1.0 / dy)
        gy[-1] *= np.float32(-1.0 / dy)
    else:
        gy[...] = 0.0
    # norm = sqrt(gx² + gy² + 1), computed into gz then inverted in place.
    np.multiply(gx, gx, out=gz)
    gz += gy * gy
    gz += np.float32(1.0)
    np.sqrt(gz, out=gz)
    np.reciprocal(gz, out=gz)
    gx *= gz
    gy *= gz
    return out


def grid_triangles(ny: int, nx: int) -> np.ndarray:
    """Triangles of a row-major ``(ny, nx)`` grid, counter-clockwise seen from +z.

    Vertex ``i * nx + j`` is row ``i`` (y) and column ``j`` (x); each cell gives two
    triangles split along the diagonal from ``(i, j)`` to ``(i+1, j+1)``.

    Returns
    -------
    (2 (ny-1) (nx-1), 3) uint32
    """
    if ny * nx > np.iinfo(np.uint32).max:
        raise ValueError(f"render grid {ny}x{nx} has too many vertices for uint32 indices")
    i, j = np.meshgrid(np.arange(ny - 1, dtype=np.uint32), np.arange(nx - 1, dtype=np.uint32),
                       indexing="ij")
    v00 = (i * nx + j).ravel()
    v01 = v00 + 1
    v10 = v00 + nx
    v11 = v10 + 1
    lower = np.stack([v00, v01, v11], axis=1)
    upper = np.stack([v00, v11, v10], axis=1)
    return np.ascontiguousarray(np.stack([lower, upper], axis=1).reshape(-1, 3), dtype=np.uint32)


def grid_cells(coords: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The cell of an increasing grid that holds each value, and where in the cell it lies.

    Parameters
    ----------
    coords : (n,) float, increasing, n >= 2
    values : (m,) float

    Returns
    -------
    index : (m,) int
        Cell ``[coords[index], coords[index + 1]]``, in ``[0, n - 2]``.
    fraction : (m,) float
        Position within the cell in ``[0, 1]``; values outside the grid clamp to its ends.
    """
    index = np.clip(np.searchsorted(coords, values, side="right") - 1, 0, coords.size - 2)
    lo, hi = coords[index], coords[index + 1]
    return index, np.clip((values - lo) / (hi - lo), 0.0, 1.0)


def surface_normal_at(topology, normals: np.ndarray, x: float, y: float) -> np.ndarray:
    """(3,) unit normal of the height field at world ``(x, y)``, bilinear between vertices.

    ``topology`` gives the grid (``x (nx,)``, ``y (ny,)``); ``normals`` is ``(ny, nx, 3)``.
    A zero or non-finite normal there reads as straight up.
    """
    gx, gy = np.asarray(topology.x, np.float64), np.asarray(topology.y, np.float64)
    (j,), (u,) = grid_cells(gx, np.array([x], np.float64))
    (i,), (v,) = grid_cells(gy, np.array([y], np.float64))
    c = normals[i : i + 2, j : j + 2].astype(np.float64)
    n = (c[0, 0] * (1 - u) + c[0, 1] * u) * (1 - v) + (c[1, 0] * (1 - u) + c[1, 1] * u) * v
    norm = np.linalg.norm(n)
    return n / norm if norm > 0 and np.all(np.isfinite(n)) else np.array([0.0, 0.0, 1.0])


def heights_at_points(
    z: np.ndarray, ry: np.ndarray, rx: np.ndarray, x: np.ndarray, y: np.ndarray,
    px: np.ndarray, py: np.ndarray, lo: float = -np.inf, hi: float = np.inf,
) -> np.ndarray:
    """Heights of the drawn triangle mesh at plane points, without building the frame.

    Only the four render vertices around each point are upsampled (rows of ``ry`` and
    ``rx``), clipped to ``[lo, hi]`` as the frame is, then interpolated on the triangle
    that contains the point (the split of :func:`grid_triangles`), so a point lies
    exactly on the surface the renderer draws.

    Parameters
    ----------
    z : (ny0, nx0) float
        Coarse heights.
    ry : (ny, ny0), rx : (nx, nx0)
        Upsampling matrices of the render grid.
    x : (nx,), y : (ny,)
        Render-grid coordinates.
    px, py : (k,) float
        Plane points (clamped to the grid).

    Returns
    -------
    (k,) float64
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    px = np.clip(np.atleast_1d(np.asarray(px, dtype=np.float64)), x[0], x[-1])
    py = np.clip(np.atleast_1d(np.asarray(py, dtype=np.float64)), y[0], y[-1])
    j, u = grid_cells(x, px)
    i, v = grid_cells(y, py)
    z = np.asarray(z, dtype=np.float64)
    row0 = ry[i].astype(np.float64) @ z
    row1 = ry[i + 1].astype(np.float64) @ z
    col0, col1 = rx[j].astype(np.float64), rx[j + 1].astype(np.float64)
    h00 = np.clip(np.sum(row0 * col0, axis=1), lo, hi)
    h01 = np.clip(np.sum(row0 * col1, axis=1), lo, hi)
    h10 = np.clip(np.sum(row1 * col0, axis=1), lo, hi)
    h11 = np.clip(np.sum(row1 * col1, axis=1), lo, hi)
    lower = u >= v  # triangle (00, 01, 11) below the diagonal, (00, 11, 10) above it
    return np.where(
        lower,
        h00 + u * (h01 - h00) + v * (h11 - h01),
        h00 + v * (h10 - h00) + u * (h11 - h10),
    )
