"""The floor: a ground plane under the landscape that catches its shadow and mirrors it.

One large square at :func:`floor_height` (under the plinth's bottom, or the surface's
lowest point), a grid lit per vertex in the key light and in its shadow
(``shaders/floor.vert``), then per pixel (``shaders/floor.frag``): the key light's shadow from the
shadow map (whose frustum then reaches the floor, :func:`light_box`, and which then holds
the plinth's walls too), a contact shadow around the footprint, and a soft planar
reflection. The reflection is the scene drawn once more from the camera mirrored in the
floor (:func:`mirror_matrix`) into a small texture, so small that the blur's radius is
``BLUR_TEXELS`` of it (at most ``REFLECTION_SCALE`` of the picture's size) and with a
decimated grid (it is blurred anyway), then sampled over a disk at each floor pixel's
own screen position: a planar mirror seen from the
eye shows at a floor point exactly what the mirrored camera sees there. The texture
covers the picture (or the still's tile) and a margin of the blur's radius, so tiles
blur across their joins as one picture does. The square fades out toward
``extent`` plane sizes from the middle, into the background.

Off by default (the cinematic look does not pay for it); the exhibit look stands on one.
``benchmarks/look.py`` measures what it costs.
"""

from __future__ import annotations

import math

import moderngl
import numpy as np

from lossfilm.render.gl.frusta import FLIP_Y, tile_matrix
from lossfilm.render.gl.programs import set_uniform as _set
from lossfilm.render.gl.strips import grid_strip
from lossfilm.render.scene.look import RenderConfig

__all__ = ["Floor", "floor_height", "light_box", "mirror_matrix", "REFLECTION_SCALE", "CONTACT", "FLOOR_PENUMBRA"]

#: the reflection is drawn at most at this fraction of the picture's size per side,
REFLECTION_SCALE = 0.5
#: and so small that the blur's radius spans this many of its texels.
BLUR_TEXELS = 3.0
#: cells of the floor's grid a side: its light is computed per vertex (it changes slowly)
FLOOR_GRID = 96
#: reach of the contact shadow around the footprint, per plane size.
CONTACT = 0.08
#: the floor's shadow lookup filters over this many times the surface's kernel: a soft penumbra.
FLOOR_PENUMBRA = 3.0
#: the floor lies this far (per plane size) under the plinth's bottom even with gap 0: no z-fight.
CLEARANCE = 1e-4


def floor_height(cfg: RenderConfig, lo_z: float, plane: float) -> float:
    """World z of the floor: ``gap`` under the plinth's bottom, or under the lowest point without one."""
    bottom = lo_z - (cfg.base.depth * plane if cfg.base.enabled else 0.0)
    return bottom - (cfg.floor.gap + CLEARANCE) * plane


