"""Shots: the ``camera`` section of a scene and the path it flies.

A film's camera is a list of shots played in order (cuts between them, or eased
transitions with ``camera.transition``). Each shot is a
frozen dataclass declared with :func:`compute.options.option` and a preset in
:data:`SHOTS`; YAML reads ``shots: [ {orbit: {duration: 10, turns: 0.5}} ]``.

Distances are in landscape units (world units, see :mod:`render.frame`); ``None`` means
"automatic from the bounds of the surface". Angles are degrees; azimuths are measured in
the a-b plane from +a towards +b. Times are seconds from the start of the shot.

Targets (``target`` key of the aimed shots): ``center`` (middle of the landscape),
``minimum`` (lowest point of the surface, moving), ``ball`` (the minimizer, moving; the
minimum when no ball is shown), ``point`` (``target_point``: ``[a, b]`` on the surface or
``[a, b, h]``). Moving targets are low-pass filtered (``camera.target_smoothing``).
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

import numpy as np
from scipy.interpolate import CubicSpline, PchipInterpolator

from compute.options import option, rule_of
from render.camera import (
    EASINGS,
    OrientationSpline,
    SplineTrack,
    bilinear_height,
    cell_max_height,
    clip_planes,
    continuous_headings,
    ease,
    smooth_track,
    up_vectors,
    upper_envelope,
)
from render.frame import CameraPose, Topology

__all__ = [
    "SHOTS",
    "TARGETS",
    "CameraConfig",
    "CameraPath",
    "DiveShot",
    "DollyShot",
    "FlybyShot",
    "KeyframeShot",
    "Landscape",
    "OrbitShot",
    "Shot",
    "StillShot",
    "TopShot",
    "TrackShot",
    "camera_duration",
    "validate_camera",
]

#: what an aimed shot can look at.
TARGETS = ("center", "minimum", "ball", "point")
_EASES = tuple(EASINGS)
_FOV = {"min": 1.0, "max": 170.0, "exclusive_min": True, "exclusive_max": True}


def _pairs(values: tuple, size: int, field: str) -> None:
    if len(values) % size:
        raise ValueError(f"{field}: {len(values)} numbers is not a whole number of {size}-tuples")


# ------------------------------------------------------------------------------ shots


@dataclasses.dataclass(frozen=True)
class Shot:
    """What every shot has: a duration, a field of view and an easing of its motion."""

    duration: float = option(8.0, "Length of the shot in seconds.", min=0.0, exclusive_min=True)
    fov: float | None = option(
        None, "Vertical field of view in degrees (null: camera.fov).", **_FOV
    )
    ease: str | None = option(None, "Easing of the motion (null: camera.ease).", choices=_EASES)

    def check(self) -> None:
        """Raise ValueError naming the key when values do not fit together."""


@dataclasses.dataclass(frozen=True)
class AimedShot(Shot):
    """A shot looking at a target (see the module notes on targets)."""

    target: str = option(
        "center", "What the camera looks at: center, minimum, ball or point.", choices=TARGETS
    )
    target_point: tuple[float, ...] | None = option(
        None, "With target: point, [a, b] on the surface or [a, b, h] in world units."
    )

    avoid_surface: bool = option(
        True,
        "Lift the camera above the surface by camera.min_clearance (false: allow views from below).",
    )

    def check(self) -> None:
        if self.target == "point":
            if self.target_point is None or len(self.target_point) not in (2, 3):
                raise ValueError(
                    "target_point: target 'point' needs target_point: [a, b] or [a, b, h]"
                )
        elif self.target_point is not None:
            raise ValueError(
                f"target_point: given, but target is {self.target!r}; set target: point"
            )


@dataclasses.dataclass(frozen=True)
class OrbitShot(AimedShot):
    """Circle the target at a fixed elevation."""

    radius: float | None = option(
        None,
        "Distance from the target (null: frame the whole surface).",
        min=0.0,
        exclusive_min=True,
    )
    elevation: float = option(30.0, "Height angle above the horizon, degrees.", min=-89.0, max=90.0)
    turns: float = option(0.5, "Turns around the target during the shot (negative: clockwise).")
    start_angle: float = option(-90.0, "Azimuth of the camera at the start, degrees from +a.")


@dataclasses.dataclass(frozen=True)
class FlybyShot(Shot):
    """Fly low over the terrain through waypoints, never through the surface."""

    waypoints: tuple[float, ...] = option(
        (), "Flat [a0, b0, a1, b1, ...] path over the plane (empty: a diagonal S)."
    )
    clearance: float | None = option(
        None, "Height kept above the surface of each frame (null: 6% of the plane).", min=0.0
    )
    look_ahead: float = option(
        1.0,
        "Look at where the flight will be this many seconds later.",
        min=0.0,
        exclusive_min=True,
    )
    look_down: float = option(
        12.0, "Extra downward tilt of the view, degrees.", min=-60.0, max=80.0
    )

    def check(self) -> None:
        _pairs(self.waypoints, 2, "waypoints")
        if 0 < len(self.waypoints) < 4:
            raise ValueError("waypoints: give at least two (a, b) points")


@dataclasses.dataclass(frozen=True)
class DiveShot(Shot):
    """From above the landscape's edge down through the surface to below the minimum, looking up."""

    angle: float = option(-120.0, "Azimuth of the edge the dive starts from, degrees from +a.")
    start_height: float | None = option(
        None, "Start height above the surface's top (null: 35% of the plane).", min=0.0
    )
    depth: float | None = option(
        None, "End depth below the minimum (null: 12% of the plane).", min=0.0, exclusive_min=True
    )
    end_offset: float | None = option(
        None,
        "End distance from below the minimum, sideways (null: 20% of the plane).",
        min=0.0,
        exclusive_min=True,
    )


