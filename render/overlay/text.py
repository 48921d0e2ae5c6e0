"""Text overlays: title, counter, loss, readouts and caption, rasterized with Pillow.

Pure layout: :func:`layout_overlays` turns an :class:`~lossfilm.render.scene.look.OverlayConfig`, a
frame's numbers and the final image size into :class:`TextItem` s, each a small
premultiplied RGBA bitmap with its top-left pixel position. The GL renderer uploads each
bitmap once per distinct string; stills composite the same bitmaps, so text is crisp
(rasterized at its final pixel size, never scaled) at any resolution.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from lossfilm.render.assets import asset_path
from lossfilm.render.scene.look import OverlayConfig
from lossfilm.render.scene.colors import parse_color

__all__ = ["TextItem", "FONT_PATH", "BOLD_FONT_PATH", "layout_text", "rasterize",
           "composite", "overlay_lines", "text_item"]

FONT_DIR = asset_path("fonts")
FONT_PATH = FONT_DIR / "DejaVuSans.ttf"
BOLD_FONT_PATH = FONT_DIR / "DejaVuSans-Bold.ttf"
#: title is this much larger than the other lines; line spacing in font sizes.
TITLE_SCALE = 1.35
LINE_SPACING = 1.3
#: outline color (sRGB) keeps white text legible on a bright surface.
OUTLINE_RGB = (0, 0, 0)
OUTLINE_ALPHA = 0.6


@dataclasses.dataclass(frozen=True)
class TextItem:
    """One line of text ready to composite.

    Attributes
    ----------
    key : tuple
        What was rasterized (string, size, style): equal keys give equal bitmaps.
    x, y : int
        Top-left pixel of the bitmap in the final image (row 0 = top).
    rgba : (h, w, 4) uint8
        Premultiplied sRGB color and coverage.
    """

    key: tuple
    x: int
    y: int
    rgba: np.ndarray


@functools.lru_cache(maxsize=16)
def font(path: str, size_px: int) -> ImageFont.FreeTypeFont:
    """The TrueType font at ``path`` in ``size_px`` pixels (cached: layouts ask often)."""
    return ImageFont.truetype(path, size_px)


@functools.lru_cache(maxsize=256)
def rasterize(text: str, size_px: int, color: str, outline: float, bold: bool) -> np.ndarray:
    """Render one line of text.

    Returns
    -------
    (h, w, 4) uint8
        Premultiplied RGBA, tight around the ink plus the outline (read-only).
    """
    face = font(str(BOLD_FONT_PATH if bold else FONT_PATH), max(int(size_px), 1))
    stroke = int(round(outline * size_px))
    left, top, right, bottom = face.getbbox(text, stroke_width=stroke)
    # ascent-based height so lines with and without descenders align the same way
    ascent, descent = face.getmetrics()
    w = max(right - left, 1) + 2
    h = ascent + descent + 2 * stroke + 2
    r, g, b, a = parse_color(color, "render.overlays.color")
    img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    fill = (round(r * 255), round(g * 255), round(b * 255), round(a * 255))
    stroke_fill = OUTLINE_RGB + (round(OUTLINE_ALPHA * 255),)
    draw.text((1 - left, 1 + stroke), text, font=face, fill=fill, stroke_width=stroke,
              stroke_fill=stroke_fill)
    arr = np.asarray(img, dtype=np.float32)
    arr[..., :3] *= arr[..., 3:4] / 255.0
    out = np.round(arr).astype(np.uint8)
    out.setflags(write=False)
    return out


def _format_number(v: float) -> str:
    if v != v:
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.4g}"


def overlay_lines(cfg: OverlayConfig, values: dict, label: str) -> dict[str, list[tuple[str, bool, float]]]:
    """What text goes where: position -> [(text, bold, scale), ...] top to bottom."""
    groups: dict[str, list[tuple[str, bool, float]]] = {}
    if cfg.title:
        groups.setdefault(cfg.title_position, []).append((cfg.title, True, TITLE_SCALE))
    counter = ""
    if cfg.counter == "label":
        counter = label
    elif cfg.counter in ("epoch", "step") and cfg.counter in values:
        v = float(values[cfg.counter])
        counter = f"{cfg.counter} {int(math.floor(v + 1e-6))}" if math.isfinite(v) else cfg.counter
    if counter:
        groups.setdefault(cfg.counter_position, []).append((counter, False, 1.0))
    if cfg.loss and "loss" in values:
        groups.setdefault(cfg.counter_position, []).append(
            (f"loss {_format_number(float(values['loss']))}", False, 1.0))
    for name in cfg.readouts:
        if name not in values:
            have = ", ".join(sorted(values)) or "none"
            raise ValueError(f"render.overlays.readouts: no value {name!r} in this film (have: {have})")
        groups.setdefault(cfg.counter_position, []).append(
            (f"{name} {_format_number(float(values[name]))}", False, 1.0))
    if cfg.caption:
        groups.setdefault(cfg.caption_position, []).append((cfg.caption, False, 1.0))
    return groups


def text_item(cfg: OverlayConfig, text: str, scale: float, size: tuple[int, int]) -> TextItem:
    """One line in the overlay style at ``scale`` × the font size, placed at ``(0, 0)``."""
    px = max(int(round(cfg.font_size * size[1] * scale)), 4)
    key = (text, px, cfg.color, cfg.outline, False)
    return TextItem(key=key, x=0, y=0, rgba=rasterize(*key))


def layout_text(cfg: OverlayConfig, values: dict, label: str,
                size: tuple[int, int]) -> list[TextItem]:
    """Place every overlay line for a final image of ``size = (W, H)``."""
    width, height = size
    base = cfg.font_size * height
    margin = cfg.margin * height
    items: list[TextItem] = []
    for corner, lines in overlay_lines(cfg, values, label).items():
        bitmaps = []
        for text, bold, scale in lines:
            px = max(int(round(base * scale)), 4)
            bitmaps.append(((text, px, cfg.color, cfg.outline, bold),
                            rasterize(text, px, cfg.color, cfg.outline, bold), px))
        heights = [int(round(px * LINE_SPACING)) for _, _, px in bitmaps]
        vertical, horizontal = corner.split("-")
        y = margin if vertical == "top" else height - margin - sum(heights)
        for (key, rgba, _), step in zip(bitmaps, heights):
            w = rgba.shape[1]
            if horizontal == "left":
                x = margin
            elif horizontal == "right":
                x = width - margin - w
            else:
                x = (width - w) / 2.0
            items.append(TextItem(key=key, x=int(round(x)), y=int(round(y)), rgba=rgba))
            y += step
    return items


def composite(image: np.ndarray, items: list[TextItem]) -> None:
    """Draw premultiplied text bitmaps over ``image`` in place (sRGB "over").

    Parameters
    ----------
    image : (H, W, 3|4) uint8 or uint16
        Straight-alpha image, row 0 = top. 16-bit images get the bitmaps scaled up.
    """
    scale = 257.0 if image.dtype == np.uint16 else 1.0
    H, W = image.shape[:2]
    for it in items:
        h, w = it.rgba.shape[:2]
        x0, y0 = max(it.x, 0), max(it.y, 0)
        x1, y1 = min(it.x + w, W), min(it.y + h, H)
        if x0 >= x1 or y0 >= y1:
            continue
        src = it.rgba[y0 - it.y : y1 - it.y, x0 - it.x : x1 - it.x].astype(np.float32) / 255.0
        dst = image[y0:y1, x0:x1].astype(np.float32) / (255.0 * scale)
        a = src[..., 3:4]
        dst[..., :3] = src[..., :3] + dst[..., :3] * (1.0 - a)
        if image.shape[2] == 4:
            dst[..., 3:4] = a + dst[..., 3:4] * (1.0 - a)
        image[y0:y1, x0:x1] = np.round(np.clip(dst, 0.0, 1.0) * 255.0 * scale).astype(image.dtype)
