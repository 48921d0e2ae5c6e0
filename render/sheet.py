"""Contact sheets: N evenly spaced frames of a film on one page, for review before a render."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from lossfilm.render.overlay.text import FONT_PATH as FONT, font

__all__ = ["contact_sheet", "sheet_times"]

LABEL_HEIGHT = 26
GAP = 6
COLUMNS = 4



def sheet_times(duration: float, count: int) -> np.ndarray:
    """(count,) film times spread evenly from the first frame to the last."""
    if count < 1:
        raise ValueError(f"a contact sheet needs at least 1 frame, got {count}")
    return np.linspace(0.0, duration, count)


def contact_sheet(film, path: Path, *, count: int = 12, title: str | None = None) -> Path:
    """Render ``count`` frames of ``film`` (a :class:`lossfilm.render.pipeline.Film`) into one PNG."""
    from lossfilm.render.pipeline import FrameRenderer
    from lossfilm.render.output.png import write_png

    w, h = film.size
    cols = min(COLUMNS, count)
    rows = math.ceil(count / cols)
    sheet = Image.new("RGB", (cols * (w + GAP) + GAP, rows * (h + LABEL_HEIGHT + GAP) + GAP + LABEL_HEIGHT), (18, 18, 22))
    draw = ImageDraw.Draw(sheet)
    face = font(str(FONT), 16)
    draw.text((GAP, 4), title or f"{film.scene.name}: {count} frames of {film.duration:.1f} s", fill=(230, 230, 230), font=face)
    renderer = FrameRenderer(film)
    last = max(film.n_frames - 1, 0)
    try:
        for k, t in enumerate(sheet_times(film.duration, count)):
            index = min(int(round(t * film.fps)), last)
            (image,) = list(renderer.frames(index, index + 1))
            x = GAP + (k % cols) * (w + GAP)
            y = LABEL_HEIGHT + GAP + (k // cols) * (h + LABEL_HEIGHT + GAP)
            sheet.paste(Image.fromarray(image[:, :, :3]), (x, y))
            draw.text((x, y + h + 3), f"t = {index / film.fps:5.2f} s   frame {index}", fill=(200, 200, 200), font=face)
    finally:
        renderer.release()
    return write_png(path, np.asarray(sheet))
