"""A small plot of one per-state value over the whole film, drawn with Pillow.

The curve is drawn once per film (and size) at :data:`SUPERSAMPLE` times its pixel size
and reduced with a Lanczos filter, so its lines are anti-aliased and crisp at 4K; the
marker that shows the current frame is a separate small bitmap placed on it each frame.
Both come back as :class:`lossfilm.render.overlay.text.TextItem` s, so the renderer draws and caches them
like text.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
from PIL import Image, ImageDraw

from lossfilm.render.scene.look import OverlayConfig

from lossfilm.render.scene.colors import parse_color

__all__ = ["plot_items", "curve_bitmap", "marker_bitmap", "plot_point", "SUPERSAMPLE"]

SUPERSAMPLE = 4
#: panel behind the curve: sRGB black at this opacity keeps it readable on any surface.
PANEL_ALPHA = 0.45
#: inner padding of the panel and line width, as fractions of the plot height.
PADDING = 0.1
LINE_WIDTH = 0.025
MARKER_SIZE = 0.09
#: the value axis spans the finite values plus this fraction of their range on each side.
HEADROOM = 0.08


def _premultiplied(img: Image.Image) -> np.ndarray:
    arr = np.asarray(img, dtype=np.float32)
    arr[..., :3] *= arr[..., 3:4] / 255.0
    out = np.round(arr).astype(np.uint8)
    out.setflags(write=False)
    return out


def _value_range(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if not finite.size:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    span = hi - lo if hi > lo else max(abs(hi), 1.0)
    return lo - HEADROOM * span, hi + HEADROOM * span


def plot_point(values: np.ndarray, position: float, size: tuple[int, int]) -> tuple[float, float]:
    """Pixel ``(x, y)`` inside a ``size = (w, h)`` plot of ``values (S,)`` at ``position``.

    ``x`` runs over the states (0 .. S-1), ``y`` over the value range, upwards; linear
    between states, as :func:`lossfilm.render.mesh.landmarks.interpolate_values` reports the number.
    """
    values = np.asarray(values, dtype=np.float64)
    w, h = size
    pad = PADDING * h
    n = values.size
    lo, hi = _value_range(values)
    fx = position / (n - 1) if n > 1 else 0.5
    v = float(np.interp(position, np.arange(n), values)) if n > 1 else float(values[0])
    if not np.isfinite(v):
        v = lo
    fy = (v - lo) / (hi - lo)
    return pad + fx * (w - 2 * pad), h - pad - fy * (h - 2 * pad)


@functools.lru_cache(maxsize=8)
def curve_bitmap(values: tuple, size: tuple[int, int], color: str) -> np.ndarray:
    """The panel and the whole curve, ``(h, w, 4)`` premultiplied uint8 (read-only)."""
    w, h = size
    s = SUPERSAMPLE
    img = Image.new("RGBA", (w * s, h * s), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((0, 0, w * s - 1, h * s - 1), radius=int(PADDING * h * s),
                           fill=(0, 0, 0, round(PANEL_ALPHA * 255)))
    arr = np.asarray(values, dtype=np.float64)
    r, g, b, a = parse_color(color, "render.overlays.plot_color")
    rgba = (round(r * 255), round(g * 255), round(b * 255), round(a * 255))
    width = max(int(round(LINE_WIDTH * h * s)), 1)
    # sample between states so the drawn curve is the linear one the marker follows
    pts = [tuple(c * s for c in plot_point(arr, float(p), size))
           for p in range(arr.size) if np.isfinite(arr[p])]
    if len(pts) > 1:
        draw.line(pts, fill=rgba, width=width, joint="curve")
    elif pts:
        x, y = pts[0]
        draw.ellipse((x - width, y - width, x + width, y + width), fill=rgba)
    return _premultiplied(img.resize((w, h), Image.LANCZOS))


@functools.lru_cache(maxsize=8)
def marker_bitmap(diameter: int, color: str) -> np.ndarray:
    """A filled disc with a dark rim, ``(d, d, 4)`` premultiplied uint8 (read-only)."""
    s = SUPERSAMPLE
    d = diameter * s
    img = Image.new("RGBA", (d, d), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    r, g, b, _ = parse_color(color, "render.overlays.plot_color")
    draw.ellipse((0, 0, d - 1, d - 1), fill=(0, 0, 0, 200))
    rim = max(d // 6, 1)
    draw.ellipse((rim, rim, d - 1 - rim, d - 1 - rim),
                 fill=(round(r * 255), round(g * 255), round(b * 255), 255))
    return _premultiplied(img.resize((diameter, diameter), Image.LANCZOS))


def plot_items(cfg: OverlayConfig, series: dict, position: float, size: tuple[int, int]) -> list:
    """The plot of ``series[cfg.plot]`` for a final image of ``size = (W, H)``.

    Returns
    -------
    list of TextItem
        The curve (same bitmap every frame) and the marker at ``position``; empty when
        ``cfg.plot`` is None.

    Raises
    ------
    ValueError
        When the sequence has no value of that name (lists the ones it has).
    """
    from lossfilm.render.overlay.text import TextItem, text_item

    if cfg.plot is None:
        return []
    if cfg.plot not in series:
        have = ", ".join(sorted(series)) or "none"
        raise ValueError(f"render.overlays.plot: no per-state value {cfg.plot!r} (have: {have})")
    width, height = size
    w = max(int(round(cfg.plot_size[0] * height)), 8)
    h = max(int(round(cfg.plot_size[1] * height)), 8)
    margin = cfg.margin * height
    vertical, horizontal = cfg.plot_position.split("-")
    x0 = {"left": margin, "right": width - margin - w, "center": (width - w) / 2.0}[horizontal]
    y0 = margin if vertical == "top" else height - margin - h
    x0, y0 = int(round(x0)), int(round(y0))
    values = tuple(float(v) for v in np.asarray(series[cfg.plot], dtype=np.float64))
    curve = curve_bitmap(values, (w, h), cfg.plot_color)
    items = [TextItem(key=("plot", values, w, h, cfg.plot_color), x=x0, y=y0, rgba=curve)]
    name = text_item(cfg, cfg.plot, 0.6, size)
    items.append(dataclasses.replace(name, x=x0 + int(PADDING * h), y=y0 + int(0.5 * PADDING * h)))
    d = max(int(round(MARKER_SIZE * h)) | 1, 5)
    px, py = plot_point(np.asarray(values), position, (w, h))
    items.append(TextItem(key=("plot-marker", d, cfg.plot_color), x=x0 + int(round(px - d / 2)),
                          y=y0 + int(round(py - d / 2)), rgba=marker_bitmap(d, cfg.plot_color)))
    return items

