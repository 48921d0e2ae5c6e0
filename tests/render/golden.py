"""Golden-image helper for renderer tests, and the synthetic scene the goldens show.

Compare a rendered image with ``tests/goldens/<name>.png`` under a two-level tolerance:
a pixel *mismatches* when any channel differs by more than ``PIXEL_TOLERANCE`` code
values, and the test fails when more than ``MISMATCH_RATIO`` of the pixels mismatch
(Mesa versions differ in the last bits of rasterization and filtering; a changed look
moves far more pixels than that). On failure the expected, actual and an amplified diff
image are written under ``tests/_failures/``.

Regenerate goldens with ``LOSSFILM_UPDATE_GOLDENS=1 pytest tests/render/test_renderer.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from lossfilm.render.mesh.frame import Bounds, CameraPose, Frame, Topology

GOLDEN_DIR = Path(__file__).resolve().parent.parent / "goldens"
FAILURE_DIR = Path(__file__).resolve().parent.parent / "_failures"
PIXEL_TOLERANCE = 24
MISMATCH_RATIO = 0.01
UPDATE_ENV = "LOSSFILM_UPDATE_GOLDENS"
GOLDEN_SIZE = (320, 180)


def compare(a: np.ndarray, b: np.ndarray, pixel_tolerance: int = PIXEL_TOLERANCE) -> tuple[float, int]:
    """(fraction of mismatching pixels, largest channel difference) of two equal-shape images."""
    if a.shape != b.shape:
        raise AssertionError(f"shape {a.shape} != {b.shape}")
    diff = np.abs(a.astype(np.int32) - b.astype(np.int32))
    per_pixel = diff.max(axis=-1) if diff.ndim == 3 else diff
    return float((per_pixel > pixel_tolerance).mean()), int(diff.max(initial=0))


def assert_matches_golden(name: str, image: np.ndarray, *, pixel_tolerance: int = PIXEL_TOLERANCE,
                          mismatch_ratio: float = MISMATCH_RATIO) -> None:
    """Assert ``image`` (H, W, 3|4) uint8 matches golden ``name`` (or rewrite it on request)."""
    path = GOLDEN_DIR / f"{name}.png"
    if os.environ.get(UPDATE_ENV) == "1" or not path.exists():
        if os.environ.get(UPDATE_ENV) != "1":
            raise AssertionError(f"missing golden {path}; create it with {UPDATE_ENV}=1")
        GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(path, optimize=True)
        return
    expected = np.asarray(Image.open(path))
    ratio, worst = (1.0, 255) if expected.shape != image.shape else compare(expected, image, pixel_tolerance)
    if ratio > mismatch_ratio:
        FAILURE_DIR.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(FAILURE_DIR / f"{name}_actual.png")
        Image.fromarray(expected).save(FAILURE_DIR / f"{name}_expected.png")
        if expected.shape == image.shape:
            diff = np.abs(expected.astype(np.int16) - image.astype(np.int16))
            amplified = np.clip(diff[..., :3] * 4, 0, 255).astype(np.uint8)
            Image.fromarray(amplified).save(FAILURE_DIR / f"{name}_diff.png")
        raise AssertionError(
            f"{name}: {ratio:.2%} of pixels differ by more than {pixel_tolerance} "
            f"(allowed {mismatch_ratio:.2%}, largest difference {worst}); see {FAILURE_DIR}"
        )


def grid_indices(ny: int, nx: int) -> np.ndarray:
    """(2*(ny-1)*(nx-1), 3) uint32 triangles, counter-clockwise seen from +z."""
    i = np.arange(ny * nx, dtype=np.uint32).reshape(ny, nx)
    a, b, c, d = i[:-1, :-1].ravel(), i[:-1, 1:].ravel(), i[1:, :-1].ravel(), i[1:, 1:].ravel()
    return np.concatenate([np.stack([a, b, d], 1), np.stack([a, d, c], 1)]).astype(np.uint32)


def height_normals(z: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(ny, nx, 3) float32 unit normals of a height field."""
    gy, gx = np.gradient(z, y, x)
    n = np.stack([-gx, -gy, np.ones_like(z)], axis=-1)
    return (n / np.linalg.norm(n, axis=-1, keepdims=True)).astype(np.float32)


def flat_plane(n: int) -> tuple[Topology, Frame]:
    """A flat n x n plane over [-1, 1]^2 at z = 0, one mid-scale colour (lens and shutter tests)."""
    x = np.linspace(-1.0, 1.0, n, dtype=np.float32)
    z = np.zeros((n, n), np.float32)
    topo = Topology(x=x, y=x, indices=grid_indices(n, n), bounds=Bounds((-1, -1, 0.0), (1, 1, 0.1)))
    frame = Frame(index=0, time=0.0, position=0.0, heights=z, normals=height_normals(z, x, x),
                  scalar=np.full_like(z, 0.6), minimum=np.zeros(3, np.float32))
    return topo, frame


def synthetic_scene(n: int = 64, invalid: bool = False) -> tuple[Topology, Frame]:
    """A paraboloid valley with ripples, a spiral trajectory into it and the ball at its end."""
    x = np.linspace(-1.0, 1.0, n, dtype=np.float32)
    y = np.linspace(-1.0, 1.0, n, dtype=np.float32)
    X, Y = np.meshgrid(x, y)

    def surface(px, py):
        return 0.35 * (px**2 + 0.6 * py**2) + 0.04 * np.sin(6 * px) * np.cos(5 * py)

    Z = surface(X, Y).astype(np.float32)
    zlo, zhi = float(Z.min()), float(Z.max())
    topo = Topology(x=x, y=y, indices=grid_indices(n, n), bounds=Bounds((-1.0, -1.0, zlo), (1.0, 1.0, zhi)))
    t = np.linspace(0.0, 1.0, 48)
    tx, ty = 0.8 * np.cos(3 * t) * (1 - t) + 0.1, 0.8 * np.sin(3 * t) * (1 - t) - 0.05
    traj = np.stack([tx, ty, surface(tx, ty)], axis=1).astype(np.float32)
    bad = None
    if invalid:
        bad = np.zeros((n, n), bool)
        bad[: n // 5, -n // 4 :] = True
    frame = Frame(index=0, time=0.0, position=0.0, heights=Z, normals=height_normals(Z, x, y),
                  scalar=((Z - zlo) / (zhi - zlo)).astype(np.float32), invalid=bad,
                  minimum=np.array([0.0, 0.0, zlo], np.float32), ball=traj[-1].copy(), trajectory=traj,
                  values={"epoch": 3, "step": 120, "loss": 0.123456}, label="epoch 3")
    return topo, frame


POSES = {
    "default": CameraPose(eye=(2.2, -2.0, 1.5), target=(0.0, 0.0, 0.1)),
    "below": CameraPose(eye=(1.8, -1.6, -1.1), target=(0.0, 0.0, 0.15)),
    "top": CameraPose(eye=(0.0, 0.0, 3.2), target=(0.0, 0.0, 0.0), up=(0.0, 1.0, 0.0)),
}
