"""Surface curvature, the coolwarm map, curvature colours in the mesh stage, readouts and plot."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from golden import GOLDEN_SIZE, POSES, synthetic_scene

from lossfilm.compute.store.sequence import SurfaceSequence
from lossfilm.render.color.colormaps import generate_builtin, load_colormap
from lossfilm.render.mesh.curvature import CurvatureColor, surface_curvature
from lossfilm.render.color.diverging import COOLWARM_ENDS
from lossfilm.render.gl.context import create_context
from lossfilm.render.scene.look import OverlayConfig, RenderConfig
from lossfilm.render.mesh.film_surface import FilmSurface
from lossfilm.render.scene.mesh import HeightConfig
from lossfilm.render.scene.mesh import MeshConfig
from lossfilm.render.overlay.plot import plot_items
from lossfilm.render.gl.renderer import SurfaceRenderer
from lossfilm.render.overlay.text import overlay_lines

#: finite differences on a 201-point grid of spacing 0.01: error O(h²) ≈ 1e-4 relative.
FD_REL = 2e-3


def grid(n=201, half=1.0):
    x = np.linspace(-half, half, n)
    xx, yy = np.meshgrid(x, x)
    return x, xx, yy, float(x[1] - x[0])


def test_sphere_cap_has_constant_curvature():
    x, xx, yy, h = grid(201, 0.5)
    radius = 2.0
    z = np.sqrt(radius**2 - xx**2 - yy**2)  # seen from above: a dome, curving down
    c = surface_curvature(z, h, h)
    inner = (slice(5, -5), slice(5, -5))
    np.testing.assert_allclose(c["gaussian"][inner], 1 / radius**2, rtol=FD_REL)
    np.testing.assert_allclose(c["mean"][inner], -1 / radius, rtol=FD_REL)
    np.testing.assert_allclose(c["max"][inner], -1 / radius, rtol=2e-2)
    np.testing.assert_allclose(c["min"][inner], -1 / radius, rtol=2e-2)


def test_paraboloid_and_saddle_at_origin():
    x, xx, yy, h = grid(201)
    mid = 100
    bowl = surface_curvature(0.5 * (3 * xx**2 + yy**2), h, h)
    assert bowl["max"][mid, mid] == pytest.approx(3.0, rel=FD_REL)
    assert bowl["min"][mid, mid] == pytest.approx(1.0, rel=FD_REL)
    assert bowl["gaussian"][mid, mid] == pytest.approx(3.0, rel=FD_REL)
    assert bowl["mean"][mid, mid] == pytest.approx(2.0, rel=FD_REL)
    saddle = surface_curvature(xx**2 - yy**2, h, h)
    assert saddle["gaussian"][mid, mid] == pytest.approx(-4.0, rel=FD_REL)
    assert abs(saddle["mean"][mid, mid]) < 1e-9
    with pytest.raises(ValueError, match="spacing"):
        surface_curvature(xx, 0.0, h)


def test_curvature_color_is_zero_centred_with_a_fixed_range():
    x, xx, yy, h = grid(41)
    states = [0.2 * (xx**2 + yy**2), 0.6 * (xx**2 + yy**2)]
    color = CurvatureColor("mean_curvature", states, h, h)
    lo, hi = color.range
    # the sharper state sets it: H = 1.2 at its bottom, less up its slopes (99th percentile)
    assert lo == -hi and 1.1 < hi <= 1.2 + 1e-9
    assert np.allclose(color(np.zeros_like(xx)), 0.5)
    mild = color(states[0])
    assert mild[20, 20] == pytest.approx(0.5 + 0.5 * 0.4 / hi, abs=1e-3)
    assert np.all(color(-states[1]) < 0.5)  # a dome is on the cold side
    with pytest.raises(ValueError, match="mesh.color"):
        CurvatureColor("wiggle", states, h, h)


def test_coolwarm_is_moreland_diverging_map():
    table = load_colormap("coolwarm")
    np.testing.assert_allclose(table, generate_builtin("coolwarm"), atol=1e-6)
    np.testing.assert_allclose(table[0] * 255, COOLWARM_ENDS[0], atol=1.0)
    np.testing.assert_allclose(table[-1] * 255, COOLWARM_ENDS[1], atol=1.0)
    middle = table[127:129].mean(axis=0)
    assert middle.min() > 0.83 and np.ptp(middle) < 0.02  # a light neutral grey-white
    light = table.mean(axis=1)
    assert np.all(np.diff(light[:120]) > 0) and np.all(np.diff(light[136:]) < 0)


def bowl_sequence(n_states=3, n=17) -> SurfaceSequence:
    a = np.linspace(-1, 1, n)
    aa, bb = np.meshgrid(a, a)
    loss = np.stack([1.0 + (k + 1) * (aa**2 + 0.5 * bb**2) for k in range(n_states)])
    return SurfaceSequence(a=a, b=a, loss=loss, epochs=np.arange(n_states), steps=np.arange(n_states),
                           labels=[f"epoch {k}" for k in range(n_states)], ball=np.zeros((n_states, 2)),
                           values={"sharpness": np.array([1.0, 4.0, 2.0])})


@pytest.mark.parametrize("name", ["mean_curvature", "gaussian_curvature"])
def test_film_colours_by_surface_curvature(name):
    seq = bowl_sequence()
    cfg = MeshConfig(height=HeightConfig(scale="linear"), resolution=33, color=name)
    film = FilmSurface(seq, cfg, duration=1.0, fps=4.0)
    frames = list(film.frames())
    mid = [f.scalar[16, 16] for f in frames]
    assert all(m > 0.5 for m in mid)  # a bowl: positive mean and Gaussian curvature
    assert mid[-1] > mid[0]  # the same fixed range: the sharper bowl is warmer
    assert all(f.scalar.min() >= 0.0 and f.scalar.max() <= 1.0 for f in frames)
    np.testing.assert_array_equal(frames[0].series["sharpness"], [1.0, 4.0, 2.0])  # passed through


def test_readouts_and_unknown_names():
    cfg = OverlayConfig(readouts=("sharpness", "trace"), counter="none", loss=False)
    lines = overlay_lines(cfg, {"sharpness": 12.5, "trace": 3.0}, "")
    assert [t for t, _, _ in lines["top-right"]] == ["sharpness 12.5", "trace 3"]
    with pytest.raises(ValueError, match="readouts.*'lr'"):
        overlay_lines(dataclasses.replace(cfg, readouts=("lr",)), {"sharpness": 1.0}, "")
    with pytest.raises(ValueError, match="plot_size"):
        OverlayConfig(plot_size=(0.0, 0.2))


def test_plot_marker_follows_the_film():
    cfg = OverlayConfig(plot="sharpness", plot_position="bottom-right", counter="none", loss=False)
    series = {"sharpness": np.array([1.0, 4.0, 2.0])}
    first = plot_items(cfg, series, 0.0, (1920, 1080))
    last = plot_items(cfg, series, 2.0, (1920, 1080))
    assert first[0].key == last[0].key  # one curve bitmap for the whole film
    curve = first[0].rgba
    assert curve.shape[:2] == (round(0.2 * 1080), round(0.42 * 1080))
    assert first[0].x + curve.shape[1] <= 1920 and first[0].y + curve.shape[0] <= 1080
    m0, m1 = first[-1], last[-1]
    assert m1.x > m0.x + curve.shape[1] // 2  # the marker walks along the states
    peak = plot_items(cfg, series, 1.0, (1920, 1080))[-1]
    assert peak.y < m1.y < m0.y  # highest value at state 1, lowest at state 0
    yellow = (curve[..., 0] > 150) & (curve[..., 2] < 80)
    assert yellow.sum() > 200  # the curve is drawn in plot_color
    with pytest.raises(ValueError, match="plot.*'trace'.*sharpness"):
        plot_items(dataclasses.replace(cfg, plot="trace"), series, 0.0, (320, 180))
    # drawn once for the film, not per frame: every frame gets the same read-only bitmap
    assert last[0].rgba is curve and not curve.flags.writeable


def test_plot_is_drawn_into_the_frame():
    topo, frame = synthetic_scene(32)
    frame = dataclasses.replace(frame, series={"sharpness": np.array([1.0, 3.0, 2.0])}, position=1.0,
                                values={**frame.values, "sharpness": 3.0})
    ctx = create_context()
    try:
        images = []
        for ov in (OverlayConfig(counter="none", loss=False),
                   OverlayConfig(counter="none", loss=False, plot="sharpness", readouts=("sharpness",))):
            r = SurfaceRenderer(ctx, topo, RenderConfig(overlays=ov, msaa=0), GOLDEN_SIZE)
            images.append(r.render(frame, POSES["default"]).astype(np.int16))
            r.release()
        assert ctx.error == "GL_NO_ERROR"
    finally:
        ctx.release()
    w, h = GOLDEN_SIZE
    diff = np.abs(images[1] - images[0]).max(axis=2) > 30
    assert diff[h // 2:, w // 2:].mean() > 0.05  # the plot in the bottom-right quarter
    assert diff[: h // 3, w // 2:].any()  # the readout under the top-right corner
    assert not diff[: h // 2, : w // 3].any()  # nothing elsewhere


def test_convexity_colour_range_starts_at_zero():
    seq = bowl_sequence()
    seq.channels["convexity"] = np.full(seq.loss.shape, 0.2, np.float32)
    seq.channels["convexity"][:, :, 8:] = 0.8
    film = FilmSurface(seq, MeshConfig(resolution=17, color="convexity"), duration=1.0, fps=2.0)
    scalar = film.frame_at(0.0).scalar
    assert scalar[0, 0] == pytest.approx(0.25, abs=1e-3)  # 0.2 of [0, 0.8], not the low end
    assert scalar[0, -1] == pytest.approx(1.0, abs=1e-3)
