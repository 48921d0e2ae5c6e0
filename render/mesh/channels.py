"""The colour coordinate of each frame: height, loss, a stored channel or a curvature.

One :class:`ColorChannel` per film maps the drawn heights (and the sequence's channels) to
``scalar (ny, nx) float32`` in [0, 1], with one range for the whole film.
"""

from __future__ import annotations

import numpy as np

from lossfilm.render.mesh.curvature import SURFACE_CURVATURES, CurvatureColor
from lossfilm.render.mesh.field import HeightField
from lossfilm.render.mesh.heights import HeightTransform
from lossfilm.render.mesh.timeline import StateInterpolator

__all__ = ["BUILTIN_COLORS", "ZERO_BASED_CHANNELS", "ColorChannel"]

#: colour coordinates every sequence has; others name a stored channel or a curvature.
BUILTIN_COLORS = ("height", "loss")
#: channels whose zero means something (convex): the map's low end stays at zero.
ZERO_BASED_CHANNELS = ("convexity",)


class ColorChannel:
    """``mesh.color`` for one film.

    Parameters
    ----------
    name : str
        ``height``, ``loss``, a channel of the sequence or a surface curvature.
    channels : dict of (n_states, ny0, nx0) arrays
        The sequence's stored channels.
    field : HeightField
    z : StateInterpolator
        Coarse world heights in time (curvature ranges are fitted on every state's drawn mesh).
    transform : HeightTransform
    method : str
        Interpolation between states.
    """

    def __init__(self, name: str, channels: dict, field: HeightField, z: StateInterpolator,
                 transform: HeightTransform, method: str) -> None:
        self.name, self.field, self.transform = name, field, transform
        self._channel: StateInterpolator | None = None
        self._curvature: CurvatureColor | None = None
        #: ``(lo, hi)`` of a stored channel over the whole film (None for other colours).
        self.range: tuple[float, float] | None = None
        if name in BUILTIN_COLORS:
            return
        if name in SURFACE_CURVATURES:
            top = field.top
            drawn = (np.clip(field.upsample(z(float(k))), 0.0, top) for k in range(z.n_states))
            self._curvature = CurvatureColor(name, drawn, field.dx, field.dy)
            return
        if name not in channels:
            known = ", ".join(list(BUILTIN_COLORS) + sorted(channels))
            raise ValueError(f"mesh.color {name!r} is not a channel of this sequence (have: {known})")
        values = channels[name]
        shown = field.shown(values)
        finite = shown[np.isfinite(shown)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if name in ZERO_BASED_CHANNELS:
            lo = min(lo, 0.0)
        self.range = (lo, hi if hi > lo else lo + 1.0)
        self._channel = StateInterpolator(np.where(np.isfinite(values), values, lo), method)

    def scalar(self, heights: np.ndarray, position: float) -> np.ndarray:
        """(ny, nx) float32 in [0, 1]: the colour coordinate of the frame at ``position``."""
        if self._curvature is not None:
            return self._curvature(heights)
        if self._channel is not None:
            lo, hi = self.range
            c = self.field.upsample(self._channel(position))
            c -= np.float32(lo)
            c *= np.float32(1.0 / (hi - lo))
            return np.clip(c, 0.0, 1.0, out=c)
        top = self.field.top
        if top <= 0.0:
            return np.zeros_like(heights)
        s = heights * np.float32(1.0 / top)
        if self.name == "loss" and self.transform.gain < 0:
            np.subtract(np.float32(1.0), s, out=s)
        return np.clip(s, 0.0, 1.0, out=s)
