"""Diverging colormaps interpolated in Moreland's Msh space (a polar form of CIELAB).

Kenneth Moreland, "Diverging Color Maps for Scientific Visualization", ISVC 2009: two
saturated end colours meet at a neutral white through paths of even perceptual change,
with a hue spin near the middle so the neutral point does not look muddy. Implemented here
from the paper's description; the ``coolwarm`` end colours are the paper's
(sRGB 59, 76, 192 and 180, 4, 38). Used for signed quantities (surface curvature) where
zero must stand out.
"""

from __future__ import annotations

import numpy as np

from lossfilm.render.color.srgb import linear_to_srgb, srgb_to_linear

__all__ = ["msh_diverging", "COOLWARM_ENDS"]

COOLWARM_ENDS = ((59, 76, 192), (180, 4, 38))
#: the neutral midpoint's magnitude in Msh is at least this (Moreland: 88 ≈ white).
MID_MAGNITUDE = 88.0
# D65 white in XYZ (Y = 1), and the sRGB (linear) <-> XYZ matrices (IEC 61966-2-1).
_WHITE = np.array([0.95047, 1.0, 1.08883])
_RGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                        [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]])
_XYZ_TO_RGB = np.linalg.inv(_RGB_TO_XYZ)
_EPS = 216.0 / 24389.0
_KAPPA = 24389.0 / 27.0


def _lab_f(t):
    return np.where(t > _EPS, np.cbrt(t), (_KAPPA * t + 16.0) / 116.0)


def _lab_finv(f):
    return np.where(f ** 3 > _EPS, f ** 3, (116.0 * f - 16.0) / _KAPPA)


def _srgb_to_msh(rgb255) -> np.ndarray:
    lin = srgb_to_linear(np.asarray(rgb255, dtype=np.float64) / 255.0)
    f = _lab_f((_RGB_TO_XYZ @ lin) / _WHITE)
    lab = np.array([116.0 * f[1] - 16.0, 500.0 * (f[0] - f[1]), 200.0 * (f[1] - f[2])])
    m = float(np.linalg.norm(lab))
    return np.array([m, np.arccos(lab[0] / m), np.arctan2(lab[2], lab[1])])


def _msh_to_srgb(msh: np.ndarray) -> np.ndarray:
    m, s, h = msh[..., 0], msh[..., 1], msh[..., 2]
    lab_l, a, b = m * np.cos(s), m * np.sin(s) * np.cos(h), m * np.sin(s) * np.sin(h)
    fy = (lab_l + 16.0) / 116.0
    xyz = np.stack([_lab_finv(fy + a / 500.0), _lab_finv(fy), _lab_finv(fy - b / 200.0)], -1) * _WHITE
    return np.clip(linear_to_srgb(np.clip(xyz @ _XYZ_TO_RGB.T, 0.0, 1.0)), 0.0, 1.0)


def _spin(saturated: np.ndarray, m_unsat: float) -> float:
    """Hue of the neutral point seen from a saturated end (Moreland's hue spin)."""
    m, s, h = saturated
    if m >= m_unsat:
        return float(h)
    spin = s * np.sqrt(m_unsat ** 2 - m ** 2) / (m * np.sin(s))
    return float(h + spin if h > -np.pi / 3 else h - spin)


def msh_diverging(low, high, n: int = 256) -> np.ndarray:
    """A diverging table from sRGB ``low`` (entry 0) through white to ``high``.

    Parameters
    ----------
    low, high : (3,) int
        End colours as sRGB 0..255.
    n : int
        Table length (even: the two middle entries straddle white).

    Returns
    -------
    (n, 3) float32
        sRGB in [0, 1].
    """
    a, b = _srgb_to_msh(low), _srgb_to_msh(high)
    mid = max(a[0], b[0], MID_MAGNITUDE)
    t = np.linspace(0.0, 1.0, n)
    out = np.empty((n, 3))
    for i, ti in enumerate(t):
        if ti < 0.5:
            u, p, q = 2.0 * ti, a, np.array([mid, 0.0, _spin(a, mid)])
        else:
            u, p, q = 2.0 * ti - 1.0, np.array([mid, 0.0, _spin(b, mid)]), b
        out[i] = _msh_to_srgb((1.0 - u) * p + u * q)
    return out.astype(np.float32)