@dataclasses.dataclass(frozen=True)
class TopShot(AimedShot):
    """Straight down from above, a map view; optionally turning about the vertical."""

    height: float | None = option(
        None,
        "Height above the target (null: fit the plane with margin).",
        min=0.0,
        exclusive_min=True,
    )
    margin: float = option(1.1, "With height null: how much more than the plane to show.", min=0.1)
    heading: float = option(90.0, "Where the top of the image points, degrees from +a (90: +b).")
    turns: float = option(0.0, "Turns of the view about the vertical during the shot.")


@dataclasses.dataclass(frozen=True)
class TrackShot(Shot):
    """Follow the ball (the minimizer; the minimum when there is none) from a set offset."""

    distance: float | None = option(
        None, "Distance from the ball (null: 60% of the plane).", min=0.0, exclusive_min=True
    )
    elevation: float = option(35.0, "Height angle above the horizon, degrees.", min=-89.0, max=90.0)
    azimuth: float = option(-90.0, "Direction from the ball to the camera, degrees from +a.")
    turns: float = option(0.0, "Turns around the ball during the shot.")


@dataclasses.dataclass(frozen=True)
class DollyShot(AimedShot):
    """Push in (or pull out) along a fixed direction toward the target."""

    start_distance: float | None = option(
        None, "Distance at the start (null: 1.3 x framing distance).", min=0.0, exclusive_min=True
    )
    end_distance: float | None = option(
        None, "Distance at the end (null: 0.45 x framing distance).", min=0.0, exclusive_min=True
    )
    elevation: float = option(30.0, "Height angle above the horizon, degrees.", min=-89.0, max=90.0)
    azimuth: float = option(-90.0, "Direction from the target to the camera, degrees from +a.")


@dataclasses.dataclass(frozen=True)
class StillShot(AimedShot):
    """A fixed camera (the target may still move)."""

    position: tuple[float, ...] | None = option(
        None, "Camera [x, y, z] in world units (null: a three-quarter view)."
    )

    def check(self) -> None:
        super().check()
        if self.position is not None and len(self.position) != 3:
            raise ValueError(f"position: needs 3 numbers [x, y, z], got {len(self.position)}")
        fixed = self.target == "point" and len(self.target_point) == 3
        if self.position is not None and fixed and np.allclose(self.position, self.target_point):
            raise ValueError("position: equals target_point; the camera would look at itself")


