"""The ``mesh`` section of a scene: height transform, time, resolution and actors (torch- and scipy-free).

The stage that uses it is :mod:`lossfilm.render.mesh`.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from lossfilm.compute.config.options import option
from lossfilm.render.scene.colors import parse_color


INTERPOLATIONS = ("pchip", "linear", "hold")


MAPPINGS = ("uniform", "epoch", "keyframes")


@dataclasses.dataclass(frozen=True)
class TimeConfig:
    """How film time runs through the captured states."""

    interpolation: str = option(
        "pchip", "between states: pchip (smooth, no overshoot), linear, hold",
        choices=INTERPOLATIONS,
    )
    mapping: str = option(
        "uniform",
        "uniform: equal time per state; epoch: time follows the epoch; keyframes: see keyframes",
        choices=MAPPINGS,
    )
    keyframes: tuple[float, ...] = option(
        (), "flat (time, state) pairs: [0, 0, 0.5, 10, 1, 19] = state 10 halfway, 19 at the end",
    )
    keyframe_time: str = option(
        "fraction", "keyframe times as a fraction of the moving part or seconds",
        choices=("fraction", "seconds"),
    )
    keyframe_state: str = option("index", "keyframe states as a state index (0-based) or an epoch",
                                 choices=("index", "epoch"))
    hold_start: float = option(
        0.0, "seconds the first state stays still before the film moves", min=0.0
    )
    hold_end: float = option(0.0, "seconds the last state stays still at the end", min=0.0)

    def __post_init__(self) -> None:
        if len(self.keyframes) % 2:
            raise ValueError(
                f"mesh.time.keyframes needs (time, state) pairs, got {len(self.keyframes)} numbers"
            )
        if self.mapping == "keyframes" and len(self.keyframes) < 4:
            raise ValueError(
                "mesh.time.mapping is keyframes but mesh.time.keyframes has under 2 pairs"
            )
        times = self.keyframes[0::2]
        if any(t1 <= t0 for t0, t1 in zip(times, times[1:])):
            raise ValueError(f"mesh.time.keyframes times must increase, got {list(times)}")
        if any(not np.isfinite(v) for v in self.keyframes):
            raise ValueError("mesh.time.keyframes must be finite numbers")


@dataclasses.dataclass(frozen=True)
class HeightConfig:
    """How loss values become heights: scale, clipping and relief, fixed for the whole film."""

    scale: str = option("log", "log: height follows log(loss + eps); linear: follows loss",
                        choices=("log", "linear"))
    eps: float = option(1e-6, "added to the loss before the log so a zero loss stays finite",
                        min=0.0, exclusive_min=True)
    ceiling: float | None = option(
        None, "clip losses above this value (loss units); none = no clip",
        min=0.0, exclusive_min=True,
    )
    ceiling_percentile: float | None = option(
        None, "clip losses above this percentile of all finite losses of the film",
        min=0.0, max=100.0,
    )
    floor: float | None = option(None, "clip losses below this value (loss units); none = no clip",
                                 min=0.0)
    relief: float | None = option(
        None, "height of the tallest feature relative to the plane size; none = auto (0.35)",
        min=0.0,
    )
    invert: bool = option(False, "turn the landscape upside down: high loss low, minima on top")

    def __post_init__(self) -> None:
        if self.ceiling is not None and self.ceiling_percentile is not None:
            raise ValueError("mesh.height: set either ceiling or ceiling_percentile, not both")
        if self.floor is not None and self.ceiling is not None and self.floor >= self.ceiling:
            raise ValueError(
                f"mesh.height.floor ({self.floor}) must be below"
                f" mesh.height.ceiling ({self.ceiling})"
            )


@dataclasses.dataclass(frozen=True)
class DescentConfig:
    """A ball released on the drawn surface that descends its gradient at a keyframed rate."""

    enabled: bool = option(False, "release a descending ball on the surface")
    start: tuple[float, float] = option((0.5, 0.5), "release point [a, b] in landscape units")
    release: float = option(0.0, "film time (s) at which the ball starts to move", min=0.0)
    rate: tuple[float, ...] = option(
        (0.0, 0.02),
        "descent rate keyframes, flat (time, rate) pairs: [0, 0.02, 5, 0.3];"
        " linear between, held beyond",
    )
    steps_per_second: float = option(60.0, "descent steps per second of film time",
                                     min=0.0, exclusive_min=True, max=10000.0)
    momentum: float = option(0.0, "heavy-ball momentum (0 = plain gradient descent)",
                             min=0.0, max=1.0, exclusive_max=True)
    noise: float = option(0.0, "std of a Gaussian kick per step (landscape units)", min=0.0)
    seed: int = option(0, "seed of the kicks (the path is deterministic)")
    color: str = option("#ffd23f", "colour of the descending ball")

    def __post_init__(self) -> None:
        r = self.rate
        if len(r) < 2 or len(r) % 2:
            raise ValueError(f"mesh.descent.rate needs (time, rate) pairs, got {len(r)} numbers")
        times, rates = np.asarray(r[0::2], float), np.asarray(r[1::2], float)
        if not (np.all(np.isfinite(times)) and np.all(np.isfinite(rates))):
            raise ValueError(f"mesh.descent.rate must be finite numbers, got {list(r)}")
        if np.any(np.diff(times) < 0):
            raise ValueError(f"mesh.descent.rate times must not decrease, got {times.tolist()}")
        if np.any(rates < 0):
            raise ValueError(f"mesh.descent.rate rates must be >= 0, got {rates.tolist()}")
        if not all(math.isfinite(v) for v in self.start):
            raise ValueError(f"mesh.descent.start must be finite, got {list(self.start)}")
        parse_color(self.color, "mesh.descent.color")


@dataclasses.dataclass(frozen=True)
class MeshConfig:
    """How the surface sequence becomes the triangles that are drawn."""

    height: HeightConfig = option(
        HeightConfig(), "loss -> height transform, one for the whole film"
    )
    resolution: int = option(256, "render grid points along the longer axis of the plane",
                             min=2, max=16384)
    smooth: float = option(
        0.0, "Gaussian smoothing sigma in sequence-grid cells; 0 = none", min=0.0
    )
    crop: tuple[float, float, float, float] | None = option(
        None, "show only the window [a0, a1, b0, b1] of the plane (landscape units); none = all"
    )
    time: TimeConfig = option(TimeConfig(), "how film time runs through the captured states")
    color: str = option(
        "height", "colormap channel: height, loss, a channel of the sequence (accuracy, convexity)"
        " or a curvature of the drawn surface (mean_curvature, gaussian_curvature, max_curvature,"
        " min_curvature: zero-centred, for a diverging colormap such as coolwarm)"
    )
    trajectory: bool = option(True, "draw the minimizer's path so far (fixed-plane films)")
    descent: DescentConfig = option(
        DescentConfig(), "an auto-descent actor: a ball that rolls down the drawn surface"
    )

    def __post_init__(self) -> None:
        if self.crop is not None:
            a0, a1, b0, b1 = self.crop
            if not (a0 < a1 and b0 < b1):
                raise ValueError(
                    f"mesh.crop must be [a0, a1, b0, b1] with a0 < a1, b0 < b1, got {self.crop}"
                )
        if not self.color:
            raise ValueError("mesh.color must name a channel (height, loss, accuracy...)")
