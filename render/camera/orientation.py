"""Camera orientation: a heading that never flips, up vectors and splined rotations.

The view's horizontal heading is carried continuously through the zenith and the nadir
(where the view direction alone says nothing about which way is up), up vectors are built
from it, and keyed orientations are interpolated with scipy's ``RotationSpline``. Pure
functions on numpy arrays; :mod:`lossfilm.render.camera.path` wraps them.

World units are landscape units (see :mod:`lossfilm.render.mesh.frame`): ``x = a``, ``y = b``, ``z`` up.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation, RotationSpline

__all__ = [
    "OrientationSpline",
    "continuous_headings",
    "look_rotations",
    "unit_vectors",
    "up_vectors",
]

#: heading may turn at most this fast while the view is (near) vertical, degrees / s...
HEADING_RATE_DEG_S = 120.0
#: ...and this fast when the view is far from vertical (where it follows the view's own
#: horizontal direction, which moves continuously): fast enough for any orbit, slow enough
#: that catching up after passing over the zenith is a quick roll, not a flip.
HEADING_RATE_FREE_DEG_S = 360.0
#: horizontal length of the unit view vector below which the view counts as vertical...
VERTICAL_LO = float(np.sin(np.radians(3.0)))
#: ...and above which it counts as far from vertical (smoothstep between).
VERTICAL_HI = float(np.sin(np.radians(40.0)))


#: norms below this count as zero: a zero vector stays zero instead of turning NaN.
MIN_NORM = 1e-300


def unit_vectors(v: np.ndarray) -> np.ndarray:
    """Rows of ``v`` (..., d) scaled to unit length; zero rows stay zero."""
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.maximum(n, MIN_NORM)


def continuous_headings(
    forward: np.ndarray,
    times: np.ndarray,
    hints: np.ndarray | None = None,
    cuts: np.ndarray | None = None,
) -> np.ndarray:
    """A horizontal heading per sample that never jumps, also at the zenith and nadir.

    The heading is where the top of the image points when the view is vertical, and the
    horizontal direction of the view otherwise. It turns toward the view's horizontal
    direction (or the shot's hint near vertical) at most ``HEADING_RATE_DEG_S`` while the
    view is near vertical (where that direction is undefined or flips) and at most
    ``HEADING_RATE_FREE_DEG_S`` far from it; only cuts may jump.

    Parameters
    ----------
    forward : (m, 3) float
        Unit view directions at increasing ``times`` (m,).
    hints : (m, 2) float, optional
        The heading a shot means when looking (near) vertically (a top view's image top,
        an orbit's inward direction); NaN rows where the shot has no opinion.
    cuts : (m,) bool, optional
        True where a new shot starts: the heading may jump there (it is a cut).

    Returns
    -------
    (m, 2) float
        Unit horizontal headings.
    """
    f = np.asarray(forward, dtype=np.float64)
    m = f.shape[0]
    hints = np.full((m, 2), np.nan) if hints is None else np.asarray(hints, dtype=np.float64)
    cuts = np.zeros(m, dtype=bool) if cuts is None else np.asarray(cuts, dtype=bool)
    fh = f[:, :2]
    n = np.linalg.norm(fh, axis=1)
    w = np.clip((n - VERTICAL_LO) / (VERTICAL_HI - VERTICAL_LO), 0.0, 1.0)
    w = w * w * (3 - 2 * w)
    out = np.empty((m, 2))
    prev = np.array([0.0, 1.0])
    slow, fast = np.radians(HEADING_RATE_DEG_S), np.radians(HEADING_RATE_FREE_DEG_S)
    for k in range(m):
        has_hint = np.all(np.isfinite(hints[k]))
        if has_hint:
            # turn from the view's own direction to the hint as the view becomes vertical
            hint = hints[k] / max(np.linalg.norm(hints[k]), MIN_NORM)
            if n[k] > 1e-9:
                own = fh[k] / n[k]
                between = np.arctan2(own[0] * hint[1] - own[1] * hint[0], own @ hint) * (1.0 - w[k])
                c, s = np.cos(between), np.sin(between)
                desired = np.array([c * own[0] - s * own[1], s * own[0] + c * own[1]])
            else:
                desired = hint
        elif n[k] > 1e-9:
            desired = fh[k] / n[k]
        else:
            desired = prev
        if k == 0 or cuts[k]:
            prev = desired
        else:
            dt = max(times[k] - times[k - 1], 0.0)
            limit = (slow + w[k] * (fast - slow)) * dt
            ang = np.arctan2(prev[0] * desired[1] - prev[1] * desired[0], prev @ desired)
            step = np.clip(ang, -limit, limit)
            c, s = np.cos(step), np.sin(step)
            prev = np.array([c * prev[0] - s * prev[1], s * prev[0] + c * prev[1]])
        out[k] = prev
    return out


def up_vectors(
    forward: np.ndarray, headings: np.ndarray, roll_deg: np.ndarray | float = 0.0
) -> np.ndarray:
    """Up vectors from a heading: the image's right stays horizontal (``heading × z``).

    Parameters
    ----------
    forward : (m, 3) float
        Unit view directions.
    headings : (m, 2) float
        Unit horizontal headings (:func:`continuous_headings`).
    roll_deg : (m,) float or float
        Roll about the view direction, degrees, counter-clockwise as seen by the camera.

    Returns
    -------
    (m, 3) float
        Unit up vectors orthogonal to ``forward``; never parallel to it, also when the
        view is vertical.
    """
    f = unit_vectors(np.asarray(forward, dtype=np.float64))
    h = np.zeros_like(f)
    h[:, :2] = headings
    right = np.cross(h, [0.0, 0.0, 1.0])
    # right must be orthogonal to f: it is, up to the heading's lag near vertical
    right = unit_vectors(right - np.sum(right * f, axis=1, keepdims=True) * f)
    up = np.cross(right, f)
    roll = np.radians(np.broadcast_to(np.asarray(roll_deg, dtype=np.float64), (f.shape[0],)))[
        :, None
    ]
    return unit_vectors(np.cos(roll) * up - np.sin(roll) * right)


def look_rotations(forward: np.ndarray, up: np.ndarray) -> Rotation:
    """Rotations whose camera axes (x right, y up, -z forward) match ``forward``/``up`` (m, 3)."""
    f = unit_vectors(forward)
    right = unit_vectors(np.cross(f, up))
    u = np.cross(right, f)
    return Rotation.from_matrix(np.stack([right, u, -f], axis=2))


class OrientationSpline:
    """Orientation through keyed rotations, smooth through any turn (scipy RotationSpline).

    Parameters
    ----------
    times : (n,) float
        Increasing key times.
    forward, up : (n, 3) float
        View and up directions at the keys.
    """

    def __init__(self, times: np.ndarray, forward: np.ndarray, up: np.ndarray) -> None:
        self.times = np.asarray(times, dtype=np.float64)
        self.rot = look_rotations(forward, up)
        self.spline = RotationSpline(self.times, self.rot) if self.times.size > 1 else None

    def __call__(self, time: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Forward and up (m, 3) at times (m,)."""
        t = np.clip(
            np.atleast_1d(np.asarray(time, dtype=np.float64)), self.times[0], self.times[-1]
        )
        r = self.spline(t) if self.spline is not None else Rotation.concatenate([self.rot] * t.size)
        return r.apply([0.0, 0.0, -1.0]), r.apply([0.0, 1.0, 0.0])
