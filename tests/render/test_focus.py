"""Focus pulls: a shot's lens keys, from the scene file to sharp and soft pixels."""

from __future__ import annotations

import numpy as np
import pytest

from lossfilm.render.camera.focus import LensKeys, edge_depth
from lossfilm.render.scene.errors import ConfigErrors

FPS = 6.0


def test_lens_keys_mix_focus_in_diopters_and_fstop_in_stops_and_hold_outside():
    keys = LensKeys(((1.0, 10.0), (3.0, 1.0)), ((1.0, 8.0), (3.0, 2.0)), "linear")
    depth = float  # distances resolve to themselves
    assert keys.focus_at(2.0, depth) == pytest.approx(1.0 / (0.5 / 10.0 + 0.5 / 1.0))
    assert keys.fstop_at(2.0) == pytest.approx(4.0)  # one stop of two, halfway
    assert keys.focus_at(0.0, depth) == 10.0 and keys.focus_at(5.0, depth) == 1.0
    assert keys.fstop_at(0.5) == 8.0 and keys.fstop_at(9.0) == 2.0
    eased = LensKeys(((0.0, 10.0), (1.0, 1.0)), (), "smoothstep")
    assert eased.focus_at(0.1, depth) > keys.focus_at(1.2, depth)  # smoothstep leaves slower
    assert eased.fstop_at(0.5) is None and LensKeys((), (), "linear").focus_at(0.5, depth) is None


def test_edge_depth_is_the_far_edge_in_view():
    x = y = np.linspace(-1.0, 1.0, 21)
    z = np.zeros((21, 21))
    eye, forward, up = np.array([0.0, -3.0, 0.5]), np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0])
    # looking along +y at a level plane: the far edge y = 1 is 4 units ahead
    assert edge_depth(eye, forward, up, 40.0, x, y, z) == pytest.approx(4.0)
    # a narrow view that sees only part of the far edge still finds it at 4; behind: none
    assert edge_depth(eye, forward, up, 2.0, x, y, z) == pytest.approx(4.0)
    assert edge_depth(np.array([0.0, 3.0, 0.5]), forward, up, 40.0, x, y, z) is None


def test_focus_key_errors_name_file_line_col_and_key(tmp_path):
    from lossfilm.render.scene.scene import load_scene

    scene = tmp_path / "s.yaml"
    scene.write_text("camera:\n  shots:\n    - dive:\n        duration: 8\n"
                     "        focus: [[0, edge], [5, bal]]\n        fstop: [[0, 2.8], [9, 4]]\n")
    with pytest.raises(ConfigErrors) as err:
        load_scene(scene)
    text = str(err.value)
    assert f"{scene}:5:28: camera.shots[0].dive.focus[1]: unknown focus 'bal' (did you mean 'ball'?)" in text, text
    scene.write_text("camera:\n  shots:\n    - dive: {duration: 8, fstop: [[0, 2.8], [9, 4]]}\n")
    with pytest.raises(ConfigErrors, match=r"s\.yaml:3:45: camera\.shots\[0\]\.dive\.fstop\[1\]: time 9 s"):
        load_scene(scene)


def test_tiny_runs_scale_the_lens_keys_with_the_shot():
    import dataclasses

    from lossfilm.render.pipeline import tiny_scene
    from lossfilm.render.scene.camera import CameraConfig, DiveShot
    from lossfilm.render.scene.scene import Scene

    shot = DiveShot(duration=8.0, focus=((0.0, "edge"), (6.0, "ball")), fstop=((8.0, 2.0),))
    scene = dataclasses.replace(Scene(), camera=CameraConfig(shots=(shot,)))
    tiny = tiny_scene(scene).camera.shots[0]
    assert tiny.focus == ((0.0, "edge"), (6.0 * tiny.duration / 8.0, "ball"))
    assert tiny.fstop == ((tiny.duration, 2.0),)



def _film(duration: float):
    """A gentle landscape with the ball near the camera, and a fixed camera low over its near edge
    that pulls focus from the far edge (the edge horizon) to the ball."""
    from lossfilm.compute.store.sequence import SurfaceSequence
    from lossfilm.render.camera.path import CameraPath
    from lossfilm.render.mesh.film_surface import FilmSurface
    from lossfilm.render.mesh.heights import HeightConfig
    from lossfilm.render.scene.camera import CameraConfig, StillShot
    from lossfilm.render.scene.mesh import MeshConfig

    a = b = np.linspace(-1.0, 1.0, 21)
    A, B = np.meshgrid(a, b)
    s = np.arange(3.0)
    loss = np.stack([0.2 + 0.3 * ((A - 0.1) ** 2 + (B + 0.6) ** 2) + 0.02 * k for k in s])
    seq = SurfaceSequence(a=a, b=b, loss=loss, epochs=s, steps=s.astype(int), labels=["e0", "e1", "e2"],
                          ball=np.tile([0.1, -0.6], (3, 1)))
    shot = StillShot(duration=duration, position=(0.1, -2.0, 0.55), target="point", target_point=(0.1, 0.3, 0.0),
                     focus=((0.0, "edge"), (duration, "ball")), ease="linear")
    cfg = CameraConfig(shots=(shot,))
    surface = FilmSurface(seq, MeshConfig(resolution=64, height=HeightConfig(scale="linear", relief=0.1)),
                          duration, FPS)
    return surface, CameraPath(cfg, surface, FPS)


