"""Motion blur: shutter times, then on real pixels (an edge spreads along its motion only)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from golden import flat_plane

from lossfilm.render.mesh.frame import CameraPose
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



def test_motion_blur_spreads_edges_along_the_motion_not_across_it(ctx):
    from lossfilm.render.scene.scene import look_config
    from lossfilm.render.gl.renderer import SurfaceRenderer
    from lossfilm.render.gl.shutter import render_blurred

    n = 48
    topo, frame = flat_plane(n)
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


def test_preview_turns_motion_blur_and_depth_of_field_off():
    from lossfilm.render.pipeline import preview_scene
    from lossfilm.render.scene.looks import DepthOfFieldConfig
    from lossfilm.render.scene.scene import Scene

    scene = Scene()
    scene = dataclasses.replace(scene, render=dataclasses.replace(
        scene.render, motion_blur=MotionBlurConfig(enabled=True), dof=DepthOfFieldConfig(enabled=True)))
    assert preview_scene(scene).render.motion_blur.enabled is False
    assert preview_scene(scene).render.dof.enabled is False
    assert scene.render.motion_blur.shutter == 180.0


def _landscape(fps: float, shot):
    """A landscape that does not change over three states, filmed by ``shot`` (real mesh stage and camera)."""
    from lossfilm.compute.store.sequence import SurfaceSequence
    from lossfilm.render.camera.path import CameraPath
    from lossfilm.render.mesh.film_surface import FilmSurface
    from lossfilm.render.mesh.heights import HeightConfig
    from lossfilm.render.scene.camera import CameraConfig
    from lossfilm.render.scene.mesh import MeshConfig

    a = b = np.linspace(-1.0, 1.0, 21)
    A, B = np.meshgrid(a, b)
    loss = np.stack([0.2 + 0.3 * (A ** 2 + B ** 2)] * 3)
    s = np.arange(3.0)
    seq = SurfaceSequence(a=a, b=b, loss=loss, epochs=s, steps=s.astype(int), labels=["a", "b", "c"],
                          ball=np.zeros((3, 2)))
    cfg = CameraConfig(shots=(shot,))
    surface = FilmSurface(seq, MeshConfig(resolution=48, height=HeightConfig(scale="linear", relief=0.2)),
                          shot.duration, fps)
    return surface, CameraPath(cfg, surface, fps)


def _gradients(img: np.ndarray) -> tuple[float, float]:
    g = img.astype(np.float32).mean(axis=2)[30:150, 60:260]
    return float(np.abs(np.diff(g, axis=1)).mean()), float(np.abs(np.diff(g, axis=0)).mean())


def test_stills_open_the_films_shutter_around_their_time(ctx):
    from lossfilm.render.gl.shutter import shutter_moments
    from lossfilm.render.gl.stills import render_still
    from lossfilm.render.scene.camera import KeyframeShot, StillShot
    from lossfilm.render.scene.scene import look_config

    fps, t, size = 6.0, 1.0, (320, 180)
    cfg = look_config(overlays={"counter": "none", "loss": False}, grid={"enabled": True, "count": 16, "opacity": 0.9},
                      base={"enabled": False}, fog=0.0, ball={"enabled": False})
    blur = MotionBlurConfig(enabled=True, samples=8)
    # a camera trucking along +x at 1 unit/s: 0.08 units (2/3 of a grid cell) while a 180-degree shutter is open
    truck = KeyframeShot(duration=2.0, times=(0.0, 2.0), positions=(-1.0, -1.7, 1.3, 1.0, -1.7, 1.3),
                         targets=(-1.0, 0.0, 0.0, 1.0, 0.0, 0.0))
    surface, moving = _landscape(fps, truck)
    sharp = render_still(ctx, surface.topology, surface.frame_at(t), moving.pose_at(t), cfg, size)
    moments = shutter_moments(surface, moving, t, fps, blur)
    assert len(moments) == 8 and len({m[1].eye for m in moments}) == 8
    blurred = render_still(ctx, surface.topology, surface.frame_at(t), moving.pose_at(t), cfg, size,
                           moments=moments, tile=64)  # tiled: each tile is the mean of the same sub-frames
    (sx, sy), (bx, by) = _gradients(sharp), _gradients(blurred)
    # the picture slides sideways: edges across the motion smear, edges along it much less
    assert bx < 0.7 * sx, (sx, bx)
    assert bx / sx < by / sy - 0.15, (sx, bx, sy, by)
    # a camera that does not move over a landscape that does not change: the same still
    surface, fixed = _landscape(fps, StillShot(duration=2.0))
    plain = render_still(ctx, surface.topology, surface.frame_at(t), fixed.pose_at(t), cfg, size)
    opened = render_still(ctx, surface.topology, surface.frame_at(t), fixed.pose_at(t), cfg, size,
                          moments=shutter_moments(surface, fixed, t, fps, blur))
    assert ctx.error == "GL_NO_ERROR"
    assert np.abs(plain.astype(int) - opened.astype(int)).max() <= 1