@dataclasses.dataclass(frozen=True)
class KeyframeShot(AimedShot):
    """Explicit keys: times with camera positions and (optionally) look-at points.

    Flat tuples, one entry per key: ``times`` (n), ``positions`` (3n: x y z per key),
    ``targets`` (3n, or empty: look at ``target``), ``fovs`` (n or empty), ``rolls``
    (n or empty, degrees), ``tangents`` (3n or empty: velocities in units/s at each key,
    which switch positions from Catmull–Rom with even speed to Hermite in time).
    """

    times: tuple[float, ...] = option(
        (0.0, 8.0), "Key times, seconds from the shot start, increasing."
    )
    positions: tuple[float, ...] = option(
        (-2.0, -3.0, 1.5, 2.0, -3.0, 1.5), "Camera x y z per key, flat."
    )
    targets: tuple[float, ...] = option((), "Look-at x y z per key, flat (empty: use target).")
    fovs: tuple[float, ...] = option((), "Field of view per key, degrees (empty: the shot's fov).")
    rolls: tuple[float, ...] = option((), "Roll per key, degrees counter-clockwise (empty: level).")
    tangents: tuple[float, ...] = option(
        (), "Velocity x y z per key (units/s), flat (empty: Catmull-Rom)."
    )
    ease: str | None = option(
        "linear", "Easing of time within each segment between keys.", choices=_EASES
    )
    timing: str = option(
        "keys",
        "keys: pass key i at times[i]; even: constant speed from first to last time.",
        choices=("keys", "even"),
    )
    orient: str = option(
        "target",
        "target: look at the interpolated targets; spline: rotations splined between keys.",
        choices=("target", "spline"),
    )

    def check(self) -> None:
        super().check()
        n = len(self.times)
        if n < 1:
            raise ValueError("times: give at least one key time")
        if any(b <= a for a, b in zip(self.times, self.times[1:])):
            raise ValueError(f"times: must increase strictly, got {list(self.times)}")
        if self.times[0] < 0 or self.times[-1] > self.duration + 1e-9:
            raise ValueError(f"times: must lie within [0, duration={self.duration:g}]")
        for name, size, optional in (
            ("positions", 3, False),
            ("targets", 3, True),
            ("fovs", 1, True),
            ("rolls", 1, True),
            ("tangents", 3, True),
        ):
            got = len(getattr(self, name))
            if not (got == size * n or (optional and got == 0)):
                raise ValueError(
                    f"{name}: {got} numbers for {n} keys; expected {size * n}{' or none' if optional else ''}"
                )
        if self.fovs and not all(1.0 < f < 170.0 for f in self.fovs):
            raise ValueError(
                f"fovs: every field of view must lie in (1, 170), got {list(self.fovs)}"
            )
        if self.targets:
            p = np.reshape(self.positions, (n, 3))
            t = np.reshape(self.targets, (n, 3))
            same = np.flatnonzero(np.linalg.norm(p - t, axis=1) < 1e-9)
            if same.size:
                raise ValueError(f"targets: key {int(same[0])} has position == target")


#: tag in the scene file -> shot dataclass.
SHOTS: dict[str, type] = {
    "orbit": OrbitShot,
    "flyby": FlybyShot,
    "dive": DiveShot,
    "top": TopShot,
    "track": TrackShot,
    "dolly": DollyShot,
    "still": StillShot,
    "keyframes": KeyframeShot,
}


