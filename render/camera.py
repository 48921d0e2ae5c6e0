"""Camera motion: the pure math behind every shot.

Keyframed tracks (centripetal Catmull–Rom or Hermite, arc-length speed, easing per
segment, holds), a heading that stays continuous through the zenith and the nadir, up
vectors built from it, interpolated orientations (scipy ``RotationSpline``), terrain
sampling for clearance and the clip planes. Everything here works on numpy arrays; the
shot presets and :class:`render.shots.CameraPath` wrap it.

World units are landscape units (see :mod:`render.frame`): ``x = a``, ``y = b``, ``z`` up.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy.interpolate import PchipInterpolator
from scipy.ndimage import gaussian_filter1d, maximum_filter1d
from scipy.spatial.transform import Rotation, RotationSpline

__all__ = [
    "EASINGS",
    "OrientationSpline",
    "SplineTrack",
    "bilinear_height",
    "cell_max_height",
    "clip_planes",
    "continuous_headings",
    "ease",
    "look_rotations",
    "smooth_track",
    "up_vectors",
    "upper_envelope",
]

# ------------------------------------------------------------------ tolerances and limits

#: exponent of the knot spacing of Catmull–Rom: 0.5 is centripetal (no cusps, no loops).
CATMULL_ROM_ALPHA = 0.5
#: polyline points per segment used to tabulate arc length (speed even to ~1e-4).
ARC_SAMPLES_PER_SEGMENT = 256
#: chord length below which two keys are the same point (a hold).
CHORD_EPS = 1e-9
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
#: near plane as a fraction of the distance to the closest surface point (frustum corners
#: sit ~30 degrees off axis at fov 40..90, so half the distance never clips the surface).
NEAR_FRACTION = 0.4
#: the near plane never drops below far * this (24-bit depth keeps ~1e-4 of precision).
NEAR_FAR_RATIO = 2e-5
#: far plane = farthest corner of the bounds times this.
FAR_MARGIN = 1.1


# ----------------------------------------------------------------------------- easing


def _ease_in_out(u: np.ndarray) -> np.ndarray:
    return np.where(u < 0.5, 2.0 * u * u, 1.0 - 2.0 * (1.0 - u) ** 2)


#: name -> monotone map of [0, 1] onto itself with f(0) = 0 and f(1) = 1.
EASINGS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda u: u,
    "smoothstep": lambda u: u * u * (3.0 - 2.0 * u),
    "smootherstep": lambda u: u**3 * (u * (6.0 * u - 15.0) + 10.0),
    "ease_in": lambda u: u * u,
    "ease_out": lambda u: 1.0 - (1.0 - u) ** 2,
    "ease_in_out": _ease_in_out,
}


def ease(name: str, u: np.ndarray | float) -> np.ndarray:
    """Apply the easing ``name`` to ``u`` (clipped to [0, 1]); same shape as ``u``."""
    try:
        f = EASINGS[name]
    except KeyError:
        raise ValueError(
            f"ease: unknown easing {name!r}; choose one of {', '.join(EASINGS)}"
        ) from None
    return f(np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0))


# ---------------------------------------------------------------------- keyed tracks


def _hermite(p0, p1, m0, m1, u):
    """Cubic Hermite on rows: p*, m* (m, d); u (m,) -> (m, d)."""
    u = u[:, None]
    u2, u3 = u * u, u * u * u
    return (
        (2 * u3 - 3 * u2 + 1) * p0
        + (u3 - 2 * u2 + u) * m0
        + (-2 * u3 + 3 * u2) * p1
        + (u3 - u2) * m1
    )


def catmull_rom_tangents(
    points: np.ndarray, alpha: float = CATMULL_ROM_ALPHA
) -> tuple[np.ndarray, np.ndarray]:
    """Hermite tangents of the (centripetal) Catmull–Rom curve through ``points``.

    Parameters
    ----------
    points : (n, d) float
        Keys, n >= 2. The ends get phantom keys mirrored through the first/last key, so
        the curve leaves and enters along the end chords.

    Returns
    -------
    m0, m1 : (n - 1, d) float
        Derivatives at the start and the end of each segment, in units of that
        segment's own parameter ``u`` in [0, 1].
    """
    p = np.asarray(points, dtype=np.float64)
    ext = np.concatenate([2 * p[:1] - p[1:2], p, 2 * p[-1:] - p[-2:-1]])
    dk = np.maximum(np.linalg.norm(np.diff(ext, axis=0), axis=1) ** alpha, CHORD_EPS)
    # velocity w.r.t. the knot parameter at each real key (non-uniform Catmull–Rom)
    d0, d1 = dk[:-1], dk[1:]
    pm, pc, pp = ext[:-2], ext[1:-1], ext[2:]
    v = (pc - pm) / d0[:, None] - (pp - pm) / (d0 + d1)[:, None] + (pp - pc) / d1[:, None]
    seg = dk[1:-1]  # knot length of each real segment
    return v[:-1] * seg[:, None], v[1:] * seg[:, None]


class SplineTrack:
    """A value keyed in time: positions, targets or any (n, d) keys.

    Parameters
    ----------
    times : (n,) float
        Key times in seconds, strictly increasing.
    points : (n, d) float
        Key values.
    tangents : (n, d) float, optional
        Velocities (units per second) at the keys. Given: cubic Hermite in time (the
        velocities set the speed). Absent: centripetal Catmull–Rom for the shape, then
        arc-length reparametrisation so the speed is even between keys.
    ease : str or sequence of str
        Easing of time within each segment (one name for all, or one per segment).
        Easings with zero end slopes (smoothstep...) stop at every key.
    timing : {"keys", "even"}
        ``keys``: the track passes key i at ``times[i]``; the arc length is a monotone C1
        (PCHIP) function of time, so speed is continuous across keys and constant where
        key spacing is. ``even``: only the first and last time count; the arc length grows
        linearly over them (constant speed; the first easing then applies to the whole
        track and holds vanish).

    Notes
    -----
    Two equal consecutive keys are a hold. Outside the key times the track holds its ends.
    """

    def __init__(
        self,
        times: Sequence[float],
        points: np.ndarray,
        *,
        tangents: np.ndarray | None = None,
        ease: str | Sequence[str] = "linear",
        timing: str = "keys",
    ) -> None:
        t = np.asarray(times, dtype=np.float64).ravel()
        p = np.asarray(points, dtype=np.float64)
        if p.ndim == 1:
            p = p[:, None]
        if p.shape[0] != t.size or t.size < 1:
            raise ValueError(f"times: {t.size} key times for {p.shape[0]} keys")
        if np.any(np.diff(t) <= 0):
            raise ValueError("times: key times must increase strictly")
        n = t.size
        self.times, self.points, self.dim = t, p, p.shape[1]
        eases = (ease,) * max(n - 1, 1) if isinstance(ease, str) else tuple(ease)
        if len(eases) != max(n - 1, 1):
            raise ValueError(f"ease: {len(eases)} easings for {n - 1} segments")
        for name in eases:
            if name not in EASINGS:
                raise ValueError(
                    f"ease: unknown easing {name!r}; choose one of {', '.join(EASINGS)}"
                )
        self.eases = eases
        self.hermite_in_time = tangents is not None
        if n == 1:
            return
        if tangents is not None:
            tg = np.asarray(tangents, dtype=np.float64).reshape(n, -1)
            dt = np.diff(t)[:, None]
            self.m0, self.m1 = tg[:-1] * dt, tg[1:] * dt
            return
        self.m0, self.m1 = catmull_rom_tangents(p)
        # arc length tables: cumulative length at ARC_SAMPLES_PER_SEGMENT + 1 params per segment
        k = ARC_SAMPLES_PER_SEGMENT
        u = np.linspace(0.0, 1.0, k + 1)
        nseg = n - 1
        uu = np.tile(u, nseg)
        idx = np.repeat(np.arange(nseg), k + 1)
        pts = _hermite(p[idx], p[idx + 1], self.m0[idx], self.m1[idx], uu).reshape(nseg, k + 1, -1)
        steps = np.linalg.norm(np.diff(pts, axis=1), axis=2)
        local = np.concatenate([np.zeros((nseg, 1)), np.cumsum(steps, axis=1)], axis=1)
        seg_len = local[:, -1]
        self.key_arc = np.concatenate([[0.0], np.cumsum(seg_len)])
        self._s_flat = (local + self.key_arc[:-1, None]).ravel()
        self._g_flat = (np.arange(nseg)[:, None] + u[None, :]).ravel()
        if timing not in ("keys", "even"):
            raise ValueError(f"timing: {timing!r} is not one of keys, even")
        # even: one linear (then eased) arc-length ramp over the whole track
        self.even = timing == "even"
        self._arc_of_time = PchipInterpolator(self.times, self.key_arc)

    @property
    def length(self) -> float:
        """Arc length of the whole track (0 for Hermite-in-time tracks)."""
        return float(self.key_arc[-1]) if hasattr(self, "key_arc") else 0.0

    def _eased_time(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Segment index and eased local parameter of each time."""
        tk = self.times
        seg = np.clip(np.searchsorted(tk, t, side="right") - 1, 0, tk.size - 2)
        u = np.clip((t - tk[seg]) / (tk[seg + 1] - tk[seg]), 0.0, 1.0)
        eased = np.empty_like(u)
        for name in set(self.eases):
            sel = np.array([self.eases[i] == name for i in seg], dtype=bool)
            eased[sel] = EASINGS[name](u[sel])
        return seg, eased

    def __call__(self, time: np.ndarray | float) -> np.ndarray:
        """Values at ``time``: (m,) times -> (m, d); a scalar time -> (d,)."""
        scalar = np.ndim(time) == 0
        t = np.atleast_1d(np.asarray(time, dtype=np.float64))
        if self.times.size == 1:
            out = np.repeat(self.points, t.size, axis=0)
            return out[0] if scalar else out
        p = self.points
        if getattr(self, "even", False):
            tk = self.times
            u = EASINGS[self.eases[0]](np.clip((t - tk[0]) / (tk[-1] - tk[0]), 0.0, 1.0))
            g = np.interp(u * self.key_arc[-1], self._s_flat, self._g_flat)
            gs = np.clip(np.floor(g).astype(int), 0, tk.size - 2)
            out = _hermite(p[gs], p[gs + 1], self.m0[gs], self.m1[gs], np.clip(g - gs, 0.0, 1.0))
            return out[0] if scalar else out
        seg, u = self._eased_time(t)
        if self.hermite_in_time:
            out = _hermite(p[seg], p[seg + 1], self.m0[seg], self.m1[seg], u)
        else:
            tk = self.times
            sigma = self._arc_of_time(tk[seg] + (tk[seg + 1] - tk[seg]) * u)
            g = np.interp(sigma, self._s_flat, self._g_flat)
            gs = np.clip(np.floor(g).astype(int), 0, tk.size - 2)
            gu = np.clip(g - gs, 0.0, 1.0)
            out = _hermite(p[gs], p[gs + 1], self.m0[gs], self.m1[gs], gu)
        return out[0] if scalar else out


