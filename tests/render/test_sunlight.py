"""The key light's shadow of the height field on itself (render/mesh/sunlight.py)."""

from __future__ import annotations

import numpy as np
import pytest
from golden import grid_indices, height_normals

from lossfilm.render.gl.frusta import light_direction
from lossfilm.render.mesh.frame import Bounds, CameraPose, Frame, Topology
from lossfilm.render.mesh.sunlight import LEVELS, SunShadow, lit_fraction

N = 201


def _grid(n: int = N):
    x = np.linspace(-1.0, 1.0, n)
    X, Y = np.meshgrid(x, x)
    return x, X, Y


def _lit(z, x, azimuth, elevation, size=0.0):
    sun = SunShadow(x, x, light_direction(azimuth, elevation), size)
    sheets = sun(z)
    assert sheets.shape == (*sun.texture_shape, LEVELS)
    X, Y = np.meshgrid(x, x)
    return lit_fraction(sun.at(sheets, X, Y), z, sun.ramp), sun


def test_a_wall_shades_the_ground_over_its_height_over_the_tangent_of_the_light():
    x, X, _ = _grid()
    z = np.where(X > 0.5, 0.5, 0.0)
    lit, _ = _lit(z, x, azimuth=0.0, elevation=45.0)  # light from +x, 45 degrees: a shadow 0.5 long
    row = lit[N // 2]
    assert np.all(row[(x > 0.03) & (x < 0.47)] < 0.01), "the ground behind the wall is lit"
    assert np.all(row[x < -0.03] > 0.99), "the ground beyond the shadow is dark"
    assert np.all(row[x > 0.52] > 0.99), "the wall's top is in shadow"
    # the other way round the wall casts toward -x... from +x light: nothing falls on x > 0.5
    lit_other, _ = _lit(z, x, azimuth=180.0, elevation=45.0)
    assert np.all(lit_other[N // 2][x < 0.45] > 0.99)


def test_flat_and_sunward_slopes_are_lit_and_the_shadow_falls_away_from_the_light():
    x, X, Y = _grid(101)
    assert _lit(np.zeros_like(X), x, 30.0, 20.0, size=3.0)[0].min() > 0.99
    # a plane rising toward the light more gently than the light's elevation
    assert _lit(0.3 * X, x, 0.0, 30.0, size=3.0)[0].min() > 0.99
    bump = 0.3 * np.exp(-(X ** 2 + Y ** 2) / 0.02)
    lit, _ = _lit(bump, x, 225.0, 30.0, size=3.0)  # light from -x, -y
    at = lambda px, py: lit[np.argmin(abs(x - py)), np.argmin(abs(x - px))]  # noqa: E731
    assert at(0.2, 0.2) < 0.05 and at(-0.2, -0.2) > 0.99


def test_the_penumbra_widens_with_the_distance_to_what_casts_it():
    """A fence of height H lights the ground fully beyond H / tan(alpha - size/2) and not
    at all before H / tan(alpha + size/2): twice the height, twice the penumbra."""
    x, X, _ = _grid(801)
    alpha, size = 30.0, 6.0
    widths = []
    for height in (0.15, 0.3):
        fence = np.where(np.abs(X - 0.8) < 0.004, height, 0.0)
        lit, _ = _lit(fence, x, 0.0, alpha, size=size)
        row = lit[400]
        part = (x < 0.79) & (row > 0.02) & (row < 0.98)
        width = part.sum() * (x[1] - x[0])
        expected = height * (1 / np.tan(np.radians(alpha - size / 2)) - 1 / np.tan(np.radians(alpha + size / 2)))
        assert width == pytest.approx(expected, rel=0.2, abs=2 * (x[1] - x[0]))
        widths.append(width)
    assert widths[1] / widths[0] == pytest.approx(2.0, rel=0.2)


def test_invalid_heights_and_the_world_beyond_the_edge_cast_nothing():
    x, X, _ = _grid(101)
    z = np.where(X > 0.5, np.nan, 0.0)  # a wall of NaN
    lit, _ = _lit(z, x, 0.0, 20.0, size=2.0)
    assert np.all(lit[:, x < 0.45] > 0.99)
    # a light straight above, or no finite height: nothing to shade
    sun = SunShadow(x, x, np.array([0.0, 0.0, 1.0]), 2.0)
    assert sun.trivial and np.all(sun(z) < -1e29) and np.all(lit_fraction(sun.at(sun(z), 0.3, 0.2), 0.0) == 1.0)
    with pytest.raises(ValueError, match="expected shape"):
        SunShadow(x, x, light_direction(0, 30), 2.0)(np.zeros((3, 3)))


def test_a_finer_turned_grid_agrees_with_the_coarse_one():
    x, X, Y = _grid(51)
    z = np.where(X > 0.5, 0.5, 0.0)
    fine = SunShadow(x, x, light_direction(20, 45), 0.0, refine=2)
    coarse = SunShadow(x, x, light_direction(20, 45), 0.0)
    assert fine.texture_shape[0] > 1.9 * coarse.texture_shape[0]
    # on the ground behind the wall, away from its ends, the same sheet
    ground = (X > 0.1) & (X < 0.4) & (np.abs(Y) < 0.5)
    a = fine.at(fine(z), X, Y)[ground]
    b = coarse.at(coarse(z), X, Y)[ground]
    assert np.allclose(a, b, atol=0.03)
    assert np.all(lit_fraction(a, 0.0) < 0.01)



def _trench(n: int):
    """A steep trench running slantwise through the grid (25 degrees off its rows)."""
    x = np.linspace(-1.0, 1.0, n, dtype=np.float32)
    X, Y = np.meshgrid(x, x)
    theta = np.radians(25.0)
    across = -X * np.sin(theta) + Y * np.cos(theta)
    # a low plateau (the caster's rim), a deep trench, a tall far wall (the receiver)
    z = (0.25 + 0.35 * np.tanh((across - 0.05) / 0.1) - 0.8 * np.exp(-(across / 0.08) ** 2)).astype(np.float32)
    return x, z, theta


@pytest.mark.parametrize("n", [97, 257])  # lit per pixel, and per vertex (a dense grid)
def test_the_shadow_on_a_steep_slanted_wall_has_a_smooth_edge(ctx, n):
    """The mode_connectivity flaw: the near rim's shadow on the far wall of a trench that
    runs slantwise through the grid was drawn with saw teeth (the caster's facets through
    the shadow map, then each triangle's interpolated shadow). The edge, found per image
    column, must follow a smooth curve within a pixel."""
    from lossfilm.render.gl.renderer import SurfaceRenderer
    from lossfilm.render.scene.scene import look_config

    x, z, theta = _trench(n)
    topo = Topology(x=x, y=x, indices=grid_indices(n, n),
                    bounds=Bounds((-1, -1, float(z.min())), (1, 1, float(z.max()))))
    frame = Frame(index=0, time=0.0, position=0.0, heights=z, normals=height_normals(z, x, x),
                  scalar=np.full_like(z, 0.5), minimum=np.zeros(3, np.float32))
    # the light comes across the trench from its low side, 25 degrees up
    azimuth = np.degrees(theta) + 270.0
    cfg = look_config("clay", overlays={"counter": "none", "loss": False}, floor={"enabled": False},
                      occlusion={"enabled": False}, base={"enabled": False}, fog=0.0,
                      light={"azimuth": float(azimuth), "elevation": 25.0, "size": 1.0, "fill": 0.0,
                             "ambient": 0.05, "rim": 0.0})
    across = np.array([-np.sin(theta), np.cos(theta)])
    target = np.array([*(0.15 * across), 0.1])
    eye = target + np.array([*(-2.0 * across), 1.2])
    pose = CameraPose(eye=tuple(eye), target=tuple(target), up=(0.0, 0.0, 1.0), fov_deg=30.0)
    r = SurfaceRenderer(ctx, topo, cfg, (480, 270))
    image = r.render(frame, pose).astype(np.float64).mean(axis=2)
    r.release()
    # per column, the first row (from the top) where the lit wall gives way to the shadow
    lit_level, dark_level = np.percentile(image[40:230, 60:420], [90, 5])
    mid = 0.5 * (lit_level + dark_level)
    cols = np.arange(100, 380)
    edge = []
    for c in cols:
        col = image[:, c]
        below = np.nonzero((col[:-1] >= mid) & (col[1:] < mid))[0]
        below = below[below > 30]
        assert below.size, f"no shadow edge in column {c}"
        k = below[0]
        edge.append(k + (col[k] - mid) / (col[k] - col[k + 1]))  # sub-pixel crossing
    edge = np.array(edge)
    fit = np.polyval(np.polyfit(cols, edge, 3), cols)
    rough = np.sqrt(np.mean((edge - fit) ** 2))
    assert rough < 0.3, f"the shadow's edge wanders {rough:.2f} px (rms) off a smooth curve: saw teeth"