@dataclasses.dataclass(frozen=True)
class CameraConfig:
    """Where the camera flies: shots played in order, with film-wide defaults."""

    shots: tuple[Shot, ...] = option(
        (OrbitShot(),), "Shots in order; cuts between them unless transition > 0.", registry=SHOTS
    )
    fov: float = option(35.0, "Default vertical field of view, degrees.", **_FOV)
    ease: str = option("smoothstep", "Default easing of each shot's motion.", choices=_EASES)
    min_clearance: float | None = option(
        None,
        "Every shot but dive keeps this height above the surface (null: 1.5% of the plane).",
        min=0.0,
    )
    target_smoothing: float = option(
        0.5, "Low-pass time constant for moving targets, seconds.", min=0.0
    )
    transition: float = option(
        0.0,
        "Seconds over which each shot eases out of the previous shot's last pose (0: cut).",
        min=0.0,
    )


# --------------------------------------------------------------------------- checking


class Landscape(Protocol):
    """What the camera reads from the mesh stage (``render.mesh.FilmSurface``)."""

    topology: Topology

    def coarse_at(self, time: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(x0 (nx0,), y0 (ny0,), z (ny0, nx0))``: world heights on a coarse grid."""
        ...

    def landmarks_at(self, time: float) -> dict:
        """``{"ball": (3,) or None, "minimum": (3,), "center": (3,)}`` in world units."""
        ...


def camera_duration(cfg: CameraConfig) -> float:
    """Length of the film the camera defines: the sum of its shots' durations, seconds."""
    return float(sum(s.duration for s in cfg.shots))


def _check_rules(obj: object, path: str) -> None:
    for f in dataclasses.fields(obj):
        rule, value = rule_of(f), getattr(obj, f.name)
        if value is None or isinstance(value, (tuple, bool)):
            continue
        key = f"{path}.{f.name}"
        if rule.choices and value not in rule.choices:
            raise ValueError(f"{key}: {value!r} is not one of {', '.join(map(str, rule.choices))}")
        if isinstance(value, (int, float)):
            if not np.isfinite(value):
                raise ValueError(f"{key}: must be finite, got {value}")
            lo, hi = rule.minimum, rule.maximum
            if lo is not None and (value <= lo if rule.exclusive_minimum else value < lo):
                raise ValueError(
                    f"{key}: must be {'>' if rule.exclusive_minimum else '>='} {lo:g}, got {value:g}"
                )
            if hi is not None and (value >= hi if rule.exclusive_maximum else value > hi):
                raise ValueError(
                    f"{key}: must be {'<' if rule.exclusive_maximum else '<='} {hi:g}, got {value:g}"
                )


def validate_camera(cfg: CameraConfig) -> None:
    """Raise ValueError naming the key for a camera section that cannot fly.

    Checks every option rule (ranges, choices) and what rules cannot say alone: key times
    increasing, flat tuples of matching lengths, position == target, targets.
    """
    _check_rules(cfg, "camera")
    if not cfg.shots:
        raise ValueError("camera.shots: give at least one shot")
    tags = {cls: tag for tag, cls in SHOTS.items()}
    for i, shot in enumerate(cfg.shots):
        if type(shot) not in tags:
            raise ValueError(
                f"camera.shots[{i}]: {type(shot).__name__} is not one of {', '.join(SHOTS)}"
            )
        path = f"camera.shots[{i}].{tags[type(shot)]}"
        _check_rules(shot, path)
        try:
            shot.check()
        except ValueError as exc:
            raise ValueError(f"{path}.{exc}") from None


# ---------------------------------------------------------------------------- presets

#: automatic sizes, as fractions of the plane size (Bounds.size) unless said otherwise.
AUTO_FIT_MARGIN = 0.7  # framing distance: 0.7 x where the bounds' sphere fills the vertical fov
FLYBY_CLEARANCE = 0.06
FLYBY_PATH = (
    (-0.45, -0.3),
    (-0.225, -0.27),
    (0.0, 0.0),
    (0.225, 0.27),
    (0.45, 0.3),
)  # gentle S across the plane
MIN_CLEARANCE = 0.015
DIVE_START_HEIGHT, DIVE_DEPTH, DIVE_END_OFFSET = 0.35, 0.12, 0.2
DIVE_MID = (0.2, 0.2)  # above the minimum on the way down: (sideways, up)
DIVE_MID_TIME = 0.6  # fraction of the shot spent reaching the point above the minimum
TRACK_DISTANCE = 0.6
DOLLY_START, DOLLY_END = 1.3, 0.45  # fractions of the framing distance
STILL_VIEW = (-60.0, 30.0)  # azimuth, elevation of the automatic still
#: terrain-following lifts are smoothed over this many seconds (then kept above the need).
LIFT_SIGMA_S = 0.25
#: samples per shot, to follow terrain and targets and keep the heading continuous.
MIN_SHOT_SAMPLES, MAX_SHOT_SAMPLES = 16, 20000
#: keep a shot's coarse surfaces in memory up to this many height values (else re-read).
COARSE_CACHE_VALUES = 10_000_000
#: shortest distance from eye to target; a target closer than this is pushed ahead.
MIN_LOOK_DISTANCE = 1e-6


@dataclasses.dataclass
class _Samples:
    """Sampled camera of a shot: eye, target (m, 3), fov, roll (m,), hint (m, 2), up (m, 3) or None."""

    eye: np.ndarray
    target: np.ndarray
    fov: np.ndarray
    roll: np.ndarray
    hint: np.ndarray
    up: np.ndarray | None = None


def _direction(azimuth_deg: np.ndarray, elevation_deg: np.ndarray | float) -> np.ndarray:
    az, el = np.radians(azimuth_deg), np.radians(elevation_deg)
    az, el = np.broadcast_arrays(np.atleast_1d(az), el)
    return np.stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)], axis=1)


