"""Test-only fault injection: die with ``kill -9`` at a named point of the main path.

``LOSSFILM_FAULT=POINT:N`` makes the process send itself SIGKILL the N-th time (1-based)
it reaches ``POINT``; nothing runs after it (no ``finally``, no atexit, no flush), exactly
as after ``kill -9`` from outside, but at a moment a test can name. Unset (always, outside
tests), a point costs one environment lookup. Counts are per process: a pool worker that
inherits the variable counts its own arrivals.

The points, in the order a ``run`` reaches them (``docs/reliability.md``):

- ``train``: a captured state's weights were stored (``compute.stage.run``);
- ``tile``: a tile of a state's surface was stored (``compute.stage.tiles``);
- ``curvature``: a state's curvature file was stored (``compute.curvature.spectra``);
- ``frame``: a frame was sent to a segment's encoder (``render.output.chunks``);
- ``join``: the segments are being joined: ffmpeg is writing the film's temporary and is
  killed with this process, as a job killed as a whole would be;
- ``publish``: the film's temporary is complete, just before it is renamed into place.
"""

from __future__ import annotations

import os
import signal

__all__ = ["FAULT_ENV", "POINTS", "fault_due", "fault_point", "die"]

FAULT_ENV = "LOSSFILM_FAULT"
POINTS = ("train", "tile", "curvature", "frame", "join", "publish")

_arrivals: dict[str, int] = {}


def _armed() -> tuple[str, int] | None:
    """``(point, n)`` from :data:`FAULT_ENV`, or None when it is unset."""
    text = os.environ.get(FAULT_ENV)
    if not text:
        return None
    point, _, count = text.partition(":")
    if point not in POINTS or not count.isdigit() or int(count) < 1:
        raise ValueError(f"{FAULT_ENV}={text[:40]!r}: expected POINT:N with N >= 1 and POINT one of"
                         f" {', '.join(POINTS)}")
    return point, int(count)


def fault_due(point: str) -> bool:
    """Count an arrival at ``point``; True when it is the one :data:`FAULT_ENV` names."""
    armed = _armed()
    if armed is None or armed[0] != point:
        return False
    _arrivals[point] = _arrivals.get(point, 0) + 1
    return _arrivals[point] == armed[1]


def die() -> None:
    """``kill -9`` of this process (never returns)."""
    os.kill(os.getpid(), signal.SIGKILL)


def fault_point(point: str) -> None:
    """Die here when :data:`FAULT_ENV` names this arrival at ``point``."""
    if fault_due(point):
        die()
