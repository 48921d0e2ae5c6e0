"""The surface in film time: coarse heights of every state, the timeline and the field.

:class:`MovingSurface` is what actors and cameras read (heights at any film time and plane
point, coarse heights for gradients); it knows nothing of colours, balls or frames, so
an actor that reads it never calls back into the film that owns it.
"""

from __future__ import annotations

import numpy as np

from lossfilm.render.mesh.field import HeightField
from lossfilm.render.mesh.timeline import StateInterpolator, Timeline

__all__ = ["MovingSurface"]


class MovingSurface:
    """World heights of a film's surface at any film time.

    Parameters
    ----------
    z_states : (n_states, ny0, nx0) float
        World heights of every captured state on the coarse grid (non-finite -> ceiling).
    timeline : Timeline
        Film time -> fractional state position.
    field : HeightField
        The window and the coarse -> drawn mesh operators.
    method : str
        Interpolation between states (``pchip``, ``linear``, ``hold``).
    """

    def __init__(self, z_states: np.ndarray, timeline: Timeline, field: HeightField,
                 method: str) -> None:
        self.timeline, self.field = timeline, field
        self.z = StateInterpolator(z_states, method)
        self.window = field.window

    def position_at(self, time: float) -> float:
        """Fractional state position at film ``time`` seconds (clamped to the film)."""
        return self.timeline.position_at(time)

    def coarse_at(self, time: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``x0 (nx0,)``, ``y0 (ny0,)``, ``z (ny0, nx0)`` float32: smoothed world heights of the
        coarse points that cover the window (one beyond each edge of a crop)."""
        x0, y0, z = self.field.coarse(self.z(self.position_at(time)))
        return x0.astype(np.float32), y0.astype(np.float32), z.astype(np.float32)

    def height_at(self, time: float, x: float, y: float) -> float:
        """World z of the drawn surface (its triangles) at plane point ``(x, y)`` at ``time``."""
        return float(self.field.heights_at(self.z(self.position_at(time)), x, y)[0])