def _inward(azimuth_deg: np.ndarray) -> np.ndarray:
    az = np.radians(np.atleast_1d(azimuth_deg))
    return -np.stack([np.cos(az), np.sin(az)], axis=1)


class _Context:
    """What a preset may read: the bounds, smoothed landmark tracks and terrain heights."""

    def __init__(
        self, cfg: CameraConfig, landscape: Landscape, start: float, local: np.ndarray
    ) -> None:
        self.cfg, self.landscape, self.start, self.local = cfg, landscape, start, local
        b = landscape.topology.bounds
        self.lo, self.hi = np.asarray(b.lo, float), np.asarray(b.hi, float)
        self.size = float(b.size)
        self.center = (self.lo + self.hi) / 2.0
        self._tracks: dict = {}
        self._coarse: list | None = None

    def coarse(self) -> list:
        """Coarse surfaces at every sample time (kept when small enough, else re-read)."""
        if self._coarse is not None:
            return self._coarse
        grids = [self.landscape.coarse_at(self.start + t) for t in self.local]
        if sum(np.size(g[2]) for g in grids) <= COARSE_CACHE_VALUES:
            self._coarse = grids
        return grids

    def heights(self, xy: np.ndarray, ceiling: bool) -> np.ndarray:
        """Surface height under ``xy`` (m, 2) at each sample time; cell maxima if ``ceiling``."""

        f = cell_max_height if ceiling else bilinear_height
        return np.array([f(x0, y0, z, p[None])[0] for (x0, y0, z), p in zip(self.coarse(), xy)])

    def _spline(self, key, values: np.ndarray):
        values = smooth_track(self.local, values, self.cfg.target_smoothing)
        spline = CubicSpline(self.local, values, axis=0)
        lo, hi = self.local[0], self.local[-1]
        self._tracks[key] = lambda t: spline(np.clip(np.atleast_1d(t), lo, hi))
        return self._tracks[key]

    def landmark(self, name: str):
        """Smoothed track of a landmark: local times (m,) -> (m, 3); a missing ball is the minimum."""
        if name in self._tracks:
            return self._tracks[name]
        rows = []
        for t in self.local:
            marks = self.landscape.landmarks_at(self.start + t)
            value = marks.get(name)
            rows.append(marks["minimum"] if value is None else value)
        return self._spline(name, np.asarray(rows, dtype=np.float64))

    def aim(self, shot: AimedShot):
        """The target track of an aimed shot."""
        if shot.target != "point":
            return self.landmark(shot.target)
        p = np.asarray(shot.target_point, dtype=np.float64)
        if p.size == 3:
            return lambda t: np.repeat(p[None], np.size(t), axis=0)
        key = ("point", tuple(p))
        if key in self._tracks:
            return self._tracks[key]
        h = self.heights(np.repeat(p[None], self.local.size, axis=0), ceiling=False)
        return self._spline(key, np.column_stack([np.repeat(p[None], h.size, axis=0), h]))

    def fit_distance(self, fov_deg: float) -> float:
        """Distance at which the bounds' sphere fills the vertical field of view."""
        radius = 0.5 * float(np.linalg.norm(self.hi - self.lo))
        return AUTO_FIT_MARGIN * max(radius, 1e-9) / np.sin(np.radians(fov_deg) / 2.0)


