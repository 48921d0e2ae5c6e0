"""Colorbar and plane axes on stills: ticks, the film's own colour scale, real GL projection."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from golden import POSES, synthetic_scene

from lossfilm.compute.store.sequence import SurfaceSequence
from lossfilm.render.overlay.annotate import draw_axes, draw_colorbar
from lossfilm.render.overlay.scales import colorbar_scale, log_ticks, nice_ticks, project_points
from lossfilm.render.color.colormaps import load_colormap
from lossfilm.render.mesh.frame import CameraPose
from lossfilm.render.gl.context import create_context
from lossfilm.render.scene.look import OverlayConfig, RenderConfig
from lossfilm.render.mesh.film_surface import FilmSurface
from lossfilm.render.scene.mesh import HeightConfig
from lossfilm.render.scene.mesh import MeshConfig
from lossfilm.render.gl.renderer import SurfaceRenderer

SIZE = (480, 270)
#: straight down from far enough that the labels fit around the plane
TOP = CameraPose(eye=(0.0, 0.0, 4.5), target=(0.0, 0.0, 0.0), up=(0.0, 1.0, 0.0))


def bowl_sequence(n: int = 17) -> SurfaceSequence:
    a = np.linspace(-1.0, 1.0, n)
    aa, bb = np.meshgrid(a, a)
    loss = np.stack([0.02 + k * (aa**2 + bb**2) + 0.5 for k in (1.0, 3.0)])
    return SurfaceSequence(a=a, b=a, loss=loss, epochs=np.array([0.0, 1.0]),
                           steps=np.array([0, 10]),
                           labels=["epoch 0", "epoch 1"], ball=np.zeros((2, 2)))


def test_nice_ticks_are_round_and_inside():
    t = nice_ticks(-1.0, 1.0)
    np.testing.assert_allclose(t, [-1.0, -0.5, 0.0, 0.5, 1.0])
    t = nice_ticks(0.61, 0.72)
    assert 4 <= t.size <= 8
    assert t.min() >= 0.61 and t.max() <= 0.72
    np.testing.assert_allclose(np.diff(t), 0.02)


def test_log_ticks_follow_decades():
    np.testing.assert_allclose(log_ticks(0.03, 3.0), [0.05, 0.1, 0.2, 0.5, 1.0, 2.0])
    assert set(log_ticks(1e-4, 1e3).tolist()) == {10.0**k for k in range(-4, 4)}


@pytest.mark.parametrize("scale", ["log", "linear"])
def test_colorbar_scale_is_the_films_own_colour_mapping(scale):
    seq = bowl_sequence()
    fs = FilmSurface(seq, MeshConfig(height=HeightConfig(scale=scale), resolution=17), 2.0, 10.0)
    cs = colorbar_scale(fs)
    assert cs.lo == pytest.approx(seq.loss.min(), rel=1e-6)
    assert cs.hi == pytest.approx(seq.loss.max(), rel=1e-6)
    np.testing.assert_allclose(cs.unit_of(np.array([cs.lo, cs.hi])), [0.0, 1.0], atol=1e-5)
    # a vertex of the last state: its colour coordinate in the film equals the bar's at its loss
    frame = fs.frame_at(fs.duration, 0)
    np.testing.assert_allclose(cs.unit_of(seq.loss[-1].ravel()), frame.scalar.ravel(), atol=2e-3)
    assert cs.log == (scale == "log")


@pytest.mark.parametrize("bits", [8, 16])
def test_colorbar_gradient_is_the_colormap_at_full_depth(bits):
    seq = bowl_sequence()
    fs = FilmSurface(seq, MeshConfig(resolution=17), 2.0, 10.0)
    dtype = np.uint8 if bits == 8 else np.uint16
    image = np.zeros((SIZE[1] * 2, SIZE[0] * 2, 3), dtype)
    x0, y0, x1, y1 = draw_colorbar(image, colorbar_scale(fs), "viridis")
    top = np.iinfo(dtype).max
    lut = np.asarray(load_colormap("viridis"))
    mid_x = (x0 + x1) // 2
    np.testing.assert_allclose(image[y0 + 2, mid_x] / top, lut[-1], atol=0.02)
    np.testing.assert_allclose(image[y1 - 3, mid_x] / top, lut[0], atol=0.02)
    column = image[y0 + 2 : y1 - 2, mid_x].astype(np.int64)
    assert len(np.unique(column[:, 1])) > 50  # a smooth ramp, not a few bands
    if bits == 16:  # real 16-bit values, not 8-bit values scaled by 257
        assert np.any(column % 257 != 0)
    # ticks and text: ink right of the bar, nothing left of the panel
    right = image[y0:y1, x1 + 1 :]
    assert right.max() == top
    assert image[:, : x0 - 60].max() == 0


def test_text_is_drawn_at_its_final_size():
    seq = bowl_sequence()
    fs = FilmSurface(seq, MeshConfig(resolution=17), 2.0, 10.0)
    widths = []
    for scale in (1, 4):
        image = np.zeros((180 * scale, 320 * scale, 3), np.uint8)
        x0, y0, x1, y1 = draw_colorbar(image, colorbar_scale(fs), "viridis")
        ink = np.nonzero(image[:, x1 + 2 :, 0].max(axis=0) > 200)[0]
        widths.append(ink.max() - ink.min())
    assert widths[1] == pytest.approx(4 * widths[0], rel=0.25)


@pytest.fixture(scope="module")
def top_render():
    topo, frame = synthetic_scene(48)
    ctx = create_context()
    cfg = RenderConfig(overlays=OverlayConfig(counter="none", loss=False), msaa=0)
    r = SurfaceRenderer(ctx, topo, cfg, SIZE)
    try:
        image = r.render(frame, TOP)
        assert ctx.error == "GL_NO_ERROR"
    finally:
        r.release()
        ctx.release()
    return topo, frame, image


def test_projection_matches_the_gl_image(top_render):
    """Projected plane edges land where the rendered surface starts and ends."""
    topo, frame, image = top_render
    mid_row = frame.heights.shape[0] // 2
    ends = np.array([[topo.x[0], 0.0, frame.heights[mid_row, 0]],
                     [topo.x[-1], 0.0, frame.heights[mid_row, -1]]])
    xy, ok = project_points(TOP, SIZE, ends)
    assert ok.all()
    row = int(round(xy[0, 1]))
    background = image[row, 2].astype(int)
    differs = np.abs(image[row].astype(int) - background).sum(axis=1) > 12
    inside = np.nonzero(differs)[0]
    assert abs(inside.min() - xy[0, 0]) <= 2
    assert abs(inside.max() - xy[1, 0]) <= 2


def test_top_view_axes_are_a_frame(top_render):
    topo, frame, image = top_render
    image = image.copy()
    before = image.copy()
    ticks = draw_axes(image, TOP, topo.x, topo.y, frame.heights)
    a, b = ticks[0], ticks[1]
    assert len(a) == 5 and len(b) == 5  # -1, -0.5, 0, 0.5, 1 on both
    assert np.ptp(a[:, 1]) < 3 and np.all(np.diff(a[:, 0]) > 10)  # a: a row, left to right
    assert np.ptp(b[:, 0]) < 3 and np.all(np.diff(b[:, 1]) < -10)  # b: a column, upward
    assert a[0, 1] > SIZE[1] / 2 and b[0, 0] < SIZE[0] / 2  # bottom and left edges
    changed = np.any(image != before, axis=2)
    assert changed[int(a[0, 1]) + 4 :, :].any()  # labels below the a-axis
    # the middle is untouched
    assert not changed[: SIZE[1] // 3, SIZE[0] // 3 : 2 * SIZE[0] // 3].any()


def test_perspective_axes_follow_the_rim():
    topo, frame = synthetic_scene(32)
    image = np.zeros((SIZE[1], SIZE[0], 4), np.uint16)
    ticks = draw_axes(image, POSES["default"], topo.x, topo.y, frame.heights)
    assert set(ticks) == {0, 1}
    for axis, xy in ticks.items():
        values = np.linspace(-1.0, 1.0, 5)
        world = np.zeros((5, 3))
        world[:, axis] = values
        # each tick lies on one of the two projected rims of its axis
        best = []
        for edge in (topo.x[0], topo.x[-1]) if axis == 1 else (topo.y[0], topo.y[-1]):
            world[:, 1 - axis] = edge
            idx = 0 if edge == (topo.x[0] if axis == 1 else topo.y[0]) else -1
            rim = frame.heights[:, idx] if axis == 1 else frame.heights[idx]
            world[:, 2] = np.interp(values, topo.y if axis == 1 else topo.x, rim)
            p, _ = project_points(POSES["default"], SIZE, world)
            best.append(np.abs(p - xy).max())
        assert min(best) < 0.5
    assert image[..., 3].max() == 65535  # 16-bit RGBA: opaque ink on a transparent image


def test_cli_still_with_colorbar_and_axes(tmp_path):
    """`lossfilm still --colorbar --axes` on the tiny quickstart, 8 and 16 bit."""
    from PIL import Image

    from lossfilm.render.cli import main

    scene = str(Path(__file__).resolve().parents[2] / "scenes" / "quickstart.yaml")
    common = ["still", scene, "--tiny", "--out", str(tmp_path), "--size", "320x180"]
    assert main([*common, "-o", str(tmp_path / "plain.png")]) == 0
    assert main([*common, "--colorbar", "--axes", "-o", str(tmp_path / "fig.png")]) == 0
    assert main([*common, "--colorbar", "--bits", "16", "-o", str(tmp_path / "fig16.png")]) == 0
    plain = np.asarray(Image.open(tmp_path / "plain.png")).astype(int)
    fig = np.asarray(Image.open(tmp_path / "fig.png")).astype(int)
    changed = np.any(plain != fig, axis=2)
    assert changed[:, -60:].mean() > 0.05  # the colorbar at the right edge
    raw = (tmp_path / "fig16.png").read_bytes()
    assert raw[24] == 16  # IHDR bit depth
