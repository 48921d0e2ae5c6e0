"""Shots and the camera path over a landscape whose bowl moves and deepens in time."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lossfilm.render.camera.terrain import bilinear_height
from lossfilm.render.scene.loader import compose_text
from lossfilm.render.scene.build import build
from lossfilm.render.mesh.frame import Bounds, CameraPose, Topology
from lossfilm.render.scene.camera import SHOTS, CameraConfig, DiveShot, DollyShot, FlybyShot, KeyframeShot, OrbitShot, StillShot, TopShot, TrackShot, camera_duration, validate_camera
from lossfilm.render.camera.path import CameraPath

FPS = 24.0


class Bowl:
    """A Landscape (the protocol the mesh stage's FilmSurface fulfils) made of numpy.

    A paraboloid over [-1, 1]^2 whose lowest point circles and whose walls steepen with
    time; the ball sits beside the minimum.
    """

    def __init__(self, duration: float) -> None:
        self.duration = duration
        self.x0 = np.linspace(-1.0, 1.0, 25)
        self.y0 = np.linspace(-1.0, 1.0, 25)
        self.topology = Topology(
            self.x0.astype(np.float32),
            self.y0.astype(np.float32),
            np.zeros((0, 3), np.uint32),
            Bounds((-1.0, -1.0, 0.1), (1.0, 1.0, 2.2)),
        )

    def _state(self, t: float) -> tuple[np.ndarray, float]:
        u = t / self.duration
        return np.array([0.3 * np.cos(3 * u), 0.3 * np.sin(3 * u)]), 0.4 + 0.3 * u

    def coarse_at(self, t: float):
        c, depth = self._state(t)
        X, Y = np.meshgrid(self.x0, self.y0)
        return self.x0, self.y0, 0.1 + depth * ((X - c[0]) ** 2 + (Y - c[1]) ** 2)

    def landmarks_at(self, t: float) -> dict:
        c, depth = self._state(t)
        return {
            "ball": np.array([c[0] + 0.1, c[1], 0.1 + depth * 0.01]),
            "minimum": np.array([c[0], c[1], 0.1]),
            "center": np.array([0.0, 0.0, 1.0]),
        }


def _film(*shots, **camera) -> tuple[CameraPath, Bowl, list[CameraPose], np.ndarray]:
    cfg = CameraConfig(shots=tuple(shots), **camera)
    bowl = Bowl(camera_duration(cfg))
    path = CameraPath(cfg, bowl, FPS)
    times = np.arange(round(camera_duration(cfg) * FPS) + 1) / FPS
    return path, bowl, [path.pose_at(float(t)) for t in times], times


def _arrays(poses):
    eye = np.array([p.eye for p in poses])
    target = np.array([p.target for p in poses])
    up = np.array([p.up for p in poses])
    forward = (target - eye) / np.linalg.norm(target - eye, axis=1, keepdims=True)
    return eye, target, up, forward


def _angles(a: np.ndarray) -> np.ndarray:
    cos = np.sum(a[1:] * a[:-1], axis=1) / (
        np.linalg.norm(a[1:], axis=1) * np.linalg.norm(a[:-1], axis=1)
    )
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


def _preset(tag: str):
    if tag == "keyframes":
        return KeyframeShot(
            duration=2.0, times=(0.0, 1.0, 2.0), positions=(-2, -2, 1.5, 0, -2.5, 2.5, 2, -2, 1.5)
        )
    return SHOTS[tag](duration=2.0)


@pytest.mark.parametrize("tag", sorted(SHOTS))
def test_every_preset_gives_finite_sane_poses_for_its_whole_duration(tag):
    _path, _, poses, _ = _film(_preset(tag))
    eye, target, up, forward = _arrays(poses)
    assert len(poses) == int(2.0 * FPS) + 1
    for arr in (eye, target, up):
        assert np.all(np.isfinite(arr))
    assert np.all(
        np.abs(np.sum(np.asarray(up) * forward, axis=1)) < 0.999
    )  # up never along the view
    near = np.array([p.near for p in poses])
    far = np.array([p.far for p in poses])
    assert np.all(near > 0) and np.all(far > near)
    assert all(1.0 < p.fov_deg < 170.0 for p in poses)
    # the view matrix the renderer builds is a proper rotation
    m = poses[len(poses) // 2].view_matrix()[:3, :3]
    np.testing.assert_allclose(m @ m.T, np.eye(3), atol=1e-9)


def test_shots_play_in_order_and_durations_sum():
    shots = (
        TopShot(duration=1.0),
        OrbitShot(duration=2.0, radius=3.0, target="minimum"),
        StillShot(duration=1.5, position=(0.0, -4.0, 3.0)),
    )
    path, _bowl, poses, times = _film(*shots)
    assert camera_duration(path.cfg) == pytest.approx(4.5)
    assert path.duration == pytest.approx(4.5)
    eye, target, _, forward = _arrays(poses)
    top = times < 1.0
    orbit = (times >= 1.0) & (times < 3.0)
    still = times >= 3.0
    assert [path.shot_at(t) for t in (0.5, 1.0, 2.9, 3.0, 4.5)] == [0, 1, 1, 2, 2]
    assert path.spans == [("top", 0.0, 1.0), ("orbit", 1.0, 3.0), ("still", 3.0, 4.5)]
    np.testing.assert_allclose(forward[top], np.tile([0, 0, -1.0], (top.sum(), 1)), atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(eye[orbit] - target[orbit], axis=1), 3.0, atol=1e-6)
    np.testing.assert_allclose(eye[still], np.tile([0.0, -4.0, 3.0], (still.sum(), 1)), atol=1e-12)


def test_transition_eases_between_shots_instead_of_cutting():
    shots = (OrbitShot(duration=1.0, radius=3.0, turns=0.1), TopShot(duration=2.0))
    _, _, cut, _ = _film(*shots)
    _, _, eased, _times = _film(*shots, transition=1.0)
    k = int(FPS)  # first frame of the second shot
    jump = lambda poses: np.linalg.norm(np.subtract(poses[k].eye, poses[k - 1].eye))
    assert jump(cut) > 1.0
    # the second shot starts exactly where the orbit ended (azimuth -90 + 36 degrees)
    az, el = np.radians(-54.0), np.radians(30.0)
    end = [3 * np.cos(el) * np.cos(az), 3 * np.cos(el) * np.sin(az), 1.0 + 3 * np.sin(el)]
    np.testing.assert_allclose(eased[k].eye, end, atol=1e-9)
    assert jump(eased) < 0.1
    eye, _, up, forward = _arrays(eased)
    steps = np.linalg.norm(np.diff(eye, axis=0), axis=1)
    # ~4 units in 1 s with smootherstep: peak ~7.5 units/s, ~0.31 per frame; a cut is one jump
    assert np.max(steps[k - 1 :]) < 0.4
    # a fast 1 s swing from 30 degrees down to straight down: quick, but no spike
    turn = _angles(up)
    assert np.max(turn) < 10.0 and np.max(_angles(forward)) < 8.0
    assert np.max(np.abs(np.diff(turn))) < 3.0
    np.testing.assert_allclose(forward[-1], [0, 0, -1], atol=1e-9)  # and it arrives at the top view


def test_flyby_keeps_its_clearance_over_each_frames_surface():
    clearance = 0.15
    _path, bowl, poses, times = _film(FlybyShot(duration=4.0, clearance=clearance))
    eye, _, _, forward = _arrays(poses)
    for t, e in zip(times, eye):
        x0, y0, z = bowl.coarse_at(float(t))
        assert e[2] - bilinear_height(x0, y0, z, e[None, :2])[0] >= clearance - 1e-9
    # it does follow the terrain: it is never far above what it needs
    lows = [
        e[2] - bilinear_height(*bowl.coarse_at(float(t)), e[None, :2])[0]
        for t, e in zip(times, eye)
    ]
    assert min(lows) < 3 * clearance
    assert np.max(_angles(forward)) < 5.0  # smooth view along the flight


def test_dive_ends_below_the_minimum_looking_up():
    _path, bowl, poses, times = _film(DiveShot(duration=6.0))
    eye, _target, _, forward = _arrays(poses)
    minimum = bowl.landmarks_at(float(times[-1]))["minimum"]
    assert eye[-1, 2] < minimum[2]
    assert forward[-1, 2] > 0.0
    assert eye[0, 2] > bowl.topology.bounds.hi[2]  # it starts above everything
    assert np.max(_angles(np.array([p.up for p in poses]))) < 5.0


def test_orientation_is_continuous_through_a_top_view():
    # a spinning top view, and a keyed swing over the zenith of the center
    _path, _, poses, _ = _film(OrbitShot(duration=2.0, elevation=90.0, turns=0.25, ease="linear"))
    _, _, up, forward = _arrays(poses)
    assert np.all(forward[:, 2] < -0.999)
    steps = _angles(up)
    assert np.max(steps) < 3.0 and np.sum(steps) == pytest.approx(90.0, abs=1.0)

    swing = KeyframeShot(
        duration=3.0,
        times=(0.0, 1.5, 3.0),
        targets=(0, 0, 1) * 3,
        timing="even",
        positions=(-2.0, 0.3, 3.0, 0.0, 0.0, 4.0, 2.0, -0.3, 3.0),
    )
    _, _, poses, _ = _film(swing)
    _, _, up, forward = _arrays(poses)
    assert np.max(_angles(forward)) < 5.0
    assert np.max(_angles(up)) < 360.0 / FPS + 1.0  # no flip: at most the catch-up roll rate


def test_top_view_has_image_top_along_heading():
    _, _, poses, _ = _film(TopShot(duration=1.0, heading=0.0))
    np.testing.assert_allclose(poses[0].up, (1.0, 0.0, 0.0), atol=1e-9)
    np.testing.assert_allclose(np.subtract(poses[0].target, poses[0].eye)[:2], 0.0, atol=1e-12)


def test_track_follows_the_moving_ball_smoothly():
    _path, bowl, poses, times = _film(TrackShot(duration=3.0), target_smoothing=0.3)
    _, target, _, _ = _arrays(poses)
    balls = np.array([bowl.landmarks_at(float(t))["ball"] for t in times])
    assert np.max(np.linalg.norm(target - balls, axis=1)) < 0.05
    accel = np.linalg.norm(np.diff(target, 2, axis=0), axis=1) * FPS**2
    assert np.max(accel) < 5.0


def test_non_dive_shots_stay_above_the_surface():
    # a low orbit around the minimum would graze the bowl's wall: it is lifted clear
    clear = 0.05
    _path, bowl, poses, times = _film(
        OrbitShot(duration=3.0, radius=0.8, elevation=2.0, target="minimum"), min_clearance=clear
    )
    eye, _, _, _ = _arrays(poses)
    for t, e in zip(times, eye):
        x0, y0, z = bowl.coarse_at(float(t))
        if -1 <= e[0] <= 1 and -1 <= e[1] <= 1:
            assert e[2] - bilinear_height(x0, y0, z, e[None, :2])[0] >= clear - 1e-9
    # and the near plane sits in front of the closest surface point
    for t, p in zip(times, poses):
        x0, y0, z = bowl.coarse_at(float(t))
        X, Y = np.meshgrid(x0, y0)
        dist = np.sqrt((X - p.eye[0]) ** 2 + (Y - p.eye[1]) ** 2 + (z - p.eye[2]) ** 2).min()
        assert p.near < dist


def test_avoid_surface_false_allows_views_from_below():
    under = {"duration": 1.0, "radius": 0.5, "elevation": -30.0, "turns": 0.1, "target": "minimum"}
    _, bowl, lifted, times = _film(OrbitShot(**under))
    _, _, below, _ = _film(OrbitShot(**under, avoid_surface=False))
    for t, up, down in zip(times, lifted, below):
        x0, y0, z = bowl.coarse_at(float(t))
        assert up.eye[2] > bilinear_height(x0, y0, z, np.array([up.eye[:2]]))[0]
        assert down.eye[2] < bilinear_height(x0, y0, z, np.array([down.eye[:2]]))[0]
        assert np.subtract(down.target, down.eye)[2] > 0  # looking up at the minimum


def test_spline_orientation_keyframes_turn_smoothly():
    shot = KeyframeShot(
        duration=2.0,
        times=(0.0, 1.0, 2.0),
        orient="spline",
        rolls=(0.0, 30.0, 0.0),
        positions=(0, -3, 1.5, 0, -3, 1.5, 0, -3, 1.5),
        targets=(-1, 0, 0.5, 0, 0, 0.5, 1, 0, 0.5),
    )
    _, _, poses, _ = _film(shot)
    _, _, up, forward = _arrays(poses)
    assert np.max(_angles(forward)) < 3.0 and np.max(_angles(up)) < 3.0
    assert up[len(up) // 2, 0] < -0.3  # rolled counter-clockwise (up leans left) at the middle key


def test_yaml_shots_build_through_the_scene_loader():
    text = (
        "shots:\n"
        "  - orbit: {duration: 10, turns: 0.5, target: ball}\n"
        "  - top: {duration: 2, ease: null}\n"
        "  - dolly: {duration: 3, target: point, target_point: [0.2, -0.1]}\n"
        "  - keyframes: {duration: 4, times: [0, 4], positions: [0, -3, 1, 3, 0, 1], rolls: [0, 10]}\n"
        "fov: 40\n"
    )
    cfg = build(CameraConfig, compose_text(text, "scene.yaml"), "scene.yaml")
    assert cfg.shots == (
        OrbitShot(duration=10.0, turns=0.5, target="ball"),
        TopShot(duration=2.0),
        DollyShot(duration=3.0, target="point", target_point=(0.2, -0.1)),
        KeyframeShot(
            duration=4.0, times=(0.0, 4.0), positions=(0, -3, 1, 3, 0, 1), rolls=(0.0, 10.0)
        ),
    )
    assert cfg.fov == 40.0
    assert camera_duration(cfg) == 19.0
    validate_camera(cfg)


def test_yaml_errors_name_file_line_and_key():
    text = "shots:\n  - keyframes: {duration: 4, times: [0, 3, 2], positions: [0, 0, 1, 1, 1, 1, 2, 2, 2]}\n"
    with pytest.raises(ValueError, match=r"scene\.yaml:2:.*times"):
        build(CameraConfig, compose_text(text, "scene.yaml"), "scene.yaml")


def test_poses_over_the_real_mesh_stage_surface():
    from lossfilm.compute.store.sequence import SurfaceSequence
    from lossfilm.render.mesh.film_surface import FilmSurface
    from lossfilm.render.scene.mesh import MeshConfig

    a = b = np.linspace(-1.0, 1.0, 17)
    A, B = np.meshgrid(a, b)
    loss = np.stack(
        [0.05 + (1 + 0.3 * s) * ((A - 0.05 * s) ** 2 + (B + 0.04 * s) ** 2) for s in range(4)]
    )
    seq = SurfaceSequence(
        a=a,
        b=b,
        loss=loss,
        epochs=np.arange(4.0),
        steps=np.arange(4),
        labels=list("abcd"),
        ball=np.array([[0.05 * s, -0.04 * s] for s in range(4)]),
    )
    cfg = CameraConfig(
        shots=(
            FlybyShot(duration=1.5, clearance=0.05),
            DiveShot(duration=1.5),
            TrackShot(duration=1.0),
        )
    )
    surface = FilmSurface(seq, MeshConfig(resolution=32), camera_duration(cfg), FPS)
    path = CameraPath(cfg, surface, FPS)
    for i in range(surface.n_frames + 1):
        t = i / FPS
        pose = path.pose_at(t)
        assert (
            np.all(np.isfinite(pose.eye))
            and np.all(np.isfinite(pose.up))
            and 0 < pose.near < pose.far
        )
        if t < 1.5:
            x0, y0, z = surface.coarse_at(t)
            assert (
                pose.eye[2] - bilinear_height(x0, y0, z, np.array([pose.eye[:2]]))[0] >= 0.05 - 1e-6
            )
    end = path.pose_at(3.0 - 1e-6)  # the dive's last instant (3.0 starts the track shot)
    assert (
        end.eye[2] < surface.landmarks_at(3.0 - 1e-6)["minimum"][2] and end.target[2] > end.eye[2]
    )


@pytest.mark.parametrize(
    "shot, key",
    [
        (KeyframeShot(times=(0.0, 2.0, 1.0), positions=(0, 0, 1) * 3), "times"),
        (
            KeyframeShot(
                times=(0.0, 1.0), positions=(0, 0, 1, 1, 1, 1), targets=(0, 0, 1, 0, 0, 0)
            ),
            "targets",
        ),
        (KeyframeShot(times=(0.0, 1.0), positions=(0, 0, 1, 1, 1)), "positions"),
        (KeyframeShot(times=(0.0, 1.0), positions=(0, 0, 1, 1, 1, 1), fovs=(30.0,)), "fovs"),
        (KeyframeShot(times=(0.0, 1.0), positions=(0, 0, 1, 1, 1, 1), fovs=(30.0, 175.0)), "fovs"),
        (OrbitShot(fov=0.5), "fov"),
        (OrbitShot(fov=170.0), "fov"),
        (FlybyShot(clearance=-0.1), "clearance"),
        (FlybyShot(waypoints=(0.0, 1.0, 2.0)), "waypoints"),
        (OrbitShot(duration=0.0), "duration"),
        (OrbitShot(target="point"), "target_point"),
        (OrbitShot(target="ball", target_point=(0.0, 0.0)), "target_point"),
        (
            StillShot(position=(0.0, 0.0, 1.0), target="point", target_point=(0.0, 0.0, 1.0)),
            "position",
        ),
        (OrbitShot(ease="bounce"), "ease"),
    ],
)
def test_bad_camera_settings_name_the_key(shot, key):
    with pytest.raises(ValueError, match=rf"camera\.shots\[0\]\.\w+\.{key}:"):
        validate_camera(CameraConfig(shots=(shot,)))


def test_bad_camera_level_settings_name_the_key():
    with pytest.raises(ValueError, match=r"camera\.fov:"):
        validate_camera(CameraConfig(fov=180.0))
    with pytest.raises(ValueError, match=r"camera\.shots:"):
        validate_camera(CameraConfig(shots=()))
    with pytest.raises(ValueError, match=r"camera\.min_clearance:"):
        validate_camera(CameraConfig(min_clearance=-1.0))


def test_configs_are_frozen_and_hashable():
    cfg = CameraConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.fov = 10.0  # type: ignore[misc]
    assert hash(cfg) == hash(CameraConfig())