def _fov(shot: Shot, cfg: CameraConfig) -> float:
    return float(shot.fov if shot.fov is not None else cfg.fov)


def _progress(shot: Shot, cfg: CameraConfig, t: np.ndarray) -> np.ndarray:
    return ease(shot.ease or cfg.ease, np.atleast_1d(t) / shot.duration)


def _orbit(shot: OrbitShot, ctx: _Context):
    fov = _fov(shot, ctx.cfg)
    radius = shot.radius or ctx.fit_distance(fov)
    aim = ctx.aim(shot)

    def sample(t):
        az = shot.start_angle + 360.0 * shot.turns * _progress(shot, ctx.cfg, t)
        target = aim(t)
        eye = target + radius * _direction(az, shot.elevation)
        return _Samples(eye, target, np.full(az.size, fov), np.zeros(az.size), _inward(az))

    return sample


def _top(shot: TopShot, ctx: _Context):
    fov = _fov(shot, ctx.cfg)
    aim = ctx.aim(shot)
    fit = shot.margin * 0.5 * ctx.size / np.tan(np.radians(fov) / 2.0)

    def sample(t):
        target = aim(t)
        height = shot.height or (fit + ctx.hi[2] - target[:, 2])
        eye = target + np.column_stack(
            [np.zeros((target.shape[0], 2)), np.broadcast_to(height, target.shape[:1])]
        )
        heading = np.radians(shot.heading + 360.0 * shot.turns * _progress(shot, ctx.cfg, t))
        hint = np.column_stack([np.cos(heading), np.sin(heading)])
        return _Samples(eye, target, np.full(target.shape[0], fov), np.zeros(target.shape[0]), hint)

    return sample


def _track(shot: TrackShot, ctx: _Context):
    fov = _fov(shot, ctx.cfg)
    distance = shot.distance or TRACK_DISTANCE * ctx.size
    ball = ctx.landmark("ball")

    def sample(t):
        az = shot.azimuth + 360.0 * shot.turns * _progress(shot, ctx.cfg, t)
        target = ball(t)
        eye = target + distance * _direction(az, shot.elevation)
        return _Samples(eye, target, np.full(az.size, fov), np.zeros(az.size), _inward(az))

    return sample


def _dolly(shot: DollyShot, ctx: _Context):
    fov = _fov(shot, ctx.cfg)
    fit = ctx.fit_distance(fov)
    d0 = shot.start_distance or DOLLY_START * fit
    d1 = shot.end_distance or DOLLY_END * fit
    aim = ctx.aim(shot)
    direction = _direction(shot.azimuth, shot.elevation)

    def sample(t):
        d = d0 + (d1 - d0) * _progress(shot, ctx.cfg, t)
        target = aim(t)
        eye = target + d[:, None] * direction
        return _Samples(
            eye,
            target,
            np.full(d.size, fov),
            np.zeros(d.size),
            np.repeat(_inward(shot.azimuth), d.size, axis=0),
        )

    return sample