def smooth_track(times: np.ndarray, values: np.ndarray, sigma_s: float) -> np.ndarray:
    """Low-pass a sampled track (a moving target) with a Gaussian of ``sigma_s`` seconds.

    Parameters
    ----------
    times : (m,) float
        Evenly spaced sample times.
    values : (m, d) float

    Returns
    -------
    (m, d) float
        Smoothed values; the ends are extended flat, so a still target stays exact.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.shape[0] < 3 or sigma_s <= 0:
        return values.copy()
    dt = (times[-1] - times[0]) / (times.size - 1)
    return gaussian_filter1d(values, sigma_s / max(dt, 1e-12), axis=0, mode="nearest")


# ------------------------------------------------------------------------ orientation


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.maximum(n, 1e-300)


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
            hint = hints[k] / max(np.linalg.norm(hints[k]), 1e-300)
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
    f = _unit(np.asarray(forward, dtype=np.float64))
    h = np.zeros_like(f)
    h[:, :2] = headings
    right = np.cross(h, [0.0, 0.0, 1.0])
    # right must be orthogonal to f: it is, up to the heading's lag near vertical
    right = _unit(right - np.sum(right * f, axis=1, keepdims=True) * f)
    up = np.cross(right, f)
    roll = np.radians(np.broadcast_to(np.asarray(roll_deg, dtype=np.float64), (f.shape[0],)))[
        :, None
    ]
    return _unit(np.cos(roll) * up - np.sin(roll) * right)


def look_rotations(forward: np.ndarray, up: np.ndarray) -> Rotation:
    """Rotations whose camera axes (x right, y up, -z forward) match ``forward``/``up`` (m, 3)."""
    f = _unit(forward)
    right = _unit(np.cross(f, up))
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


# --------------------------------------------------------------------------- terrain


def _cell(x0: np.ndarray, xq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    i = np.clip(np.searchsorted(x0, xq, side="right") - 1, 0, x0.size - 2)
    f = np.clip((xq - x0[i]) / (x0[i + 1] - x0[i]), 0.0, 1.0)
    return i, f


def bilinear_height(x0: np.ndarray, y0: np.ndarray, z: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Heights of a grid surface at points, bilinear; clamped to the grid's edge outside.

    Parameters
    ----------
    x0 : (nx,) float, y0 : (ny,) float
        Increasing grid coordinates.
    z : (ny, nx) float
        Heights.
    xy : (m, 2) float
        Query points.

    Returns
    -------
    (m,) float
    """
    xy = np.atleast_2d(xy)
    i, fx = _cell(x0, xy[:, 0])
    j, fy = _cell(y0, xy[:, 1])
    z00, z01 = z[j, i], z[j, i + 1]
    z10, z11 = z[j + 1, i], z[j + 1, i + 1]
    return (z00 * (1 - fx) + z01 * fx) * (1 - fy) + (z10 * (1 - fx) + z11 * fx) * fy


