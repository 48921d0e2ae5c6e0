"""The look as GL state: which shader features a film compiles in, and its fixed uniforms.

:func:`build_programs` picks the ``#define`` s from the :class:`~lossfilm.render.scene.look.RenderConfig`
and the grid size (dense grids are lit per vertex, see :data:`DENSE_GRID`) and compiles
every program a :class:`~lossfilm.render.gl.renderer.SurfaceRenderer` draws with.
:func:`set_look_uniforms` writes the uniforms that stay the same for a whole film
(lights, material, fog, contour and grid spacing, colors) once, before the first frame.
"""

from __future__ import annotations

import dataclasses

import moderngl
import numpy as np

from lossfilm.render.gl.floor import CONTACT, FLOOR_PENUMBRA, floor_height, light_box
from lossfilm.render.gl.frusta import fill_direction, light_direction, light_matrix
from lossfilm.render.scene.look import RenderConfig
from lossfilm.render.scene.colors import parse_color
from lossfilm.render.color.srgb import linear_rgb
from lossfilm.render.color.colormaps import load_colormap, srgb_to_linear
from lossfilm.render.gl.programs import program
from lossfilm.render.gl.programs import set_uniform as _set

__all__ = ["DENSE_GRID", "Programs", "build_programs", "set_look_uniforms", "trajectory_rgba"]

#: grids at least this many vertices a side are lit (and shadowed) per vertex instead of
#: per pixel: the fragment shader dominated a 4K frame on llvmpipe (9 filtered shadow
#: taps, normalizations, pow), and a dense grid has a vertex every few pixels, finer than
#: any change in the (soft) lighting.
DENSE_GRID = 256
#: height of the surface-colored band under the cut edge, per plane size (the strata)
PLINTH_BAND = 0.025


@dataclasses.dataclass
class Programs:
    """Every shader program of one renderer."""

    surface: moderngl.Program
    #: the same look interpolated in screen space, for frames where nothing is clipped
    #: (None unless the surface is colored per vertex)
    surface_affine: moderngl.Program | None
    ball: moderngl.Program
    depth_surface: moderngl.Program
    depth_ball: moderngl.Program
    line: moderngl.Program
    background: moderngl.Program
    text: moderngl.Program
    #: walls and bottom of the plinth (render.plinth), None without a base
    plinth: moderngl.Program | None = None
    #: the floor (render.gl.floor), None without one
    floor: moderngl.Program | None = None

    @property
    def surfaces(self) -> list[moderngl.Program]:
        return [p for p in (self.surface, self.surface_affine) if p is not None]

    def release(self) -> None:
        for field in dataclasses.fields(self):
            prog = getattr(self, field.name)
            if prog is not None:
                prog.release()


def build_programs(ctx: moderngl.Context, cfg: RenderConfig, grid_shape: tuple[int, int],
                   bits: int) -> Programs:
    """Compile the programs of ``cfg`` for a grid of ``grid_shape = (ny, nx)`` vertices."""
    shadows = ("SHADOWS",) if cfg.light.shadows else ()
    output = tuple(name for name, on in (("FILMIC", cfg.tonemap == "filmic"), ("AGX", cfg.tonemap == "agx"),
                                         ("DITHER", bits == 8),
                                         ("FOG", cfg.fog > 0)) if on)
    features = [name for name, on in (("CONTOURS", cfg.contours.enabled), ("GRID", cfg.grid.enabled),
                                      ("OCCLUSION", cfg.occlusion.enabled)) if on]
    if max(grid_shape) >= DENSE_GRID:
        features.append("VERTEX_LIGHTING")
        if not (cfg.contours.enabled or cfg.grid.enabled):  # lines need per-pixel albedo
            features.append("VERTEX_COLOR")
        if shadows:
            features.append("VERTEX_SHADOWS")
    surface = (*shadows, *output, *features)
    return Programs(
        surface=program(ctx, "surface.vert", "surface.frag", defines=surface),
        surface_affine=(program(ctx, "surface.vert", "surface.frag", defines=(*surface, "AFFINE"))
                        if "VERTEX_COLOR" in features else None),
        ball=program(ctx, "ball.vert", "ball.frag", defines=(*shadows, *output)),
        depth_surface=program(ctx, "depth_surface.vert", "depth.frag"),
        depth_ball=program(ctx, "depth_ball.vert", "depth.frag"),
        line=program(ctx, "line.vert", "line.frag", "line.geom"),
        background=program(ctx, "background.vert", "background.frag",
                           defines=("DITHER",) if bits == 8 else ()),
        text=program(ctx, "screen.vert", "text.frag"),
        plinth=program(ctx, "plinth.vert", "plinth.frag", defines=output) if cfg.base.enabled else None,
        # the floor is lit per vertex with and without the key light (VERTEX_SHADOWS: shade()
        # takes the shadow it is given); SHADOWS: floor.frag looks the shadow map up per pixel
        floor=(program(ctx, "floor.vert", "floor.frag", defines=(
            "VERTEX_SHADOWS", *(shadows if cfg.floor.shadow else ()), *output,
            *(("REFLECTION",) if cfg.floor.reflect > 0 else ()))) if cfg.floor.enabled else None),
    )


