"""What stands in the scene: the plinth, the surface, the ball, the actors and the markers.

Drawn through one view-projection, the camera's, or once before it the camera's mirror
image in the floor (:mod:`lossfilm.render.gl.floor`), into whichever framebuffer is bound,
with the programs and buffers of a :class:`~lossfilm.render.gl.renderer.SurfaceRenderer`.
Lines (trajectory, paths) and text are the camera's only: they are not reflected.
"""

from __future__ import annotations

import moderngl
import numpy as np

from lossfilm.render.color.srgb import linear_rgb
from lossfilm.render.gl.frusta import box_inside_clip
from lossfilm.render.gl.marks import draw_markers
from lossfilm.render.gl.programs import set_uniform as _set
from lossfilm.render.mesh.frame import Frame
from lossfilm.render.mesh.pointsets import MARKER_RADIUS

__all__ = ["draw_solids"]


def draw_solids(r, mvp: np.ndarray, eye: np.ndarray, px_scale: float, frame: Frame, center, radius: float,
                actors: list, *, mirror: bool = False) -> None:
    """Plinth, surface, ball, actors and markers of renderer ``r`` through ``mvp``, seen from ``eye``.

    ``mirror``: the floor's reflection pass (from under the floor): the plinth is drawn
    whole, and the surface, on a decimated grid, only where a solid plinth does not hide it.
    """
    ctx, cfg, progs = r.ctx, r.cfg, r.progs
    # seen from below its bottom the block would hide the underside that below-shots
    # are for: there the surface is drawn as an open sheet, as without a base
    if r.plinth is not None and (mirror or eye[2] > r.plinth.base_z):
        _set(progs.plinth, "u_mvp", mvp)
        _set(progs.plinth, "u_eye", eye)
        # first, writing depth: where the walls fade out, what they hide (the surface's
        # underside) stays hidden and the background shows through instead
        ctx.enable(moderngl.BLEND)  # premultiplied "over" the clear
        ctx.blend_func = moderngl.ONE, moderngl.ONE_MINUS_SRC_ALPHA
        r.plinth.draw()
        ctx.disable(moderngl.BLEND)
    solid_plinth = r.plinth is not None and cfg.base.fade == 0
    if not (mirror and solid_plinth):  # from below, a solid plinth's bottom hides the surface
        affine = (not mirror and r.vao_surface_affine is not None
                  and box_inside_clip(mvp, r._lo, r._hi, frame.heights))
        prog, vao = (progs.surface_affine, r.vao_surface_affine) if affine else (progs.surface, r.vao_surface)
        _set(prog, "u_mvp", mvp)
        _set(prog, "u_eye", eye)
        # undersides take the mirrored lights only when the eye is under the surface (or in
        # the floor's mirror pass, whose eye is); seen from above, through a cut edge, they
        # are lit as they are (shaders/lighting.glsl), eased over 2% of the plane
        t = float(np.clip((r.low - eye[2]) / (0.02 * r._plane) + 0.5, 0.0, 1.0))
        _set(prog, "u_mirror", 1.0 if mirror else t * t * (3.0 - 2.0 * t))
        for name, width in (("u_contour_width", cfg.contours.width), ("u_grid_width", cfg.grid.width)):
            _set(prog, name, width * px_scale)
        (r.vao_surface_mirror if mirror else vao).render(r._surface_mode)
    for k, v in (("u_mvp", mvp), ("u_eye", eye), ("u_radius", radius)):
        _set(progs.ball, k, v)
    if center is not None:
        _set(progs.ball, "u_center", center)
        _set(progs.ball, "u_sun", r.sun_at(center))
        r.vao_ball.render(moderngl.TRIANGLES)
    for actor_center, color in actors:
        _set(progs.ball, "u_center", actor_center)
        _set(progs.ball, "u_sun", r.sun_at(actor_center))
        _set(progs.ball, "u_ball_color", color)
        r.vao_ball.render(moderngl.TRIANGLES)
    if actors:
        _set(progs.ball, "u_ball_color", linear_rgb(cfg.ball.color)[:3])
    draw_markers(r, frame, mvp, eye, radius * MARKER_RADIUS)
