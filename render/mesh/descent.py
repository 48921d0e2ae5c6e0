"""An "auto descent" actor: a ball released on the drawn surface that rolls down its gradient.

The ball runs plain gradient descent (optionally with heavy-ball momentum and seeded
Gaussian kicks) on the *film's* surface as it is at each moment: the reduced 2-D
landscape, in world units. Its step size (the descent rate) follows keyframes, so a film
can show the classic story of learning rates: at a small rate the ball settles into the
nearest basin, even a sharp shallow one, and stays trapped; when the rate rises past
``2 / curvature`` of that basin, each step overshoots, the ball is thrown out and finds a
wider, deeper basin where the same rate is stable.

Steps are scheduled in film time (``steps_per_second``), never per frame, so the path does
not depend on fps, previews or chunked rendering: any frame's position is the same
function of its time. :class:`DescentActor` integrates forward from the last asked time
and restarts from the release only when asked for an earlier one.

Heart: :func:`rate_at`, :func:`surface_gradient`, :func:`descent_step` (pure, on arrays).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import math

import numpy as np
from scipy.interpolate import RectBivariateSpline

from lossfilm.render.scene.mesh import DescentConfig

if TYPE_CHECKING:  # the actor reads a surface; it does not need the module to run
    from lossfilm.render.mesh.moving import MovingSurface

__all__ = ["DescentConfig", "DescentActor", "rate_at", "surface_gradient", "descent_step",
           "MAX_STEP_FRACTION"]

#: one step moves the ball at most this fraction of the plane size (a huge rate throws the
#: ball across the plane, it does not teleport it off the film)
MAX_STEP_FRACTION = 0.25
#: slack when counting the steps due at a time (float film times land on step times)
TIME_EPS = 1e-9


# ----------------------------------------------------------------------------- heart


def rate_at(keys: tuple[float, ...], time: float) -> float:
    """Descent rate at film ``time`` from flat (time, rate) pairs: linear, held beyond the ends."""
    return float(np.interp(time, np.asarray(keys[0::2], float), np.asarray(keys[1::2], float)))


def surface_gradient(x: np.ndarray, y: np.ndarray, z: np.ndarray, point: np.ndarray) -> np.ndarray:
    """(2,) gradient ``(dz/dx, dz/dy)`` of a height grid at a plane point (cubic spline).

    Parameters
    ----------
    x : (nx,), y : (ny,)
        Increasing grid coordinates.
    z : (ny, nx)
        Heights (world units).
    point : (2,)
        ``(x, y)``; clamped to the grid.
    """
    kx, ky = min(3, x.size - 1), min(3, y.size - 1)
    spline = RectBivariateSpline(y, x, z, kx=ky, ky=kx)
    px = float(np.clip(point[0], x[0], x[-1]))
    py = float(np.clip(point[1], y[0], y[-1]))
    return np.array([spline(py, px, dy=1)[0, 0], spline(py, px, dx=1)[0, 0]])


def descent_step(p: np.ndarray, v: np.ndarray, grad: np.ndarray, rate: float, momentum: float,
                 kick: np.ndarray, window: tuple[float, float, float, float]
                 ) -> tuple[np.ndarray, np.ndarray]:
    """One heavy-ball step ``v <- momentum v - rate grad; p <- p + v + kick``, kept in ``window``.

    The step is capped at :data:`MAX_STEP_FRACTION` of the plane; at an edge the ball stops
    against it (its velocity across the edge is dropped).

    Returns
    -------
    p, v : (2,) float64
    """
    x0, x1, y0, y1 = window
    v = momentum * v - rate * grad
    limit = MAX_STEP_FRACTION * max(x1 - x0, y1 - y0)
    n = float(np.linalg.norm(v))
    if n > limit:
        v = v * (limit / n)
    q = p + v + kick
    lo, hi = np.array([x0, y0]), np.array([x1, y1])
    hit = (q < lo) | (q > hi)
    q = np.clip(q, lo, hi)
    v = np.where(hit, 0.0, v)
    return q, v


# ----------------------------------------------------------------------------- wrapper


class DescentActor:
    """The descending ball of one film, at any film time.

    Parameters
    ----------
    cfg : DescentConfig
    surface : MovingSurface
        The surface in film time (:class:`lossfilm.render.mesh.moving.MovingSurface`, or
        anything with its ``position_at``, ``coarse_at``, ``height_at`` and ``window``):
        ``coarse_at(t)`` gives heights for the gradient, ``height_at(t, x, y)`` sets the
        ball on the drawn mesh. The actor never sees the film that owns it.
    """

    def __init__(self, cfg: DescentConfig, surface: MovingSurface) -> None:
        self.cfg, self.surface = cfg, surface
        x0, x1, y0, y1 = surface.window
        start = np.asarray(cfg.start, float)
        if not (x0 <= start[0] <= x1 and y0 <= start[1] <= y1):
            raise ValueError(
                f"mesh.descent.start {list(cfg.start)} is outside the shown plane"
                f" [{x0:g}, {x1:g}] x [{y0:g}, {y1:g}]"
            )
        self._grid_key: float | None = None
        self._grid: tuple | None = None
        self._restart()

    def _restart(self) -> None:
        self._steps = 0
        self._p = np.asarray(self.cfg.start, float)
        self._v = np.zeros(2)
        self._rng = np.random.default_rng(self.cfg.seed)

    def steps_due(self, time: float) -> int:
        """How many steps the ball has taken by film ``time``."""
        elapsed = float(time) - self.cfg.release
        return max(int(math.floor(elapsed * self.cfg.steps_per_second + TIME_EPS)), 0)

    def plane_position_at(self, time: float) -> np.ndarray:
        """(2,) ``(a, b)`` of the ball at film ``time``."""
        n = self.steps_due(time)
        if n < self._steps:
            self._restart()
        cfg = self.cfg
        while self._steps < n:
            t = cfg.release + self._steps / cfg.steps_per_second
            grad = self._gradient(t)
            kick = self._rng.normal(0.0, cfg.noise, 2) if cfg.noise > 0 else np.zeros(2)
            self._p, self._v = descent_step(self._p, self._v, grad, rate_at(cfg.rate, t),
                                            cfg.momentum, kick, self.surface.window)
            self._steps += 1
        return self._p.copy()

    def _gradient(self, t: float) -> np.ndarray:
        """(2,) surface gradient at the ball at film time ``t``; the grid is reused while the
        surface stands still (holds, the end of the film)."""
        key = self.surface.position_at(t)
        if key != self._grid_key:
            x, y, z = self.surface.coarse_at(t)
            self._grid = (np.asarray(x, float), np.asarray(y, float), np.asarray(z, float))
            self._grid_key = key
        return surface_gradient(*self._grid, self._p)

    def position_at(self, time: float) -> np.ndarray:
        """(3,) float32 world position of the ball, resting on the drawn surface."""
        px, py = self.plane_position_at(time)
        return np.array([px, py, self.surface.height_at(time, px, py)], dtype=np.float32)
