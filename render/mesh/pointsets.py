"""Named polylines and point sets that an experiment draws on the surface.

The compute stage records them per state in plane coordinates
(:attr:`lossfilm.compute.store.sequence.SurfaceSequence.paths` / ``markers``: name -> ``(S, k, 2)``, NaN
rows padding states with fewer points): the straight segment and the Bézier curve of a
mode-connectivity film, the SWAG iterates and posterior samples. Pure functions here turn
them into world points of one film position, draped on the drawn surface; the renderer
draws paths as ribbons (like the trajectory) and markers as small spheres.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = [
    "POINT_SET_COLORS",
    "DEFAULT_POINT_SET_COLOR",
    "MARKER_RADIUS",
    "PATH_DENSIFY",
    "points_at",
    "densify",
    "drape",
    "color_of",
]

#: sRGB colour of each known set; others use DEFAULT_POINT_SET_COLOR.
POINT_SET_COLORS = {
    "segment": "#f2f2f2",
    "curve": "#ff7a2f",
    "iterates": "#ffffff",
    "samples": "#ff4fa3",
}
DEFAULT_POINT_SET_COLOR = "#9ee7ff"
#: marker sphere radius as a fraction of the ball's.
MARKER_RADIUS = 0.4
#: points inserted per segment of a path so the ribbon follows the terrain between vertices.
PATH_DENSIFY = 6


def color_of(name: str) -> str:
    """The sRGB colour a set of this name is drawn in."""
    return POINT_SET_COLORS.get(name, DEFAULT_POINT_SET_COLOR)


def points_at(sets: np.ndarray, position: float, *, appear: bool = False) -> np.ndarray:
    """Plane points of one set at a fractional state position.

    Parameters
    ----------
    sets : (S, k, 2) float
        The set in every state; NaN rows are absent points.
    position : float
        In ``[0, S − 1]``.
    appear : bool
        Markers: a point present only in the later state appears at the half-way mark
        (collected points pop in, they do not slide in from nowhere). Paths: only points
        present in both states are kept.

    Returns
    -------
    (m, 2) float64
        Linear between the two bracketing states where a point exists in both.
    """
    sets = np.asarray(sets, dtype=np.float64)
    n = sets.shape[0]
    p = float(np.clip(position, 0.0, n - 1))
    k0 = int(np.floor(p))
    k1 = min(k0 + 1, n - 1)
    f = p - k0
    a, b = sets[k0], sets[k1]
    ok_a, ok_b = np.isfinite(a).all(1), np.isfinite(b).all(1)
    both = ok_a & ok_b
    mix = (1 - f) * np.where(both[:, None], a, 0.0) + f * np.where(both[:, None], b, 0.0)
    out = np.where(both[:, None], mix, np.nan)
    if appear:
        out[ok_a & ~ok_b] = a[ok_a & ~ok_b]
        if f >= 0.5:
            out[~ok_a & ok_b] = b[~ok_a & ok_b]
    return out[np.isfinite(out).all(1)]


def densify(xy: np.ndarray, factor: int = PATH_DENSIFY) -> np.ndarray:
    """A polyline ``(k, 2)`` with ``factor − 1`` evenly spaced points inserted per segment."""
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    if xy.shape[0] < 2 or factor <= 1:
        return xy
    t = np.linspace(0.0, xy.shape[0] - 1, (xy.shape[0] - 1) * factor + 1)
    return np.stack([np.interp(t, np.arange(xy.shape[0]), xy[:, i]) for i in range(2)], axis=1)


def drape(xy: np.ndarray, height: Callable[[np.ndarray, np.ndarray], np.ndarray],
          window: tuple[float, float, float, float]) -> np.ndarray:
    """World points ``(m, 3)`` float32 of the plane points inside ``window`` on the surface.

    Parameters
    ----------
    xy : (k, 2) float
    height : callable ``(px (k,), py (k,)) -> (k,)`` heights of the drawn surface
    window : (x0, x1, y0, y1)
    """
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    x0, x1, y0, y1 = window
    keep = (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)
    xy = xy[keep]
    if xy.shape[0] == 0:
        return np.zeros((0, 3), dtype=np.float32)
    z = np.asarray(height(xy[:, 0], xy[:, 1]), dtype=np.float64).reshape(-1)
    return np.column_stack([xy, z]).astype(np.float32)
