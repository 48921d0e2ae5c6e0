"""The height transform: loss values -> world z, one transform for the whole film.

A film that rescales its heights frame by frame lies about depth: a valley that fills up
would look as deep at the end as at the start. So :class:`HeightTransform` is fitted once
on every state of the sequence and then maps the same loss to the same height in every
frame. Non-finite losses (a diverged run) are drawn at the ceiling and reported, so a
blown-up state renders as a flat plane instead of crashing the film.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from lossfilm.render.scene.mesh import HeightConfig

__all__ = [
    "HeightConfig",
    "HeightTransform",
    "AUTO_RELIEF",
    "FLAT_RANGE",
]

#: Relief used when ``height.relief`` is left to ``auto``: the tallest feature is this
#: fraction of the plane size, which reads well from the default camera distances.
AUTO_RELIEF = 0.35
#: A scaled-loss range below this is treated as flat (no division by ~0, no noise blown up).
FLAT_RANGE = 1e-12


@dataclasses.dataclass(frozen=True)
class HeightTransform:
    """Loss -> world z, affine in the scaled loss: ``z = offset + gain * scaled(clip(loss))``.

    Build it with :meth:`fit`. ``z`` spans ``[0, top]`` with ``top = relief * plane_size``.

    Attributes
    ----------
    scale : {"log", "linear"}
    eps : float
    loss_lo, loss_hi : float
        Clip range in loss units; non-finite losses map to ``loss_hi``.
    scaled_lo, scaled_hi : float
        The clip range after the scale (``log(loss + eps)`` or ``loss``).
    gain, offset : float
        ``z = offset + gain * scaled``; gain is negative when inverted, 0 when flat.
    top : float
        Height of the highest possible point.
    """

    scale: str
    eps: float
    loss_lo: float
    loss_hi: float
    scaled_lo: float
    scaled_hi: float
    gain: float
    offset: float
    top: float

    @classmethod
    def fit(cls, loss: np.ndarray, cfg: HeightConfig, plane_size: float) -> "HeightTransform":
        """Fit the transform on every loss value of the film.

        Parameters
        ----------
        loss : (S, ny, nx) float
            The loss of every state (non-finite values allowed and ignored for the fit).
        cfg : HeightConfig
        plane_size : float
            Largest horizontal extent of the rendered plane (world units).
        """
        loss = np.asarray(loss)
        finite = loss[np.isfinite(loss)]
        if finite.size == 0:
            # Every value diverged: a flat plane at z = 0 still renders and says so.
            lo = hi = 1.0
        else:
            lo, hi = float(finite.min()), float(finite.max())
        if cfg.ceiling is not None:
            hi = min(hi, cfg.ceiling)
        elif cfg.ceiling_percentile is not None and finite.size:
            hi = float(np.percentile(finite, cfg.ceiling_percentile))
        if cfg.floor is not None:
            lo = max(lo, cfg.floor)
        hi = max(hi, lo)
        slo, shi = _scaled(np.array([lo, hi]), cfg.scale, cfg.eps).tolist()
        relief = AUTO_RELIEF if cfg.relief is None else cfg.relief
        top = relief * float(plane_size)
        if shi - slo <= FLAT_RANGE * max(1.0, abs(shi)) or top <= 0.0:
            gain, offset, top = 0.0, 0.0, 0.0
        elif cfg.invert:
            gain = -top / (shi - slo)
            offset = -gain * shi
        else:
            gain = top / (shi - slo)
            offset = -gain * slo
        return cls(cfg.scale, cfg.eps, lo, hi, slo, shi, gain, offset, top)

    def scaled(self, loss: np.ndarray) -> np.ndarray:
        """Clip and scale loss values; non-finite -> the ceiling. Same shape, float32."""
        loss = np.asarray(loss, dtype=np.float32)
        clipped = np.where(np.isfinite(loss), loss, np.float32(self.loss_hi))
        clipped = np.clip(clipped, self.loss_lo, self.loss_hi)
        return _scaled(clipped, self.scale, self.eps).astype(np.float32, copy=False)

    def __call__(self, loss: np.ndarray) -> np.ndarray:
        """World z of loss values (any shape, float32). Non-finite values go to the ceiling."""
        return self.z_of_scaled(self.scaled(loss))

    def z_of_scaled(self, scaled: np.ndarray) -> np.ndarray:
        """World z of already scaled values (float32, same shape)."""
        z = np.asarray(scaled, dtype=np.float32) * np.float32(self.gain) + np.float32(self.offset)
        return z.astype(np.float32, copy=False)

    def loss_of_z(self, z: np.ndarray | float) -> np.ndarray | float:
        """Inverse of :meth:`__call__` in the clip range (a flat transform gives ``loss_lo``)."""
        z = np.asarray(z, dtype=np.float64)
        if self.gain == 0.0:
            out = np.full_like(z, self.loss_lo)
        else:
            s = (z - self.offset) / self.gain
            out = np.exp(s) - self.eps if self.scale == "log" else s
        return out.item() if out.ndim == 0 else out

    @staticmethod
    def invalid(loss: np.ndarray) -> np.ndarray:
        """Where the loss is not finite: bool, same shape."""
        return ~np.isfinite(np.asarray(loss))


def _scaled(loss: np.ndarray, scale: str, eps: float) -> np.ndarray:
    if scale == "log":
        # A negative loss (e.g. a regression NLL) has no log; it sits at the bottom instead.
        return np.log(np.maximum(loss + eps, eps))
    return loss
