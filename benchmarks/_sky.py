"""lossfilm's procedural environment as an image, for the peers that light with one.

:func:`environment_radiance` is ``environment()`` of ``render/gl/shaders/lighting.glsl``
in numpy (the sky dome from ``ground_color`` to ``sky_color`` times ``ambient``, or the
studio dome with its softbox and strip light); :func:`equirect_directions` gives the
world direction (z up) of every texel of a latitude-longitude image whose top row is the
zenith. Mitsuba (benchmarks/pathtrace.py) and VTK (benchmarks/render.py) are then told
where that image's up axis lies.
"""

from __future__ import annotations

import numpy as np

from lossfilm.render.color.srgb import linear_rgb
from lossfilm.render.gl.frusta import light_direction
from lossfilm.render.scene.look import RenderConfig


def _smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _unit(v) -> np.ndarray:
    v = np.asarray(v, np.float64)
    return v / np.linalg.norm(v)


def equirect_directions(height: int, width: int) -> np.ndarray:
    """(height, width, 3) float64 unit directions, z up: row 0 the zenith, the last row the nadir.

    Texel (row, col) has polar angle theta = pi (row + 0.5) / height from +z and azimuth
    phi = 2 pi (col + 0.5) / width, direction (sin theta sin phi, sin theta cos phi, cos theta).
    """
    theta = np.pi * (np.arange(height) + 0.5) / height
    phi = 2.0 * np.pi * (np.arange(width) + 0.5) / width
    st, ct = np.sin(theta)[:, None], np.cos(theta)[:, None]
    return np.stack(np.broadcast_arrays(st * np.sin(phi)[None], st * np.cos(phi)[None], ct), axis=-1)


def environment_radiance(directions: np.ndarray, cfg: RenderConfig) -> np.ndarray:
    """(..., 3) float64 linear radiance of the look's environment along ``directions`` (..., 3)."""
    light = cfg.light
    d = np.asarray(directions, np.float64)
    if light.environment == "none":
        return np.zeros(d.shape)
    sky, ground = linear_rgb(light.sky_color)[:3], linear_rgb(light.ground_color)[:3]
    t = _smoothstep(-0.3, 0.6, d[..., 2])[..., None]
    dome = light.ambient * (ground + (sky - ground) * t)
    if light.environment == "sky":
        return dome
    key = light_direction(light.azimuth, light.elevation)
    key_color = linear_rgb(light.color)[:3] * light.intensity
    softbox = _smoothstep(0.80, 0.93, d @ _unit([0.6 * key[0], 0.6 * key[1], 1.0]))
    strip = _smoothstep(0.96, 0.99, d @ _unit([-key[0], -key[1], 0.35]))
    return 0.35 * dome + key_color * (0.35 * softbox + 0.2 * strip)[..., None]


def environment_image(cfg: RenderConfig, height: int = 256) -> np.ndarray:
    """(height, 2 height, 3) float32: the environment on :func:`equirect_directions`."""
    return environment_radiance(equirect_directions(height, 2 * height), cfg).astype(np.float32)
