"""What a shot preset reads and returns: :class:`ShotContext` in, :class:`Samples` out.

A context holds the landscape's bounds, smoothed landmark tracks and terrain heights at a
shot's sample times, read once per shot; every preset in
:mod:`lossfilm.render.camera.presets` samples from it.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.interpolate import CubicSpline

from lossfilm.render.camera.motion import smooth_track
from lossfilm.render.camera.terrain import bilinear_height, cell_max_height
from lossfilm.render.mesh.frame import Landscape
from lossfilm.render.scene.camera import AimedShot, CameraConfig

__all__ = ["Samples", "ShotContext", "AUTO_FIT_MARGIN", "COARSE_CACHE_VALUES"]


#: automatic sizes, as fractions of the plane size (Bounds.size) unless said otherwise.
AUTO_FIT_MARGIN = 0.7  # framing distance: 0.7 x where the bounds' sphere fills the vertical fov


#: keep a shot's coarse surfaces in memory up to this many height values (else re-read).
COARSE_CACHE_VALUES = 10_000_000


@dataclasses.dataclass
class Samples:
    """Sampled camera of a shot: eye, target (m, 3), fov, roll (m,), hint (m, 2), up (m, 3) or None."""

    eye: np.ndarray
    target: np.ndarray
    fov: np.ndarray
    roll: np.ndarray
    hint: np.ndarray
    up: np.ndarray | None = None


class ShotContext:
    """What a preset may read: the bounds, smoothed landmark tracks and terrain heights."""

    def __init__(
        self, cfg: CameraConfig, landscape: Landscape, start: float, local: np.ndarray
    ) -> None:
        self.cfg, self.landscape, self.start, self.local = cfg, landscape, start, local
        b = landscape.topology.bounds
        self.lo, self.hi = np.asarray(b.lo, float), np.asarray(b.hi, float)
        self.size = float(b.size)
        self.center = (self.lo + self.hi) / 2.0
        self._tracks: dict = {}
        self._coarse: list | None = None
        #: world depth of the plinth under lo[2] (render.base), framed with the surface
        self.base_depth = 0.0
        #: world reach of the floor framed around the plinth's bottom (0: none)
        self.footing = 0.0

    def coarse(self) -> list:
        """Coarse surfaces at every sample time (kept when small enough, else re-read)."""
        if self._coarse is not None:
            return self._coarse
        grids = [self.landscape.coarse_at(self.start + t) for t in self.local]
        if sum(np.size(g[2]) for g in grids) <= COARSE_CACHE_VALUES:
            self._coarse = grids
        return grids

    def heights(self, xy: np.ndarray, ceiling: bool) -> np.ndarray:
        """Surface height under ``xy`` (m, 2) at each sample time; cell maxima if ``ceiling``."""

        f = cell_max_height if ceiling else bilinear_height
        return np.array([f(x0, y0, z, p[None])[0] for (x0, y0, z), p in zip(self.coarse(), xy)])

    def _spline(self, key, values: np.ndarray):
        values = smooth_track(self.local, values, self.cfg.target_smoothing)
        spline = CubicSpline(self.local, values, axis=0)
        lo, hi = self.local[0], self.local[-1]
        self._tracks[key] = lambda t: spline(np.clip(np.atleast_1d(t), lo, hi))
        return self._tracks[key]

    def landmark(self, name: str):
        """Smoothed track of a landmark: local times (m,) -> (m, 3); a missing ball is the minimum."""
        if name in self._tracks:
            return self._tracks[name]
        rows = []
        for t in self.local:
            marks = self.landscape.landmarks_at(self.start + t)
            value = marks.get(name)
            rows.append(marks["minimum"] if value is None else value)
        return self._spline(name, np.asarray(rows, dtype=np.float64))

    def aim(self, shot: AimedShot):
        """The target track of an aimed shot."""
        if shot.target != "point":
            return self.landmark(shot.target)
        p = np.asarray(shot.target_point, dtype=np.float64)
        if p.size == 3:
            return lambda t: np.repeat(p[None], np.size(t), axis=0)
        key = ("point", tuple(p))
        if key in self._tracks:
            return self._tracks[key]
        h = self.heights(np.repeat(p[None], self.local.size, axis=0), ceiling=False)
        return self._spline(key, np.column_stack([np.repeat(p[None], h.size, axis=0), h]))

    def fit_distance(self, fov_deg: float) -> float:
        """Distance at which the bounds' sphere fills the vertical field of view."""
        radius = 0.5 * float(np.linalg.norm(self.hi - self.lo))
        return AUTO_FIT_MARGIN * max(radius, 1e-9) / np.sin(np.radians(fov_deg) / 2.0)
