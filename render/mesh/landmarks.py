"""What a frame points at: the minimizer ball, the lowest point, the trajectory, the numbers.

Pure functions on arrays; :class:`lossfilm.render.mesh.film_surface.FilmSurface` feeds them the interpolated
heights of one film time.
"""

from __future__ import annotations

import numpy as np


__all__ = [
    "lowest_point",
    "interpolate_values",
    "nearest_label",
    "moves",
    "TRAJECTORY_SAMPLES_PER_STATE",
]

#: Points per state interval on the drawn trajectory, so its curve is as smooth as the ball's.
TRAJECTORY_SAMPLES_PER_STATE = 8


def lowest_point(
    x: np.ndarray, y: np.ndarray, z: np.ndarray, invalid: np.ndarray | None = None,
    *, highest: bool = False,
) -> np.ndarray:
    """World position of the lowest (or highest) valid vertex of a height field.

    Parameters
    ----------
    x : (nx,) float, y : (ny,) float
    z : (ny, nx) float
    invalid : (ny, nx) bool or None
        Vertices to skip (non-finite loss); if all are invalid the grid centre is returned.
    highest : bool
        Look for the maximum instead (an inverted landscape has its minimum on top).

    Returns
    -------
    (3,) float32
    """
    zz = np.asarray(z)
    if invalid is not None and invalid.any():
        if invalid.all():
            i, j = zz.shape[0] // 2, zz.shape[1] // 2
            return np.array([x[j], y[i], zz[i, j]], dtype=np.float32)
        fill = -np.inf if highest else np.inf
        zz = np.where(invalid, fill, zz)
    flat = int(np.argmax(zz) if highest else np.argmin(zz))
    i, j = divmod(flat, zz.shape[1])
    return np.array([x[j], y[i], z[i, j]], dtype=np.float32)


def moves(ball: np.ndarray) -> bool:
    """Whether the ball travels (a fixed plane); on a moving plane it sits at one spot."""
    ball = np.asarray(ball, dtype=np.float64)
    return bool(ball.shape[0] > 1 and np.ptp(ball, axis=0).max() > 0.0)


def interpolate_values(
    values: dict, epochs: np.ndarray, steps: np.ndarray, position: float
) -> dict:
    """Per-state numbers at a fractional position (linear between states).

    Linear, not PCHIP: a learning-rate step or an accuracy jump is shown as what was
    measured, without a smooth curve the data does not claim.

    Returns
    -------
    dict of str -> float
        Every key of ``values`` plus ``epoch`` and ``step`` (unless given in ``values``).
    """
    n = len(epochs)
    index = np.arange(n, dtype=np.float64)

    def at(v: np.ndarray) -> float:
        return float(np.interp(position, index, v)) if n > 1 else float(v[0])

    out = {k: at(np.asarray(v, dtype=np.float64)) for k, v in values.items()}
    out.setdefault("epoch", at(np.asarray(epochs, dtype=np.float64)))
    out.setdefault("step", at(np.asarray(steps, dtype=np.float64)))
    return out


def nearest_label(labels: list, position: float) -> str:
    """Label of the state nearest to ``position`` (ties go to the later state)."""
    if not labels:
        return ""
    k = int(np.floor(position + 0.5))
    return str(labels[min(max(k, 0), len(labels) - 1)])
