"""Pure parts of still annotations: tick positions, colour scales and projected points.

:mod:`lossfilm.render.overlay.annotate` draws with them; tests call them directly.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np

from lossfilm.render.mesh.frame import CameraPose

__all__ = ["ColorScale", "colorbar_scale", "format_tick", "log_ticks", "nice_ticks", "project_points"]

#: ticks wanted on an axis or a linear colorbar
TARGET_TICKS = 5


#: a round tick step may be this much finer than (range / target)
STEP_SLACK = 0.7


#: a log colorbar spanning more than this ratio gets 1-2-5 ticks per decade
LOG_TICKS_MIN_RATIO = 10.0


def nice_ticks(lo: float, hi: float, target: int = TARGET_TICKS) -> np.ndarray:
    """(k,) round values (1, 2, 5 × 10^n steps) inside ``[lo, hi]``, about ``target`` of them."""
    lo, hi = float(lo), float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return np.array([lo]) if math.isfinite(lo) else np.zeros(0)
    raw = (hi - lo) / max(int(target), 1)
    mag = 10.0 ** math.floor(math.log10(raw))
    # the first round step not much finer than asked: 0.022 -> 0.02, not 0.05
    step = next(m * mag for m in (1.0, 2.0, 5.0, 10.0) if m * mag >= raw * STEP_SLACK)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = np.arange(first, hi + step * 1e-9, step)
    ticks[np.abs(ticks) < step * 1e-9] = 0.0  # no "-0"
    return np.clip(ticks, lo, hi)  # 0.72000001 is 0.72


def log_ticks(lo: float, hi: float) -> np.ndarray:
    """(k,) values 1, 2, 5 × 10^n inside ``[lo, hi]`` (``lo > 0``); decades only if too many."""
    if not (lo > 0 and hi > lo):
        return nice_ticks(lo, hi)
    n0, n1 = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    mantissas = (1.0, 2.0, 5.0) if n1 - n0 <= 3 else (1.0,)
    vals = [m * 10.0 ** n for n in range(n0, n1 + 1) for m in mantissas]
    out = np.array([v for v in vals if lo * (1 - 1e-9) <= v <= hi * (1 + 1e-9)])
    return out if out.size >= 2 else nice_ticks(lo, hi)


def format_tick(v: float) -> str:
    """Short label of a tick value: 3 significant digits, no trailing zeros."""
    if v == 0:
        return "0"
    return f"{v:.3g}"


@dataclasses.dataclass(frozen=True)
class ColorScale:
    """What the colormap coordinate of a film means, in the units a reader wants.

    Attributes
    ----------
    label : str
        Title of the colorbar (``"loss"``, ``"accuracy"``).
    lo, hi : float
        Values at the bottom and top of the shown range (loss units).
    log : bool
        Whether the colour follows log(value) (ticks 1-2-5 per decade).
    unit_of : callable
        ``(k,) values -> (k,) colormap coordinates in [0, 1]``, exactly as the film maps them.
    """

    label: str
    lo: float
    hi: float
    log: bool
    unit_of: Callable[[np.ndarray], np.ndarray]

    def ticks(self) -> np.ndarray:
        """(k,) tick values inside the range."""
        if self.log and self.lo > 0 and self.hi / self.lo >= LOG_TICKS_MIN_RATIO:
            return log_ticks(self.lo, self.hi)
        return nice_ticks(self.lo, self.hi)


def colorbar_scale(surface) -> ColorScale:
    """The colour scale of a :class:`lossfilm.render.mesh.film_surface.FilmSurface`: fixed for the whole film.

    Colour by height or loss: the scalar is ``z / top`` with ``z`` the film's one
    :class:`~lossfilm.render.mesh.heights.HeightTransform`, so tick values are real losses.
    """
    tf, top = surface.transform, float(surface.top)
    if surface.color.range is not None:
        lo, hi = surface.color.range
        return ColorScale(surface.cfg.color, lo, hi, False,
                          lambda v: np.clip((np.asarray(v, np.float64) - lo) / (hi - lo), 0, 1))
    flip = surface.cfg.color == "loss" and tf.gain < 0

    def unit_of(v: np.ndarray) -> np.ndarray:
        if top <= 0:
            return np.zeros(np.shape(v))
        s = np.asarray(tf(np.asarray(v, np.float32)), np.float64) / top
        return np.clip(1.0 - s if flip else s, 0.0, 1.0)

    label = "loss (log scale)" if tf.scale == "log" else "loss"
    return ColorScale(label, float(tf.loss_lo), float(tf.loss_hi), tf.scale == "log", unit_of)


def project_points(pose: CameraPose, size: tuple[int, int], points: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Pixel positions of world points seen by ``pose`` in an image of ``size = (W, H)``.

    Returns
    -------
    xy : (k, 2) float64
        Pixel coordinates, origin at the top-left corner, row axis down.
    in_front : (k,) bool
        Points in front of the camera (the others have meaningless ``xy``).
    """
    W, H = size
    p = np.asarray(points, np.float64).reshape(-1, 3)
    clip = np.c_[p, np.ones(len(p))] @ (pose.projection_matrix(W / H) @ pose.view_matrix()).T
    w = clip[:, 3]
    in_front = w > 1e-9
    ndc = clip[:, :2] / np.where(in_front, w, 1.0)[:, None]
    xy = np.c_[(ndc[:, 0] + 1.0) * 0.5 * W, (1.0 - ndc[:, 1]) * 0.5 * H]
    return xy, in_front
