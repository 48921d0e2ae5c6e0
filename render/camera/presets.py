"""Shot presets: how each shot of :data:`lossfilm.render.scene.camera.SHOTS` moves the camera.

Each preset turns a shot's config and a :class:`ShotContext` (the bounds of the
landscape, smoothed landmark tracks, terrain heights at the shot's sample times) into a
sampler: local times ``t`` (m,) in seconds from the shot's start -> :class:`Samples`
(eye, target, fov, roll, heading hint and, for splined orientations, up).
:class:`lossfilm.render.camera.path.CameraPath` samples every shot, lifts it over the surface and
works out the heading; the presets only say where each shot wants to be.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.interpolate import PchipInterpolator

from lossfilm.render.camera.motion import SplineTrack, ease
from lossfilm.render.camera.framing import FILL_FACTOR, fit_camera, framed_track, surface_points
from lossfilm.render.camera.orientation import (
    MIN_NORM,
    OrientationSpline,
    continuous_headings,
    unit_vectors,
    up_vectors,
)
from lossfilm.render.scene.camera import CameraConfig, DiveShot, DollyShot, FlybyShot, KeyframeShot, OrbitShot, Shot, StillShot, TopShot, TrackShot
from lossfilm.render.camera.terrain import upper_envelope
from lossfilm.render.camera.context import Samples, ShotContext

__all__ = ["LIFT_SIGMA_S", "shot_sampler"]

FLYBY_CLEARANCE = 0.06
FLYBY_PATH = (
    (-0.45, -0.3),
    (-0.225, -0.27),
    (0.0, 0.0),
    (0.225, 0.27),
    (0.45, 0.3),
)  # gentle S across the plane
DIVE_START_HEIGHT, DIVE_DEPTH, DIVE_END_OFFSET = 0.35, 0.12, 0.2
DIVE_MID = (0.2, 0.2)  # above the minimum on the way down: (sideways, up)
DIVE_MID_TIME = 0.6  # fraction of the shot spent reaching the point above the minimum
DIVE_PULL_START = 0.7  # framed dives: fraction of the shot after which the pull back to the framed end begins
DIVE_MARGIN = 0.02  # framed dives: fraction of the half-frame kept free at the edges (as orbits)
#: framed dives end this far below the minimum's horizon, degrees (the default end is 31 below):
#: steeper, a framed surface from below shrinks to a diamond; shallower, to a sliver
DIVE_FRAMED_ELEVATION = -40.0
TRACK_DISTANCE = 0.6
DOLLY_START, DOLLY_END = 1.3, 0.45  # fractions of the framing distance
STILL_VIEW = (-60.0, 30.0)  # azimuth, elevation of the automatic still
#: terrain-following lifts are smoothed over this many seconds (then kept above the need).
LIFT_SIGMA_S = 0.25


def _direction(azimuth_deg: np.ndarray, elevation_deg: np.ndarray | float) -> np.ndarray:
    az, el = np.radians(azimuth_deg), np.radians(elevation_deg)
    az, el = np.broadcast_arrays(np.atleast_1d(az), el)
    return np.stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)], axis=1)


def _inward(azimuth_deg: np.ndarray) -> np.ndarray:
    az = np.radians(np.atleast_1d(azimuth_deg))
    return -np.stack([np.cos(az), np.sin(az)], axis=1)


def _fov(shot: Shot, cfg: CameraConfig) -> float:
    return float(shot.fov if shot.fov is not None else cfg.fov)


def _progress(shot: Shot, cfg: CameraConfig, t: np.ndarray) -> np.ndarray:
    return ease(shot.ease or cfg.ease, np.atleast_1d(t) / shot.duration)


def _circling(shot: OrbitShot | TrackShot, ctx: ShotContext, aim, distance, azimuth: float):
    """Circle a moving target at ``distance`` (a number, or local times -> (m,) distances),
    turning ``turns`` from ``azimuth`` (orbit, track)."""
    fov = _fov(shot, ctx.cfg)

    def sample(t):
        az = azimuth + 360.0 * shot.turns * _progress(shot, ctx.cfg, t)
        target = aim(t)
        d = distance(np.atleast_1d(t)) if callable(distance) else distance
        eye = target + np.reshape(d, (-1, 1)) * _direction(az, shot.elevation)
        return Samples(eye, target, np.full(az.size, fov), np.zeros(az.size), _inward(az))

    return sample


def _orbit(shot: OrbitShot, ctx: ShotContext):
    aim = ctx.aim(shot)
    if shot.radius or shot.framing == "sphere":
        radius = shot.radius or ctx.fit_distance(_fov(shot, ctx.cfg))
        return _circling(shot, ctx, aim, radius, shot.start_angle)
    return _framed_orbit(shot, ctx, aim)


def _framed_orbit(shot: OrbitShot, ctx: ShotContext, aim):
    """An orbit whose distance and look-at keep the coarse surface framed (render.framing)."""
    t = ctx.local
    az = shot.start_angle + 360.0 * shot.turns * _progress(shot, ctx.cfg, t)
    points = surface_points(ctx.coarse(), ctx.lo, ctx.hi, ctx.base_depth, ctx.footing)
    aimed, distance = framed_track(points, t, aim(t), _direction(az, shot.elevation), _fov(shot, ctx.cfg),
                                   shot.framing, shot.margin)
    return _circling(shot, ctx, aimed, distance, shot.start_angle)


def _top(shot: TopShot, ctx: ShotContext):
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
        return Samples(eye, target, np.full(target.shape[0], fov), np.zeros(target.shape[0]), hint)

    return sample


def _track(shot: TrackShot, ctx: ShotContext):
    distance = shot.distance or TRACK_DISTANCE * ctx.size
    return _circling(shot, ctx, ctx.landmark("ball"), distance, shot.azimuth)


def _dolly(shot: DollyShot, ctx: ShotContext):
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
        return Samples(
            eye,
            target,
            np.full(d.size, fov),
            np.zeros(d.size),
            np.repeat(_inward(shot.azimuth), d.size, axis=0),
        )

    return sample


def _still(shot: StillShot, ctx: ShotContext):
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
        return Samples(
            np.repeat(eye0[None], m, axis=0),
            target,
            np.full(m, fov),
            np.zeros(m),
            np.repeat(hint, m, axis=0),
        )

    return sample


def _flyby(shot: FlybyShot, ctx: ShotContext):
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
    tangent = tangent / max(np.linalg.norm(tangent), MIN_NORM) * path.length / D

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
        return Samples(eye, target, np.full(m, fov), np.zeros(m), np.full((m, 2), np.nan))

    return sample


def _dive(shot: DiveShot, ctx: ShotContext):
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
    pull = shift = np.zeros(3)  # the framed end's eye and look-at, from the unframed ones
    if shot.framing != "fixed" and shot.depth is None and shot.end_offset is None:
        framed, shift = _framed_dive_end(shot, ctx, minimum, end)
        pull = framed - end
    # the path is relative to the (moving) minimum, so it ends below wherever it is; the
    # shot's easing acts on the whole dive (start and end at rest, no stop above the minimum)
    offset = SplineTrack([0.0, DIVE_MID_TIME * D, D], np.stack([start, mid, end]))
    name = shot.ease or ctx.cfg.ease
    hint = -out

    def sample(t):
        t = np.atleast_1d(np.asarray(t, dtype=np.float64))
        m = t.size
        # framed: once under the minimum the camera pulls back to reveal the whole underside
        # (slowly past the minimum, then away from it: the view never whips round), and the
        # look-at slides to the framed view's centre
        back = ease("smoothstep", (t / D - DIVE_PULL_START) / (1.0 - DIVE_PULL_START))[:, None]
        target = minimum(t) + back * shift
        return Samples(
            minimum(t) + offset(D * ease(name, t / D)) + back * pull,
            target,
            np.full(m, fov),
            np.zeros(m),
            np.repeat(hint[None], m, axis=0),
        )

    return sample


def _framed_dive_end(shot: DiveShot, ctx: ShotContext, minimum, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The dive's last pose framed as an orbit's (:func:`lossfilm.render.camera.framing.fit_camera`).

    Seen from ``DIVE_FRAMED_ELEVATION`` below the minimum, on the side of ``end`` (where the
    dive started), the look-at moves
    across the view so the last frame's whole surface sits centred, and the eye stands
    as far as it must to hold it. Returns the eye's and the look-at's offsets from the minimum.
    """
    el = np.radians(DIVE_FRAMED_ELEVATION)
    u = np.array([*(np.cos(el) * end[:2] / np.linalg.norm(end[:2])), np.sin(el)])
    points = surface_points(ctx.coarse()[-1:], ctx.lo, ctx.hi, ctx.base_depth, ctx.footing)
    aim = minimum(ctx.local[-1:])
    moved, d = fit_camera(points, aim, u[None], _fov(shot, ctx.cfg), DIVE_MARGIN)
    d = float(d[0]) * (FILL_FACTOR if shot.framing == "fill" else 1.0)
    shift = moved[0] - aim[0]
    return shift + d * u, shift


def _keyframes(shot: KeyframeShot, ctx: ShotContext):
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
        fk = unit_vectors(key_target - key_eye)
        uk = up_vectors(fk, continuous_headings(fk, times), rolls(times))
        orient = OrientationSpline(times, fk, uk)
        dist = keyed(tuple(np.linalg.norm(key_target - key_eye, axis=1)), 1.0)

    def sample(t):
        t = np.clip(np.atleast_1d(np.asarray(t, dtype=np.float64)), 0.0, shot.duration)
        eye = eye_track(t)
        m = t.size
        if orient is None:
            return Samples(eye, target_track(t), fovs(t), rolls(t), np.full((m, 2), np.nan))
        forward, up = orient(t)
        return Samples(
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


def shot_sampler(shot: Shot, ctx: ShotContext) -> Callable[[np.ndarray], Samples]:
    """The sampler of ``shot``: local times (m,) seconds -> :class:`Samples` of m poses."""
    return _BUILDERS[type(shot)](shot, ctx)
