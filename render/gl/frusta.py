"""Frusta: the key light's shadow frustum and the sub-frusta of tiled stills.

All matrices are (4, 4) float64, column vectors, OpenGL clip-space conventions.
"""

from __future__ import annotations

import numpy as np

from lossfilm.render.mesh.frame import CameraPose

__all__ = ["FLIP_Y", "light_direction", "fill_direction", "light_matrix", "tile_matrix", "box_inside_clip"]

#: clip-space vertical flip: GL reads rows bottom-up, so rendering upside down makes the
#: readback come out top row first without a copy.
FLIP_Y = np.diag([1.0, -1.0, 1.0, 1.0])


def light_direction(azimuth: float, elevation: float) -> np.ndarray:
    """(3,) unit vector from the scene toward a directional light."""
    az, el = np.radians(azimuth), np.radians(elevation)
    return np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])


def fill_direction(key: np.ndarray) -> np.ndarray:
    """(3,) unit vector toward the fill light: opposite azimuth to the key, from higher up."""
    d = np.array([-key[0], -key[1], max(abs(key[2]), 0.3) + 0.6])
    return d / np.linalg.norm(d)


def light_matrix(lo: np.ndarray, hi: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """(4, 4) orthographic world -> light clip matrix whose frustum holds the box [lo, hi].

    The frustum is fit to the box's bounding sphere, so it does not change as the light
    turns and the shadow map's texels are spent on the landscape only.
    """
    center = (lo + hi) / 2.0
    radius = max(float(np.linalg.norm(hi - lo)) / 2.0, 1e-6)
    up = (0.0, 0.0, 1.0) if abs(direction[2]) < 0.99 else (0.0, 1.0, 0.0)
    pose = CameraPose(eye=tuple(center + direction * 2.0 * radius), target=tuple(center), up=up)
    view = pose.view_matrix()
    near, far = radius, 3.0 * radius
    ortho = np.diag([1.0 / radius, 1.0 / radius, -2.0 / (far - near), 1.0])
    ortho[2, 3] = -(far + near) / (far - near)
    return ortho @ view


def tile_matrix(image: tuple[int, int], rect: tuple[int, int, int, int]) -> np.ndarray:
    """(4, 4) clip-space transform that shows only the pixel rectangle ``rect`` of an image.

    Parameters
    ----------
    image : (W, H)
        Final image size in pixels.
    rect : (x, y, w, h)
        Tile in pixels, origin at the image's top-left.
    """
    W, H = image
    x, y, w, h = rect
    x0, x1 = 2.0 * x / W - 1.0, 2.0 * (x + w) / W - 1.0
    y1, y0 = 1.0 - 2.0 * y / H, 1.0 - 2.0 * (y + h) / H  # NDC y grows upward
    m = np.eye(4)
    m[0, 0], m[1, 1] = 2.0 / (x1 - x0), 2.0 / (y1 - y0)
    m[0, 3], m[1, 3] = -(x1 + x0) / (x1 - x0), -(y1 + y0) / (y1 - y0)
    return m


def box_inside_clip(mvp: np.ndarray, lo: np.ndarray, hi: np.ndarray, heights: np.ndarray) -> bool:
    """Whether the grid's box lies inside the clip volume of ``mvp``.

    The box is ``lo``..``hi`` in x, y and the frame's height range in z. When it is
    inside, no triangle is clipped, which the screen-space interpolation of the
    ``AFFINE`` shaders assumes (a clipped vertex would get wrong values).
    """
    zlo, zhi = float(np.min(heights)), float(np.max(heights))
    if not (np.isfinite(zlo) and np.isfinite(zhi)):
        return False
    corners = np.array([[x, y, z, 1.0] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (zlo, zhi)])
    clip = corners @ np.asarray(mvp, np.float64).T
    w = clip[:, 3:]
    return bool(np.all(w > 0) and np.all(np.abs(clip[:, :3]) <= w))
