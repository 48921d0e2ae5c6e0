"""The key light's shadow map: the depth texture, and the pass that fills it each frame.

The pass draws, from the light (an orthographic frustum around the film's box,
:func:`lossfilm.render.gl.frusta.light_matrix`), a decimated copy of the height field
and every sphere (the ball, the actors) into a depth texture that the surface, ball and
floor shaders look up with percentage-closer filtering (``shaders/shadow.glsl``).
"""

from __future__ import annotations

import moderngl
import numpy as np

from lossfilm.render.gl.programs import set_uniform as _set
from lossfilm.render.scene.look import LightConfig

__all__ = ["make_shadow_map", "shadow_pass", "SHADOW_POLYGON_OFFSET"]

#: polygon offset (factor, units) in the shadow pass, against shadow acne.
SHADOW_POLYGON_OFFSET = (2.0, 4.0)


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
    """Fill ``renderer.shadow_map`` for this frame (heights already uploaded) and bind it to unit 1.

    Parameters
    ----------
    renderer : render.gl.renderer.SurfaceRenderer
    spheres : list of (center (3,), radius)
        The ball and the actors, in world units.
    solids : tuple of moderngl.VertexArray
        More casters in world positions through ``progs.depth_ball`` (the plinth's walls,
        when a floor catches their shadow).
    """
    ctx = renderer.ctx
    renderer.fbo_shadow.use()
    renderer.fbo_shadow.clear(depth=1.0)
    ctx.polygon_offset = SHADOW_POLYGON_OFFSET
    renderer.vao_depth_surface.render(renderer._surface_mode)
    for center, radius in spheres:
        _set(renderer.progs.depth_ball, "u_center", center)
        _set(renderer.progs.depth_ball, "u_radius", radius)
        renderer.vao_depth_ball.render(moderngl.TRIANGLES)
    if solids:
        _set(renderer.progs.depth_ball, "u_center", np.zeros(3))
        _set(renderer.progs.depth_ball, "u_radius", 1.0)
        for vao in solids:
            vao.render(moderngl.TRIANGLES)
    ctx.polygon_offset = (0.0, 0.0)
    renderer.shadow_map.use(location=1)
