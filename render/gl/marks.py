"""What is drawn on the surface besides it: extra balls, point-set markers, ribbons.

Functions of a :class:`~lossfilm.render.gl.renderer.SurfaceRenderer` ``renderer`` and a frame:
they use its programs, buffers and look, and draw into its current framebuffer.
"""

from __future__ import annotations

import moderngl
import numpy as np

from lossfilm.render.color.srgb import linear_rgb
from lossfilm.render.gl.programs import set_uniform as _set
from lossfilm.render.gl.shading import trajectory_rgba
from lossfilm.render.mesh.frame import Frame
from lossfilm.render.mesh.pointsets import color_of as point_set_color
from lossfilm.render.mesh.resample import surface_normal_at
from lossfilm.render.scene.colors import parse_color

__all__ = ["actor_centers", "draw_markers", "draw_paths", "draw_trajectory"]

#: the trajectory ribbon floats this fraction of the plane size above the surface.
TRAJECTORY_LIFT = 0.004


def actor_centers(renderer, frame: Frame, radius: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """(centre, linear colour) of each extra ball in ``frame.actors``, resting on the surface."""
    pts = np.asarray(frame.actors, np.float64).reshape(-1, 3)
    out = []
    for k, p in enumerate(pts):
        if not np.all(np.isfinite(p)):
            continue
        name = frame.actor_colors[k] if k < len(frame.actor_colors) else renderer.cfg.ball.color
        center = p + radius * surface_normal_at(renderer.topology, frame.normals, p[0], p[1])
        out.append((center, linear_rgb(name, "mesh.descent.color")[:3]))
    return out


def draw_markers(renderer, frame: Frame, mvp: np.ndarray, eye, radius: float) -> None:
    """Small spheres on the surface for each named point set of ``frame.markers``."""
    sets = {k: np.asarray(v, np.float64).reshape(-1, 3) for k, v in getattr(frame, "markers", {}).items()}
    if not any(v.shape[0] for v in sets.values()):
        return
    for k, v in (("u_mvp", mvp), ("u_eye", eye), ("u_radius", radius)):
        _set(renderer.progs.ball, k, v)
    for name, pts in sets.items():
        _set(renderer.progs.ball, "u_ball_color", linear_rgb(point_set_color(name))[:3])
        for p in pts:
            center = p + radius * surface_normal_at(renderer.topology, frame.normals, p[0], p[1])
            _set(renderer.progs.ball, "u_center", center)
            _set(renderer.progs.ball, "u_sun", renderer.sun_at(center))
            renderer.vao_ball.render(moderngl.TRIANGLES)
    _set(renderer.progs.ball, "u_ball_color", linear_rgb(renderer.cfg.ball.color)[:3])


def draw_paths(renderer, frame: Frame, mvp: np.ndarray, px_scale: float) -> None:
    """Ribbons for each named polyline of ``frame.paths``, drawn like the trajectory."""
    paths = getattr(frame, "paths", {})
    if not paths:
        return
    for name, pts in paths.items():
        pts = np.asarray(pts, np.float32).reshape(-1, 3)
        if pts.shape[0] >= 2:
            r, g, b, a = parse_color(point_set_color(name), "paths")  # as the trajectory's
            _set(renderer.progs.line, "u_color", np.array([r, g, b, a]))
            draw_trajectory(renderer, pts, mvp, px_scale)
    _set(renderer.progs.line, "u_color", trajectory_rgba(renderer.cfg))


def draw_trajectory(renderer, traj: np.ndarray, mvp: np.ndarray, px_scale: float) -> None:
    k = traj.shape[0]
    if k > renderer._traj_capacity:  # grows rarely (doubling), never per frame
        while renderer._traj_capacity < k:
            renderer._traj_capacity *= 2
        renderer.vbo_traj.orphan(renderer._traj_capacity * 12)
    lifted = traj + np.float32(TRAJECTORY_LIFT * renderer._plane) * np.array([0, 0, 1], np.float32)
    renderer.vbo_traj.write(np.ascontiguousarray(lifted, np.float32))
    _set(renderer.progs.line, "u_mvp", mvp)
    _set(renderer.progs.line, "u_viewport", np.array(renderer.size, np.float64))
    _set(renderer.progs.line, "u_width", renderer.cfg.trajectory.width * px_scale)
    renderer.fbo.depth_mask = False  # the ribbon is seen through itself, never hides the ball
    renderer.vao_traj.render(moderngl.LINE_STRIP, vertices=k)
    renderer.fbo.depth_mask = True
