"""The surface as an object: side walls under the grid's cut edges and a flat bottom.

Without a base the edge of the grid reads as a sheet of paper; with walls down to a
flat bottom it reads as a solid block of terrain, an exhibit piece on a plinth. The
walls follow the surface's edge heights every frame (their top is the surface's edge
row or column, their bottom a fixed ``z``); the index buffer is built once, the
``ROWS * 2 * (nx + ny)`` wall vertices are rewritten per frame (a few ms). Under a
floor they cast the key light's shadow too.
"""

from __future__ import annotations

import moderngl
import numpy as np

__all__ = ["wall_vertices", "wall_indices", "Plinth", "ROWS"]

#: rows of vertices down each wall, as depths below the edge: fixed ones in bands (the
#: colored band under the edge is 1 band tall), then fractions of the rest to the bottom.
#: The walls are lit per vertex (plinth.vert), so the rows are where the color can bend.
BAND_ROWS = (0.0, 0.5, 1.0, 2.0)
REST_ROWS = (1 / 3, 2 / 3, 1.0)
ROWS = len(BAND_ROWS) + len(REST_ROWS)

#: outward normals of the four walls, in the order wall_vertices emits them.
_WALL_NORMALS = ((0.0, -1.0, 0.0), (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (-1.0, 0.0, 0.0))


def _edge(a: np.ndarray, side: int) -> np.ndarray:
    """Side 0..3 (south, east, north, west) of a (ny, nx) grid, counter-clockwise from +z."""
    return (a[0, :], a[:, -1], a[-1, ::-1], a[::-1, 0])[side]


def _edges(heights: np.ndarray, x: np.ndarray, y: np.ndarray):
    """The grid's four edges walked counter-clockwise seen from +z: (xs, ys, zs) each."""
    ny, nx = heights.shape
    xs = (x, np.full(ny, x[-1]), x[::-1], np.full(ny, x[0]))
    ys = (np.full(nx, y[0]), y, np.full(nx, y[-1]), y[::-1])
    return tuple((xs[k], ys[k], _edge(heights, k)) for k in range(4))


def wall_vertices(heights: np.ndarray, x: np.ndarray, y: np.ndarray, base_z: float,
                  scalar: np.ndarray | None = None, band: float = 0.0) -> np.ndarray:
    """Vertices of the four walls and the bottom.

    Parameters
    ----------
    heights : (ny, nx) float
        The surface of this frame (row i at ``y[i]``, column j at ``x[j]``).
    x : (nx,) float
    y : (ny,) float
    base_z : float
        World z of the plinth's flat bottom.
    scalar : (ny, nx) float, optional
        The surface's colormap coordinate (the walls' colored band); 0 when omitted.
    band : float
        Height of the colored band under the edge (world units): rows are denser there.

    Returns
    -------
    (ROWS * (2 * nx + 2 * ny) + 4, 8) float32
        Position, outward normal, and (colormap coordinate, z) of the surface edge above;
        per wall, ``ROWS`` rows of its edge's points from the edge itself (row 0) down to
        ``base_z`` (last row); last the bottom's four corners (normal -z).
    """
    scalar = np.zeros_like(heights) if scalar is None else scalar
    parts = []
    for k, ((xs, ys, zs), normal) in enumerate(zip(_edges(heights, x, y), _WALL_NORMALS)):
        zs = np.where(np.isfinite(zs), zs, base_z)
        depth = np.maximum(zs - base_z, 0.0)
        beyond = np.maximum(depth - band * BAND_ROWS[-1], 0.0)
        below = [np.minimum(band * b, depth) for b in BAND_ROWS]
        below += [band * BAND_ROWS[-1] + f * beyond for f in REST_ROWS]
        below[-1] = depth  # the last row is the bottom exactly
        pts = np.concatenate([np.stack([xs, ys, zs - d], axis=1) for d in below])
        above = np.tile(np.stack([_edge(scalar, k), zs], axis=1), (ROWS, 1))
        parts.append(np.concatenate([pts, np.broadcast_to(normal, pts.shape), above], axis=1))
    corners = np.array([[x[0], y[0]], [x[-1], y[0]], [x[-1], y[-1]], [x[0], y[-1]]], np.float64)
    bottom = np.concatenate([corners, np.full((4, 1), base_z), np.broadcast_to((0.0, 0.0, -1.0), (4, 3)),
                             np.tile([0.0, base_z], (4, 1))], axis=1)
    parts.append(bottom)
    return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)


def wall_indices(ny: int, nx: int) -> np.ndarray:
    """(m, 3) uint32 triangles over :func:`wall_vertices` (two per cell of each wall, two for the bottom)."""
    tris, start = [], 0
    for n in (nx, ny, nx, ny):
        for row in range(ROWS - 1):
            k = np.arange(n - 1, dtype=np.uint32) + start + row * n
            top0, top1, bot0, bot1 = k, k + 1, k + n, k + n + 1
            tris.append(np.stack([top0, bot0, bot1], 1))
            tris.append(np.stack([top0, bot1, top1], 1))
        start += ROWS * n
    tris.append(np.array([[start, start + 2, start + 1], [start, start + 3, start + 2]], np.uint32))
    return np.ascontiguousarray(np.concatenate(tris), dtype=np.uint32)


class Plinth:
    """GL buffers of the walls for one topology; :meth:`draw` updates and draws them."""

    def __init__(self, ctx: moderngl.Context, program: moderngl.Program, x: np.ndarray, y: np.ndarray,
                 base_z: float, band: float) -> None:
        self.x, self.y, self.base_z = np.asarray(x, np.float64), np.asarray(y, np.float64), float(base_z)
        self.band = float(band)
        ny, nx = self.y.size, self.x.size
        n_vertices = ROWS * (2 * nx + 2 * ny) + 4
        self.vbo = ctx.buffer(reserve=n_vertices * 32, dynamic=True)
        self.ibo = ctx.buffer(wall_indices(ny, nx).tobytes())
        self.vao = ctx.vertex_array(program, [(self.vbo, "3f 3f 2f", "in_pos", "in_n", "in_top")], self.ibo,
                                    index_element_size=4)

    def update(self, heights: np.ndarray, scalar: np.ndarray) -> None:
        """Hang the walls from this frame's edge heights (once a frame, before any pass)."""
        self.vbo.write(wall_vertices(heights, self.x, self.y, self.base_z, scalar, self.band))

    def draw(self) -> None:
        self.vao.render(moderngl.TRIANGLES)

    def depth_vao(self, program: moderngl.Program) -> moderngl.VertexArray:
        """The walls' positions for a depth-only ``program`` with an ``in_pos`` (the shadow pass)."""
        return self.vao.ctx.vertex_array(program, [(self.vbo, "3f 20x", "in_pos")], self.ibo, index_element_size=4)

    def release(self) -> None:
        for obj in (self.vao, self.vbo, self.ibo):
            obj.release()
