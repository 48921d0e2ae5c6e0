"""The mesh stage: a surface sequence becomes one topology and a stream of frames.

:class:`FilmSurface` is the wrapper the pipeline and the camera call. Its heart is in
small modules of pure functions, re-exported here:

- :mod:`lossfilm.render.mesh.heights`: one height transform for the whole film (log / linear, clip, relief);
- :mod:`lossfilm.render.mesh.timeline`: film time -> state position, PCHIP / linear / hold between states;
- :mod:`lossfilm.render.mesh.resample`: cubic upsampling and smoothing as two matrices, normals, triangles;
- :mod:`lossfilm.render.mesh.landmarks`: ball, lowest point, trajectory, overlay numbers.

Order of work per frame, cheapest first: interpolate in time on the coarse sequence grid
(in the height domain), then upsample once to the render grid (sparse cubic spline), then
normals and the colour coordinate. Memory is the sequence plus one frame.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from scipy.ndimage import maximum_filter

from lossfilm.compute.store.sequence import SurfaceSequence
from lossfilm.render.mesh.descent import DescentActor
from lossfilm.render.mesh.curvature import SURFACE_CURVATURES, CurvatureColor
from lossfilm.render.mesh.frame import Bounds, Frame, Topology
from lossfilm.render.mesh.heights import AUTO_RELIEF, HeightTransform
from lossfilm.render.scene.mesh import HeightConfig
from lossfilm.render.mesh.pointsets import densify, drape, points_at
from lossfilm.render.mesh.landmarks import (
    TRAJECTORY_SAMPLES_PER_STATE,
    interpolate_values,
    lowest_point,
    moves,
    nearest_label,
)
from lossfilm.render.mesh.resample import (
    Upsampler,
    gaussian_matrix,
    grid_normals,
    grid_triangles,
    heights_at_points,
    render_axes,
)
from lossfilm.render.mesh.timeline import StateInterpolator, Timeline
from lossfilm.render.scene.mesh import TimeConfig
from lossfilm.render.scene.mesh import MeshConfig

__all__ = [
    "MeshConfig",
    "HeightConfig",
    "TimeConfig",
    "HeightTransform",
    "Timeline",
    "StateInterpolator",
    "FilmSurface",
    "AUTO_RELIEF",
    "BUILTIN_COLORS",
]

#: Colour channels that need no entry in ``sequence.channels``.
BUILTIN_COLORS = ("height", "loss")
#: Channels whose colour range starts at 0 (|λmin/λmax| = 0: no negative curvature).
ZERO_BASED_CHANNELS = ("convexity",)
#: An upsampled invalid-mask weight above this marks a render vertex invalid.
INVALID_WEIGHT = 1e-6
#: Coarse cells around a non-finite point (drawn at the ceiling) where heights blend to
#: linear interpolation: the cubic spline's reach, so the artificial cliff cannot ring
#: into the valid surface as a trough that is not in the data.
CLIFF_CELLS = 2


def _bracketing(coords: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Indices of the coarse points covering ``[lo, hi]``: inside, plus one beyond each end."""
    i0 = max(int(np.searchsorted(coords, lo, side="right")) - 1, 0)
    i1 = min(int(np.searchsorted(coords, hi, side="left")), coords.size - 1)
    return np.arange(i0, max(i1, i0 + 1) + 1)


#: position tolerance when looking up the film time of a captured state
TIME_OF_STATE_TOLERANCE = 1e-9


