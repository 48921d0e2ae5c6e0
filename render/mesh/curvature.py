"""Curvature of the drawn surface: mean, Gaussian and principal curvatures of a height field.

The rendered slice is the graph ``z = h(x, y)`` (a Monge patch). With first derivatives
``p = h_x, q = h_y`` and second ``r = h_xx, s = h_xy, t = h_yy`` (central finite differences,
one-sided at the border, ``numpy.gradient``)::

    K = (r t − s²) / (1 + p² + q²)²
    H = ((1 + q²) r − 2 p q s + (1 + p²) t) / (2 (1 + p² + q²)^{3/2})
    k1, k2 = H ± sqrt(H² − K)

``H > 0`` where the surface is convex seen from above (a bowl), ``K < 0`` at saddles.
Curvatures are in 1 / world units of the frame (heights after the film's height
transform), because that is the surface the viewer sees.

:class:`CurvatureColor` turns one of them into the colormap coordinate with one fixed,
zero-centred range for the whole film, for a diverging colormap (``coolwarm``).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

__all__ = [
    "SURFACE_CURVATURES",
    "surface_curvature",
    "curvature_channel",
    "CurvatureColor",
    "RANGE_PERCENTILE",
]

#: colour channels computed from the drawn heights (``mesh.color``).
SURFACE_CURVATURES = ("mean_curvature", "gaussian_curvature", "max_curvature", "min_curvature")
#: the film's range is this percentile of |curvature| over every state: finite differences
#: at kinks of a ReLU landscape spike, and one spike must not wash the rest to white.
RANGE_PERCENTILE = 99.0
#: a range narrower than this (a flat film) is widened so the map stays defined.
MIN_RANGE = 1e-12


def surface_curvature(z: np.ndarray, dx: float, dy: float) -> dict[str, np.ndarray]:
    """Curvatures of the height field ``z`` sampled on a regular grid.

    Parameters
    ----------
    z : (ny, nx) float
        Heights; row ``i`` is ``y = y0 + i·dy``, column ``j`` is ``x = x0 + j·dx``.
    dx, dy : float
        Grid spacing (> 0).

    Returns
    -------
    dict of str -> (ny, nx) float64
        ``mean`` (H), ``gaussian`` (K), ``max`` (k1) and ``min`` (k2) curvature.
    """
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 2 or min(z.shape) < 3:
        raise ValueError(f"surface_curvature needs a (ny, nx) grid with ny, nx >= 3, got {z.shape}")
    if not (dx > 0 and dy > 0):
        raise ValueError(f"grid spacing must be positive, got dx={dx}, dy={dy}")
    q, p = np.gradient(z, dy, dx)
    s, r = np.gradient(p, dy, dx)  # d/dy(h_x), d/dx(h_x)
    t, _ = np.gradient(q, dy, dx)
    g = 1.0 + p * p + q * q
    gaussian = (r * t - s * s) / (g * g)
    mean = ((1.0 + q * q) * r - 2.0 * p * q * s + (1.0 + p * p) * t) / (2.0 * g ** 1.5)
    root = np.sqrt(np.maximum(mean * mean - gaussian, 0.0))
    return {"mean": mean, "gaussian": gaussian, "max": mean + root, "min": mean - root}


def curvature_channel(name: str, z: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """One of :data:`SURFACE_CURVATURES` of ``z (ny, nx)``, shape ``(ny, nx)`` float64."""
    if name not in SURFACE_CURVATURES:
        raise ValueError(f"mesh.color: {name!r} is not one of {SURFACE_CURVATURES}")
    return surface_curvature(z, dx, dy)[name.split("_")[0]]


class CurvatureColor:
    """A surface-curvature colour channel with one zero-centred range for the film.

    Parameters
    ----------
    name : str
        One of :data:`SURFACE_CURVATURES`.
    states : iterable of (ny, nx) arrays
        The drawn heights of every captured state (the range is fitted on them once).
    dx, dy : float
        Render-grid spacing.
    """

    def __init__(self, name: str, states: Iterable[np.ndarray], dx: float, dy: float) -> None:
        if name not in SURFACE_CURVATURES:
            raise ValueError(f"mesh.color: {name!r} is not one of {SURFACE_CURVATURES}")
        self.name, self.dx, self.dy = name, float(dx), float(dy)
        peaks = []
        for z in states:
            c = np.abs(curvature_channel(name, z, dx, dy))
            c = c[np.isfinite(c)]
            if c.size:
                peaks.append(np.percentile(c, RANGE_PERCENTILE))
        self.limit = max(max(peaks, default=0.0), MIN_RANGE)

    @property
    def range(self) -> tuple[float, float]:
        """``(-limit, limit)``: what the colormap's ends stand for."""
        return -self.limit, self.limit

    def __call__(self, z: np.ndarray) -> np.ndarray:
        """Colormap coordinate ``(ny, nx)`` float32 in [0, 1]; 0.5 is zero curvature."""
        c = curvature_channel(self.name, z, self.dx, self.dy)
        out = (0.5 + 0.5 * c / self.limit).astype(np.float32)
        out[~np.isfinite(out)] = 0.5
        return np.clip(out, 0.0, 1.0, out=out)
