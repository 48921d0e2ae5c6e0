"""The sRGB transfer function and its inverse (IEC 61966-2-1), elementwise on arrays."""

from __future__ import annotations

import numpy as np

from lossfilm.render.scene.colors import parse_color

__all__ = ["srgb_to_linear", "linear_to_srgb", "linear_rgb", "unpremultiply"]


def srgb_to_linear(c: np.ndarray) -> np.ndarray:
    """Exact sRGB transfer function inverse (IEC 61966-2-1), elementwise."""
    c = np.asarray(c, dtype=np.float64)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(c: np.ndarray) -> np.ndarray:
    """Exact sRGB transfer function, elementwise."""
    c = np.clip(np.asarray(c, dtype=np.float64), 0.0, None)
    return np.where(c <= 0.0031308, c * 12.92, 1.055 * c ** (1.0 / 2.4) - 0.055)


def linear_rgb(value: str, key: str = "color") -> np.ndarray:
    """``"#rrggbb[aa]"`` -> (4,) float32 with rgb in linear light and alpha unchanged."""
    r, g, b, a = parse_color(value, key)
    out = np.empty(4, dtype=np.float32)
    out[:3] = srgb_to_linear(np.array([r, g, b]))
    out[3] = a
    return out


def unpremultiply(img: np.ndarray) -> None:
    """Premultiplied -> straight alpha, in place, only where 0 < alpha < max."""
    top = np.iinfo(img.dtype).max
    a = img[..., 3]
    edge = (a > 0) & (a < top)
    if not edge.any():
        return
    rgb = img[..., :3][edge].astype(np.float32)
    scale = top / a[edge].astype(np.float32)
    img[..., :3][edge] = np.clip(np.rint(rgb * scale[:, None]), 0, top).astype(img.dtype)
