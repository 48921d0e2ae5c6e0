"""The key light's shadow maps: the depth textures, and the pass that fills them each frame.

The surface shadows itself without a map: ``render/mesh/sunlight.py`` traces the key light
through the height field into shadow sheets that each pixel compares its height with (a
map stretched over a wall the light grazes turns every caster edge into saw teeth). The
maps hold what the height field does not:

- the sphere map (unit 1): every sphere (the ball, the actors), drawn from the light
  (an orthographic frustum around the film's box,
  :func:`lossfilm.render.gl.frusta.light_matrix`). The surface and the spheres look it up
  with percentage-closer filtering (``shaders/shadow.glsl``);
- the floor map (unit 4, only when a floor catches the shadow): the spheres again, a
  decimated copy of the height field and the plinth's walls, for the floor alone, whose
  wide filter hides the caster's facets.
"""

from __future__ import annotations

import moderngl
import numpy as np

from lossfilm.render.gl.frusta import light_direction
from lossfilm.render.gl.programs import set_uniform as _set
from lossfilm.render.mesh.frame import Topology
from lossfilm.render.mesh.sunlight import LEVELS, SunShadow
from lossfilm.render.scene.look import LightConfig

__all__ = ["make_shadow_map", "make_sun", "shadow_pass", "SHADOW_POLYGON_OFFSET", "SUN_REFINE_VERTICES"]

#: polygon offset (factor, units) in the shadow pass, against shadow acne.
SHADOW_POLYGON_OFFSET = (2.0, 4.0)
#: grids up to this many vertices get the height field's shadow sheets at twice their
#: resolution (~5 ms at 129 x 256 vertices, ~20 ms at 257^2 here); larger ones at 3/4 of
#: it (the turned grid covers up to twice the plane's area: about as many samples as vertices).
SUN_REFINE_VERTICES = 100_000


def make_sun(ctx: moderngl.Context, topology: Topology, light: LightConfig):
    """``(SunShadow, its texture)`` of the height field's own shadow, ``(None, None)`` without shadows.

    The texture (unit 3, RGBA float: the sheets) is sampled per pixel by the surface.
    """
    if not light.shadows:
        return None, None
    n = topology.shape[0] * topology.shape[1]
    refine = 2.0 if n <= SUN_REFINE_VERTICES else 0.75
    sun = SunShadow(topology.x, topology.y, light_direction(light.azimuth, light.elevation), light.size,
                    refine=refine)
    texture = ctx.texture(sun.texture_shape[::-1], LEVELS, dtype="f4")
    texture.repeat_x = texture.repeat_y = False
    texture.filter = (moderngl.LINEAR, moderngl.LINEAR)
    return sun, texture


def make_shadow_map(ctx: moderngl.Context, light: LightConfig):
    """``(depth texture, framebuffer)`` of the key light, or ``(None, None)`` without shadows."""
    if not light.shadows:
        return None, None
    s = int(min(light.shadow_map_size, ctx.info.get("GL_MAX_TEXTURE_SIZE", 16384)))
    texture = ctx.depth_texture((s, s))
    texture.compare_func = "<="
    texture.repeat_x = texture.repeat_y = False
    texture.filter = (moderngl.LINEAR, moderngl.LINEAR)
    return texture, ctx.framebuffer(depth_attachment=texture)


def shadow_pass(renderer, spheres: list[tuple[np.ndarray, float]], solids: tuple = ()) -> None:
    """Fill the renderer's shadow maps for this frame (heights already uploaded); bind them.

    Parameters
    ----------
    renderer : render.gl.renderer.SurfaceRenderer
    spheres : list of (center (3,), radius)
        The ball and the actors, in world units.
    solids : tuple of moderngl.VertexArray
        More casters on the floor in world positions through ``progs.depth_ball`` (the
        plinth's walls).
    """
    ctx = renderer.ctx
    ctx.polygon_offset = SHADOW_POLYGON_OFFSET
    for fbo, whole in ((renderer.fbo_shadow, False), (renderer.fbo_floor_shadow, True)):
        if fbo is None:
            continue
        fbo.use()
        fbo.clear(depth=1.0)
        if whole:
            renderer.vao_depth_surface.render(renderer._surface_mode)
        for center, radius in spheres:
            _set(renderer.progs.depth_ball, "u_center", center)
            _set(renderer.progs.depth_ball, "u_radius", radius)
            renderer.vao_depth_ball.render(moderngl.TRIANGLES)
        if whole and solids:
            _set(renderer.progs.depth_ball, "u_center", np.zeros(3))
            _set(renderer.progs.depth_ball, "u_radius", 1.0)
            for vao in solids:
                vao.render(moderngl.TRIANGLES)
    ctx.polygon_offset = (0.0, 0.0)
    renderer.shadow_map.use(location=1)
    if renderer.floor_shadow_map is not None:
        renderer.floor_shadow_map.use(location=4)
