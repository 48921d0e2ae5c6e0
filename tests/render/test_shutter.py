"""Motion blur: shutter times, then on real pixels (an edge spreads along its motion only)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from golden import grid_indices, height_normals

from lossfilm.render.mesh.frame import Bounds, CameraPose, Frame, Topology
from lossfilm.render.gl.shutter import shutter_times
from lossfilm.render.scene.looks import MotionBlurConfig


def test_shutter_times_are_centred_and_span_the_opening():
    t = shutter_times(2.0, 24.0, 180.0, 4)
    np.testing.assert_allclose(t.mean(), 2.0)
    # 180 degrees at 24 fps: open 1/48 s; four sub-frames in the middles of four slices
    np.testing.assert_allclose(np.diff(t), 1 / 48 / 4)
    assert t.max() - t.min() == pytest.approx(1 / 48 * 3 / 4)
    assert shutter_times(0.0, 24.0, 360.0, 3, duration=5.0).min() == 0.0  # clipped to the film


class _Still:
    """A landscape that does not change, for a camera that pans."""

    def __init__(self, frame):
        self.frame = frame

    def frame_at(self, time, index=0):
        return self.frame


@dataclasses.dataclass
class _Pan:
    """A top-down camera sliding along +x at ``speed`` world units a second, over x = 0 at ``t0``."""

    speed: float
    t0: float = 1.0
    duration: float = 10.0

    def pose_at(self, t: float) -> CameraPose:
        x = self.speed * (t - self.t0)
        return CameraPose(eye=(x, 0.0, 2.2), target=(x, 0.0, 0.0), up=(0.0, 1.0, 0.0), fov_deg=40.0)


@pytest.fixture(scope="module")
def ctx():
    from lossfilm.render.gl.context import create_context

    context = create_context()
    yield context
    context.release()


def test_motion_blur_spreads_edges_along_the_motion_not_across_it(ctx):
    from lossfilm.render.scene.scene import look_config
    from lossfilm.render.gl.renderer import SurfaceRenderer
    from lossfilm.render.gl.shutter import render_blurred

    n = 48
    x = np.linspace(-1.0, 1.0, n, dtype=np.float32)
    z = np.zeros((n, n), np.float32)
    topo = Topology(x=x, y=x, indices=grid_indices(n, n), bounds=Bounds((-1, -1, 0.0), (1, 1, 0.1)))
    frame = Frame(index=0, time=0.0, position=0.0, heights=z, normals=height_normals(z, x, x),
                  scalar=np.full_like(z, 0.6), minimum=np.zeros(3, np.float32))
    cfg = look_config(overlays={"counter": "none", "loss": False}, grid={"enabled": True, "count": 12, "opacity": 0.9},
                      base={"enabled": False}, occlusion={"enabled": False}, fog=0.0, light={"shadows": False})
    r = SurfaceRenderer(ctx, topo, cfg, (160, 120))
    fps, index = 24.0, 24
    pan = _Pan(speed=0.25 * fps)  # 0.25 world units a frame: a few grid lines' spacing at 180 degrees
    sharp = r.render(frame, pan.pose_at(index / fps)).astype(np.float32).mean(axis=2)
    out = np.empty((120, 160, 3), np.uint8)
    render_blurred(r, _Still(frame), pan, index, fps, MotionBlurConfig(enabled=True, samples=8), out)
    r.release()
    assert ctx.error == "GL_NO_ERROR"
    blurred = out.astype(np.float32).mean(axis=2)
    inner = (slice(20, 100), slice(20, 140))  # inside the plane, away from its edges
    along = np.abs(np.diff(blurred[inner], axis=1)).mean() / np.abs(np.diff(sharp[inner], axis=1)).mean()
    across = np.abs(np.diff(blurred[inner], axis=0)).mean() / np.abs(np.diff(sharp[inner], axis=0)).mean()
    # lines across the motion (constant x) smear along it; lines along it stay sharp
    assert along < 0.6, (along, across)
    assert across > 0.85, (along, across)
    from golden import assert_matches_golden

    assert_matches_golden("motion_blur", out)


def test_preview_turns_motion_blur_off():
    from lossfilm.render.pipeline import preview_scene
    from lossfilm.render.scene.scene import Scene

    scene = Scene()
    scene = dataclasses.replace(scene, render=dataclasses.replace(
        scene.render, motion_blur=MotionBlurConfig(enabled=True)))
    assert preview_scene(scene).render.motion_blur.enabled is False
    assert scene.render.motion_blur.shutter == 180.0
