"""The mesh stage: a surface sequence becomes one topology and a stream of frames.

:class:`FilmSurface` is what the pipeline and the camera call. It composes small parts,
each testable alone:

- :class:`~lossfilm.render.mesh.heights.HeightTransform`: loss -> world z, one for the film;
- :class:`~lossfilm.render.mesh.field.HeightField`: the window, the render grid, smoothing
  and cubic upsampling, heights of the drawn mesh at plane points;
- :class:`~lossfilm.render.mesh.moving.MovingSurface`: heights in film time (the timeline
  and the states), what actors and cameras read;
- :class:`~lossfilm.render.mesh.validity.InvalidPoints`: non-finite losses, calm cliffs;
- :class:`~lossfilm.render.mesh.channels.ColorChannel`: the colour coordinate;
- :class:`~lossfilm.render.mesh.ball.BallTrack`: the minimizer ball and its path;
- :class:`~lossfilm.render.mesh.descent.DescentActor`: a ball rolling down the surface.

Order of work per frame, cheapest first: interpolate in time on the coarse sequence grid
(in the height domain), then upsample once to the render grid (sparse cubic spline), then
normals and the colour coordinate. Memory is the sequence plus one frame.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from lossfilm.compute.store.sequence import SurfaceSequence
from lossfilm.render.mesh.ball import BallTrack
from lossfilm.render.mesh.channels import ColorChannel
from lossfilm.render.mesh.descent import DescentActor
from lossfilm.render.mesh.field import HeightField, window_indices, window_of
from lossfilm.render.mesh.frame import Frame
from lossfilm.render.mesh.heights import HeightTransform
from lossfilm.render.mesh.landmarks import interpolate_values, lowest_point, nearest_label
from lossfilm.render.mesh.moving import MovingSurface
from lossfilm.render.mesh.pointsets import densify, drape, points_at
from lossfilm.render.mesh.resample import grid_normals
from lossfilm.render.mesh.timeline import Timeline
from lossfilm.render.mesh.validity import InvalidPoints
from lossfilm.render.scene.mesh import MeshConfig

__all__ = ["FilmSurface"]

#: bisection tolerance (in states) of :meth:`FilmSurface.time_of_state`.
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
        self.n_frames = int(round(self.duration * self.fps))
        self.timeline = Timeline(cfg.time, duration, sequence.epochs)
        a, b = sequence.a, sequence.b
        self.window = window_of(a, b, cfg.crop)
        x0, x1, y0, y1 = self.window
        ix, iy = window_indices(a, b, self.window)
        self.transform = HeightTransform.fit(sequence.loss[:, iy][:, :, ix], cfg.height,
                                             max(x1 - x0, y1 - y0))
        self.top = self.transform.top
        method = cfg.time.interpolation
        res = int(resolution if resolution is not None else cfg.resolution)
        self.field = HeightField(a, b, self.window, res, cfg.smooth, self.top)
        self.topology = self.field.topology
        # heights of every state on the coarse grid, in world units (non-finite -> ceiling)
        self.surface = MovingSurface(self.transform(sequence.loss), self.timeline, self.field,
                                     method)
        self.invalid = InvalidPoints(sequence.loss, self.field)
        self.color = ColorChannel(cfg.color, sequence.channels, self.field, self.surface.z,
                                  self.transform, method)
        self.ball = BallTrack(sequence.ball, method, cfg.trajectory)
        self.descent = (DescentActor(cfg.descent, self.surface)
                        if cfg.descent.enabled else None)

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
        """World z of the drawn surface (its triangles) at plane point ``(x, y)`` at ``time``;
        points off the plane clamp to its edge."""
        return self.surface.height_at(time, x, y)

    def coarse_at(self, time: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Heights on the sequence grid around the shown window: cheap, for cameras
        (see :meth:`lossfilm.render.mesh.moving.MovingSurface.coarse_at`)."""
        return self.surface.coarse_at(time)

    def landmarks_at(self, time: float) -> dict:
        """Cheap landmarks for cameras: ``ball`` (3,) or None, ``minimum`` (3,), ``center`` (3,).

        ``minimum`` is the lowest-loss coarse point of the window, lifted onto the drawn
        surface; ``center`` is the middle of the film's bounding box (constant, so a camera
        aimed at it never jitters).
        """
        p = self.position_at(time)
        zc = self.surface.z(p)
        x0, y0, z = self.field.coarse(zc)
        k0, k1 = self.surface.z.bracket(p)
        bad = self.field.shown(self.invalid.coarse[k0] | self.invalid.coarse[k1])
        wx0, wx1, wy0, wy1 = self.window
        inside = (((x0 >= wx0) & (x0 <= wx1))[None, :] & ((y0 >= wy0) & (y0 <= wy1))[:, None])
        skip = bad | ~inside if inside.any() else bad
        low = lowest_point(x0, y0, z, skip, highest=self.transform.gain < 0)
        # on the drawn surface, like the ball, so markers never float or sink
        low[2] = self.field.heights_at(zc, low[0], low[1])[0]
        return {
            "ball": self._ball_at(p, zc),
            "minimum": low,
            "center": self.topology.bounds.center.astype(np.float32),
        }

    def frame_at(self, time: float, index: int = 0) -> Frame:
        """The full-resolution frame at film ``time`` seconds."""
        p = self.position_at(time)
        zc = self.surface.z(p)
        k0, k1 = self.surface.z.bracket(p)
        heights = self.field.upsample(zc)
        self.invalid.calm_cliffs(heights, zc, k0, k1)
        np.clip(heights, 0.0, self.top, out=heights)
        normals = grid_normals(heights, self.field.dx, self.field.dy)
        invalid = self.invalid.mask(k0, k1)
        x, y = self.topology.x, self.topology.y
        ball = self._ball_at(p, zc)
        values = interpolate_values(self.sequence.values, self.sequence.epochs,
                                    self.sequence.steps, p)
        if ball is not None:
            values.setdefault("loss", float(self.transform.loss_of_z(float(ball[2]))))
        return Frame(
            index=int(index), time=float(time), position=p,
            heights=heights, normals=normals, scalar=self.color.scalar(heights, p),
            minimum=lowest_point(x, y, heights, invalid, highest=self.transform.gain < 0),
            ball=ball, invalid=invalid, trajectory=self._trajectory_at(p, zc),
            values=values, label=nearest_label(self.sequence.labels, p),
            series=self.sequence.values,
            **self._actors_at(time), **self._point_sets_at(p, zc),
        )

    def frames(self, start: int = 0, stop: int | None = None) -> Iterator[Frame]:
        """Frames ``start .. stop - 1`` one at a time (memory: the sequence plus one frame)."""
        stop = self.n_frames if stop is None else min(int(stop), self.n_frames)
        for i in range(max(int(start), 0), stop):
            yield self.frame_at(i / self.fps, i)

    # ------------------------------------------------------------------ per-frame parts

    def _ball_at(self, position: float, zc: np.ndarray) -> np.ndarray | None:
        plane = self.ball.plane_at(position)
        if plane is None or not self.field.inside(*plane):
            return None
        bx, by = (float(v) for v in plane)
        return np.array([bx, by, self.field.heights_at(zc, bx, by)[0]], dtype=np.float32)

    def _trajectory_at(self, position: float, zc: np.ndarray) -> np.ndarray:
        xy = self.ball.path_until(position)
        if xy is None:
            return np.zeros((0, 3), dtype=np.float32)
        z = self.field.heights_at(zc, xy[:, 0], xy[:, 1])
        path = np.column_stack([xy, z]).astype(np.float32)
        x0, x1, y0, y1 = self.window
        keep = (path[:, 0] >= x0) & (path[:, 0] <= x1) & (path[:, 1] >= y0) & (path[:, 1] <= y1)
        return path[keep]

    def _point_sets_at(self, position: float, zc: np.ndarray) -> dict:
        """The experiment's paths and markers (:mod:`lossfilm.render.mesh.pointsets`) draped on
        this frame."""
        seq = self.sequence
        if not (getattr(seq, "paths", None) or getattr(seq, "markers", None)):
            return {}

        def height(px, py):
            return self.field.heights_at(zc, px, py)

        paths = {k: drape(densify(points_at(v, position)), height, self.window)
                 for k, v in seq.paths.items()}
        markers = {k: drape(points_at(v, position, appear=True), height, self.window)
                   for k, v in seq.markers.items()}
        return {"paths": paths, "markers": markers}

    def _actors_at(self, time: float) -> dict:
        """Extra balls of the frame (the descent actor), as ``Frame`` keyword arguments."""
        if self.descent is None:
            return {}
        return {"actors": self.descent.position_at(time)[None, :],
                "actor_colors": (self.cfg.descent.color,)}
