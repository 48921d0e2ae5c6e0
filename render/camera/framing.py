"""Automatic framing: how far a camera must stand to keep the surface in the frame.

A camera at ``eye = target + D * u`` (``u`` the unit vector from the target toward the
eye) sees a point ``p`` at depth ``D - q.u`` (``q = p - target``) and at ``q.r``, ``q.v``
across (``r``, ``v`` its right and up vectors, both orthogonal to ``u``). The point lies
inside the frame, a fraction ``margin`` in from each edge, when

    |q.r| <= (1 - margin) tan(fov_x / 2) (D - q.u)   and   |q.v| <= (1 - margin) tan(fov_y / 2) (D - q.u)

so the least such ``D`` is a maximum over the points: closed form, no search. It is
computed on the coarse surface of every sample time (the sequence grid, cheap), so the
camera follows a surface that grows or sinks and a target that moves off-centre.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.interpolate import PchipInterpolator

from lossfilm.render.camera.motion import smooth_track

__all__ = ["fit_distances", "fit_camera", "framed_track", "surface_points", "FRAME_ASPECT", "FILL_FACTOR",
           "FRAMING_SMOOTH_S"]

#: the aspect the shots are framed for: every output profile is 16:9 (the camera stage
#: does not know the output size; a taller frame keeps the fit, a wider one has more room).
FRAME_ASPECT = 16.0 / 9.0
#: ``fill``: stand this fraction of the fit distance away, so the surface runs off the frame.
FILL_FACTOR = 0.62
#: automatic distances are held and smoothed over this many seconds (no breathing)
FRAMING_SMOOTH_S = 0.5


def _basis(toward_eye: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(u, right, up), each (m, 3): the image's right stays horizontal (as render.orientation
    keeps it); straight down any horizontal right will do."""
    u = np.asarray(toward_eye, np.float64)
    forward = -u
    right = np.cross(forward, [0.0, 0.0, 1.0])
    flat = np.linalg.norm(right, axis=1) < 1e-9
    right[flat] = (1.0, 0.0, 0.0)
    right /= np.linalg.norm(right, axis=1, keepdims=True)
    return u, right, np.cross(right, forward)


def fit_distances(points: list[np.ndarray], targets: np.ndarray, toward_eye: np.ndarray, fov_deg: float,
                  margin: float, aspect: float = FRAME_ASPECT) -> np.ndarray:
    """The least distance from the target that keeps every point inside the frame.

    Parameters
    ----------
    points : list of (k_i, 3) float
        The points to keep in view at each of the m sample times.
    targets : (m, 3) float
        What the camera looks at, per sample.
    toward_eye : (m, 3) float
        Unit vectors from the target toward the eye, per sample.
    fov_deg : float
        Vertical field of view in degrees.
    margin : float
        Fraction of the half-frame kept free at every edge (0 = points may touch it).
    aspect : float
        Frame width over height.

    Returns
    -------
    (m,) float
        Distances; a point behind the target along ``u`` needs more, one in front less.
    """
    u, right, up = _basis(toward_eye)
    ty = (1.0 - margin) * np.tan(np.radians(fov_deg) / 2.0)
    tx = ty * aspect
    out = np.empty(len(u))
    for i, pts in enumerate(points):
        q = np.asarray(pts, np.float64).reshape(-1, 3) - targets[i]
        along = q @ u[i]
        need = np.maximum(np.abs(q @ right[i]) / tx, np.abs(q @ up[i]) / ty)
        out[i] = float(np.max(along + need)) if q.size else 0.0
    return out


def _tightest(c: np.ndarray, z: np.ndarray, t: float, iterations: int = 40) -> float:
    """Least slope ``s <= t`` for which some offset fits ``|c_i - a| <= s z_i`` (bisection)."""
    lo, hi = 0.0, t
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        if np.max(c - mid * z) <= np.min(c + mid * z):
            hi = mid
        else:
            lo = mid
    return hi


