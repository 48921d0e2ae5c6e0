"""Which slice of weight space a scene evaluates: its configuration and its grid.

:class:`LandscapeConfig` (directions, origin, grid, evaluation) is the ``compute.landscape``
section of a scene. :func:`grid_axes` turns a :class:`GridConfig` into the coordinates
``a (nx,)`` and ``b (ny,)`` that every state is evaluated on.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from compute.directions import DirectionsConfig
from compute.options import option
from compute.refine import RefineConfig

__all__ = ["GridConfig", "EvalConfig", "LandscapeConfig", "grid_axis", "grid_axes"]


@dataclasses.dataclass(frozen=True)
class GridConfig:
    """The grid of plane coordinates ``(a, b)`` evaluated for every state."""

    points: int = option(41, "grid points along each axis (odd keeps the origin on the grid)", min=2)
    shape: tuple[int, int] | None = option(
        None, "(rows along b, columns along a) for a non-square grid; overrides points"
    )
    range: tuple[float, float] = option((-1.0, 1.0), "coordinate range along a (and b)")
    range_b: tuple[float, float] | None = option(None, "coordinate range along b if different")
    fit: bool = option(
        True, "for pca/three_point/line planes: fit the range to the points (plus margin)"
    )
    refine: RefineConfig = option(
        RefineConfig(), "adaptive refinement: coarse grid first, then only unresolved points"
    )

    def __post_init__(self) -> None:
        if self.refine.enabled and self.shape is not None:
            raise ValueError("grid.refine needs a square grid: drop grid.shape (refine.target sets it)")
        if self.shape is not None and (len(self.shape) != 2 or min(self.shape) < 1):
            raise ValueError(f"grid.shape must be two positive ints (rows, columns), got {self.shape}")
        for key, r in (("grid.range", self.range), ("grid.range_b", self.range_b)):
            if r is not None and not (len(r) == 2 and float(r[0]) < float(r[1])):
                raise ValueError(f"{key} must be [lo, hi] with lo < hi, got {r}")

    @property
    def dims(self) -> tuple[int, int]:
        """``(ny, nx)``; ``(target, target)`` when refined."""
        if self.refine.enabled:
            return (self.refine.target, self.refine.target)
        return tuple(self.shape) if self.shape is not None else (self.points, self.points)


@dataclasses.dataclass(frozen=True)
class EvalConfig:
    """How each grid point is evaluated."""

    samples: int = option(2000, "size of the fixed evaluation subset (same for all points)", min=1)
    seed: int = option(0, "seed that picks the evaluation subset", min=0)
    batch_size: int = option(
        0, "samples per forward pass (0: automatic, cache-sized chunks for conv nets on CPU)",
        min=0
    )
    points_per_tile: int = option(
        0, "grid points per task sent to a worker (0: automatic, whole rows)", min=0
    )
    bn_mode: str = option(
        "eval",
        "eval: BatchNorm uses the state's running stats; recompute: stats of the subset per point",
        choices=("eval", "recompute"),
    )
    dtype: str = option("float32", "precision of the evaluation", choices=("float32", "float64"))
    accuracy: bool = option(True, "also record accuracy per point (classification only)")
    method: str = option(
        "auto",
        "evaluation path: auto, sequential (first-layer trick), folded (BN folded into convs), loop",
        choices=("auto", "sequential", "folded", "loop"),
    )


@dataclasses.dataclass(frozen=True)
class LandscapeConfig:
    """Which slice of weight space is evaluated, around which weights, on which grid."""

    directions: DirectionsConfig = option(DirectionsConfig(), "how the two axes are chosen")
    around: str = option(
        "current",
        "current: plane moves with the weights; final: one plane at the final weights; "
        "fixed: one plane through directions.points",
        choices=("current", "final", "fixed"),
    )
    grid: GridConfig = option(GridConfig(), "grid of plane coordinates")
    eval: EvalConfig = option(EvalConfig(), "how each point is evaluated")

    def __post_init__(self) -> None:
        kind, around = self.directions.kind, self.around
        if kind == "pca" and around != "final":
            raise ValueError("landscape.around must be 'final' for directions.kind=pca")
        if kind in ("three_point", "line", "line_random") and around != "fixed":
            raise ValueError(f"landscape.around must be 'fixed' for directions.kind={kind}")
        if kind == "random" and around == "fixed" and len(self.directions.points) != 1:
            raise ValueError(
                "landscape.around=fixed with random directions needs directions.points = [origin]"
            )
        need = {"three_point": 3, "line": 2, "line_random": 2}.get(kind)
        if need is not None and len(self.directions.points) != need:
            raise ValueError(
                f"directions.points must list {need} checkpoints for kind={kind},"
                f" got {len(self.directions.points)}"
            )


# --------------------------------------------------------------------------- grid


def grid_axis(lo: float, hi: float, n: int) -> np.ndarray:
    """``n`` evenly spaced coordinates from ``lo`` to ``hi``, shape ``(n,)`` float64.

    Built as ``centre + half·t`` with ``t = (2i − (n−1))/(n−1)``, so for a symmetric range
    and odd ``n`` the middle coordinate is exactly ``0.0`` (the origin is on the grid, bit
    for bit) and the axis is symmetric.
    """
    if n == 1:
        return np.array([(lo + hi) / 2.0])
    i = np.arange(n, dtype=np.float64)
    t = (2.0 * i - (n - 1)) / (n - 1)
    centre, half = (lo + hi) / 2.0, (hi - lo) / 2.0
    return centre + half * t


def grid_axes(grid: GridConfig, fitted: tuple | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates ``a (nx,)`` and ``b (ny,)``.

    ``fitted`` = ``((lo_a, hi_a), (lo_b, hi_b) | None)`` replaces the configured ranges
    (fixed planes fitted to their points); ``None`` for b means a single row at ``b = 0``.
    """
    ny, nx = grid.dims
    ra = tuple(grid.range)
    rb = tuple(grid.range_b) if grid.range_b is not None else ra
    if fitted is not None:
        ra = fitted[0]
        if fitted[1] is None:
            return grid_axis(ra[0], ra[1], nx), np.zeros(1)
        rb = fitted[1]
    return grid_axis(ra[0], ra[1], nx), grid_axis(rb[0], rb[1], ny)