class FilmSurface:
    """The landscape of a whole film, read at any film time.

    Parameters
    ----------
    sequence : SurfaceSequence
    cfg : MeshConfig
    duration : float
        Film length in seconds.
    fps : float
        Frames per second; frame ``i`` is at time ``i / fps``.
    resolution : int, optional
        Overrides ``cfg.resolution`` (previews, stills).

    Attributes
    ----------
    topology : Topology
        Render grid, triangles and the bounds of every frame.
    n_frames : int
        ``round(duration * fps)``.
    transform : HeightTransform
        Loss -> world z, fitted once on the shown window of every state.
    """

    def __init__(
        self, sequence: SurfaceSequence, cfg: MeshConfig, duration: float, fps: float,
        *, resolution: int | None = None,
    ) -> None:
        if not fps > 0:
            raise ValueError(f"output.fps must be > 0, got {fps}")
        self.sequence, self.cfg = sequence, cfg
        self.duration, self.fps = float(duration), float(fps)
        self.timeline = Timeline(cfg.time, duration, sequence.epochs)
        self.n_frames = int(round(self.duration * self.fps))
        res = int(resolution if resolution is not None else cfg.resolution)
        if res < 2:
            raise ValueError(f"mesh.resolution must be >= 2, got {res}")
        a, b = sequence.a, sequence.b
        if a.size < 2 or b.size < 2:
            raise ValueError(f"the sequence grid must be at least 2x2, got {sequence.shape}")
        if np.any(np.diff(a) <= 0) or np.any(np.diff(b) <= 0):
            raise ValueError("the sequence coordinates a and b must be strictly increasing")
        window = cfg.crop if cfg.crop is not None else (a[0], a[-1], b[0], b[-1])
        x0, x1, y0, y1 = (float(v) for v in window)
        self.window = (x0, x1, y0, y1)
        if x0 < a[0] or x1 > a[-1] or y0 < b[0] or y1 > b[-1]:
            raise ValueError(
                f"mesh.crop {list(self.window)} leaves the computed plane"
                f" [{a[0]}, {a[-1]}, {b[0]}, {b[-1]}]"
            )
        self._ix, self._iy = _bracketing(a, x0, x1), _bracketing(b, y0, y1)
        plane_size = max(x1 - x0, y1 - y0)
        window_loss = sequence.loss[:, self._iy][:, :, self._ix]
        self.transform = HeightTransform.fit(window_loss, cfg.height, plane_size)
        self.top = self.transform.top
        method = cfg.time.interpolation

        # Heights of every state on the coarse grid, in world units (non-finite -> ceiling).
        self._z = StateInterpolator(self.transform(sequence.loss), method)
        self._invalid = HeightTransform.invalid(sequence.loss)
        self._any_invalid = self._invalid.reshape(sequence.n_states, -1).any(axis=1)

        # Spatial operators, built once: smoothing folded into the cubic spline. The spline
        # runs through the whole coarse grid, so a crop has no edge effects of its own.
        x, y = render_axes((x0, x1, y0, y1), res)
        self._gy = gaussian_matrix(b.size, cfg.smooth)
        self._gx = gaussian_matrix(a.size, cfg.smooth)
        self._up = Upsampler(b, y, a, x, sigma=cfg.smooth)
        self._mask_up = Upsampler(b, y, a, x, degree=1) if self._any_invalid.any() else None
        self._cliff_key, self._cliff_weight = None, None
        self._dx = float(x[1] - x[0])
        self._dy = float(y[1] - y[0])

        bounds = Bounds(lo=(x0, y0, 0.0), hi=(x1, y1, float(self.top)))
        self.topology = Topology(
            x=x.astype(np.float32), y=y.astype(np.float32),
            indices=grid_triangles(y.size, x.size), bounds=bounds,
        )
        self._setup_color(cfg.color, method)
        self._setup_ball(method)
        self._descent = DescentActor(cfg.descent, self) if cfg.descent.enabled else None

    # ------------------------------------------------------------------ setup helpers

    def _setup_color(self, name: str, method: str) -> None:
        self._channel = None
        self._curvature = None
        if name in BUILTIN_COLORS:
            return
        if name in SURFACE_CURVATURES:
            # one zero-centred range for the film, fitted on the drawn heights of every state
            drawn = (np.clip(self._up(self._z(float(k))), 0.0, self.top)
                     for k in range(self.sequence.n_states))
            self._curvature = CurvatureColor(name, drawn, self._dx, self._dy)
            return
        channels = self.sequence.channels
        if name not in channels:
            known = ", ".join(list(BUILTIN_COLORS) + sorted(channels))
            raise ValueError(
                f"mesh.color {name!r} is not a channel of this sequence (have: {known})"
            )
        values = channels[name]
        shown = values[:, self._iy][:, :, self._ix]
        finite = shown[np.isfinite(shown)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if name in ZERO_BASED_CHANNELS:  # 0 means something (convex): keep it the map's end
            lo = min(lo, 0.0)
        self._channel_range = (lo, hi if hi > lo else lo + 1.0)
        self._channel = StateInterpolator(np.where(np.isfinite(values), values, lo), method)

    def _setup_ball(self, method: str) -> None:
        ball = self.sequence.ball
        self._ball = None
        self._path = None
        if not np.isfinite(ball).all():
            return
        self._ball = StateInterpolator(ball, method)
        if self.cfg.trajectory and moves(ball):
            # The path in the plane is fixed: sample it once, lift it onto each frame.
            last = self.sequence.n_states - 1
            ps = np.linspace(0.0, last, last * TRAJECTORY_SAMPLES_PER_STATE + 1)
            self._path = (ps, np.stack([self._ball(p) for p in ps]))

    def _surface_heights(self, zc: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
        """(k,) heights of the drawn mesh at plane points, from coarse heights ``zc``."""
        return heights_at_points(zc, self._up.ry, self._up.rx, self.topology.x, self.topology.y,
                                 px, py, 0.0, self.top)

    def _inside(self, px: float, py: float) -> bool:
        x0, x1, y0, y1 = self.window
        return bool(x0 <= px <= x1 and y0 <= py <= y1)

    # ------------------------------------------------------------------ public API

    @property
    def n_states(self) -> int:
        return self.sequence.n_states

    def time_of_state(self, state: int) -> float:
        """The first film time at which the surface is exactly captured state ``state``.

        The timeline is monotone, so bisection on :meth:`position_at` finds it.
        """
        if not 0 <= state < self.n_states:
            raise ValueError(f"state {state} is not in 0..{self.n_states - 1}")
        lo, hi = 0.0, self.duration
        for _ in range(60):
            mid = (lo + hi) / 2.0
            if self.position_at(mid) < state - TIME_OF_STATE_TOLERANCE:
                lo = mid
            else:
                hi = mid
        return hi

    def position_at(self, time: float) -> float:
        """Fractional state position at film ``time`` seconds (clamped to the film)."""
        return self.timeline.position_at(time)

    def height_at(self, time: float, x: float, y: float) -> float:
        """World z of the surface at plane point ``(x, y)`` at film ``time``.

        Exactly the surface the renderer draws (the render grid's triangles), computed
        from the four vertices around the point only; points off the plane clamp to its edge.
        """
        zc = self._z(self.position_at(time))
        return float(self._surface_heights(zc, x, y)[0])

    def coarse_at(self, time: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Heights on the sequence grid around the shown window: cheap, for cameras.

        Returns
        -------
        x0 : (nx0,) float32, y0 : (ny0,) float32
        z : (ny0, nx0) float32
            World heights (smoothed like the render grid) at the coarse points that cover
            the window (one beyond each edge of a crop).
        """
        x0, y0, z = self._coarse(self._z(self.position_at(time)))
        return x0.astype(np.float32), y0.astype(np.float32), z.astype(np.float32)

    def _coarse(self, zc: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(nx0,) float64, (ny0,) float64, (ny0, nx0) heights of the window's coarse points."""
        z = self._gy[self._iy] @ zc @ self._gx[self._ix].T
        return self.sequence.a[self._ix], self.sequence.b[self._iy], np.clip(z, 0.0, self.top)

    def _ball_at(self, position: float, zc: np.ndarray) -> np.ndarray | None:
        if self._ball is None:
            return None
        bx, by = (float(v) for v in self._ball(position))
        if not self._inside(bx, by):
            return None
        return np.array([bx, by, self._surface_heights(zc, bx, by)[0]], dtype=np.float32)

    def landmarks_at(self, time: float) -> dict:
        """Cheap landmarks for cameras: ``ball`` (3,) or None, ``minimum`` (3,), ``center`` (3,).

        ``minimum`` is the lowest-loss coarse point of the window, lifted onto the drawn
        surface; ``center`` is the middle of the film's bounding box (constant, so a camera
        aimed at it never jitters).
        """
        p = self.position_at(time)
        zc = self._z(p)
        x0, y0, z = self._coarse(zc)
        k0, k1 = self._z.bracket(p)
        bad = (self._invalid[k0] | self._invalid[k1])[self._iy][:, self._ix]
        wx0, wx1, wy0, wy1 = self.window
        inside = (((x0 >= wx0) & (x0 <= wx1))[None, :] & ((y0 >= wy0) & (y0 <= wy1))[:, None])
        skip = bad | ~inside if inside.any() else bad
        low = lowest_point(x0, y0, z, skip, highest=self.transform.gain < 0)
        # on the drawn surface, like the ball, so markers never float or sink
        low[2] = self._surface_heights(zc, low[0], low[1])[0]
        return {
            "ball": self._ball_at(p, zc),
            "minimum": low,
            "center": self.topology.bounds.center.astype(np.float32),
        }

    def frame_at(self, time: float, index: int = 0) -> Frame:
        """The full-resolution frame at film ``time`` seconds."""
        p = self.position_at(time)
        zc = self._z(p)
        heights = self._up(zc)
        self._calm_cliffs(heights, zc, p)
        np.clip(heights, 0.0, self.top, out=heights)
        normals = grid_normals(heights, self._dx, self._dy)
        invalid = self._invalid_at(p)
        x, y = self.topology.x, self.topology.y
        ball = self._ball_at(p, zc)
        values = interpolate_values(self.sequence.values, self.sequence.epochs,
                                    self.sequence.steps, p)
        if ball is not None:
            values.setdefault("loss", float(self.transform.loss_of_z(float(ball[2]))))
        return Frame(
            index=int(index), time=float(time), position=p,
            heights=heights, normals=normals, scalar=self._scalar(heights, p),
            minimum=lowest_point(x, y, heights, invalid, highest=self.transform.gain < 0),
            ball=ball, invalid=invalid, trajectory=self._trajectory_at(p, zc),
            values=values, label=nearest_label(self.sequence.labels, p),
            series=self.sequence.values,
            **self._actors_at(time), **self._point_sets_at(p, zc),
        )

    def _point_sets_at(self, position: float, zc: np.ndarray) -> dict:
        """The experiment's paths and markers (``render.pointsets``) draped on this frame."""
        seq = self.sequence
        if not (getattr(seq, "paths", None) or getattr(seq, "markers", None)):
            return {}

        def height(px, py):
            return self._surface_heights(zc, px, py)

        paths = {k: drape(densify(points_at(v, position)), height, self.window) for k, v in seq.paths.items()}
        markers = {k: drape(points_at(v, position, appear=True), height, self.window)
                   for k, v in seq.markers.items()}
        return {"paths": paths, "markers": markers}

    def _actors_at(self, time: float) -> dict:
        """Extra balls of the frame (the descent actor), as ``Frame`` keyword arguments."""
        if self._descent is None:
            return {}
        return {"actors": self._descent.position_at(time)[None, :],
                "actor_colors": (self.cfg.descent.color,)}

    def frames(self, start: int = 0, stop: int | None = None) -> Iterator[Frame]:
        """Frames ``start .. stop - 1`` one at a time (memory: the sequence plus one frame)."""
        stop = self.n_frames if stop is None else min(int(stop), self.n_frames)
        for i in range(max(int(start), 0), stop):
            yield self.frame_at(i / self.fps, i)

    # ------------------------------------------------------------------ per-frame parts

    def _calm_cliffs(self, heights: np.ndarray, zc: np.ndarray, position: float) -> None:
        """Near non-finite points, blend ``heights`` (in place) toward linear interpolation.

        The weight is 1 within :data:`CLIFF_CELLS` coarse cells of a bad point and falls
        to 0 over the next cell, so there is no seam; frames without bad points are
        untouched.
        """
        k0, k1 = self._z.bracket(position)
        if not (self._any_invalid[k0] or self._any_invalid[k1]):
            return
        key = (k0, k1)
        if self._cliff_key != key:
            near = maximum_filter(self._invalid[k0] | self._invalid[k1], size=2 * CLIFF_CELLS + 1)
            self._cliff_weight = np.clip(self._mask_up(near.astype(np.float32)), 0.0, 1.0)
            self._cliff_key = key
        w = self._cliff_weight
        heights += w * (self._mask_up(zc) - heights)

    def _invalid_at(self, position: float) -> np.ndarray | None:
        k0, k1 = self._z.bracket(position)
        if not (self._any_invalid[k0] or self._any_invalid[k1]):
            return None
        mask = (self._invalid[k0] | self._invalid[k1]).astype(np.float32)
        return self._mask_up(mask) > INVALID_WEIGHT

    def _scalar(self, heights: np.ndarray, position: float) -> np.ndarray:
        if self._curvature is not None:
            return self._curvature(heights)
        if self._channel is not None:
            lo, hi = self._channel_range
            c = self._up(self._channel(position))
            c -= np.float32(lo)
            c *= np.float32(1.0 / (hi - lo))
            return np.clip(c, 0.0, 1.0, out=c)
        if self.top <= 0.0:
            return np.zeros_like(heights)
        s = heights * np.float32(1.0 / self.top)
        if self.cfg.color == "loss" and self.transform.gain < 0:
            np.subtract(np.float32(1.0), s, out=s)
        return np.clip(s, 0.0, 1.0, out=s)

    def _trajectory_at(self, position: float, zc: np.ndarray) -> np.ndarray:
        if self._path is None:
            return np.zeros((0, 3), dtype=np.float32)
        ps, pts = self._path
        m = int(np.searchsorted(ps, position, side="right"))
        xy = pts[:m]
        if ps[m - 1] < position:
            xy = np.vstack([xy, np.asarray(self._ball(position))[None, :]])
        z = self._surface_heights(zc, xy[:, 0], xy[:, 1])
        path = np.column_stack([xy, z]).astype(np.float32)
        x0, x1, y0, y1 = self.window
        keep = (path[:, 0] >= x0) & (path[:, 0] <= x1) & (path[:, 1] >= y0) & (path[:, 1] <= y1)
        return path[keep]
