"""What flows from the mesh stage to the camera and the renderer.

The mesh stage builds one :class:`Topology` for the whole film and one :class:`Frame` per
film frame (streamed, never all at once). The camera turns a time into a
:class:`CameraPose`. The renderer draws ``(Topology, Frame, CameraPose)`` into pixels.

World coordinates are *landscape units*: ``x`` is the coordinate along direction 1 (``a``),
``y`` along direction 2 (``b``), ``z`` is height, up. Heights use the same units as
``a`` and ``b`` (scaled by the relief), so shots do not depend on grid size.
"""

from __future__ import annotations

from typing import Protocol

import dataclasses

import numpy as np

__all__ = ["Topology", "Frame", "CameraPose", "Bounds"]


@dataclasses.dataclass(frozen=True)
class Bounds:
    """Axis-aligned box of the whole film's surface in world units."""

    lo: tuple[float, float, float]
    hi: tuple[float, float, float]

    @property
    def center(self) -> np.ndarray:
        return (np.asarray(self.lo) + np.asarray(self.hi)) / 2.0

    @property
    def size(self) -> float:
        """Largest horizontal extent: the plane size relief and shots are measured in."""
        return float(max(self.hi[0] - self.lo[0], self.hi[1] - self.lo[1]))


@dataclasses.dataclass(frozen=True, eq=False)
class Topology:
    """The render grid, fixed for every frame of a film.

    Attributes
    ----------
    x : (nx,) float32
        World x of each column (increasing).
    y : (ny,) float32
        World y of each row (increasing).
    indices : (m, 3) uint32
        Triangles over the row-major vertex array (vertex ``i*nx + j`` is row i, column j),
        counter-clockwise seen from +z.
    bounds : Bounds
        Box containing every frame's surface (heights over the whole film).
    """

    x: np.ndarray
    y: np.ndarray
    indices: np.ndarray
    bounds: Bounds

    @property
    def shape(self) -> tuple[int, int]:
        """Grid shape ``(ny, nx)``."""
        return int(self.y.size), int(self.x.size)


@dataclasses.dataclass(eq=False)
class Frame:
    """Everything that changes from one film frame to the next.

    Attributes
    ----------
    index : int
        Frame number in the film (0-based).
    time : float
        Film time in seconds.
    position : float
        Fractional position in the surface sequence (0 = first state, S-1 = last).
    heights : (ny, nx) float32
        World z of every render-grid vertex.
    normals : (ny, nx, 3) float32
        Unit normals of the height field (pointing to +z side).
    scalar : (ny, nx) float32
        Colormap coordinate in [0, 1], from one fixed range for the whole film.
    invalid : (ny, nx) bool or None
        Where the loss was not finite (drawn at the ceiling and marked), if anywhere.
    ball : (3,) float32 or None
        World position of the minimizer (on the surface), if shown.
    minimum : (3,) float32
        World position of the lowest point of this frame's surface.
    trajectory : (k, 3) float32
        The minimizer's path up to this frame (may be empty).
    values : dict of str -> float
        Numbers for overlays: ``epoch``, ``step``, ``loss``, ``lr``...
    label : str
        Label of the nearest state (``"epoch 3"``).
    series : dict of str -> (S,) float64
        The per-state numbers of the whole sequence (``SurfaceSequence.values``), for plots
        of a value over the film; ``position`` is where this frame is on them.
    paths : dict of str -> (k, 3) float32
        Named polylines on the surface (``segment``, ``curve``), drawn as ribbons.
    markers : dict of str -> (k, 3) float32
        Named point sets on the surface (``iterates``, ``samples``), drawn as small spheres.
    actors : (k, 3) float32
        World positions of extra balls (e.g. the descent actor), on the surface.
    actor_colors : tuple of str
        sRGB colour of each actor (``"#ffd23f"``); missing ones use the ball's colour.
    """

    index: int
    time: float
    position: float
    heights: np.ndarray
    normals: np.ndarray
    scalar: np.ndarray
    minimum: np.ndarray
    ball: np.ndarray | None = None
    invalid: np.ndarray | None = None
    trajectory: np.ndarray = dataclasses.field(
        default_factory=lambda: np.zeros((0, 3), dtype=np.float32)
    )
    values: dict = dataclasses.field(default_factory=dict)
    label: str = ""
    series: dict = dataclasses.field(default_factory=dict)
    paths: dict = dataclasses.field(default_factory=dict)
    markers: dict = dataclasses.field(default_factory=dict)
    actors: np.ndarray = dataclasses.field(
        default_factory=lambda: np.zeros((0, 3), dtype=np.float32)
    )
    actor_colors: tuple = ()


@dataclasses.dataclass(frozen=True)
class CameraPose:
    """A pinhole camera in world units.

    ``up`` need not be orthogonal to the view direction but must not be parallel to it;
    the camera module guarantees that, also at the zenith and the nadir. ``focus`` and
    ``fstop`` are the lens of a shot that keys them (a focus pull); None leaves them to
    the look's ``render.dof``.
    """

    eye: tuple[float, float, float]
    target: tuple[float, float, float]
    up: tuple[float, float, float] = (0.0, 0.0, 1.0)
    fov_deg: float = 40.0
    near: float = 0.01
    far: float = 100.0
    #: distance to the focal plane along the view axis, world units
    focus: float | None = None
    #: f-number of the lens
    fstop: float | None = None

    def view_matrix(self) -> np.ndarray:
        """(4, 4) float64 world -> camera matrix (right-handed, camera looks down -z)."""
        eye = np.asarray(self.eye, dtype=np.float64)
        f = np.asarray(self.target, dtype=np.float64) - eye
        f /= np.linalg.norm(f)
        s = np.cross(f, np.asarray(self.up, dtype=np.float64))
        s /= np.linalg.norm(s)
        u = np.cross(s, f)
        m = np.eye(4)
        m[0, :3], m[1, :3], m[2, :3] = s, u, -f
        m[:3, 3] = -m[:3, :3] @ eye
        return m

    def projection_matrix(self, aspect: float) -> np.ndarray:
        """(4, 4) float64 OpenGL perspective matrix for width/height ``aspect``."""
        f = 1.0 / np.tan(np.radians(self.fov_deg) / 2.0)
        n, fa = self.near, self.far
        m = np.zeros((4, 4))
        m[0, 0] = f / aspect
        m[1, 1] = f
        m[2, 2] = (fa + n) / (n - fa)
        m[2, 3] = 2.0 * fa * n / (n - fa)
        m[3, 2] = -1.0
        return m


class Landscape(Protocol):
    """What the camera reads from the mesh stage (``lossfilm.render.mesh.film_surface.FilmSurface``)."""

    topology: Topology

    def coarse_at(self, time: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(x0 (nx0,), y0 (ny0,), z (ny0, nx0))``: world heights on a coarse grid."""
        ...

    def landmarks_at(self, time: float) -> dict:
        """``{"ball": (3,) or None, "minimum": (3,), "center": (3,)}`` in world units."""
        ...
