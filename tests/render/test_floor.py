"""The floor: off it changes nothing; on it catches the key light's shadow and mirrors what stands on it."""

from __future__ import annotations

import numpy as np
import pytest
from golden import GOLDEN_SIZE, POSES, assert_matches_golden, compare, synthetic_scene

from lossfilm.render.camera.framing import surface_points
from lossfilm.render.gl.floor import floor_height, light_box, mirror_matrix
from lossfilm.render.gl.frusta import light_direction
from lossfilm.render.mesh.frame import CameraPose
from lossfilm.render.scene.scene import look_config

NO_TEXT = {"counter": "none", "loss": False}
#: low over the floor, looking across it at the plinth: the floor's reflection is in view
LOW = CameraPose(eye=(2.6, -2.4, 0.5), target=(0.0, 0.0, -0.1), fov_deg=35.0)


def test_mirror_light_box_and_framing_geometry():
    m = mirror_matrix(-0.5)
    np.testing.assert_allclose(m @ [0.3, 0.2, 1.0, 1.0], [0.3, 0.2, -2.0, 1.0])
    np.testing.assert_allclose(m @ m, np.eye(4))
    key = light_direction(210.0, 50.0)  # from -x, -y: shadows fall toward +x, +y
    lo, hi = light_box(np.array([-1.0, -1.0, 0.0]), np.array([1.0, 1.0, 0.4]), -0.3, key)
    assert lo[2] == -0.3 and hi[2] == 0.4
    throw = 0.7 / np.tan(np.radians(50.0))
    np.testing.assert_allclose(hi[:2] - 1.0, throw * np.abs(key[:2]) / np.linalg.norm(key[:2]), rtol=1e-9)
    grid = [(np.linspace(-1, 1, 5), np.linspace(-1, 1, 5), np.zeros((5, 5)))]
    lo3, hi3 = np.array([-1.0, -1.0, 0.0]), np.array([1.0, 1.0, 0.2])
    feet = surface_points(grid, lo3, hi3, base_depth=0.3, footing=0.1)[0][-4:]
    assert np.allclose(np.abs(feet[:, :2]), 1.1) and np.allclose(feet[:, 2], -0.3)



def _render(ctx, cfg, pose=POSES["default"], transparent=False, size=GOLDEN_SIZE, tile=None):
    from lossfilm.render.gl.stills import render_still

    topo, frame = synthetic_scene(48)
    img = render_still(ctx, topo, frame, pose, cfg, size, transparent=transparent, tile=tile)
    assert ctx.error == "GL_NO_ERROR"
    return img


def test_without_its_floor_the_exhibit_look_is_what_it_was(ctx):
    # the golden is the exhibit look rendered before there was a floor
    assert_matches_golden("look_exhibit_without_floor", _render(ctx, look_config("exhibit", overlays=NO_TEXT,
                                                                                 floor={"enabled": False})))


def _floor_points(pose: CameraPose, size, z: float) -> np.ndarray:
    """(H, W, 3) where each pixel's ray meets the plane of height z (nan where it goes up)."""
    W, H = size
    inv = np.linalg.inv(pose.projection_matrix(W / H) @ pose.view_matrix())
    xs = (np.arange(W) + 0.5) / W * 2 - 1
    ys = 1 - (np.arange(H) + 0.5) / H * 2
    X, Y = np.meshgrid(xs, ys)
    ends = []
    for zn in (-1.0, 1.0):
        p = np.stack([X, Y, np.full_like(X, zn), np.ones_like(X)], axis=-1) @ inv.T
        ends.append(p[..., :3] / p[..., 3:])
    d = ends[1] - ends[0]
    s = (z - ends[0][..., 2]) / d[..., 2]
    hit = ends[0] + s[..., None] * d
    hit[(s <= 0) | ~np.isfinite(s)] = np.nan
    return hit


