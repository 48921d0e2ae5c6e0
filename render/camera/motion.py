"""Camera motion in time: the pure interpolation behind every shot.

Easing curves, and keyframed tracks: centripetal Catmull–Rom or Hermite through keys,
arc-length reparametrisation for even speed, easing per segment, holds; and the low-pass
filter of moving targets. Everything here works on numpy arrays; the shot presets
(:mod:`lossfilm.render.camera.presets`) and :class:`lossfilm.render.camera.path.CameraPath` wrap it.

Orientation (continuous headings, up vectors, splined rotations) lives in
:mod:`lossfilm.render.camera.orientation` and terrain sampling (heights, lifts, clip planes) in
:mod:`lossfilm.render.camera.terrain`; both are re-exported here for existing imports.

World units are landscape units (see :mod:`lossfilm.render.mesh.frame`): ``x = a``, ``y = b``, ``z`` up.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy.interpolate import PchipInterpolator
from scipy.ndimage import gaussian_filter1d

# orientation and terrain names are re-exported: they lived here before the split
from lossfilm.render.mesh.resample import grid_cells
from lossfilm.render.mesh.timeline import hermite

__all__ = [
    "EASINGS",
    "SplineTrack",
    "catmull_rom_tangents",
    "ease",
    "hermite",
    "smooth_track",
]

# ------------------------------------------------------------------ tolerances and limits

#: exponent of the knot spacing of Catmull–Rom: 0.5 is centripetal (no cusps, no loops).
CATMULL_ROM_ALPHA = 0.5
#: polyline points per segment used to tabulate arc length (speed even to ~1e-4).
ARC_SAMPLES_PER_SEGMENT = 256
#: chord length below which two keys are the same point (a hold).
CHORD_EPS = 1e-9


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
    return hermite(p0, p1, m0, m1, u[:, None])


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
        seg, u = grid_cells(self.times, t)
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
