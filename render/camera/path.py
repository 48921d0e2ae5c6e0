"""The camera path of a film: every shot sampled, lifted over the surface, one pose per time.

:class:`CameraPath` samples the shots of a ``camera`` section (:mod:`lossfilm.render.scene.camera`)
through their presets (:mod:`lossfilm.render.camera.presets`), keeps them above the surface, eases
between shots and works out a heading that never flips; :meth:`CameraPath.pose_at` then
gives the :class:`lossfilm.render.mesh.frame.CameraPose` of any film time.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.interpolate import PchipInterpolator

from lossfilm.render.camera.motion import ease
from lossfilm.render.mesh.frame import CameraPose
from lossfilm.render.camera.orientation import continuous_headings, unit_vectors, up_vectors
from lossfilm.render.camera.presets import LIFT_SIGMA_S, shot_sampler
from lossfilm.render.camera.context import Samples, ShotContext
from lossfilm.render.camera.focus import LensKeys, blend_lens, edge_depth, view_depth
from lossfilm.render.scene.camera import SHOTS, CameraConfig, DiveShot, validate_camera
from lossfilm.render.mesh.frame import Landscape
from lossfilm.render.camera.terrain import cell_max_height, clip_planes, upper_envelope

__all__ = ["CameraPath"]

#: every shot but dive keeps this height above the surface, as a fraction of the plane
#: size, when camera.min_clearance is null.
MIN_CLEARANCE = 0.015
#: samples per shot, to follow terrain and targets and keep the heading continuous.
MIN_SHOT_SAMPLES, MAX_SHOT_SAMPLES = 16, 20000
#: shortest distance from eye to target; a target closer than this is pushed ahead.
MIN_LOOK_DISTANCE = 1e-6


class CameraPath:
    """The camera of a film: a :class:`CameraPose` for any film time.

    Built once per film from the camera section and the landscape: each shot is sampled
    at the film's frame times (landmarks and terrain read from the landscape's coarse
    grids), moving targets are smoothed, shots other than ``dive`` (and those with
    ``avoid_surface: false``) are lifted smoothly above the surface by
    ``min_clearance``, and a continuous heading is worked out over the whole film so
    that the view never flips at the zenith or the nadir.
    :meth:`pose_at` is then cheap and depends only on the time (frames can be rendered
    in any order, in any process).

    Parameters
    ----------
    cfg : CameraConfig
    landscape : Landscape
        The mesh stage's film surface (``topology``, ``coarse_at``, ``landmarks_at``).
    fps : float
        Frame rate: the sampling rate of the shots.
    base_depth : float
        World depth of the plinth under the film's lowest point (``render.base``), 0 for
        none: framed orbits keep its bottom in view too.
    footing : float
        World reach of the floor (``render.floor``) framed around the plinth's bottom.
    """

    def __init__(self, cfg: CameraConfig, landscape: Landscape, fps: float, base_depth: float = 0.0,
                 footing: float = 0.0, lens: tuple = (None, None)) -> None:
        validate_camera(cfg)
        if not fps > 0:
            raise ValueError(f"fps: must be > 0, got {fps}")
        self.cfg, self.landscape, self.fps = cfg, landscape, float(fps)
        self.lens = tuple(lens)
        b = landscape.topology.bounds
        self.lo, self.hi = tuple(map(float, b.lo)), tuple(map(float, b.hi))
        durations = np.array([s.duration for s in cfg.shots], dtype=np.float64)
        self.ends = np.cumsum(durations)
        self.starts = self.ends - durations
        clearance = cfg.min_clearance if cfg.min_clearance is not None else MIN_CLEARANCE * b.size
        self._shots: list[dict] = []
        forwards, times, hints, cuts = [], [], [], []
        previous = None
        for shot, start, end in zip(cfg.shots, self.starts, self.ends):
            local = self._sample_times(start, end)
            ctx = ShotContext(cfg, landscape, float(start), local)
            ctx.base_depth, ctx.footing = float(base_depth), float(footing)
            info = {
                "sampler": shot_sampler(shot, ctx),
                "lift": None,
                "local": local,
                "from": None,
                "lens": LensKeys(shot.focus, shot.fstop, shot.ease or cfg.ease) if shot.focus or shot.fstop else None,
            }
            if cfg.transition > 0 and previous is not None:
                info["from"], info["blend"] = previous, min(cfg.transition, shot.duration)
                # the lens eases out of the previous shot's last focus and aperture, as the pose does
                info["lens_from"] = (self._shots[-1]["lens"], float(previous["duration"]))
            self._shots.append(info)
            s = self._sampled(len(self._shots) - 1, local)
            lift = None
            if not isinstance(shot, DiveShot) and getattr(shot, "avoid_surface", True):
                # beside the grid there is no surface to keep clear of
                ceiling = np.array(
                    [
                        cell_max_height(x0, y0, z, e[None, :2])[0]
                        if x0[0] <= e[0] <= x0[-1] and y0[0] <= e[1] <= y0[-1]
                        else -np.inf
                        for (x0, y0, z), e in zip(ctx.coarse(), s.eye)
                    ]
                )
                need = np.maximum(ceiling + clearance - s.eye[:, 2], 0.0)
                if np.any(need > 0):
                    dt = (end - start) / max(local.size - 1, 1)
                    lift = PchipInterpolator(local, upper_envelope(need, LIFT_SIGMA_S / dt))
                    s.eye[:, 2] += lift(local)
            forwards.append(unit_vectors(s.target - s.eye))
            times.append(start + local)
            hints.append(s.hint)
            cut = np.zeros(local.size, dtype=bool)
            cut[0] = info["from"] is None
            cuts.append(cut)
            info["lift"] = lift
            previous = {
                "eye": s.eye[-1].copy(),
                "target": s.target[-1].copy(),
                "fov": float(s.fov[-1]),
                "duration": float(end - start),
            }
        heading = continuous_headings(
            np.concatenate(forwards),
            np.concatenate(times),
            np.concatenate(hints),
            np.concatenate(cuts),
        )
        split = np.cumsum([f.shape[0] for f in forwards])[:-1]
        for info, h in zip(self._shots, np.split(heading, split)):
            info["angle"] = np.unwrap(np.arctan2(h[:, 1], h[:, 0]))

    def _sampled(self, i: int, local: np.ndarray) -> Samples:
        """Shot ``i`` at local times (m,), eased out of the previous shot's last pose."""
        info = self._shots[i]
        s = info["sampler"](local)
        prev = info["from"]
        if prev is not None:
            w = ease("smootherstep", local / info["blend"])
            s.eye = prev["eye"] + (s.eye - prev["eye"]) * w[:, None]
            s.target = prev["target"] + (s.target - prev["target"]) * w[:, None]
            s.fov = prev["fov"] + (s.fov - prev["fov"]) * w
        return s

    def _sample_times(self, start: float, end: float) -> np.ndarray:
        """Local sample times of a shot: its frame times, its start and its end."""
        first, last = int(np.ceil(start * self.fps - 1e-9)), int(np.floor(end * self.fps + 1e-9))
        frames = np.arange(first, last + 1) / self.fps - start
        count = max(MIN_SHOT_SAMPLES, frames.size)
        if frames.size < MIN_SHOT_SAMPLES or frames.size > MAX_SHOT_SAMPLES:
            frames = np.linspace(0.0, end - start, min(count, MAX_SHOT_SAMPLES))
        local = np.unique(np.concatenate([[0.0, end - start], np.clip(frames, 0.0, end - start)]))
        # drop samples closer than a microsecond: splines need strictly increasing times
        keep = np.concatenate([[True], np.diff(local) > 1e-6])
        local = local[keep]
        local[-1] = end - start
        return local

    @property
    def spans(self) -> list[tuple[str, float, float]]:
        """``(tag, start, end)`` of every shot in film seconds, e.g. to label contact sheets."""
        tags = {cls: tag for tag, cls in SHOTS.items()}
        return [
            (tags[type(s)], float(a), float(b))
            for s, a, b in zip(self.cfg.shots, self.starts, self.ends)
        ]

    @property
    def duration(self) -> float:
        """Sum of the shots' durations, seconds."""
        return float(self.ends[-1])

    def shot_at(self, time: float) -> int:
        """Index of the shot playing at film ``time`` (the last one past the end)."""
        return int(min(np.searchsorted(self.ends, time, side="right"), len(self.ends) - 1))

    def pose_at(self, time: float) -> CameraPose:
        """The camera at film ``time`` seconds (clamped to the film)."""
        i = self.shot_at(time)
        info = self._shots[i]
        local = float(np.clip(time - self.starts[i], 0.0, self.ends[i] - self.starts[i]))
        s = self._sampled(i, np.array([local]))
        eye, target = s.eye[0].copy(), s.target[0].copy()
        if info["lift"] is not None:
            eye[2] += float(info["lift"](local))
        forward = target - eye
        dist = np.linalg.norm(forward)
        if dist < MIN_LOOK_DISTANCE:
            # the target caught up with the eye: look on along the heading, level
            angle = np.interp(local, info["local"], info["angle"])
            forward = np.array([np.cos(angle), np.sin(angle), 0.0])
            target = eye + forward
            dist = 1.0
        forward = forward / dist
        if s.up is not None:
            up = s.up[0]
        else:
            angle = np.interp(local, info["local"], info["angle"])
            up = up_vectors(forward[None], np.array([[np.cos(angle), np.sin(angle)]]), s.roll[:1])[
                0
            ]
        x0, y0, z = self.landscape.coarse_at(float(np.clip(time, 0.0, self.duration)))
        near, far = clip_planes(
            eye, self.lo, self.hi, np.asarray(x0), np.asarray(y0), np.asarray(z)
        )
        far = max(far, dist * 1.01 + near)
        pose = CameraPose(
            eye=tuple(map(float, eye)),
            target=tuple(map(float, target)),
            up=tuple(map(float, up)),
            fov_deg=float(s.fov[0]),
            near=float(near),
            far=float(far),
        )
        lens, before = info["lens"], info.get("lens_from")
        blending = before is not None and local < info["blend"] and (lens is not None or before[0] is not None)
        if lens is None and not blending:
            return pose  # the look's render.dof, resolved by the renderer

        def depth(what):
            return self._depth_of(what, time, pose, forward, (np.asarray(x0), np.asarray(y0), np.asarray(z)))

        focus, fstop = self._lens(lens, local, depth)
        if blending:
            w = ease("smootherstep", local / info["blend"])
            focus, fstop = blend_lens(self._lens(before[0], before[1], depth), (focus, fstop), w)
        return dataclasses.replace(pose, focus=focus, fstop=fstop)

    def _lens(self, keys: LensKeys | None, local: float, depth) -> tuple:
        """``(focus, fstop)`` of a shot's lens ``keys`` at its ``local`` time; what it does not
        key is the look's (``self.lens``: render.dof's focus target or distance, and f-number)."""
        default_focus, default_fstop = self.lens
        focus = keys.focus_at(local, depth) if keys is not None and keys.focus else None
        if focus is None and default_focus is not None:
            focus = depth(default_focus)
        fstop = keys.fstop_at(local) if keys is not None and keys.fstop else None
        return focus, fstop if fstop is not None else default_fstop

    def _depth_of(self, what, time: float, pose: CameraPose, forward: np.ndarray, coarse: tuple) -> float | None:
        """A focus key's target (``ball``, ``minimum``, ``target``, ``edge`` or a distance) at
        film ``time``: its distance along the view axis of ``pose``."""
        eye = np.asarray(pose.eye, np.float64)
        if not isinstance(what, str):
            return float(what)
        if what == "target":
            return view_depth(pose.target, eye, forward)
        if what == "edge":
            x0, y0, z = coarse  # the plane only: the coarse window may reach past it
            ix = (x0 >= self.lo[0] - 1e-9) & (x0 <= self.hi[0] + 1e-9)
            iy = (y0 >= self.lo[1] - 1e-9) & (y0 <= self.hi[1] + 1e-9)
            return edge_depth(eye, forward, pose.up, pose.fov_deg, x0[ix], y0[iy], z[np.ix_(iy, ix)])
        marks = self.landscape.landmarks_at(float(np.clip(time, 0.0, self.duration)))
        point = marks.get(what)
        return view_depth(marks["minimum"] if point is None else point, eye, forward)
