"""Write one frame of the surface as a mesh file (PLY, OBJ, GLB) for Blender and friends.

The vertex array is the render grid in row-major order (vertex ``i * nx + j`` is row i,
column j) with world coordinates ``(x, y, z)``, z up, exactly as the renderer draws it.
GLB is the exception: glTF says +Y is up, so GLB vertices are ``(x, z, -y)`` and
glTF importers (Blender's included) turn the landscape upright again. trimesh does the
writing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lossfilm.render.mesh.frame import Frame, Topology

__all__ = ["export_mesh", "frame_vertices", "FORMATS"]

#: Formats :func:`export_mesh` writes, by file suffix.
FORMATS = ("ply", "obj", "glb")


def frame_vertices(frame: Frame, topology: Topology) -> np.ndarray:
    """World positions of every render-grid vertex.

    Returns
    -------
    (ny * nx, 3) float32
    """
    ny, nx = topology.shape
    if frame.heights.shape != (ny, nx):
        raise ValueError(
            f"frame heights {frame.heights.shape} do not match the topology grid {(ny, nx)}"
        )
    xx, yy = np.meshgrid(topology.x, topology.y)
    return np.column_stack([xx.ravel(), yy.ravel(), frame.heights.ravel()]).astype(np.float32)


def export_mesh(
    frame: Frame,
    topology: Topology,
    path: Path | str,
    fmt: str | None = None,
    colors: np.ndarray | None = None,
) -> Path:
    """Write ``frame`` on ``topology`` to ``path``.

    Parameters
    ----------
    frame : Frame
    topology : Topology
    path : path
        Output file; parent folders are created.
    fmt : {"ply", "obj", "glb"}, optional
        Defaults to the suffix of ``path``.
    colors : (ny, nx, 3) or (ny, nx, 4) uint8, optional
        Per-vertex colours (e.g. the colormapped ``frame.scalar``).

    Returns
    -------
    Path
        The written file.
    """
    import trimesh  # heavy; only export needs it

    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise ValueError(f"mesh export format must be one of {FORMATS}, got {fmt!r}")
    ny, nx = topology.shape
    vertex_colors = None
    if colors is not None:
        colors = np.asarray(colors)
        if colors.shape[:2] != (ny, nx) or colors.ndim != 3 or colors.shape[2] not in (3, 4):
            raise ValueError(f"export colors must be ({ny}, {nx}, 3|4) uint8, got {colors.shape}")
        vertex_colors = colors.reshape(-1, colors.shape[2]).astype(np.uint8)
    vertices = frame_vertices(frame, topology)
    normals = frame.normals.reshape(-1, 3)
    if fmt == "glb":
        vertices, normals = _y_up(vertices), _y_up(normals)
    mesh = trimesh.Trimesh(
        vertices=vertices,
        faces=topology.indices,
        vertex_normals=normals,
        vertex_colors=vertex_colors,
        process=False,  # keep the grid order so vertex i*nx+j stays row i, column j
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    mesh.export(path, file_type=fmt)
    return path


def _y_up(v: np.ndarray) -> np.ndarray:
    """World (x, y, z), z up -> glTF (x, z, -y), y up (a rotation: winding is kept)."""
    return np.column_stack([v[:, 0], v[:, 2], -v[:, 1]]).astype(np.float32)