def cell_max_height(x0: np.ndarray, y0: np.ndarray, z: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Highest corner of the grid cell under each point (m, 2) -> (m,): a safe ceiling.

    Always at least :func:`bilinear_height`, so clearance measured against it holds
    against any interpolation that stays within the cell's corners.
    """
    xy = np.atleast_2d(xy)
    i, _ = _cell(x0, xy[:, 0])
    j, _ = _cell(y0, xy[:, 1])
    return np.max(np.stack([z[j, i], z[j, i + 1], z[j + 1, i], z[j + 1, i + 1]]), axis=0)


def upper_envelope(values: np.ndarray, sigma_samples: float) -> np.ndarray:
    """A smooth curve never below ``values`` (m,): a running max, then a Gaussian.

    The max window covers the Gaussian's support, so every weighted average it takes is
    over values already at least the original sample: the result stays above it.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.size < 3 or sigma_samples <= 0:
        return v.copy()
    radius = int(np.ceil(3.0 * sigma_samples))
    wide = maximum_filter1d(v, size=2 * radius + 1, mode="nearest")
    return gaussian_filter1d(wide, sigma_samples, mode="nearest", truncate=3.0)


def clip_planes(
    eye: np.ndarray,
    lo: Sequence[float],
    hi: Sequence[float],
    x0: np.ndarray,
    y0: np.ndarray,
    z: np.ndarray,
) -> tuple[float, float]:
    """Near and far planes for a camera at ``eye`` (3,) over a surface.

    ``near`` is ``NEAR_FRACTION`` of the distance to the closest surface sample (grid
    vertices of the coarse surface, and the surface straight below or above the eye), so
    the surface is never clipped, also when skimming it; ``far`` covers the bounds
    ``lo``/``hi`` from the eye. ``near >= far * NEAR_FAR_RATIO`` keeps depth precision.
    """
    eye = np.asarray(eye, dtype=np.float64)
    corners = np.array(
        [[a, b, c] for a in (lo[0], hi[0]) for b in (lo[1], hi[1]) for c in (lo[2], hi[2])]
    )
    far = float(np.max(np.linalg.norm(corners - eye, axis=1))) * FAR_MARGIN
    gx, gy = np.meshgrid(x0, y0)
    d2 = (gx - eye[0]) ** 2 + (gy - eye[1]) ** 2 + (z - eye[2]) ** 2
    dist = float(np.sqrt(np.min(d2)))
    if x0[0] <= eye[0] <= x0[-1] and y0[0] <= eye[1] <= y0[-1]:
        dist = min(dist, abs(eye[2] - float(bilinear_height(x0, y0, z, eye[None, :2])[0])))
    near = max(NEAR_FRACTION * dist, far * NEAR_FAR_RATIO)
    return near, far
