"""The explorer without a browser: captured views -> saved scene -> validated -> the film's
camera passes through them; the descent ball against the film's own descent actor;
ray picking; stills; what it may write; a busy port."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from lossfilm.render.cli import main
from lossfilm.render.explore.session import ExploreSession, explore_scene, ray_hit
from lossfilm.render.pipeline import open_film, surfaces_folder, tiny_scene
from lossfilm.render.scene.scene import load_scene

#: captured views are written with 10 significant digits, and the keyframes shot passes
#: its keys exactly (Catmull-Rom through the keys, linear easing): 1e-7 of the plane size
#: is far above the rounding and far below anything visible.
POSE_TOLERANCE = 1e-7


@pytest.fixture()
def session(explored):
    scene_path, scene, folder, out = explored
    return ExploreSession(scene, folder, scene_path, (), out)


def _views(session):
    b = session.surface.topology.bounds
    c, size = b.center, b.size
    return [
        (1.0, c + np.array([-1.2, -0.8, 0.9]) * size, c, 35.0),
        (4.5, c + np.array([0.2, -1.4, 0.5]) * size, c + [0.1, 0.0, 0.0], 40.0),
        (7.0, c + np.array([1.0, 0.4, 0.2]) * size, c - [0.0, 0.1, 0.05], 28.0),
        (9.5, c + np.array([0.0, 0.1, 1.6]) * size, c, 50.0),
    ]


def test_keyframe_round_trip(session, explored, capsys):
    scene_path = explored[0]
    original = scene_path.read_bytes()
    views = _views(session)
    for t, eye, target, fov in views:
        session.add_keyframe(t, eye, target, fov)
    # list / retime / delete: the key at 7.0 moves to 8.0, a stray key is added and deleted
    assert [k.time for k in session.keys] == [1.0, 4.5, 7.0, 9.5]
    assert session.retime_keyframe(2, 8.0) == 2
    stray = session.add_keyframe(3.0, views[0][1], views[1][2], 30.0)
    session.delete_keyframe(stray)
    views[2] = (8.0, *views[2][1:])
    assert [k.time for k in session.keys] == [1.0, 4.5, 8.0, 9.5]

    path = session.save(camera=True)
    assert path.parent == scene_path.parent and path.name == "quickstart-explored.yaml"
    assert scene_path.read_bytes() == original  # the explored scene is never written
    assert main(["validate", str(path)]) == 0
    assert "ok" in capsys.readouterr().out

    saved = explore_scene(load_scene(path), tiny=True)
    # same compute section: the saved scene films the surfaces already stored
    assert surfaces_folder(saved, explored[3]) == explored[2]
    assert saved.output.filename == "quickstart-explored.mp4"
    film = open_film(saved, explored[2])
    assert film.duration == pytest.approx(session.duration)
    size = film.surface.topology.bounds.size
    for t, eye, target, fov in views:
        pose = film.camera.pose_at(t)
        np.testing.assert_allclose(pose.eye, eye, atol=POSE_TOLERANCE * size)
        np.testing.assert_allclose(pose.target, target, atol=POSE_TOLERANCE * size)
        assert pose.fov_deg == pytest.approx(fov, abs=1e-6)
    # between keys the camera moves (it is a path, not a cut list)
    mid = film.camera.pose_at(6.0).eye
    assert min(np.linalg.norm(np.subtract(mid, v[1])) for v in views) > 0.05 * size

    # the saved scene also runs in --tiny, its key times scaled with the film
    tiny = open_film(tiny_scene(load_scene(path)), explored[2])
    k = 1.5 / 10.0
    np.testing.assert_allclose(tiny.camera.pose_at(4.5 * k).eye, views[1][1], atol=POSE_TOLERANCE * size)


def test_save_never_overwrites(session, explored):
    session.add_keyframe(2.0, (3.0, -3.0, 2.0), (0.0, 0.0, 0.0), 35.0)
    first = session.save()
    text = first.read_text()
    second = session.save()
    assert first != second and second.name.startswith("quickstart-explored-")
    assert first.read_text() == text
    assert load_scene(second).output.filename == second.stem + ".mp4"


def test_bad_keyframes_are_refused(session):
    with pytest.raises(ValueError, match="position equals its target"):
        session.add_keyframe(1.0, (1.0, 1.0, 1.0), (1.0, 1.0, 1.0), 35.0)
    with pytest.raises(ValueError, match="field of view"):
        session.add_keyframe(1.0, (2.0, 1.0, 1.0), (0.0, 0.0, 0.0), 179.0)
    with pytest.raises(ValueError, match="no keyframes"):
        session.save()
    with pytest.raises(ValueError, match="no keyframes"):
        session.delete_keyframe(0)


def test_descent_ball_is_the_films_descent_actor(session, explored):
    lo = np.asarray(session.surface.topology.bounds.lo)
    hi = np.asarray(session.surface.topology.bounds.hi)
    start = lo[:2] + 0.85 * (hi[:2] - lo[:2])  # up a slope, away from the basin
    session.release_ball(*start, time=1.0, rate=0.05)
    session.set_rate(4.0, 0.4)  # the slider turned up at 4 s
    times = [0.5, 1.0, 2.0, 4.0, 4.2, 6.0, 9.9]
    ball = np.array([session.ball_at(t) for t in times])
    np.testing.assert_allclose(ball[0][:2], start)  # before the release it waits
    path = session.save(camera=False, descent=True)
    saved = explore_scene(load_scene(path), tiny=True)
    assert saved.mesh.descent.enabled and saved.mesh.descent.release == 1.0
    film = open_film(saved, explored[2])
    actor = np.array([film.surface.frame_at(t).actors[0] for t in times])
    size = film.surface.topology.bounds.size
    # same steps on the same coarse heights; the plane path agrees to rounding
    np.testing.assert_allclose(ball[:, :2], actor[:, :2], atol=1e-6 * size)
    # heights are read on the drawn mesh: the explorer's is coarser (128² vs 256²)
    np.testing.assert_allclose(ball[:, 2], actor[:, 2], atol=0.02 * film.surface.top)
    # and it descended: the ball ends lower than it started
    assert ball[-1, 2] < ball[1, 2] - 0.05 * film.surface.top
    assert np.linalg.norm(ball[-1, :2] - start) > 0.05 * size


def test_rate_keys_hold_until_the_slider_moves(session):
    session.release_ball(0.0, 0.0, time=2.0, rate=0.1)
    session.set_rate(5.0, 1.0)
    session.set_rate(5.0, 2.0)  # moved again at the same time: replaces, no duplicate key
    step = 1.0 / session.scene.mesh.descent.steps_per_second
    assert session.rate_keys == pytest.approx([2.0, 0.1, 5.0, 0.1, 5.0 + step, 2.0])


def test_ray_hit_finds_the_point_under_a_vertical_ray(session):
    c = session.surface.topology.bounds.center
    a, b = c[0] + 0.3, c[1] - 0.2
    hit = ray_hit(session.surface, 5.0, (a, b, 10.0), (0.0, 0.0, -1.0))
    assert hit == pytest.approx((a, b), abs=1e-9)
    assert ray_hit(session.surface, 5.0, (a, b, 10.0), (0.0, 0.0, 1.0)) is None


def test_still_goes_into_the_output_folder(session, explored):
    from PIL import Image

    from lossfilm.render.explore.still import still_pose

    pose = still_pose(session, 9.0, (2.5, -2.5, 2.0), (0.0, 0.0, 0.2), (0.0, 0.0, 1.0), 35.0)
    first = session.still(9.0, pose, (320, 180))
    second = session.still(9.0, pose, (320, 180))
    assert first.parent == explored[3] and second.parent == explored[3] and first != second
    img = np.asarray(Image.open(first).convert("RGB"))
    assert img.shape == (180, 320, 3)
    assert img.reshape(-1, 3).std(axis=0).max() > 10  # a drawn surface, not a flat fill
    # a released ball is part of the view: the still draws it, and only it changes
    c = session.surface.topology.bounds.center
    session.release_ball(c[0] + 0.2, c[1] + 0.2, time=8.0)
    with_ball = np.asarray(Image.open(session.still(9.0, pose, (320, 180))).convert("RGB"))
    changed = (np.abs(with_ball.astype(int) - img).sum(axis=2) > 60).mean()
    assert 0.0005 < changed < 0.05


def test_second_explore_on_a_busy_port_says_so(explored, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = main(["explore", str(explored[0]), "--tiny", "--port", str(port)])
    assert code == 2
    assert f"port {port} on 127.0.0.1 is busy" in capsys.readouterr().err
