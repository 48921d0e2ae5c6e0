"""Text overlays on the GPU: laid-out strings as textured screen-space quads.

:func:`lossfilm.render.gl.renderer.layout_overlays` rasterizes each string once with Pillow; this keeps
the textures of recent strings alive between frames (a film's counter shows each label
for many frames, its title for all of them) and draws them at 1:1 texels, so 4K text
stays crisp.
"""

from __future__ import annotations

import moderngl
import numpy as np

from lossfilm.render.gl.programs import set_uniform as _set

__all__ = ["TextSprites", "TEXT_CACHE"]

#: GL text textures kept alive between frames (recent strings reused, others released).
TEXT_CACHE = 48


class TextSprites:
    """Draws :class:`lossfilm.render.overlay.text.TextItem` s with ``prog`` over a unit-quad ``vao``."""

    def __init__(self, ctx: moderngl.Context, prog: moderngl.Program, vao: moderngl.VertexArray) -> None:
        self.ctx, self.prog, self.vao = ctx, prog, vao
        self._textures: dict[tuple, moderngl.Texture] = {}

    def draw(self, items, screen: dict) -> None:
        """Draw ``items`` (each with ``key``, ``rgba (h, w, 4) uint8``, ``x``, ``y``)."""
        if not items:
            return
        for k, v in screen.items():
            _set(self.prog, k, v)
        used = set()
        for it in items:
            tex = self._textures.pop(it.key, None)
            if tex is None:
                h, w = it.rgba.shape[:2]
                tex = self.ctx.texture((w, h), 4, np.ascontiguousarray(it.rgba).tobytes())
                tex.filter = (moderngl.NEAREST, moderngl.NEAREST)  # 1:1 texels, stays crisp
            self._textures[it.key] = tex  # re-insert: most recently used last
            used.add(it.key)
            tex.use(location=0)
            _set(self.prog, "u_rect", np.array([it.x, it.y, tex.width, tex.height], np.float64))
            self.vao.render(moderngl.TRIANGLE_STRIP)
        while len(self._textures) > TEXT_CACHE:
            oldest = next(iter(self._textures))
            if oldest in used:
                break
            self._textures.pop(oldest).release()

    def release(self) -> None:
        for tex in self._textures.values():
            tex.release()
        self._textures.clear()
