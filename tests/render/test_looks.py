"""Named looks: the registry, the merge under a scene's own keys, errors, and the plinth."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from golden import GOLDEN_SIZE, POSES, assert_matches_golden, synthetic_scene

from lossfilm.render.scene.errors import ConfigErrors
from lossfilm.render.scene.look import RenderConfig
from lossfilm.render.scene.looks import LOOKS, looks_help
from lossfilm.render.scene.scene import look_config
from lossfilm.render.gl.plinth import ROWS, wall_indices, wall_vertices
from lossfilm.render.scene.scene import load_scene

NO_TEXT = {"counter": "none", "loss": False}


def test_registry_has_the_required_looks_each_described():
    assert {"cinematic", "exhibit", "paper", "clay", "neon"} <= set(LOOKS)
    for name, look in LOOKS.items():
        assert look.description and "\n" not in look.description
        assert look_config(name).look == name
    assert look_config("cinematic") == RenderConfig()  # the default look is the defaults
    assert all(name in looks_help() for name in LOOKS)


def test_paper_look_is_white_without_fog_or_plinth():
    cfg = look_config("paper")
    assert (cfg.background.kind, cfg.background.top, cfg.fog, cfg.base.enabled) == ("solid", "#ffffff", 0.0, False)


def test_scene_keys_override_the_look(tmp_path):
    scene = tmp_path / "s.yaml"
    scene.write_text("render:\n  look: exhibit\n  fog: 0.4\n  base: {color: '#102030'}\n  light: {azimuth: 10}\n")
    cfg = load_scene(scene).render
    exhibit = look_config("exhibit")
    assert cfg.fog == 0.4 and cfg.base.color == "#102030" and cfg.light.azimuth == 10.0
    # keys the scene does not give come from the look, also inside a mapping it does give
    assert cfg.base.depth == exhibit.base.depth and cfg.light.elevation == exhibit.light.elevation
    assert cfg.background == exhibit.background
    # --set picks a look too, and the scene's explicit keys still win
    cfg = load_scene(scene, ["render.look=paper"]).render
    assert cfg.background.top == "#ffffff" and cfg.fog == 0.4


def test_unknown_look_names_file_line_col(tmp_path):
    scene = tmp_path / "s.yaml"
    scene.write_text("render:\n  look: cathedral\n")
    with pytest.raises(ConfigErrors) as err:
        load_scene(scene)
    text = str(err.value)
    assert f"{scene}:2:9: render.look" in text and "cinematic" in text


def test_keys_and_help_list_the_looks():
    keys = subprocess.run([sys.executable, "-m", "render.cli", "keys", "render"], capture_output=True, text=True)
    assert keys.returncode == 0 and "render.look" in keys.stdout and "exhibit" in keys.stdout
    helped = subprocess.run([sys.executable, "-m", "render.cli", "--help"], capture_output=True, text=True)
    assert helped.returncode == 0
    assert all(name in helped.stdout for name in LOOKS) and LOOKS["clay"].description[:30] in helped.stdout


def test_wall_geometry_hangs_from_the_edge_to_the_base():
    x = np.linspace(-1, 1, 5)
    y = np.linspace(-1, 1, 4)
    z = np.arange(20, dtype=float).reshape(4, 5)
    v = wall_vertices(z, x, y, -3.0, band=0.5)
    assert v.shape == (ROWS * (2 * 5 + 2 * 4) + 4, 8)
    south = v[: ROWS * 5, :3].reshape(ROWS, 5, 3)
    np.testing.assert_array_equal(south[0, :, 2], z[0])          # the edge's own heights
    assert np.all(south[-1, :, 2] == -3.0) and np.all(v[:5, 4] == -1.0)  # bottom; normal -y
    assert np.all(np.diff(south[:, :, 2], axis=0) <= 0)          # rows go down the wall
    tri = wall_indices(4, 5)
    assert tri.max() == v.shape[0] - 1 and tri.shape == (2 * (ROWS - 1) * (4 + 3 + 4 + 3) + 2, 3)



def _render(ctx, cfg, pose="default", transparent=False, scene=None):
    from lossfilm.render.gl.renderer import SurfaceRenderer

    topo, frame = scene or synthetic_scene(48)
    r = SurfaceRenderer(ctx, topo, cfg, GOLDEN_SIZE, transparent=transparent)
    try:
        img = r.render(frame, POSES[pose])
    finally:
        r.release()
    assert ctx.error == "GL_NO_ERROR"
    return img


def test_plinth_walls_are_drawn_below_the_surface_edge_only(ctx):
    scene = synthetic_scene(48)
    with_base = _render(ctx, look_config(overlays=NO_TEXT), transparent=True, scene=scene)
    without = _render(ctx, look_config(overlays=NO_TEXT, base={"enabled": False}), transparent=True, scene=scene)
    added = (with_base[..., 3] > 0) & (without[..., 3] == 0)
    assert added.mean() > 0.05  # the walls cover a real part of the frame
    # every column where the walls add pixels: they are all below the surface's lowest pixel
    cols = np.flatnonzero(added.any(axis=0))
    for c in cols[:: max(1, cols.size // 40)]:
        surface_rows = np.flatnonzero(without[:, c, 3] > 0)
        if surface_rows.size:
            assert np.flatnonzero(added[:, c]).min() >= surface_rows.max() - 1
    # where the surface was drawn it still is (the walls hide nothing of it seen from above)
    both = (without[..., 3] == 255)
    assert (with_base[..., 3][both] == 255).all()
    # seen from below the base, the open underside is shown as before
    below_a = _render(ctx, look_config(overlays=NO_TEXT), "below", scene=scene)
    below_b = _render(ctx, look_config(overlays=NO_TEXT, base={"enabled": False}), "below", scene=scene)
    assert np.abs(below_a.astype(int) - below_b.astype(int)).max() <= 2


@pytest.mark.parametrize("name", list(LOOKS))
def test_look_goldens(ctx, name):
    img = _render(ctx, look_config(name, overlays=NO_TEXT))
    assert_matches_golden(f"look_{name}", img)


def test_metal_and_studio_environment_change_the_reflection(ctx):
    base = dict(overlays=NO_TEXT, base={"enabled": False})
    plain = _render(ctx, look_config(**base, light={"environment": "none"}), transparent=True).astype(int)
    sky = _render(ctx, look_config(**base), transparent=True).astype(int)
    metal = _render(ctx, look_config(**base, material={"metalness": 1.0, "roughness": 0.3},
                                     light={"environment": "studio"}), transparent=True).astype(int)
    surface = plain[..., 3] == 255
    # the sky dome's reflection only adds light (Fresnel: most at grazing angles)
    added = (sky[..., :3] - plain[..., :3])[surface].sum(axis=-1)
    assert added.mean() > 3 and (added >= -3).mean() > 0.99
    # a metal loses its diffuse colour: far from the plain dielectric nearly everywhere
    assert (np.abs(metal[..., :3] - sky[..., :3])[surface].max(axis=-1) > 24).mean() > 0.5
    assert_matches_golden("metal_studio", metal.astype(np.uint8))


def test_sky_dome_lights_a_slope_by_its_integral(ctx):
    """The diffuse light of the sky dome (environment: sky) on a slope is the dome's
    cosine-weighted integral, which dims with the dome toward the horizon: a 60 degree
    slope gets less than a hemisphere light's 0.5 + 0.5 n_z would give it."""
    from lossfilm.render.color.srgb import linear_rgb, srgb_to_linear
    from lossfilm.render.gl.renderer import SurfaceRenderer
    from lossfilm.render.mesh.frame import Bounds, CameraPose, Frame, Topology
    from golden import grid_indices, height_normals

    n = 65
    x = np.linspace(-1.0, 1.0, n, dtype=np.float32)
    X, _ = np.meshgrid(x, x)
    z = np.where(X > 0.0, np.tan(np.radians(60.0)) * X, 0.0).astype(np.float32)  # flat, then 60 deg
    topo = Topology(x=x, y=x, indices=grid_indices(n, n), bounds=Bounds((-1, -1, 0.0), (1, 1, 1.8)))
    frame = Frame(index=0, time=0.0, position=0.0, heights=z, normals=height_normals(z, x, x),
                  scalar=np.full_like(z, 0.5), minimum=np.zeros(3, np.float32))
    sky, ground = "#ffffff", "#606060"
    cfg = look_config("clay", overlays=NO_TEXT, floor={"enabled": False}, base={"enabled": False},
                      background={"kind": "transparent"}, tonemap="none", exposure=0.5,
                      occlusion={"enabled": False},
                      light={"intensity": 0.0, "fill": 0.0, "environment": "sky", "sky_color": sky,
                             "ground_color": ground})
    r = SurfaceRenderer(ctx, topo, cfg, (200, 150), transparent=True)
    img = r.render(frame, CameraPose(eye=(-2.5, -0.4, 2.2), target=(0.2, 0.0, 0.3), fov_deg=45.0))
    r.release()
    lum = srgb_to_linear(img[..., :3] / 255.0).mean(axis=-1)
    covered = img[..., 3] == 255
    # the two faces: the flat half and the slope, told apart by their (uniform) brightness
    values = lum[covered]
    lo, hi = np.percentile(values, 10), np.percentile(values, 90)
    assert hi > lo * 1.05
    flat = np.median(values[values > 0.5 * (lo + hi)])
    slope = np.median(values[values < 0.5 * (lo + hi)])

    def dome(nz):  # the dome of lighting.glsl's environment(), integrated numerically
        mu = np.linspace(-1.0, 1.0, 40001)
        t = np.clip((mu + 0.3) / 0.9, 0.0, 1.0)
        radiance = t * t * (3 - 2 * t)
        a, b = nz * mu, np.sqrt(1 - nz * nz) * np.sqrt(np.clip(1 - mu * mu, 0, None))
        with np.errstate(all="ignore"):
            around = np.where(a >= b, 2 * np.pi * a, np.where(a <= -b, 0.0, 2 * (
                a * np.arccos(np.clip(-a / np.maximum(b, 1e-30), -1, 1)) + np.sqrt(np.clip(b * b - a * a, 0, None)))))
        return np.trapezoid(radiance * around, mu) / np.pi

    g, s = linear_rgb(ground)[:3].mean(), linear_rgb(sky)[:3].mean()
    want = (g + (s - g) * dome(0.5)) / (g + (s - g) * dome(1.0))
    hemisphere = (g + (s - g) * 0.75) / s
    got = slope / flat
    assert abs(got - want) < 0.015, f"slope / flat {got:.3f}, the dome's integral {want:.3f}, a hemisphere's {hemisphere:.3f}"