def _shadow_classes(cfg, size) -> tuple[np.ndarray, np.ndarray]:
    """Floor pixels (masks) surely in the shadow of the plinth, and surely lit, at like distances from it.

    A floor point is in shadow when the ray from it toward the key light passes through
    the solid block: inside the plane's square and under the surface there. "Surely"
    keeps a margin of the penumbra on both sides.
    """
    topo, frame = synthetic_scene(48)
    lo, hi = np.asarray(topo.bounds.lo), np.asarray(topo.bounds.hi)
    plane = topo.bounds.size
    z = floor_height(cfg, lo[2], plane)
    p = _floor_points(POSES["default"], size, z)
    key = light_direction(cfg.light.azimuth, cfg.light.elevation)
    n = topo.x.size

    def inside(h: float, grow: float, lift: float) -> np.ndarray:
        xy = p[..., :2] + (h - z) / key[2] * key[:2]  # where the ray toward the light is at height h
        square = np.all(np.abs(xy) <= 1.0 + grow, axis=-1)
        ij = np.clip(np.rint((np.nan_to_num(xy) + 1.0) / 2.0 * (n - 1)).astype(int), 0, n - 1)
        return square & (h <= frame.heights[ij[..., 1], ij[..., 0]] + lift)

    heights = np.linspace(z, hi[2], 48)
    shadow = np.any([inside(h, -0.1, -0.05) for h in heights], axis=0)
    blocked = np.any([inside(h, 0.1, 0.05) for h in heights], axis=0)
    out_of = np.linalg.norm(np.maximum(np.abs(p[..., :2]) - 1.0, 0.0), axis=-1)
    near = (out_of > 0.2) & (out_of < 0.9)  # clear of the contact shadow, well inside the floor's fade
    return shadow & near, ~blocked & near


def _block(ctx, pose, grow: int = 2) -> np.ndarray:
    """(H, W) where the plinth (and what is on it) covers the picture, grown by ``grow`` pixels."""
    alone = _render(ctx, look_config("exhibit", overlays=NO_TEXT, floor={"enabled": False}), pose,
                    transparent=True, size=(320, 180))
    block = alone[..., 3] == 255 if grow == 0 else alone[..., 3] > 0
    for axis in (0, 1):
        for shift in range(1, grow + 1):
            block = block | np.roll(block, shift, axis) | np.roll(block, -shift, axis)
    return block


@pytest.mark.parametrize("catches", [True, False])
def test_the_floor_catches_the_shadow_of_the_plinth(ctx, catches):
    cfg = look_config("exhibit", overlays=NO_TEXT, floor={"reflect": 0.0, "shadow": catches})
    img = _render(ctx, cfg, size=(320, 180)).astype(np.float32).mean(axis=2)
    floor = ~_block(ctx, POSES["default"])
    shadow, lit = (mask & floor for mask in _shadow_classes(cfg, (320, 180)))
    assert shadow.sum() > 300 and lit.sum() > 300, (shadow.sum(), lit.sum())
    ratio = img[shadow].mean() / img[lit].mean()
    if catches:
        assert ratio < 0.7, ratio
    else:  # without the shadow lookup the same pixels are as bright as the lit ones
        assert ratio > 0.85, ratio


def test_the_reflection_changes_the_floor_below_the_plinth_and_not_the_sky(ctx):
    cfgs = {k: look_config("exhibit", overlays=NO_TEXT, floor={"reflect": k}) for k in (0.0, 0.8)}
    matte, shiny = (_render(ctx, cfgs[k], LOW, size=(320, 180)).astype(int) for k in (0.0, 0.8))
    block = _block(ctx, LOW, grow=0)
    diff = np.abs(shiny - matte).max(axis=2)
    topo, _ = synthetic_scene(48)
    z = floor_height(cfgs[0.0], topo.bounds.lo[2], topo.bounds.size)
    sky = np.isnan(_floor_points(LOW, (320, 180), z)[..., 0])  # rays that never meet the floor
    assert sky[:20].all() and diff[sky].max() <= 1
    inner = block & np.roll(block, 2, 0) & np.roll(block, -2, 0) & np.roll(block, 2, 1) & np.roll(block, -2, 1)
    assert diff[inner].max() <= 2  # the plinth itself is drawn as it was
    # just below the plinth's foot, in every column it stands in, the floor mirrors its walls
    cols = np.flatnonzero(block.any(axis=0))
    below = [diff[r + 3: r + 15, c].mean() for c in cols[5:-5] if (r := np.flatnonzero(block[:, c]).max()) + 15 < 180]
    assert len(below) > 100 and np.median(below) > 6, (len(below), np.median(below))


def test_the_floor_joins_across_the_tiles_of_a_still(ctx):
    cfg = look_config("exhibit", overlays=NO_TEXT)
    whole = _render(ctx, cfg, LOW, size=(320, 180))
    tiled = _render(ctx, cfg, LOW, size=(320, 180), tile=64)
    ratio, worst = compare(whole, tiled, pixel_tolerance=8)
    assert ratio < 0.005, (ratio, worst)


def test_floor_golden(ctx):
    assert_matches_golden("floor_reflection", _render(ctx, look_config("exhibit", overlays=NO_TEXT), LOW))