def trajectory_rgba(cfg: RenderConfig) -> np.ndarray:
    """(4,) the trajectory ribbon's color with its opacity applied."""
    r, g, b, a = parse_color(cfg.trajectory.color, "render.trajectory.color")
    return np.array([r, g, b, a * cfg.trajectory.opacity])


def set_look_uniforms(progs: Programs, cfg: RenderConfig, lo: np.ndarray, hi: np.ndarray, *,
                      plane: float, shadow_size: int, size: tuple[int, int],
                      bits: int, sun_uv: np.ndarray | None = None, sun_ramp: float = 0.0) -> tuple[float, float, float, float]:
    """Write the film-constant uniforms of ``cfg`` into every program.

    Returns the framebuffer's clear color (the background when it is solid, else
    transparent black).

    Parameters
    ----------
    lo, hi : (3,) float
        The topology's bounds (the plane and the film's height range).
    plane : float
        The plane size that relief, fog and the ball are measured in.
    shadow_size : int
        Side of the shadow map in texels, 0 without shadows.
    sun_uv : (2, 3)
        World (x, y, 1) to the height-field shadow texture's uv (``SunShadow.uv``).
    sun_ramp : float
        Its narrowest penumbra in world z (``SunShadow.ramp``).
    size : (W, H)
        Framebuffer size (the vertex dither ramp is in pixels).
    """
    light = cfg.light
    sun_uv = np.zeros((2, 3)) if sun_uv is None else sun_uv
    key_dir = light_direction(light.azimuth, light.elevation)
    floor_z = floor_height(cfg, float(lo[2]), plane)
    # with a floor the shadow frustum reaches down to it and over the shadow thrown on it
    light_mvp = light_matrix(*light_box(lo, hi, floor_z, key_dir), key_dir) if cfg.floor.enabled else \
        light_matrix(lo, hi, key_dir)
    bg = cfg.background
    top = linear_rgb(bg.top, "render.background.top")
    bottom = top if bg.kind == "solid" else linear_rgb(bg.bottom, "render.background.bottom")
    # a solid background is a clear (sRGB values, as the shaders write); no pass needed
    clear = (0.0, 0.0, 0.0, 0.0)
    if bg.kind == "solid":
        r, g, b, _ = parse_color(bg.top, "render.background.top")
        clear = (r, g, b, 1.0)
    fog = 0.5 * (top[:3] + bottom[:3]) if bg.kind != "transparent" else linear_rgb(light.sky_color)[:3]
    zlo, zhi = lo[2], hi[2]
    c, g = cfg.contours, cfg.grid
    step = c.spacing if c.spacing > 0 else max(zhi - zlo, 1e-9) / c.count
    common = {
        "u_key_dir": key_dir, "u_key_color": linear_rgb(light.color)[:3] * light.intensity,
        "u_fill": light.fill, "u_fill_dir": fill_direction(key_dir), "u_rim": light.rim,
        "u_ambient": light.ambient,
        "u_sky": linear_rgb(light.sky_color)[:3], "u_ground": linear_rgb(light.ground_color)[:3],
        "u_gloss": cfg.material.gloss, "u_metalness": cfg.material.metalness,
        "u_alpha": cfg.material.roughness ** 2, "u_exposure": cfg.exposure,
        "u_env": {"none": 0.0, "sky": 1.0, "studio": 2.0}[light.environment],
        "u_fog_density": cfg.fog,
        "u_plane_size": plane, "u_fog_color": fog,
        "u_shadows": int(shadow_size > 0), "u_shadow_texel": 1.0 / (shadow_size or 1),
        "u_dither": 1.0 / 255.0 if bits == 8 else 0.0, "u_light_mvp": light_mvp,
    }
    extra = tuple(p for p in (progs.plinth, progs.floor) if p is not None)
    for prog in (*progs.surfaces, progs.ball, progs.background, *extra):
        for k, v in common.items():
            _set(prog, k, v)
    for prog in (progs.depth_surface, progs.depth_ball):
        _set(prog, "u_light_mvp", light_mvp)
    _set(progs.ball, "u_shadow_map", 1)
    _set(progs.ball, "u_sun", 1.0)  # set per sphere from the height field's shadow
    for p in progs.surfaces:
        for name, unit in (("u_cmap", 0), ("u_shadow_map", 1), ("u_sun_map", 3)):
            _set(p, name, unit)
        _set(p, "u_sun_u", np.asarray(sun_uv[0], np.float64))
        _set(p, "u_sun_v", np.asarray(sun_uv[1], np.float64))
        _set(p, "u_sun_ramp", float(sun_ramp))
        _set(p, "u_viewport", np.array(size, np.float64))  # dither ramp (VERTEX_COLOR)
        _set(p, "u_bad_color", linear_rgb(cfg.invalid_color)[:3])
        _set(p, "u_contour_lo", float(zlo))
        _set(p, "u_contour_step", float(step))
        _set(p, "u_contour_color", np.concatenate([linear_rgb(c.color)[:3], [c.opacity]]))
        _set(p, "u_grid_lo", lo[:2])
        _set(p, "u_grid_step", np.maximum(hi[:2] - lo[:2], 1e-9) / g.count)
        _set(p, "u_grid_color", np.concatenate([linear_rgb(g.color)[:3], [g.opacity]]))
    # the key light bounced off surroundings of the colormap's mean albedo (render/mesh/bounce.py)
    surroundings = srgb_to_linear(load_colormap(cfg.colormap)).mean(axis=0) * (1.0 - cfg.material.metalness)
    bounce = common["u_key_color"] * surroundings * (cfg.occlusion.bounce if cfg.occlusion.enabled else 0.0)
    for p in progs.surfaces:
        _set(p, "u_occlusion_direct", cfg.occlusion.direct if cfg.occlusion.enabled else 0.0)
        _set(p, "u_bounce", bounce)
    if progs.plinth is not None:
        _set(progs.plinth, "u_base_color", linear_rgb(cfg.base.color)[:3])
        _set(progs.plinth, "u_base_top", float(zlo))
        _set(progs.plinth, "u_base_z", float(zlo - cfg.base.depth * plane))
        _set(progs.plinth, "u_occlusion_direct", cfg.occlusion.direct)
        _set(progs.plinth, "u_cmap", 0)
        _set(progs.plinth, "u_band", PLINTH_BAND * plane)
        _set(progs.plinth, "u_fade", cfg.base.fade * plane)
    if progs.floor is not None:
        f = progs.floor
        for k, v in {"u_floor_color": linear_rgb(cfg.floor.color)[:3], "u_floor_z": floor_z,
                     "u_floor_center": (lo[:2] + hi[:2]) / 2.0, "u_floor_radius": cfg.floor.extent * plane,
                     "u_footprint": np.concatenate([lo[:2], hi[:2]]), "u_contact": CONTACT * plane,
                     "u_floor_gap": float(lo[2]) - floor_z - (cfg.base.depth * plane if cfg.base.enabled else 0.0),
                     "u_reflect": cfg.floor.reflect, "u_shadow_map": 4,  # the floor's own map
                     # a wider filter: the floor lies far from what casts on it, its penumbra is wide
                     "u_shadow_texel": FLOOR_PENUMBRA / (shadow_size or 1),
                     # a matte stone floor, whatever the surface's material: its gloss is the reflection
                     "u_metalness": 0.0, "u_gloss": 0.04, "u_alpha": 0.6 ** 2, "u_occlusion_direct": 0.5}.items():
            _set(f, k, v)
    _set(progs.ball, "u_ball_color", linear_rgb(cfg.ball.color)[:3])
    _set(progs.ball, "u_glow", cfg.ball.glow)
    _set(progs.background, "u_top", top[:3])
    _set(progs.background, "u_bottom", bottom[:3])
    _set(progs.line, "u_color", trajectory_rgba(cfg))
    _set(progs.text, "u_tex", 0)
    return clear