def _still(shot: StillShot, ctx: _Context):
    fov = _fov(shot, ctx.cfg)
    aim = ctx.aim(shot)
    if shot.position is not None:
        eye0 = np.asarray(shot.position, dtype=np.float64)
    else:
        eye0 = aim(0.0)[0] + ctx.fit_distance(fov) * _direction(*STILL_VIEW)[0]
    hint = _inward(STILL_VIEW[0])

    def sample(t):
        target = aim(t)
        m = target.shape[0]
        return _Samples(
            np.repeat(eye0[None], m, axis=0),
            target,
            np.full(m, fov),
            np.zeros(m),
            np.repeat(hint, m, axis=0),
        )

    return sample


def _flyby(shot: FlybyShot, ctx: _Context):
    fov = _fov(shot, ctx.cfg)
    if shot.waypoints:
        way = np.reshape(shot.waypoints, (-1, 2)).astype(np.float64)
    else:
        way = ctx.center[:2] + ctx.size * np.asarray(FLYBY_PATH)
    D = shot.duration
    path = SplineTrack(
        np.linspace(0.0, D, len(way)), way, ease=shot.ease or ctx.cfg.ease, timing="even"
    )
    clearance = shot.clearance if shot.clearance is not None else FLYBY_CLEARANCE * ctx.size
    # terrain following: the height needed at each sample, against that sample's surface,
    # lifted to a smooth curve that stays above it
    need = ctx.heights(path(ctx.local), ceiling=True) + clearance
    dt = D / max(ctx.local.size - 1, 1)
    height = PchipInterpolator(ctx.local, upper_envelope(need, LIFT_SIGMA_S / dt))
    tan_down = np.tan(np.radians(shot.look_down))

    # past the end the flight goes on straight at its mean speed (for the look-ahead)
    tail = path(np.array([0.98 * D, D]))
    tangent = tail[1] - tail[0]
    tangent = tangent / max(np.linalg.norm(tangent), 1e-300) * path.length / D

    def eye_at(t):
        tc = np.clip(t, 0.0, D)
        eye = np.column_stack([path(tc), height(tc)])
        eye[:, :2] += (t - tc)[:, None] * tangent
        return eye

    def sample(t):
        t = np.atleast_1d(np.asarray(t, dtype=np.float64))
        eye = eye_at(t)
        target = eye_at(t + shot.look_ahead)
        horiz = np.linalg.norm(target[:, :2] - eye[:, :2], axis=1)
        # at rest (eased ends) look along the path's overall direction instead
        still = horiz < 1e-6 * ctx.size
        if np.any(still):
            heading = way[-1] - way[0]
            target[still, :2] = eye[still, :2] + 0.1 * ctx.size * heading / max(
                np.linalg.norm(heading), 1e-12
            )
            horiz[still] = 0.1 * ctx.size
        target[:, 2] = eye[:, 2] - tan_down * horiz
        m = t.size
        return _Samples(eye, target, np.full(m, fov), np.zeros(m), np.full((m, 2), np.nan))

    return sample


def _dive(shot: DiveShot, ctx: _Context):
    fov = _fov(shot, ctx.cfg)
    D = shot.duration
    minimum = ctx.landmark("minimum")
    out = np.array([np.cos(np.radians(shot.angle)), np.sin(np.radians(shot.angle))])
    m0 = minimum(0.0)[0]
    start = np.empty(3)
    start[:2] = ctx.center[:2] + 0.5 * ctx.size * out - m0[:2]
    start[2] = (
        ctx.hi[2]
        + (shot.start_height if shot.start_height is not None else DIVE_START_HEIGHT * ctx.size)
        - m0[2]
    )
    mid = np.array([*(DIVE_MID[0] * ctx.size * out), DIVE_MID[1] * ctx.size])
    side = shot.end_offset or DIVE_END_OFFSET * ctx.size
    depth = shot.depth or DIVE_DEPTH * ctx.size
    end = np.array([*(side * out), -depth])
    # the path is relative to the (moving) minimum, so it ends below wherever it is; the
    # shot's easing acts on the whole dive (start and end at rest, no stop above the minimum)
    offset = SplineTrack([0.0, DIVE_MID_TIME * D, D], np.stack([start, mid, end]))
    name = shot.ease or ctx.cfg.ease
    hint = -out

    def sample(t):
        t = np.atleast_1d(np.asarray(t, dtype=np.float64))
        target = minimum(t)
        m = t.size
        return _Samples(
            target + offset(D * ease(name, t / D)),
            target,
            np.full(m, fov),
            np.zeros(m),
            np.repeat(hint[None], m, axis=0),
        )

    return sample


