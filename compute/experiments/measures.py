"""Numbers that say what a film of an experiment shows: how rough, how high a surface is.

Pure functions on one loss grid ``(ny, nx)`` over the plane coordinates ``a (nx,)``,
``b (ny,)``. The project's roughness (:func:`roughness`) is the fraction of points where the
loss falls when moving away from the state's own weights: a basin, however steep, deep or
saturated at its rim, scores near 0; ridges and pits score high. It depends only on the
sign of slopes, so it reads the same on the loss and on its log (what the films draw).
"""

from __future__ import annotations

import numpy as np

__all__ = ["LOSS_FLOOR", "log_loss", "hessian_eigenvalues", "nonconvex_fraction", "roughness", "origin_value",
           "radial_nonmonotone_fraction"]

#: losses are clipped to at least this before the log (a perfect fit would give −inf).
LOSS_FLOOR = 1e-8
#: a curvature counts as negative below −NEGATIVE_TOL × the grid's median |curvature|: flat
#: stretches (float32 noise on a plateau) must not read as non-convex.
NEGATIVE_TOL = 1e-3


def log_loss(loss: np.ndarray) -> np.ndarray:
    """``log(max(loss, LOSS_FLOOR))``; non-finite values stay non-finite."""
    loss = np.asarray(loss, dtype=np.float64)
    return np.log(np.maximum(loss, LOSS_FLOOR))


def hessian_eigenvalues(z: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues of the discrete Hessian of ``z`` at the interior grid points.

    Parameters
    ----------
    z : (ny, nx) float
    a : (nx,) float ; b : (ny,) float
        Evenly spaced coordinates.

    Returns
    -------
    lo, hi : (ny − 2, nx − 2) float64
        Smaller and larger eigenvalue of ``[[z_aa, z_ab], [z_ab, z_bb]]`` from central
        differences.
    """
    z = np.asarray(z, dtype=np.float64)
    if z.shape[0] < 3 or z.shape[1] < 3:
        raise ValueError(f"need a grid of at least 3×3 points for curvature, got {z.shape}")
    ha, hb = float(a[1] - a[0]), float(b[1] - b[0])
    zaa = (z[1:-1, 2:] - 2 * z[1:-1, 1:-1] + z[1:-1, :-2]) / ha**2
    zbb = (z[2:, 1:-1] - 2 * z[1:-1, 1:-1] + z[:-2, 1:-1]) / hb**2
    zab = (z[2:, 2:] - z[2:, :-2] - z[:-2, 2:] + z[:-2, :-2]) / (4 * ha * hb)
    mean, half = (zaa + zbb) / 2, np.sqrt(((zaa - zbb) / 2) ** 2 + zab**2)
    return mean - half, mean + half


def nonconvex_fraction(loss: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """Fraction of interior grid points where the loss curves down in some direction.

    A point counts when the smaller Hessian eigenvalue of the loss is negative beyond
    :data:`NEGATIVE_TOL` of the grid's median curvature magnitude (Li et al. 2018 map
    ``|λmin/λmax|``; this counts where ``λmin < 0``). A convex bowl scores 0. Note that a
    smooth basin whose walls level off at a plateau counts there too, so over wide ranges
    :func:`roughness` is the better tell of chaos.
    """
    lo, hi = hessian_eigenvalues(np.asarray(loss, dtype=np.float64), a, b)
    ok = np.isfinite(lo) & np.isfinite(hi)
    if not ok.any():
        return float("nan")
    scale = float(np.median(np.abs(np.concatenate([lo[ok], hi[ok]]))))
    return float(np.mean(lo[ok] < -NEGATIVE_TOL * scale))


def roughness(loss: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """The roughness this project reports: :func:`radial_nonmonotone_fraction`."""
    return radial_nonmonotone_fraction(loss, a, b)


def origin_value(grid: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """The grid value at the point nearest ``(0, 0)`` (the state's own weights)."""
    return float(np.asarray(grid)[int(np.argmin(np.abs(b))), int(np.argmin(np.abs(a)))])


def radial_nonmonotone_fraction(loss: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """Fraction of grid points where the log-loss falls when moving away from the origin.

    The slope along the ray from ``(0, 0)`` through each point (central differences,
    ``np.gradient``) is compared with :data:`NEGATIVE_TOL` times the grid's median slope
    magnitude. A basin around the state's weights, however steep or saturated, rises along
    every ray and scores near 0; a chaotic surface with ridges and pits scores high.
    """
    z = log_loss(loss)
    gb, ga = np.gradient(z, np.asarray(b, dtype=np.float64), np.asarray(a, dtype=np.float64))
    aa, bb = np.meshgrid(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    r = np.hypot(aa, bb)
    ok = (r > 0) & np.isfinite(ga) & np.isfinite(gb)
    if not ok.any():
        return float("nan")
    radial = (ga * aa + gb * bb)[ok] / r[ok]
    scale = float(np.median(np.hypot(ga[ok], gb[ok])))
    return float(np.mean(radial < -NEGATIVE_TOL * scale))
