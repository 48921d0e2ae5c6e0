"""The key light bounced once off the surroundings (render/mesh/bounce.py), then on GL pixels."""

from __future__ import annotations

import numpy as np
from golden import grid_indices, height_normals

from lossfilm.render.gl.frusta import light_direction
from lossfilm.render.mesh.bounce import key_bounce
from lossfilm.render.mesh.frame import Bounds, CameraPose, Frame, Topology

N = 161
KEY = light_direction(0.0, 35.0)  # from +x


def _valley(n: int = N):
    """Flat ground for x < -0.2, and a deep V-valley along x = 0.4: its wall beyond (x > 0.4)
    faces -x, away from the key light from +x."""
    x = np.linspace(-1.0, 1.0, n)
    X, _ = np.meshgrid(x, x)
    z = np.where(X > -0.2, 0.9 * np.abs(X - 0.4) - 0.54, 0.0)
    return x, z.astype(np.float32)


def test_flat_ground_gets_no_bounce_and_a_valley_wall_turned_from_the_light_gets_some():
    x, z = _valley()
    normals = height_normals(z, x, x)
    flat = key_bounce(np.zeros_like(z), height_normals(np.zeros_like(z), x, x), None, KEY, x, x, 2.0)
    assert np.abs(flat).max() < 1e-6, "an open plane sees no surroundings"
    b = key_bounce(z, normals, None, KEY, x, x, 2.0)
    col = lambda wx: int(np.argmin(np.abs(x - wx)))  # noqa: E731
    row = N // 2
    dark_wall = b[row, col(0.5)]  # faces -x, away from the key: lit only by what bounces
    assert dark_wall > 0.02, f"the wall turned from the light gets {dark_wall:.3f}"
    assert dark_wall > 5 * abs(b[row, col(-0.8)]), "the open ground far from the valley gets as much"
    assert np.all(b >= 0) and np.all(np.isfinite(b))
    # without the key light's irradiance around, nothing bounces
    unlit = key_bounce(z, normals, lambda xs, ys, zz: np.zeros_like(zz), KEY, x, x, 2.0)
    assert np.abs(unlit).max() < 1e-6



def test_bounce_lifts_the_shadowed_wall_on_screen_and_leaves_open_ground(ctx):
    from lossfilm.render.gl.renderer import SurfaceRenderer
    from lossfilm.render.scene.scene import look_config

    x, z = _valley(129)
    x = x.astype(np.float32)
    topo = Topology(x=x, y=x, indices=grid_indices(129, 129), bounds=Bounds((-1, -1, float(z.min())), (1, 1, 0.2)))
    frame = Frame(index=0, time=0.0, position=0.0, heights=z, normals=height_normals(z, x, x),
                  scalar=np.full_like(z, 0.5), minimum=np.zeros(3, np.float32))
    pose = CameraPose(eye=(0.0, -0.2, 3.0), target=(0.0, 0.0, 0.0), up=(0.0, 1.0, 0.0))
    images = {}
    for bounce in (0.0, 1.0):
        cfg = look_config("clay", overlays={"counter": "none", "loss": False}, floor={"enabled": False},
                          occlusion={"bounce": bounce}, light={"azimuth": 0.0, "elevation": 35.0})
        r = SurfaceRenderer(ctx, topo, cfg, (160, 160))
        images[bounce] = r.render(frame, pose).astype(np.int32)
        r.release()
    # top view: world x = -1..1 spans the frame's width (90% covered), rows are y
    col = lambda wx: int(80 + 80 * wx / 1.25 * 0.95)  # noqa: E731
    wall = (slice(60, 100), slice(col(0.46), col(0.56)))   # the wall facing -x
    ground = (slice(60, 100), slice(col(-0.9), col(-0.7)))
    lift = images[1.0][wall].mean() - images[0.0][wall].mean()
    assert lift > 2, f"bounce lifted the shadowed wall by only {lift:.1f} code values"
    assert np.abs(images[1.0][ground] - images[0.0][ground]).max() <= 2


def test_a_shadowed_wall_gets_the_light_of_the_sunlit_wall_it_faces():
    """The hidden part of the shadowed wall's sky is the sunlit wall across the valley, so
    the bounce is that wall's irradiance times the hidden fraction, not the landscape's
    mean irradiance (flat ground and the valley's far side together) times it."""
    from lossfilm.render.mesh.occlusion import horizon_occlusion

    x, z = _valley()
    normals = height_normals(z, x, x)
    b = key_bounce(z, normals, None, KEY, x, x, 2.0)
    col = lambda wx: int(np.argmin(np.abs(x - wx)))  # noqa: E731
    row = N // 2
    hidden = 1.0 - horizon_occlusion(z, x, x, radius=2.0)[row, col(0.5)]
    facing = float(normals[row, col(0.3)] @ KEY)  # the wall across, turned to the light
    assert hidden > 0.2 and facing > 0.9
    ratio = b[row, col(0.5)] / (hidden * facing)
    assert 0.75 < ratio < 1.1, f"bounce {b[row, col(0.5)]:.3f} = {ratio:.2f} x hidden {hidden:.2f} x facing {facing:.2f}"
