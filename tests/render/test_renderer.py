"""The GL renderer on real moderngl/EGL: goldens, tiling, bit depth, buffers, look config."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from golden import GOLDEN_SIZE, POSES, assert_matches_golden, compare, synthetic_scene

from lossfilm.render.color.colormaps import BUILTIN_COLORMAPS, load_colormap
from lossfilm.render.scene.look import BackgroundConfig, BallConfig, ContourConfig, OverlayConfig, RenderConfig, GridConfig
from lossfilm.render.scene.colors import parse_color
from lossfilm.render.gl.renderer import SurfaceRenderer
from lossfilm.render.overlay.text import composite
from lossfilm.render.overlay.layout import layout_overlays
from lossfilm.render.gl.stills import render_still

NO_TEXT = OverlayConfig(counter="none", loss=False)



@pytest.fixture(scope="module")
def scene():
    return synthetic_scene(48)


def _render(ctx, scene, cfg, pose="default", size=GOLDEN_SIZE, transparent=False):
    topo, frame = scene
    r = SurfaceRenderer(ctx, topo, cfg, size, transparent=transparent)
    try:
        img = r.render(frame, POSES[pose])
    finally:
        r.release()
    assert ctx.error == "GL_NO_ERROR"
    return img


@pytest.mark.parametrize(
    "name, cfg, pose",
    [
        ("default", RenderConfig(overlays=NO_TEXT), "default"),
        ("below", RenderConfig(overlays=NO_TEXT), "below"),
        ("top", RenderConfig(overlays=NO_TEXT, grid=GridConfig(enabled=True)), "top"),
        ("contours", RenderConfig(overlays=NO_TEXT, contours=ContourConfig(enabled=True)), "default"),
        ("overlays", RenderConfig(overlays=OverlayConfig(title="Loss landscape", caption="lossfilm")),
         "default"),
    ],
)
def test_goldens(ctx, scene, name, cfg, pose):
    img = _render(ctx, scene, cfg, pose)
    assert img.shape == (GOLDEN_SIZE[1], GOLDEN_SIZE[0], 3) and img.dtype == np.uint8
    assert_matches_golden(name, img)


def test_transparent_golden_has_alpha(ctx, scene):
    cfg = RenderConfig(overlays=NO_TEXT, background=BackgroundConfig(kind="transparent"))
    img = _render(ctx, scene, cfg)
    assert img.shape == (GOLDEN_SIZE[1], GOLDEN_SIZE[0], 4)
    assert img[0, 0, 3] == 0 and img[-1, -1, 3] == 0          # background
    assert img[GOLDEN_SIZE[1] // 2, GOLDEN_SIZE[0] // 2, 3] == 255  # surface
    assert 0.1 < (img[..., 3] == 255).mean() < 0.9
    assert_matches_golden("transparent", img)


def test_view_from_below_is_lit_not_black(ctx, scene):
    img = _render(ctx, scene, RenderConfig(overlays=NO_TEXT, background=BackgroundConfig(kind="transparent")),
                  "below", transparent=True)
    surface = img[..., :3][img[..., 3] == 255].astype(float)
    assert surface.mean() > 60  # two-sided lighting: the underside is lit like the top


def test_overlays_put_text_where_configured(ctx, scene):
    plain = _render(ctx, scene, RenderConfig(overlays=NO_TEXT))
    text = _render(ctx, scene, RenderConfig(overlays=OverlayConfig(title="T", counter="epoch", loss=True)))
    changed = np.abs(plain.astype(int) - text.astype(int)).max(axis=-1) > 40
    h, w = changed.shape
    assert changed[: h // 4, : w // 3].any()       # title, top-left
    assert changed[: h // 4, 2 * w // 3 :].any()   # counter + loss, top-right
    assert not changed[h // 2 :, :].any()          # nothing at the bottom


def test_tiled_still_equals_untiled(ctx, scene):
    topo, frame = scene
    cfg = RenderConfig(overlays=OverlayConfig(title="tiles"), contours=ContourConfig(enabled=True))
    whole = render_still(ctx, topo, frame, POSES["default"], cfg, GOLDEN_SIZE)
    tiled = render_still(ctx, topo, frame, POSES["default"], cfg, GOLDEN_SIZE, tile=64)
    assert ctx.error == "GL_NO_ERROR"
    ratio, _ = compare(whole, tiled)
    assert ratio < 0.01
    assert np.abs(whole.astype(int) - tiled.astype(int)).mean() < 1.0


def test_sixteen_bit_still_is_uint16_and_matches_eight_bit(ctx, scene):
    topo, frame = scene
    cfg = RenderConfig(overlays=NO_TEXT)
    deep = render_still(ctx, topo, frame, POSES["default"], cfg, (160, 90), bits=16)
    shallow = render_still(ctx, topo, frame, POSES["default"], cfg, (160, 90), bits=8)
    assert deep.dtype == np.uint16 and deep.shape == (90, 160, 3)
    assert len(np.unique(deep)) > len(np.unique(shallow))  # more levels than 8 bits hold
    assert np.abs(deep / 257.0 - shallow).mean() < 2.0


def test_supersampled_still_is_a_box_filtered_big_render(ctx, scene):
    """supersample=2 equals a 2x render averaged over 2x2 blocks, and its edges are smoother.

    MSAA is off so the plain render has hard, aliased silhouettes for the filter to soften.
    """
    topo, frame = scene
    cfg = RenderConfig(overlays=NO_TEXT, msaa=0)
    size = (96, 54)
    img = render_still(ctx, topo, frame, POSES["default"], cfg, size, supersample=2)
    assert img.shape == (54, 96, 3) and img.dtype == np.uint8
    big = _render(ctx, scene, cfg, size=(2 * size[0], 2 * size[1])).astype(np.float64)
    expected = np.rint(big.reshape(54, 2, 96, 2, 3).mean(axis=(1, 3)))
    # Same GL draw at the same size, filtered here in numpy: only the rounding of a
    # 4-sample mean (and llvmpipe re-running the draw) may move a pixel, by a code value.
    assert np.abs(img.astype(np.float64) - expected).max() <= 1
    # and the filter did something: along the surface's silhouette (a few % of the
    # pixels) the supersampled still blends what the plain render at this size steps over
    plain = _render(ctx, scene, cfg, size=size)
    assert compare(plain, img, pixel_tolerance=8)[0] > 0.005


def test_render_into_reuses_buffer_and_checks_it(ctx, scene):
    topo, frame = scene
    r = SurfaceRenderer(ctx, topo, RenderConfig(overlays=NO_TEXT), (64, 36))
    try:
        out = np.zeros((36, 64, 3), np.uint8)
        r.render_into(frame, POSES["default"], out)
        first = out.copy()
        assert first.any()
        moved = dataclasses.replace(frame, heights=frame.heights + np.float32(0.3))
        r.render_into(moved, POSES["default"], out)  # buffers rewritten in place
        assert not np.array_equal(first, out)
        with pytest.raises(ValueError, match="out"):
            r.render_into(frame, POSES["default"], np.zeros((36, 64, 4), np.uint8))
        with pytest.raises(ValueError, match="frame.heights"):
            r.render(dataclasses.replace(frame, heights=frame.heights[:-1]), POSES["default"])
    finally:
        r.release()
    assert ctx.error == "GL_NO_ERROR"


def test_invalid_vertices_are_tinted_red(ctx):
    topo, good = synthetic_scene(48)
    _, bad = synthetic_scene(48, invalid=True)
    cfg = RenderConfig(overlays=NO_TEXT, fog=0.0)
    a = _render(ctx, (topo, good), cfg, "top").astype(int)
    b = _render(ctx, (topo, bad), cfg, "top").astype(int)
    changed = np.abs(a - b).max(axis=-1) > 30
    assert changed.mean() > 0.01
    redness = lambda img: img[..., 0] - img[..., 1:].mean(axis=-1)  # noqa: E731
    assert redness(b)[changed].mean() > redness(a)[changed].mean() + 30


def test_msaa_is_capped_at_the_device_maximum(ctx, scene):
    topo, _ = scene
    r = SurfaceRenderer(ctx, topo, RenderConfig(msaa=16), (32, 32))
    try:
        assert 0 < r.samples <= int(ctx.info["GL_MAX_SAMPLES"])
    finally:
        r.release()


def test_colormaps_are_256_rgb_tables_and_unknown_names_fail(tmp_path):
    for name in BUILTIN_COLORMAPS:
        lut = load_colormap(name)
        assert lut.shape == (256, 3) and lut.dtype == np.float32
        assert 0.0 <= lut.min() and lut.max() <= 1.0
    v = load_colormap("viridis")
    assert np.allclose(v[0], (0.267004, 0.004874, 0.329415), atol=0.015)   # published ends
    assert np.allclose(v[-1], (0.993248, 0.906157, 0.143936), atol=0.015)
    assert np.array_equal(load_colormap("viridis_r")[0], v[-1])
    (tmp_path / "mine.csv").write_text("0,0,0\n1,1,1\n")
    mine = load_colormap("mine", tmp_path)
    assert mine.shape == (256, 3) and np.allclose(mine[128], 128 / 255, atol=1e-6)
    with pytest.raises(ValueError, match="render.colormap"):
        load_colormap("no-such-map")


def test_bad_colors_name_their_key():
    assert parse_color("#ff000080") == (1.0, 0.0, 0.0, 128 / 255)
    with pytest.raises(ValueError, match="render.ball.color"):
        BallConfig(color="red")


def test_text_layout_and_composite_stay_inside_the_image():
    cfg = OverlayConfig(title="Title", caption="caption", counter="step")
    items = layout_overlays(cfg, {"step": 7, "loss": 0.5}, "", (640, 360))
    assert len(items) == 4
    for it in items:
        h, w = it.rgba.shape[:2]
        assert 0 <= it.x and it.x + w <= 640 and 0 <= it.y and it.y + h <= 360
    img = np.zeros((360, 640, 3), np.uint8)
    composite(img, items)
    assert img.max() == 255


def test_dense_grids_take_the_per_vertex_lighting_path_and_look_alike(ctx):
    from lossfilm.render.gl.renderer import DENSE_GRID

    cfg = RenderConfig(overlays=NO_TEXT, ball=dataclasses.replace(RenderConfig().ball, enabled=False),
                       trajectory=dataclasses.replace(RenderConfig().trajectory, enabled=False))
    coarse = _render(ctx, synthetic_scene(DENSE_GRID - 1), cfg, size=(160, 90)).astype(float)
    dense = _render(ctx, synthetic_scene(DENSE_GRID), cfg, size=(160, 90)).astype(float)
    below = _render(ctx, synthetic_scene(DENSE_GRID), cfg, "below", size=(160, 90))
    assert np.abs(coarse - dense).mean() < 4.0   # per-vertex and per-pixel lighting agree
    assert below.mean() > 40


def test_grid_strips_draw_exactly_the_grid_triangles():
    from lossfilm.render.gl.strips import RESTART, grid_strip, is_standard_grid
    from golden import grid_indices

    ny, nx = 4, 5
    strip = grid_strip(ny, nx)
    tris = set()
    for band in np.split(strip, np.flatnonzero(strip == RESTART) + 1):
        band = band[band != RESTART]
        for k in range(len(band) - 2):
            t = band[k : k + 3] if k % 2 == 0 else band[[k + 1, k, k + 2]]  # strip winding
            r = int(np.argmin(t))
            tris.add(tuple(int(v) for v in np.roll(t, -r)))
    ref = {tuple(int(v) for v in np.roll(t, -int(np.argmin(t)))) for t in grid_indices(ny, nx)}
    assert tris == ref
    assert is_standard_grid(grid_indices(ny, nx), ny, nx)
    assert not is_standard_grid(grid_indices(ny, nx)[:, ::-1], ny, nx)  # other winding


def test_light_frustum_holds_the_bounds_and_tiles_cover_the_image():
    from lossfilm.render.gl.frusta import light_direction, light_matrix, tile_matrix

    lo, hi = np.array([-1.0, -2.0, 0.0]), np.array([3.0, 1.0, 0.5])
    m = light_matrix(lo, hi, light_direction(200.0, 30.0))
    corners = np.array([[x, y, z, 1.0] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
    clip = corners @ m.T
    assert np.all(np.abs(clip[:, :3] / clip[:, 3:]) <= 1.0)
    assert np.allclose(tile_matrix((640, 360), (0, 0, 640, 360)), np.eye(4))
    # the top-left quarter tile maps the image's top-left corner (NDC -1, +1) to its own
    quarter = tile_matrix((640, 360), (0, 0, 320, 180))
    assert np.allclose(quarter @ [-1.0, 1.0, 0.0, 1.0], [-1.0, 1.0, 0.0, 1.0])
    assert np.allclose(quarter @ [0.0, 0.0, 0.0, 1.0], [1.0, -1.0, 0.0, 1.0])


def test_solid_background_is_exactly_its_color(ctx, scene):
    img = _render(ctx, scene, RenderConfig(overlays=NO_TEXT, background=BackgroundConfig(kind="solid", top="#336699")))
    assert img[0, 0].tolist() == [0x33, 0x66, 0x99]
    assert img[-1, 0].tolist() == [0x33, 0x66, 0x99]


def test_colormap_colors_for_export():
    from lossfilm.render.color.colormaps import colormap_colors

    s = np.array([[0.0, 0.5], [1.0, np.nan]], np.float32)
    c = colormap_colors("viridis", s)
    assert c.shape == (2, 2, 3) and c.dtype == np.uint8
    lut = load_colormap("viridis")
    assert c[0, 0].tolist() == np.rint(lut[0] * 255).astype(int).tolist()
    assert c[1, 0].tolist() == np.rint(lut[-1] * 255).astype(int).tolist()
    assert c[1, 1].tolist() == c[0, 0].tolist()  # non-finite -> low end


def test_ball_rests_along_the_surface_normal():
    from lossfilm.render.mesh.resample import surface_normal_at

    topo, frame = synthetic_scene(16)
    X, _ = np.meshgrid(topo.x, topo.y)
    tilted = np.broadcast_to(np.array([-0.5, 0.0, 1.0], np.float32) / np.sqrt(1.25), (16, 16, 3))
    n = surface_normal_at(topo, np.ascontiguousarray(tilted), 0.123, -0.4)
    assert np.allclose(n, [-0.5 / np.sqrt(1.25), 0.0, 1.0 / np.sqrt(1.25)])
    assert np.allclose(surface_normal_at(topo, np.zeros((16, 16, 3), np.float32), 0.0, 0.0), [0, 0, 1])


def test_golden_mismatch_fails_and_writes_a_diff_image(ctx, scene, monkeypatch):
    """A fresh render matches the stored golden; a changed look does not, and leaves a diff."""
    import golden

    monkeypatch.delenv(golden.UPDATE_ENV, raising=False)
    fresh = _render(ctx, scene, RenderConfig(overlays=NO_TEXT), "default")
    assert_matches_golden("default", fresh)  # rendered now, compared with tests/goldens/
    diff_path = golden.FAILURE_DIR / "default_diff.png"
    diff_path.unlink(missing_ok=True)
    wrong = fresh.copy()
    wrong[: wrong.shape[0] // 4] = 255 - wrong[: wrong.shape[0] // 4]  # a quarter changed
    with pytest.raises(AssertionError, match="pixels differ"):
        assert_matches_golden("default", wrong)
    assert diff_path.is_file()
    # a real change of look (another colormap) is far beyond the tolerance too
    other = _render(ctx, scene, RenderConfig(overlays=NO_TEXT, colormap="magma"), "default")
    with pytest.raises(AssertionError, match="pixels differ"):
        assert_matches_golden("default", other)
