"""Toy data sets generated with numpy from a seed: spirals, moons, blobs and shapes.

Pure functions of their sizes and a ``numpy.random.Generator``, so a scene runs offline
and reproduces exactly: 2-D point sets (``spirals``, ``moons``, ``blobs``) for MLPs and
tiny ``1×S×S`` images (``shapes``) for the CNN and the ResNet. :func:`lossfilm.compute.data.datasets.build_data`
turns them into a :class:`lossfilm.compute.data.datasets.Dataset`.
"""

from __future__ import annotations

import numpy as np
from lossfilm.compute.config.data import SHAPE_CLASSES

__all__ = [
    "DEFAULT_NOISE",
    "SHAPE_CLASSES",
    "make_blobs",
    "make_moons",
    "make_shapes",
    "make_spirals",
]


#: noise std of each generated kind when the scene leaves ``noise`` unset.
DEFAULT_NOISE = {"spirals": 0.03, "moons": 0.1, "blobs": 0.3, "shapes": 0.5}

#: spiral arms wind this many turns from the centre to the rim.
SPIRAL_TURNS = 1.75


def _split_counts(n: int, k: int) -> np.ndarray:
    """``n`` samples over ``k`` classes, as even as possible."""
    counts = np.full(k, n // k)
    counts[: n % k] += 1
    return counts


def make_spirals(n: int, classes: int, noise: float, rng: np.random.Generator):
    """Spiral arms from the centre outwards, one per class. Returns x (n, 2), y (n,)."""
    xs, ys = [], []
    for c, m in enumerate(_split_counts(n, classes)):
        t = np.sqrt(rng.uniform(0.0, 1.0, m))  # sqrt: uniform density along the arm's area
        angle = 2 * np.pi * (SPIRAL_TURNS * t + c / classes)
        pts = np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1)
        xs.append(pts + rng.normal(0.0, noise, pts.shape))
        ys.append(np.full(m, c))
    return np.concatenate(xs), np.concatenate(ys)


def make_moons(n: int, noise: float, rng: np.random.Generator):
    """Two interleaving half circles. Returns x (n, 2), y (n,)."""
    m0, m1 = _split_counts(n, 2)
    t0 = rng.uniform(0.0, np.pi, m0)
    t1 = rng.uniform(0.0, np.pi, m1)
    upper = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    lower = np.stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)
    x = np.concatenate([upper, lower]) + rng.normal(0.0, noise, (n, 2))
    x = x - np.array([0.5, 0.25])  # centre the pair on the origin
    return x, np.concatenate([np.zeros(m0), np.ones(m1)])


def make_blobs(n: int, classes: int, features: int, noise: float, rng: np.random.Generator):
    """Isotropic Gaussian clusters around centres in ``[-1, 1]^features``."""
    centers = rng.uniform(-1.0, 1.0, (classes, features))
    xs, ys = [], []
    for c, m in enumerate(_split_counts(n, classes)):
        xs.append(centers[c] + rng.normal(0.0, noise, (m, features)))
        ys.append(np.full(m, c))
    return np.concatenate(xs), np.concatenate(ys)


def _shape_image(c: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """One ``size×size`` image of class ``c`` with random frequency, phase, centre, size."""
    u = (np.arange(size) + 0.5) / size
    yy, xx = np.meshgrid(u, u, indexing="ij")
    freq = rng.uniform(2.0, 4.0)
    phase = rng.uniform(0.0, 2 * np.pi)
    cy, cx = rng.uniform(0.3, 0.7, 2)
    radius = rng.uniform(0.15, 0.35)
    r = np.hypot(yy - cy, xx - cx)
    wave = lambda v: np.sin(2 * np.pi * freq * v + phase) > 0
    name = SHAPE_CLASSES[c]
    if name == "horizontal stripes":
        img = wave(yy)
    elif name == "vertical stripes":
        img = wave(xx)
    elif name == "diagonal stripes":
        img = wave((xx + yy) / np.sqrt(2))
    elif name == "anti-diagonal stripes":
        img = wave((xx - yy) / np.sqrt(2))
    elif name == "disk":
        img = r < radius
    elif name == "ring":
        img = np.abs(r - radius) < 0.06
    elif name == "cross":
        img = (np.abs(yy - cy) < 0.07) | (np.abs(xx - cx) < 0.07)
    else:  # checkerboard
        img = wave(xx) ^ wave(yy)
    return img.astype(np.float64)


def make_shapes(n: int, classes: int, size: int, noise: float, rng: np.random.Generator):
    """Tiny synthetic images. Returns x (n, 1, size, size) roughly zero-mean, y (n,)."""
    y = np.concatenate([np.full(m, c) for c, m in enumerate(_split_counts(n, classes))])
    x = np.stack([_shape_image(int(c), size, rng) for c in y])[:, None]
    x = (x - 0.5) * 2.0 + rng.normal(0.0, noise, x.shape)
    return x, y
