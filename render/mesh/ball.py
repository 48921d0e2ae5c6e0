"""The minimizer ball of a film: where it is in the plane, and the path it has travelled.

The sequence stores the ball's plane position per state; :class:`BallTrack` interpolates it
in state position like the heights, and samples the fixed path in the plane once so each
frame only lifts it onto its own surface.
"""

from __future__ import annotations

import numpy as np

from lossfilm.render.mesh.landmarks import TRAJECTORY_SAMPLES_PER_STATE, moves
from lossfilm.render.mesh.timeline import StateInterpolator

__all__ = ["BallTrack"]


class BallTrack:
    """Plane positions of the ball over the film.

    Parameters
    ----------
    ball : (n_states, 2) float
        ``(a, b)`` of the ball per state (non-finite: no ball).
    method : str
        Interpolation between states.
    trajectory : bool
        Whether the travelled path is drawn (only when the ball moves).
    """

    def __init__(self, ball: np.ndarray, method: str, trajectory: bool) -> None:
        self._ball = StateInterpolator(ball, method) if np.isfinite(ball).all() else None
        self._path = None
        if self._ball is not None and trajectory and moves(ball):
            last = ball.shape[0] - 1
            ps = np.linspace(0.0, last, last * TRAJECTORY_SAMPLES_PER_STATE + 1)
            self._path = (ps, np.stack([self._ball(p) for p in ps]))

    def plane_at(self, position: float) -> np.ndarray | None:
        """(2,) float64 ``(a, b)`` at a state position, or None without a ball."""
        return None if self._ball is None else np.asarray(self._ball(position), float)

    def path_until(self, position: float) -> np.ndarray | None:
        """(m, 2) plane points of the path travelled up to ``position`` (None: no path drawn)."""
        if self._path is None:
            return None
        ps, pts = self._path
        m = int(np.searchsorted(ps, position, side="right"))
        xy = pts[:m]
        if ps[m - 1] < position:
            xy = np.vstack([xy, np.asarray(self._ball(position))[None, :]])
        return xy
