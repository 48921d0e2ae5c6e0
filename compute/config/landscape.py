"""The ``lossfilm.compute.landscape.grid`` section: directions, origin, grid and evaluation subset.
"""

from __future__ import annotations

import dataclasses
import math

from lossfilm.compute.config.options import option


@dataclasses.dataclass(frozen=True)
class DirectionsConfig:
    """How the two axes of the slice through weight space are chosen."""

    kind: str = option(
        "random",
        "random (Gaussian, Li et al.), pca of the trajectory, three_point plane, line, line_random",
        choices=("random", "pca", "three_point", "line", "line_random"),
    )
    normalization: str = option(
        "filter",
        "scale random directions per output filter (filter), per tensor (layer) or not (none)",
        choices=("filter", "layer", "none"),
    )
    ignore: str = option(
        "biasbn",
        "biasbn: 1-D parameters (biases, BatchNorm) get zero direction; none: perturb them too",
        choices=("biasbn", "none"),
    )
    include_states: bool = option(
        False, "also perturb float buffers (BatchNorm running stats; 1-D, so only with ignore: none)"
    )
    orthogonalize: bool = option(
        True, "make direction 2 orthogonal to direction 1 (kept exact through normalization)"
    )
    seed: int = option(1, "seed of the Gaussian draw", min=0)
    points: tuple[str, ...] = option(
        (), "checkpoint files: 3 for three_point, 2 for line/line_random"
    )
    margin: float = option(
        0.25, "room around the points (pca, three_point, line), as a fraction of their span", min=0
    )


@dataclasses.dataclass(frozen=True)
class RefineConfig:
    """Adaptive refinement of the grid (``target: 0`` keeps the plain uniform grid)."""

    target: int = option(
        0, "fine grid points per axis, (coarse − 1)·2^k + 1 (e.g. 257, 513, 1025); 0: off", min=0
    )
    coarse: int = option(33, "points per axis of the first, uniform level", min=3)
    tolerance: float = option(
        0.001, "evaluate a point when interpolants disagree by more than this × the height span",
        min=0.0, exclusive_min=True,
    )
    budget: float = option(
        0.3, "most evaluations per state, as a fraction of target² (the worst points first)",
        min=0.0, max=1.0, exclusive_min=True,
    )
    space: str = option(
        "log", "where errors are measured: log (the default height scale) or linear",
        choices=("log", "linear"),
    )

    def __post_init__(self) -> None:
        if self.target:
            ratio = (self.target - 1) / (self.coarse - 1)
            if self.target < self.coarse or ratio != int(ratio) or int(ratio) & (int(ratio) - 1):
                raise ValueError(
                    f"grid.refine.target must be (coarse − 1)·2^k + 1 for coarse {self.coarse}"
                    f" (e.g. {(self.coarse - 1) * 8 + 1}), got {self.target}"
                )
            if self.budget * self.target**2 < self.coarse**2:
                raise ValueError(
                    f"grid.refine.budget {self.budget:g} × {self.target}² is less than the"
                    f" {self.coarse}² points of the first level"
                )

    @property
    def enabled(self) -> bool:
        return self.target > 0

    @property
    def max_evaluations(self) -> int:
        """The budget in evaluations per state."""
        return int(math.floor(self.budget * self.target**2))


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