def _row(pose, point, size) -> int:
    """The image row (0 = top) where a world point is seen."""
    clip = pose.projection_matrix(size[0] / size[1]) @ pose.view_matrix() @ np.append(point, 1.0)
    return int(round((1.0 - clip[1] / clip[3]) / 2.0 * size[1]))


def _sharpness(gray: np.ndarray) -> float:
    """Variance of the discrete Laplacian: high where detail is crisp."""
    lap = (gray[1:-1, :-2] + gray[1:-1, 2:] + gray[:-2, 1:-1] + gray[2:, 1:-1] - 4 * gray[1:-1, 1:-1])
    return float(lap.var())


def test_a_focus_pull_moves_sharpness_from_the_far_edge_to_the_ball(ctx):
    from golden import assert_matches_golden

    from lossfilm.render.gl.stills import render_still
    from lossfilm.render.scene.scene import look_config

    duration = 2.0
    surface, path = _film(duration)
    first, last = path.pose_at(0.0), path.pose_at(duration)
    ball = surface.landmarks_at(duration)["ball"]
    forward = np.subtract(first.target, first.eye) / np.linalg.norm(np.subtract(first.target, first.eye))
    assert first.focus > 3.0  # the far edge (y = 1 seen from y = -2)
    assert last.focus == pytest.approx(float(np.dot(ball - np.asarray(last.eye), forward)), rel=1e-6)
    common = dict(overlays={"counter": "none", "loss": False}, grid={"enabled": True, "count": 20, "opacity": 0.9},
                  base={"enabled": False}, occlusion={"enabled": False}, fog=0.0, ball={"enabled": False})
    lens = look_config(dof={"enabled": True, "fstop": 1.4, "samples": 12}, **common)
    size = (320, 180)
    images = [render_still(ctx, surface.topology, surface.frame_at(t), pose, lens, size).astype(np.float32)
              for t, pose in ((0.0, first), (duration, last))]
    assert ctx.error == "GL_NO_ERROR"
    far_row = _row(first, (0.1, 0.8, 0.0), size)    # just before the far edge
    near_row = _row(first, (0.1, -0.6, 0.0), size)  # across the ball
    assert far_row + 30 < near_row
    far = (slice(far_row - 6, far_row + 6), slice(60, 260))
    near = (slice(near_row - 8, near_row + 8), slice(60, 260))
    sharp = [{name: _sharpness(img.mean(axis=2)[r]) for name, r in (("far", far), ("near", near))} for img in images]
    assert sharp[0]["far"] > 1.5 * sharp[1]["far"], sharp     # the pull leaves the horizon
    assert sharp[1]["near"] > 2.0 * sharp[0]["near"], sharp   # and lands on the ball's distance
    assert_matches_golden("focus_pull_start", images[0].astype(np.uint8))


def test_focus_and_aperture_ease_across_a_transition_instead_of_jumping():
    """Two still shots eased into each other (camera.transition): the first holds focus on
    the far edge at f/8, the second keys the ball at f/2. At the second shot's start the lens
    is still the first's, it reaches the second's at the end of the transition, and in
    between moves monotonically; a cut (no transition) jumps; a shot without keys eases
    toward the look's render.dof (CameraPath's lens)."""
    import dataclasses

    from lossfilm.render.camera.path import CameraPath
    from lossfilm.render.scene.camera import CameraConfig

    duration, transition = 2.0, 1.0
    surface, path = _film(duration)
    first = dataclasses.replace(path.cfg.shots[0], focus=((0.0, "edge"),), fstop=((0.0, 8.0),))
    second = dataclasses.replace(path.cfg.shots[0], focus=((0.0, "ball"),), fstop=((0.0, 2.0),))
    eased = CameraPath(CameraConfig(shots=(first, second), transition=transition), surface, FPS)
    end_first = eased.pose_at(duration - 1e-6)
    start, mid, done = (eased.pose_at(duration + t) for t in (0.0, 0.5 * transition, transition + 0.2))
    assert start.focus == pytest.approx(end_first.focus, rel=1e-3) and start.fstop == pytest.approx(8.0)
    assert done.fstop == pytest.approx(2.0) and done.focus < 0.6 * start.focus
    assert done.focus < mid.focus < start.focus and 2.0 < mid.fstop < 8.0
    cut = CameraPath(CameraConfig(shots=(first, second)), surface, FPS)
    assert cut.pose_at(duration).fstop == pytest.approx(2.0)  # a cut jumps, as before
    # the second shot keys nothing: it eases toward the look's lens (here the ball at f/4)
    bare = dataclasses.replace(second, focus=(), fstop=())
    to_look = CameraPath(CameraConfig(shots=(first, bare), transition=transition), surface, FPS, lens=("ball", 4.0))
    assert to_look.pose_at(duration).fstop == pytest.approx(8.0)
    assert to_look.pose_at(duration + 0.5 * transition).fstop == pytest.approx(2.0 ** 2.5, rel=1e-3)
    assert to_look.pose_at(duration + transition + 0.2).focus is None  # past the transition: the renderer's own
