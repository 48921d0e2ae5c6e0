"""Focus pulls: a shot's lens keys resolved, at any time, to a focus distance and an f-stop.

The keys (``focus``, ``fstop``; :mod:`lossfilm.render.scene.focus`) name what to focus
on; at a film time each key's target becomes a distance along the view axis of that
time's pose (so a pull follows a moving ball and a camera that moves meanwhile), and the
two keys around the time are mixed in diopters (1 / distance) with the shot's easing: a
pull from the horizon to something near crawls through the far distances and lands
gently, as a focus puller turning a lens's ring does. The f-stop is mixed in stops.

:func:`edge_depth` is the "edge horizon": the farthest point of the surface's boundary
that lies in view, the far edge a viewer's eye runs to. The renderer uses it too, for
``render.dof.focus: edge``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from lossfilm.render.camera.framing import FRAME_ASPECT
from lossfilm.render.camera.motion import ease

__all__ = ["LensKeys", "blend_lens", "edge_depth", "view_depth", "MIN_FOCUS"]

#: nearest focus distance, world units (a target at or behind the eye is focused here).
MIN_FOCUS = 1e-6


def view_depth(point, eye: np.ndarray, forward: np.ndarray) -> float:
    """Distance of ``point`` (3,) in front of ``eye`` along the unit view axis ``forward``."""
    return max(float(np.dot(np.asarray(point, np.float64) - eye, forward)), MIN_FOCUS)


def _boundary(x: np.ndarray, y: np.ndarray, z: np.ndarray, stride: int) -> np.ndarray:
    """(k, 3) points along the four edges of a height grid ``z`` (ny, nx), every ``stride``."""
    X, Y = np.meshgrid(np.asarray(x, np.float64), np.asarray(y, np.float64))
    rows = [(X[0], Y[0], z[0]), (X[-1], Y[-1], z[-1]), (X[:, 0], Y[:, 0], z[:, 0]), (X[:, -1], Y[:, -1], z[:, -1])]
    pts = np.concatenate([np.stack([a[::stride], b[::stride], c[::stride]], axis=1) for a, b, c in rows])
    return pts[np.all(np.isfinite(pts), axis=1)]


def edge_depth(eye, forward, up, fov_deg: float, x: np.ndarray, y: np.ndarray, z: np.ndarray,
               aspect: float = FRAME_ASPECT, max_points: int = 1024) -> float | None:
    """Depth along the view axis of the farthest point of the surface's edge in view.

    Parameters
    ----------
    eye, forward, up : (3,) float
        The camera; ``forward`` a unit vector, ``up`` not parallel to it.
    fov_deg : float
        Vertical field of view.
    x : (nx,) float
    y : (ny,) float
    z : (ny, nx) float
        The surface (any grid of it: the coarse one of the camera, the frame's own).
    aspect : float
        Width over height of the frame.

    Returns
    -------
    float or None
        The depth; when no edge point is in view, the farthest one in front of the
        camera; None when the whole edge is behind it.
    """
    eye, forward = np.asarray(eye, np.float64), np.asarray(forward, np.float64)
    z = np.asarray(z)
    stride = max(1, int(np.ceil(2 * (z.shape[0] + z.shape[1]) / max_points)))
    q = _boundary(x, y, z, stride) - eye
    depth = q @ forward
    right = np.cross(forward, np.asarray(up, np.float64))
    right /= max(np.linalg.norm(right), 1e-12)
    upward = np.cross(right, forward)
    t = np.tan(np.radians(fov_deg) / 2.0)
    front = depth > MIN_FOCUS
    seen = front & (np.abs(q @ right) <= t * aspect * depth) & (np.abs(q @ upward) <= t * depth)
    pick = seen if seen.any() else front
    return float(depth[pick].max()) if pick.any() else None


def _segment(times: np.ndarray, t: float, easing: str) -> tuple[int, int, float]:
    """Keys ``(i, j)`` around ``t`` and the eased weight of ``j`` (holds outside the keys)."""
    if t <= times[0]:
        return 0, 0, 0.0
    if t >= times[-1]:
        return len(times) - 1, len(times) - 1, 0.0
    j = int(np.searchsorted(times, t, side="right"))
    i = j - 1
    return i, j, float(ease(easing, (t - times[i]) / (times[j] - times[i])))


class LensKeys:
    """The lens keys of one shot (``focus``, ``fstop``), eased with ``easing``.

    Parameters
    ----------
    focus : tuple of (time, str | float)
    fstop : tuple of (time, float)
    easing : str
        A name of :data:`lossfilm.render.camera.motion.EASINGS` (the shot's ``ease``).
    """

    def __init__(self, focus: tuple, fstop: tuple, easing: str) -> None:
        self.focus = tuple(focus)
        self.fstop = tuple(fstop)
        self.easing = easing
        self._focus_t = np.array([k[0] for k in self.focus], np.float64)
        self._fstop_t = np.array([k[0] for k in self.fstop], np.float64)
        self._stops = np.log2([float(k[1]) for k in self.fstop]) if self.fstop else np.zeros(0)

    def fstop_at(self, t: float) -> float | None:
        """The f-number at local time ``t`` seconds (None without fstop keys)."""
        if not self.fstop:
            return None
        i, j, w = _segment(self._fstop_t, t, self.easing)
        return float(2.0 ** ((1.0 - w) * self._stops[i] + w * self._stops[j]))

    def focus_at(self, t: float, depth_of: Callable[[str | float], float | None]) -> float | None:
        """The focus distance at local time ``t`` (None without focus keys).

        ``depth_of(what)`` resolves one key's target (a name or a distance) at this time
        to a distance along the view axis; None (nothing of it in front) holds the other key.
        """
        if not self.focus:
            return None
        i, j, w = _segment(self._focus_t, t, self.easing)
        a = depth_of(self.focus[i][1])
        b = a if j == i else depth_of(self.focus[j][1])
        a, b = (a if a is not None else b), (b if b is not None else a)
        if a is None:
            return None
        diopters = (1.0 - w) / max(a, MIN_FOCUS) + w / max(b, MIN_FOCUS)
        return float(1.0 / diopters)


def blend_lens(a: tuple, b: tuple, w: float) -> tuple:
    """``(focus, fstop)`` a fraction ``w`` of the way from lens ``a`` to lens ``b``: focus in
    diopters, aperture in stops, as between keys. A None (nothing known) takes the other's."""
    (fa, sa), (fb, sb) = a, b
    fa, fb = (fa if fa is not None else fb), (fb if fb is not None else fa)
    sa, sb = (sa if sa is not None else sb), (sb if sb is not None else sa)
    focus = None if fa is None else float(1.0 / ((1.0 - w) / max(fa, MIN_FOCUS) + w / max(fb, MIN_FOCUS)))
    fstop = None if sa is None else float(2.0 ** ((1.0 - w) * np.log2(sa) + w * np.log2(sb)))
    return focus, fstop
