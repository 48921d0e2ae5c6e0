"""Shots: the ``camera`` section of a scene and the path it flies.

A film's camera is a list of shots played in order (cuts between them, or eased
transitions with ``camera.transition``). Each shot is a
frozen dataclass declared with :func:`lossfilm.compute.config.options.option` and a preset in
:data:`SHOTS`; YAML reads ``shots: [ {orbit: {duration: 10, turns: 0.5}} ]``.

Distances are in landscape units (world units, see :mod:`lossfilm.render.mesh.frame`); ``None`` means
"automatic from the bounds of the surface". Angles are degrees; azimuths are measured in
the a-b plane from +a towards +b. Times are seconds from the start of the shot.

Targets (``target`` key of the aimed shots): ``center`` (middle of the landscape),
``minimum`` (lowest point of the surface, moving), ``ball`` (the minimizer, moving; the
minimum when no ball is shown), ``point`` (``target_point``: ``[a, b]`` on the surface or
``[a, b, h]``). Moving targets are low-pass filtered (``camera.target_smoothing``).
Every shot may also key its lens, ``focus`` and ``fstop`` (see :mod:`lossfilm.render.scene.focus`).

This module holds the configuration (shot dataclasses, :data:`SHOTS`, :class:`CameraConfig`)
and its validation, torch- and scipy-free. How each preset moves is in
:mod:`lossfilm.render.camera.presets`; the path a film flies is
:class:`lossfilm.render.camera.path.CameraPath`.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from lossfilm.compute.config.options import option, rule_of
from lossfilm.render.scene.focus import check_lens_keys

__all__ = [
    "SHOTS",
    "TARGETS",
    "CameraConfig",
    "DiveShot",
    "DollyShot",
    "FlybyShot",
    "KeyframeShot",
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
#: easing curve names; :data:`lossfilm.render.camera.motion.EASINGS` holds the curves.
EASING_NAMES = ("linear", "smoothstep", "smootherstep", "ease_in", "ease_out", "ease_in_out")
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
    ease: str | None = option(None, "Easing of the motion (null: camera.ease).", choices=EASING_NAMES)
    focus: tuple[tuple[float, float | str], ...] = option(
        (), "Focus pull (with render.dof.enabled): [[time, what], ...], seconds from the shot start; what = "
        "ball, minimum, target, edge (the far edge of the surface in view) or a distance; eased in diopters "
        "between keys (empty: render.dof.focus)."
    )
    fstop: tuple[tuple[float, float], ...] = option(
        (), "Aperture keys: [[time, f-number], ...], eased in stops between keys (empty: render.dof.fstop)."
    )

    def __post_init__(self) -> None:
        check_lens_keys(self.focus, self.fstop, self.duration)

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
        "Distance from the target (null: set by framing).",
        min=0.0,
        exclusive_min=True,
    )
    framing: str = option(
        "fit", "Without radius: fit = the whole surface in view at every frame, margin inside the edges; "
        "fill = closer, the surface runs off the frame; sphere = the older fixed distance from the bounds' sphere",
        choices=("fit", "fill", "sphere"),
    )
    margin: float = option(0.02, "With framing fit: fraction of the half-frame kept free at the edges.",
                           min=0.0, max=0.9)
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
    framing: str = option(
        "fit", "Without depth and end_offset, where the dive ends on the line from the minimum down along them: "
        "fit = far enough to hold the whole surface in view from below (as a framed orbit); fill = closer; "
        "fixed = at the default depth and offset", choices=("fit", "fill", "fixed"),
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
        "linear", "Easing of time within each segment between keys.", choices=EASING_NAMES
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
    ease: str = option("smoothstep", "Default easing of each shot's motion.", choices=EASING_NAMES)
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
        "Seconds over which each shot eases out of the previous shot's last pose and lens (0: cut).",
        min=0.0,
    )


# --------------------------------------------------------------------------- checking


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
            if np.isinf(value):
                raise ValueError(f"{key}: must be finite, got {value}")
            problem = rule.range_error(value)
            if problem is not None:
                raise ValueError(f"{key}: {problem}")


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