def _keyframes(shot: KeyframeShot, ctx: _Context):
    n = len(shot.times)
    times = np.asarray(shot.times, dtype=np.float64)
    eases = shot.ease or "linear"
    pos = np.reshape(shot.positions, (n, 3)).astype(np.float64)
    tangents = np.reshape(shot.tangents, (n, 3)) if shot.tangents else None
    eye_track = SplineTrack(times, pos, tangents=tangents, ease=eases, timing=shot.timing)
    if shot.targets:
        target_track = SplineTrack(times, np.reshape(shot.targets, (n, 3)), ease=eases)
    else:
        target_track = ctx.aim(shot)
    fov = _fov(shot, ctx.cfg)

    def keyed(values, default):
        if not values:
            return lambda t: np.full(np.size(t), default)
        if n == 1:
            return lambda t: np.full(np.size(t), float(values[0]))
        f = PchipInterpolator(times, np.asarray(values, dtype=np.float64))
        return lambda t: f(np.clip(t, times[0], times[-1]))

    fovs, rolls = keyed(shot.fovs, fov), keyed(shot.rolls, 0.0)
    orient = None
    if shot.orient == "spline":
        key_eye, key_target = eye_track(times), target_track(times)
        fk = key_target - key_eye
        fk /= np.maximum(np.linalg.norm(fk, axis=1, keepdims=True), 1e-300)
        uk = up_vectors(fk, continuous_headings(fk, times), rolls(times))
        orient = OrientationSpline(times, fk, uk)
        dist = keyed(tuple(np.linalg.norm(key_target - key_eye, axis=1)), 1.0)

    def sample(t):
        t = np.clip(np.atleast_1d(np.asarray(t, dtype=np.float64)), 0.0, shot.duration)
        eye = eye_track(t)
        m = t.size
        if orient is None:
            return _Samples(eye, target_track(t), fovs(t), rolls(t), np.full((m, 2), np.nan))
        forward, up = orient(t)
        return _Samples(
            eye, eye + dist(t)[:, None] * forward, fovs(t), rolls(t), np.full((m, 2), np.nan), up
        )

    return sample


_BUILDERS = {
    OrbitShot: _orbit,
    FlybyShot: _flyby,
    DiveShot: _dive,
    TopShot: _top,
    TrackShot: _track,
    DollyShot: _dolly,
    StillShot: _still,
    KeyframeShot: _keyframes,
}


# ------------------------------------------------------------------------------ path


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
    """

    def __init__(self, cfg: CameraConfig, landscape: Landscape, fps: float) -> None:
        validate_camera(cfg)
        if not fps > 0:
            raise ValueError(f"fps: must be > 0, got {fps}")
        self.cfg, self.landscape, self.fps = cfg, landscape, float(fps)
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
            ctx = _Context(cfg, landscape, float(start), local)
            info = {
                "sampler": _BUILDERS[type(shot)](shot, ctx),
                "lift": None,
                "local": local,
                "from": None,
            }
            if cfg.transition > 0 and previous is not None:
                info["from"], info["blend"] = previous, min(cfg.transition, shot.duration)
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
            forward = s.target - s.eye
            forwards.append(
                forward / np.maximum(np.linalg.norm(forward, axis=1, keepdims=True), 1e-300)
            )
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

    def _sampled(self, i: int, local: np.ndarray) -> _Samples:
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
        return CameraPose(
            eye=tuple(map(float, eye)),
            target=tuple(map(float, target)),
            up=tuple(map(float, up)),
            fov_deg=float(s.fov[0]),
            near=float(near),
            far=float(far),
        )
