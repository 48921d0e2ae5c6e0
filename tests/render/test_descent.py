"""The auto-descent actor: trapped at a low rate, thrown out of a sharp basin when it rises."""

from __future__ import annotations

import numpy as np
import pytest

from lossfilm.compute.store.sequence import SurfaceSequence
from lossfilm.render.mesh.descent import DescentActor, descent_step, rate_at, surface_gradient
from lossfilm.render.scene.mesh import DescentConfig
from lossfilm.render.gl.context import create_context
from lossfilm.render.scene.look import OverlayConfig, RenderConfig
from lossfilm.render.mesh.film_surface import FilmSurface
from lossfilm.render.scene.mesh import HeightConfig
from lossfilm.render.scene.mesh import MeshConfig
from lossfilm.render.mesh.frame import CameraPose
from lossfilm.render.gl.renderer import SurfaceRenderer

SHARP = (-0.5, 0.0)  # a narrow, shallow basin: curvature ~ 0.12 / 0.1^2 = 12
DEEP = (0.45, 0.0)  # a wide, deep basin: curvature ~ 0.5 / 0.55^2 = 1.7
DURATION, FPS = 6.0, 10.0
#: descent steps per second: few, so the tests stay fast
SPS = 30.0


def two_basins(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(ny, nx) loss in world units (linear scale, relief chosen so z = loss - min)."""
    aa, bb = np.meshgrid(a, b)
    sharp = 0.12 * np.exp(-((aa - SHARP[0]) ** 2 + (bb - SHARP[1]) ** 2) / (2 * 0.1**2))
    deep = 0.5 * np.exp(-((aa - DEEP[0]) ** 2 + (bb - DEEP[1]) ** 2) / (2 * 0.55**2))
    return 1.0 - sharp - deep


def film(descent: DescentConfig, n: int = 41) -> FilmSurface:
    a = np.linspace(-1.0, 1.0, n)
    loss = two_basins(a, a)
    seq = SurfaceSequence(a=a, b=a, loss=np.stack([loss, loss]), epochs=np.array([0.0, 1.0]),
                          steps=np.array([0, 1]), labels=["s0", "s1"], ball=np.zeros((2, 2)))
    relief = float(loss.max() - loss.min()) / 2.0  # top = relief * plane size (2)
    cfg = MeshConfig(height=HeightConfig(scale="linear", relief=relief), resolution=65,
                     descent=descent)
    return FilmSurface(seq, cfg, DURATION, FPS)


START = (-0.56, 0.05)


def test_rate_keyframes_interpolate_and_hold():
    keys = (1.0, 0.1, 3.0, 0.5)
    assert rate_at(keys, 0.0) == pytest.approx(0.1)
    assert rate_at(keys, 2.0) == pytest.approx(0.3)
    assert rate_at(keys, 9.0) == pytest.approx(0.5)


def test_gradient_of_a_plane_is_exact():
    x, y = np.linspace(-1, 1, 9), np.linspace(-1, 1, 7)
    z = 0.3 * x[None, :] - 0.2 * y[:, None]
    grad = surface_gradient(x, y, z, np.array([0.1, -0.3]))
    np.testing.assert_allclose(grad, [0.3, -0.2], atol=1e-9)


def test_step_stops_at_the_edge():
    p, v = descent_step(np.array([0.95, 0.0]), np.zeros(2), np.array([-10.0, 0.0]), 0.1, 0.0,
                        np.zeros(2), (-1.0, 1.0, -1.0, 1.0))
    assert p[0] == 1.0 and v[0] == 0.0


def test_low_rate_stays_trapped_in_the_shallow_basin():
    fs = film(DescentConfig(enabled=True, start=START, rate=(0.0, 0.04), steps_per_second=SPS))
    for t in (1.0, 3.0, DURATION):
        p = fs.descent.plane_position_at(t)
        assert np.hypot(p[0] - SHARP[0], p[1] - SHARP[1]) < 0.08, (t, p)


def test_rising_rate_escapes_into_the_deep_basin():
    # 2 s trapped, then far past 2 / curvature of the sharp basin, still stable in the deep one
    keys = (0.0, 0.02, 2.0, 0.02, 2.5, 0.8)
    fs = film(DescentConfig(enabled=True, start=START, rate=keys, steps_per_second=SPS))
    actor = fs.descent
    early = actor.plane_position_at(2.0)
    assert np.hypot(early[0] - SHARP[0], early[1] - SHARP[1]) < 0.08
    end = actor.plane_position_at(DURATION)
    assert np.hypot(end[0] - DEEP[0], end[1] - DEEP[1]) < 0.1, end
    # the frame carries it as an actor resting on the drawn surface
    frame = fs.frame_at(DURATION, int(DURATION * FPS))
    assert frame.actors.shape == (1, 3)
    np.testing.assert_allclose(frame.actors[0, :2], end, atol=1e-6)
    assert frame.actors[0, 2] == pytest.approx(fs.height_at(DURATION, *end), abs=1e-6)


def test_path_is_deterministic_and_independent_of_query_order():
    cfg = DescentConfig(enabled=True, start=START, rate=(0.0, 0.05, 3.0, 0.4), momentum=0.5,
                        noise=0.01, seed=3, steps_per_second=SPS)
    forward = DescentActor(cfg, film(cfg))
    ahead = [forward.plane_position_at(t) for t in np.linspace(0.0, DURATION, 5)]
    backward = DescentActor(cfg, film(cfg))
    behind = [backward.plane_position_at(t) for t in np.linspace(DURATION, 0.0, 5)][::-1]
    # determinism: the same integration, queried in another order, must give the same bits
    np.testing.assert_array_equal(np.array(ahead), np.array(behind))
    other = DescentActor(dataclasses_replace(cfg, seed=4), film(cfg)).plane_position_at(DURATION)
    assert not np.allclose(other, ahead[-1])


def dataclasses_replace(cfg, **kw):
    import dataclasses

    return dataclasses.replace(cfg, **kw)


@pytest.mark.parametrize("bad, match", [
    ({"rate": (0.0, 0.1, 1.0)}, "pairs"),
    ({"rate": (1.0, 0.1, 0.0, 0.2)}, "decrease"),
    ({"rate": (0.0, -0.1)}, ">= 0"),
    ({"color": "nope"}, "mesh.descent.color"),
])
def test_bad_config_names_the_key(bad, match):
    with pytest.raises(ValueError, match=match):
        DescentConfig(**bad)


def test_start_off_the_plane_is_refused():
    with pytest.raises(ValueError, match="mesh.descent.start"):
        film(DescentConfig(enabled=True, start=(3.0, 0.0)))


def test_the_renderer_draws_the_actor():
    fs = film(DescentConfig(enabled=True, start=START, color="#ff00ff"))
    frame = fs.frame_at(0.0, 0)
    pose = CameraPose(eye=(0.0, 0.0, 4.0), target=(0.0, 0.0, 0.0), up=(0.0, 1.0, 0.0))
    cfg = RenderConfig(overlays=OverlayConfig(counter="none", loss=False), msaa=0)
    ctx = create_context()
    images = []
    try:
        for actors in (frame.actors, np.zeros((0, 3), np.float32)):
            frame.actors = actors
            r = SurfaceRenderer(ctx, fs.topology, cfg, (160, 160))
            try:
                images.append(r.render(frame, pose).astype(int))
            finally:
                r.release()
        assert ctx.error == "GL_NO_ERROR"
    finally:
        ctx.release()
    with_actor, without = images
    magenta = (with_actor[..., 0] > 150) & (with_actor[..., 2] > 150) & (with_actor[..., 1] < 90)
    assert magenta.sum() > 10
    assert not ((without[..., 0] > 150) & (without[..., 2] > 150) & (without[..., 1] < 90)).any()
