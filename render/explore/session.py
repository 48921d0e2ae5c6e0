"""The explorer's state, without a browser: the film, captured views and the descent ball.

:class:`ExploreSession` is what ``lossfilm explore`` serves (:mod:`render.explore`) and
what the tests drive directly. It holds

- the film of the scene (the real surface sequence, the scene's height transform and
  colormap, the film's own camera path), drawn at up to :data:`EXPLORE_RESOLUTION`
  vertices per side so a browser can take a frame per update;
- views captured as camera keyframes (film time, eye, target, field of view, all in
  landscape units), which become one ``keyframes`` shot of a new scene file;
- a descent ball released on the surface: a :class:`render.descent.DescentActor` itself,
  with the rate keys the user plays on the slider, so what the browser shows is what the
  film's descent actor draws.

Film time is always the scene's own: ``--tiny`` shrinks only the surfaces
(:func:`explore_scene`), so captured times and descent keys mean the same in the full film.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from lossfilm.render.mesh.descent import DescentActor, DescentConfig, rate_at
from lossfilm.render.mesh.frame import CameraPose
from lossfilm.render.scene.scene import Scene

__all__ = ["EXPLORE_RESOLUTION", "CapturedView", "ExploreSession", "explore_scene", "ray_hit"]

#: vertices per side of the surface sent to the browser (a 128² GLB is ~1 MB per update).
EXPLORE_RESOLUTION = 128
#: two captured views closer in time than this are one key (the later capture wins).
SAME_KEY_SECONDS = 1e-3
#: ray marching samples across the surface's box when a click is turned into a plane point.
RAY_SAMPLES = 400
#: a released ball starts at this rate unless the slider says otherwise (landscape units).
DEFAULT_RATE = 0.05


def explore_scene(scene: Scene, *, tiny: bool = False) -> Scene:
    """The scene as the explorer shows it: with ``tiny``, tiny surfaces on the real timeline.

    ``--tiny`` of the other commands also shortens the film to 1.5 s; the explorer keeps the
    scene's shots, holds and frame rate so captured key times and descent keys can be
    written back into the full scene unchanged.
    """
    if not tiny:
        return scene
    from lossfilm.render.pipeline import tiny_scene

    small = tiny_scene(scene)
    return dataclasses.replace(scene, compute=small.compute)


@dataclasses.dataclass(frozen=True)
class CapturedView:
    """A camera keyframe: where the camera was at a film time (landscape units, degrees)."""

    time: float
    position: tuple[float, float, float]
    target: tuple[float, float, float]
    fov: float


def ray_hit(surface, time: float, origin, direction) -> tuple[float, float] | None:
    """Where a ray first meets the drawn surface at film ``time``: plane point ``(a, b)``.

    Marches :data:`RAY_SAMPLES` steps through the surface's bounding box (heights from
    ``surface.height_at``: exactly the drawn triangles), then bisects the crossing.
    Returns None when the ray misses.
    """
    o, d = np.asarray(origin, float), np.asarray(direction, float)
    n = np.linalg.norm(d)
    if not n > 0:
        return None
    d = d / n
    b = surface.topology.bounds
    lo, hi = np.asarray(b.lo, float), np.asarray(b.hi, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        t1, t2 = (lo - o) / d, (hi - o) / d
    t_near = np.nanmax(np.minimum(t1, t2))
    t_far = np.nanmin(np.maximum(t1, t2))
    if not (np.isfinite(t_near) and np.isfinite(t_far)) or t_far < max(t_near, 0.0):
        return None
    ts = np.linspace(max(t_near, 0.0), t_far, RAY_SAMPLES)

    def above(t: float) -> float:
        p = o + t * d
        return p[2] - surface.height_at(time, p[0], p[1])

    prev_t, prev_h = ts[0], above(ts[0])
    if prev_h <= 0:
        p = o + prev_t * d
        return float(p[0]), float(p[1])
    for t in ts[1:]:
        h = above(t)
        if h <= 0:
            a, c = prev_t, t
            for _ in range(30):
                m = 0.5 * (a + c)
                if above(m) > 0:
                    a = m
                else:
                    c = m
            p = o + c * d
            return float(p[0]), float(p[1])
        prev_t, prev_h = t, h
    return None


class ExploreSession:
    """A scene's film opened for exploring.

    Parameters
    ----------
    scene : Scene
        The scene as explored (:func:`explore_scene`).
    folder : Path
        Its stored surfaces (``render.pipeline.compute_stage``).
    scene_path : Path
        The scene file; saved scenes are written as new files next to it.
    overrides : sequence of str
        ``--set`` overrides, applied to what is saved as well.
    out : Path
        The scene's output folder: the only place stills are written.
    """

    def __init__(self, scene: Scene, folder: Path, scene_path: Path, overrides=(), out: Path | None = None):
        from lossfilm.render.pipeline import open_film

        self.scene, self.folder = scene, Path(folder)
        self.scene_path, self.overrides = Path(scene_path), tuple(overrides)
        self.out = Path(out) if out is not None else Path("outputs") / scene.name
        res = min(scene.mesh.resolution, EXPLORE_RESOLUTION)
        shown = dataclasses.replace(scene, mesh=dataclasses.replace(scene.mesh, resolution=res))
        self.film = open_film(shown, self.folder)
        self.surface, self.camera = self.film.surface, self.film.camera
        self.keys: list[CapturedView] = []
        self.ball_start: tuple[float, float] | None = None
        self.ball_release = 0.0
        self.rate_keys: list[float] = []
        self._actor: DescentActor | None = None
        self._full_film = None  # built on the first still
        self._faces = self.surface.topology.indices.astype(np.uint32)

    # ------------------------------------------------------------------ the film

    @property
    def duration(self) -> float:
        return self.film.duration

    @property
    def fps(self) -> float:
        return self.film.fps

    def frame_time(self, time: float) -> float:
        """``time`` clamped to the film and snapped to its frame grid (what the film shows)."""
        last = max(self.film.n_frames - 1, 0)
        return min(max(round(float(time) * self.fps), 0), last) / self.fps

    def mesh_at(self, time: float):
        """The drawn surface at film ``time``.

        Returns
        -------
        vertices : (N, 3) float32
            World positions, row-major over the render grid (N = ny * nx).
        faces : (M, 3) uint32
        colors : (N, 3) uint8
            sRGB from the scene's colormap over the film's fixed colour range.
        normals : (N, 3) float32
        """
        from lossfilm.render.color.colormaps import colormap_colors

        frame = self.surface.frame_at(time, round(time * self.fps))
        topo = self.surface.topology
        gx, gy = np.meshgrid(topo.x, topo.y)
        vertices = np.column_stack([gx.ravel(), gy.ravel(), frame.heights.ravel()]).astype(np.float32)
        colors = colormap_colors(self.scene.render.colormap, frame.scalar).reshape(-1, 3)
        return vertices, self._faces, colors, frame.normals.reshape(-1, 3)

    def readout_at(self, time: float) -> dict:
        """What the counter shows at film ``time``: ``label``, ``position``, ``loss`` and values.

        ``loss`` is the loss under the minimizer ball when the sequence has one, else the
        lowest loss of the shown surface (both read back through the height transform).
        """
        frame = self.surface.frame_at(time)
        values = dict(frame.values)
        if "loss" not in values:
            values["loss"] = float(self.surface.transform.loss_of_z(float(frame.minimum[2])))
        return {"label": frame.label, "position": float(frame.position), "time": float(time), **values}

    def film_pose(self, time: float) -> CameraPose:
        """The film's own camera at film ``time``."""
        return self.camera.pose_at(time)

    def film_path_points(self, count: int = 240) -> np.ndarray:
        """(count, 3) eye positions of the film's camera, evenly over the film."""
        times = np.linspace(0.0, self.duration, count)
        return np.array([self.camera.pose_at(t).eye for t in times], dtype=np.float64)

    # ------------------------------------------------------------------ keyframes

    def add_keyframe(self, time: float, position, target, fov: float) -> int:
        """Capture a view at film ``time``; returns its index in time order.

        A capture within :data:`SAME_KEY_SECONDS` of an existing key replaces it.
        """
        view = CapturedView(float(np.clip(time, 0.0, self.duration)),
                            tuple(map(float, position)), tuple(map(float, target)), float(fov))
        if np.linalg.norm(np.subtract(view.position, view.target)) < 1e-9:
            raise ValueError("keyframe: the camera position equals its target")
        if not 1.0 < view.fov < 170.0:
            raise ValueError(f"keyframe: field of view {view.fov:g} is not in (1, 170) degrees")
        self.keys = [k for k in self.keys if abs(k.time - view.time) >= SAME_KEY_SECONDS]
        self.keys.append(view)
        self.keys.sort(key=lambda k: k.time)
        return self.keys.index(view)

    def retime_keyframe(self, index: int, time: float) -> int:
        """Move key ``index`` to film ``time``; returns its new index."""
        view = self.keys.pop(self._key(index))
        return self.add_keyframe(time, view.position, view.target, view.fov)

    def delete_keyframe(self, index: int) -> None:
        self.keys.pop(self._key(index))

    def _key(self, index: int) -> int:
        if not 0 <= index < len(self.keys):
            raise ValueError(f"keyframe {index}: have keys 0..{len(self.keys) - 1}" if self.keys
                             else "no keyframes captured yet")
        return index

    def keyframe_shot(self) -> dict:
        """The captured views as one ``keyframes`` shot spanning the whole film (YAML data).

        ``avoid_surface: false``: the film passes exactly through each captured view, even
        one taken from below the surface.
        """
        if not self.keys:
            raise ValueError("no keyframes captured yet: add at least one view")
        return {"keyframes": {
            "duration": _num(self.duration),
            "times": [_num(k.time) for k in self.keys],
            "positions": [_num(v) for k in self.keys for v in k.position],
            "targets": [_num(v) for k in self.keys for v in k.target],
            "fovs": [_num(k.fov) for k in self.keys],
            "avoid_surface": False,
            "target": "center",
        }}

    # ------------------------------------------------------------------ descent ball

    def release_ball(self, a: float, b: float, time: float, rate: float = DEFAULT_RATE) -> None:
        """Release the descent ball at plane point ``(a, b)`` at film ``time``."""
        x0, x1, y0, y1 = self.surface.window
        self.ball_start = (float(np.clip(a, x0, x1)), float(np.clip(b, y0, y1)))
        self.ball_release = float(np.clip(time, 0.0, self.duration))
        self.rate_keys = [self.ball_release, float(rate)]
        self._actor = None

    def set_rate(self, time: float, rate: float) -> None:
        """The slider moved to ``rate`` at film ``time``: the old rate holds until then.

        Keys later than ``time`` (from before a rewind) are dropped; the new rate takes
        effect one descent step later, as a keyed ramp of one step.
        """
        if self.ball_start is None:
            return
        t = max(float(time), self.ball_release)
        keys = self.rate_keys
        pairs = [(keys[i], keys[i + 1]) for i in range(0, len(keys), 2) if keys[i] < t]
        old = rate_at(tuple(keys), t)
        step = 1.0 / self.scene.mesh.descent.steps_per_second
        pairs += [(t, old), (t + step, float(rate))]
        self.rate_keys = [v for p in pairs for v in p]
        self._actor = None

    def descent_config(self) -> DescentConfig:
        """The ball as a ``mesh.descent`` section (the scene's own momentum, noise, steps)."""
        if self.ball_start is None:
            raise ValueError("no ball released yet: click on the surface first")
        base = self.scene.mesh.descent
        return dataclasses.replace(base, enabled=True, start=self.ball_start,
                                   release=self.ball_release, rate=tuple(self.rate_keys))

    def ball_at(self, time: float) -> np.ndarray | None:
        """(3,) world position of the descent ball at film ``time`` (None: none released)."""
        if self.ball_start is None:
            return None
        if self._actor is None:
            self._actor = DescentActor(self.descent_config(), self.surface)
        return self._actor.position_at(time)

    def descent_section(self) -> dict:
        """The ball as YAML data for ``mesh.descent``."""
        cfg = self.descent_config()
        return {"enabled": True, "start": [_num(v) for v in cfg.start], "release": _num(cfg.release),
                "rate": [_num(v) for v in cfg.rate], "steps_per_second": _num(cfg.steps_per_second),
                "momentum": _num(cfg.momentum), "noise": _num(cfg.noise), "seed": cfg.seed,
                "color": cfg.color}

    # ------------------------------------------------------------------ writing

    def save(self, *, camera: bool = True, descent: bool = False) -> Path:
        """Write the scene with the captured camera and/or ball to a new file next to it."""
        from lossfilm.render.explore.scene_file import write_explored_scene

        return write_explored_scene(
            self.scene_path, self.overrides,
            shot=self.keyframe_shot() if camera else None,
            descent=self.descent_section() if descent else None,
        )

    def still(self, time: float, pose: CameraPose, size: tuple[int, int]) -> Path:
        """Render the view with the offline renderer into the output folder; returns the path."""
        from lossfilm.render.explore.still import render_explored_still

        return render_explored_still(self, time, pose, size)


def _num(value: float) -> float:
    """A float rounded for a readable scene file (1e-9 relative: far below what a view needs)."""
    return float(f"{float(value):.10g}")