def fit_camera(points: list[np.ndarray], targets: np.ndarray, toward_eye: np.ndarray, fov_deg: float,
               margin: float, aspect: float = FRAME_ASPECT) -> tuple[np.ndarray, np.ndarray]:
    """Targets moved across the view so the points sit centred, and the fitting distances.

    A target off the middle of the surface (the ball near an edge) would leave one side
    of the frame empty to keep the far side in view. Moving the camera parallel to the
    image plane (target and eye together, by ``a`` along right) leaves every depth
    ``z_i = D - w_i`` (``w_i = q_i.u``) as it is, so with ``x_i = q_i.r`` the points fit
    across when ``|x_i - a| <= t z_i`` for all i, which some ``a`` satisfies exactly when

        D >= (max_i(x_i + t w_i) - min_i(x_i - t w_i)) / (2 t),

    and then ``a`` is the middle of ``[max_i(x_i - t z_i), min_i(x_i + t z_i)]``; the same
    holds along up. Closed form again: the least ``D`` of both axes, then both offsets
    (along the axis with room to spare, at the least slope that fits, so the points are
    centred there too).

    Parameters and the direction convention are those of :func:`fit_distances`.

    Returns
    -------
    targets : (m, 3) float
        The look-at points to circle instead.
    distances : (m,) float
    """
    u, right, up = _basis(toward_eye)
    ty = (1.0 - margin) * np.tan(np.radians(fov_deg) / 2.0)
    tx = ty * aspect
    moved = np.array(targets, np.float64)
    out = np.zeros(len(u))
    for i, pts in enumerate(points):
        q = np.asarray(pts, np.float64).reshape(-1, 3) - moved[i]
        if not q.size:
            continue
        w = q @ u[i]
        across = ((q @ right[i], tx), (q @ up[i], ty))
        d = max(float((np.max(c + t * w) - np.min(c - t * w)) / (2 * t)) for c, t in across)
        d = max(d, float(np.max(w)) + 1e-9)  # every point in front of the camera
        z = d - w
        # the axis with room to spare: centre at the tightest slope that still fits there
        a, b = (0.5 * (np.max(c - s * z) + np.min(c + s * z)) for c, s in
                ((c, _tightest(c, z, t)) for c, t in across))
        moved[i] += a * right[i] + b * up[i]
        out[i] = d
    return moved, out


def surface_points(coarse: list, lo: np.ndarray, hi: np.ndarray, base_depth: float = 0.0,
                   footing: float = 0.0) -> list[np.ndarray]:
    """(k, 3) points to frame at each sample time: the coarse surface inside the plane.

    Parameters
    ----------
    coarse : list of (x0 (nx,), y0 (ny,), z (ny, nx))
        The coarse surface at each sample time (``FilmSurface.coarse_at``).
    lo, hi : (3,) float
        The film's bounds.
    base_depth : float
        Depth of a solid plinth under ``lo[2]``: its bottom corners are framed too.
    footing : float
        With a plinth standing on a floor: the floor this far around its bottom is framed
        too (world units), so the film shows what it stands on.
    """
    points = []
    for x0, y0, z in coarse:
        inside_x = (x0 >= lo[0] - 1e-9) & (x0 <= hi[0] + 1e-9)
        inside_y = (y0 >= lo[1] - 1e-9) & (y0 <= hi[1] + 1e-9)
        X, Y = np.meshgrid(x0[inside_x], y0[inside_y])
        points.append(np.column_stack([X.ravel(), Y.ravel(), z[np.ix_(inside_y, inside_x)].ravel()]))
    if base_depth > 0:  # the plinth's walls hang from the edge: its bottom corners bound them
        bottom = np.array([[x, y, lo[2] - base_depth] for x in (lo[0] - footing, hi[0] + footing)
                           for y in (lo[1] - footing, hi[1] + footing)])
        points = [np.concatenate([p, bottom]) for p in points]
    return points


def framed_track(points: list[np.ndarray], times: np.ndarray, aims: np.ndarray, toward_eye: np.ndarray,
                 fov_deg: float, framing: str, margin: float) -> tuple[Callable, Callable]:
    """Look-at and distance of a framed shot as functions of its local time.

    Parameters
    ----------
    points : list of (k_i, 3)
        What to frame at each of the m sample ``times`` (m,).
    aims : (m, 3)
        The shot's own target at those times.
    toward_eye : (m, 3)
        Unit vectors from the target toward the eye.
    framing : {"fit", "fill"}
        ``fill`` stands ``FILL_FACTOR`` of the fit distance away (and ignores ``margin``).

    Returns
    -------
    target(t) -> (n, 3), distance(t) -> (n,)
        For local times t (n,), clipped to the sampled span.
    """
    targets, d = fit_camera(points, aims, toward_eye, fov_deg, margin if framing == "fit" else 0.0)
    if framing == "fill":
        d = FILL_FACTOR * d
    # a steady camera: a moving maximum over FRAMING_SMOOTH_S, smoothed, never nearer than the fit
    # (a farther camera keeps the fit: every depth grows, the offsets stay valid)
    step = float(np.median(np.diff(times))) if times.size > 1 else 1.0
    half = max(1, int(round(FRAMING_SMOOTH_S / max(step, 1e-9) / 2)))
    held = np.array([d[max(0, i - half): i + half + 1].max() for i in range(d.size)])
    steady = np.maximum(smooth_track(times, held[:, None], FRAMING_SMOOTH_S / 2)[:, 0], d)
    if times.size < 2:
        return (lambda s: np.repeat(targets[:1], np.size(s), axis=0)), (lambda s: np.full(np.size(s), steady[0]))
    # not low-passed again (the aim already is): smoothing would move the frame off the fit
    aimed = PchipInterpolator(times, targets, axis=0)
    spline = PchipInterpolator(times, steady)
    lo, hi = times[0], times[-1]
    return (lambda s: aimed(np.clip(np.atleast_1d(s), lo, hi))), (lambda s: spline(np.clip(s, lo, hi)))