def light_box(lo: np.ndarray, hi: np.ndarray, floor_z: float, key_dir: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The box the key light's shadow frustum must hold: the landscape down to the floor,
    widened by how far its top's shadow is thrown along the floor."""
    throw = (hi[2] - floor_z) / max(key_dir[2], 0.05) * np.abs(key_dir[:2])
    lo2 = np.array([lo[0] - throw[0], lo[1] - throw[1], floor_z])
    hi2 = np.array([hi[0] + throw[0], hi[1] + throw[1], hi[2]])
    return lo2, hi2


def mirror_matrix(z: float) -> np.ndarray:
    """(4, 4) world -> world reflection in the plane of height ``z``."""
    m = np.diag([1.0, 1.0, -1.0, 1.0])
    m[2, 3] = 2.0 * z
    return m


class Floor:
    """The floor's square, its reflection texture and how both are drawn.

    Parameters
    ----------
    ctx : moderngl.Context
    program : moderngl.Program
        ``floor.vert`` + ``floor.frag`` (its film-constant uniforms set by
        :func:`lossfilm.render.gl.shading.set_look_uniforms`).
    cfg : RenderConfig
    lo, hi : (3,) float
        The film's bounds.
    plane : float
        The plane size.
    """

    def __init__(self, ctx: moderngl.Context, program: moderngl.Program, cfg: RenderConfig,
                 lo: np.ndarray, hi: np.ndarray, plane: float) -> None:
        self.ctx, self.program, self.cfg = ctx, program, cfg
        self.z = floor_height(cfg, float(lo[2]), plane)
        self.mirror = mirror_matrix(self.z)
        self.center = (np.asarray(lo[:2], np.float64) + np.asarray(hi[:2], np.float64)) / 2.0
        self.radius = cfg.floor.extent * plane
        c, r = self.center, self.radius
        g = np.linspace(-r, r, FLOOR_GRID + 1)
        X, Y = np.meshgrid(c[0] + g, c[1] + g)
        self.vbo = ctx.buffer(np.stack([X.ravel(), Y.ravel()], axis=1).astype(np.float32).tobytes())
        self.ibo = ctx.buffer(grid_strip(FLOOR_GRID + 1, FLOOR_GRID + 1).tobytes())
        self.vao = ctx.vertex_array(program, [(self.vbo, "2f", "in_xy")], self.ibo, index_element_size=4)
        self.reflects = cfg.floor.reflect > 0
        self._fbo = self._texture = self._depth = None
        self._map = (1.0, 1.0, 0.0, 0.0)
        self._blur = (0.0, 0.0)

    def visible(self, eye: np.ndarray) -> bool:
        """Seen from above only: a camera under the floor (a view from below) looks through it."""
        return float(eye[2]) > self.z

    def far(self, eye: np.ndarray) -> float:
        """Distance from ``eye`` to the floor's farthest corner (the far plane must reach it)."""
        c, r = self.center, self.radius
        corners = np.array([[c[0] + sx * r, c[1] + sy * r, self.z] for sx in (-1, 1) for sy in (-1, 1)])
        return float(np.max(np.linalg.norm(corners - np.asarray(eye, np.float64), axis=1)))

    def mirrored(self, eye: np.ndarray) -> np.ndarray:
        """(3,) the eye's mirror image under the floor."""
        return np.array([eye[0], eye[1], 2.0 * self.z - eye[2]])

    def begin_reflection(self, image: tuple[int, int], tile: tuple[int, int, int, int]) -> np.ndarray:
        """Bind and clear the reflection's framebuffer for ``tile`` of ``image``; its post matrix.

        The texture covers the tile and a margin of the blur's radius around it (so a
        blurred floor pixel at a tile's edge reads what lies beyond it, as in one pass).
        """
        x, y, w, h = tile
        blur_px = self.cfg.floor.blur * image[1]
        margin = int(math.ceil(blur_px)) + 2
        rw, rh = w + 2 * margin, h + 2 * margin
        # the blur spans a few texels: a wide blur reads a small texture (the pass costs less, too)
        scale = min(REFLECTION_SCALE, BLUR_TEXELS / max(blur_px, 1e-9))
        size = (max(1, int(math.ceil(rw * scale))), max(1, int(math.ceil(rh * scale))))
        if self._texture is None or self._texture.size != size:
            self._release_target()
            self._texture = self.ctx.texture(size, 4)
            self._texture.filter = (moderngl.LINEAR, moderngl.LINEAR)
            self._texture.repeat_x = self._texture.repeat_y = False
            self._depth = self.ctx.depth_renderbuffer(size)
            self._fbo = self.ctx.framebuffer([self._texture], self._depth)
        self._map = (1.0 / rw, 1.0 / rh, margin / rw, margin / rh)
        self._blur = (blur_px / rw, blur_px / rh)
        self._fbo.use()
        self._fbo.clear(0.0, 0.0, 0.0, 0.0, depth=1.0)
        return FLIP_Y @ tile_matrix(image, (x - margin, y - margin, rw, rh))

    def draw(self, mvp: np.ndarray, eye: np.ndarray, blend: bool = True) -> None:
        """Draw the floor into the bound framebuffer, depth tested.

        ``blend``: premultiplied "over" what is there; without it the floor's pixels are
        written as they are, which is the same over a transparent clear (the background is
        put under the picture afterwards) and saves llvmpipe a blend per sample.
        """
        prog = self.program
        _set(prog, "u_mvp", mvp)
        _set(prog, "u_eye", np.asarray(eye, np.float64))
        if self.reflects and self._texture is not None:
            self._texture.use(location=2)
            _set(prog, "u_reflection", 2)
            _set(prog, "u_reflection_map", np.array(self._map))
            _set(prog, "u_blur", np.array(self._blur))
        ctx = self.ctx
        if blend:
            ctx.enable(moderngl.BLEND)
            ctx.blend_func = moderngl.ONE, moderngl.ONE_MINUS_SRC_ALPHA
        self.vao.render(moderngl.TRIANGLE_STRIP)
        ctx.disable(moderngl.BLEND)

    def _release_target(self) -> None:
        for obj in (self._fbo, self._texture, self._depth):
            if obj is not None:
                obj.release()
        self._fbo = self._texture = self._depth = None

    def release(self) -> None:
        self._release_target()
        for obj in (self.vao, self.vbo, self.ibo):
            obj.release()
