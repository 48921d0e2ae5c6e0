"""Non-finite losses on the drawn surface: where they are, and calm cliffs around them.

A diverged point is drawn at the ceiling. The cubic spline would ring from that cliff into
the valid surface, so within :data:`CLIFF_CELLS` coarse cells of a bad point the heights
blend to linear interpolation (weight 1 there, falling to 0 over the next cell: no seam).
States without bad points are untouched.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter

from lossfilm.render.mesh.field import HeightField
from lossfilm.render.mesh.heights import HeightTransform

__all__ = ["InvalidPoints", "CLIFF_CELLS", "INVALID_WEIGHT"]

#: a render vertex is invalid where the bilinear weight of bad coarse points exceeds this.
INVALID_WEIGHT = 1e-6
#: coarse cells around a non-finite point where the cubic spline gives way to linear.
CLIFF_CELLS = 2


class InvalidPoints:
    """The non-finite points of every state, upsampled to the render grid when asked.

    Parameters
    ----------
    loss : (n_states, ny0, nx0) float
        The stored losses (non-finite where evaluation diverged).
    field : HeightField
    """

    def __init__(self, loss: np.ndarray, field: HeightField) -> None:
        self.field = field
        self.coarse = HeightTransform.invalid(loss)
        self.per_state = self.coarse.reshape(loss.shape[0], -1).any(axis=1)
        self._cliff_key: tuple[int, int] | None = None
        self._cliff_weight: np.ndarray | None = None

    def any(self, k0: int, k1: int) -> bool:
        return bool(self.per_state[k0] or self.per_state[k1])

    def mask(self, k0: int, k1: int) -> np.ndarray | None:
        """(ny, nx) bool: render vertices touched by a bad point of states k0 or k1 (or None)."""
        if not self.any(k0, k1):
            return None
        bad = (self.coarse[k0] | self.coarse[k1]).astype(np.float32)
        return self.field.linear(bad) > INVALID_WEIGHT

    def calm_cliffs(self, heights: np.ndarray, zc: np.ndarray, k0: int, k1: int) -> None:
        """Blend ``heights`` (in place) toward linear interpolation near bad points."""
        if not self.any(k0, k1):
            return
        if self._cliff_key != (k0, k1):
            near = maximum_filter(self.coarse[k0] | self.coarse[k1], size=2 * CLIFF_CELLS + 1)
            self._cliff_weight = np.clip(self.field.linear(near.astype(np.float32)), 0.0, 1.0)
            self._cliff_key = (k0, k1)
        heights += self._cliff_weight * (self.field.linear(zc) - heights)
