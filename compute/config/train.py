"""The ``lossfilm.compute.training.train`` section: optimizer, schedule, budget and when states are captured.
"""

from __future__ import annotations

import dataclasses
import itertools

from lossfilm.compute.config.options import option


#: one-line description of each learning-rate schedule.
SCHEDULES: dict[str, str] = {
    "constant": "lr throughout",
    "step": "lr × gamma^floor(epoch / step_size)",
    "cosine": "cosine from lr at epoch 0 down to lr_min at the last epoch",
    "cyclic": "triangle between lr_min and lr, `period` epochs per cycle (starts at lr_min)",
    "piecewise": "linear between (epoch, lr) knots in `piecewise`, held beyond the ends",
}


@dataclasses.dataclass(frozen=True)
class CaptureConfig:
    """When training states are kept for the film."""

    every: int = option(1, "capture every this many units", min=1)
    unit: str = option("epoch", "unit of `every`", choices=("epoch", "step"))
    include_initial: bool = option(True, "also capture the untrained weights (epoch 0)")
    include_final: bool = option(True, "also capture the last step when `every` does not divide it")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """How the network is trained and when its states are captured."""

    optimizer: str = option("sgd", "optimizer", choices=("sgd", "adam", "adamw"))
    lr: float = option(
        0.1, "learning rate (peak rate of cosine and cyclic)", min=0.0, exclusive_min=True
    )
    momentum: float = option(
        0.9, "momentum (sgd) or beta1 (adam, adamw)", min=0.0, max=1.0, exclusive_max=True
    )
    nesterov: bool = option(False, "Nesterov momentum (sgd)")
    weight_decay: float = option(0.0, "L2 weight decay (adamw: decoupled)", min=0.0)
    epochs: int = option(20, "passes over the training data", min=1)
    batch_size: int = option(
        64, "samples per optimizer step (the last batch may be smaller)", min=1
    )
    loss: str = option(
        "cross_entropy", "loss: cross_entropy, nll, mse, multi_margin or 'package.module:function'"
    )
    schedule: str = option("constant", "learning-rate schedule", choices=tuple(SCHEDULES))
    step_size: float = option(10.0, "epochs between decays (step)", min=0.0, exclusive_min=True)
    gamma: float = option(0.1, "decay factor per step (step)", min=0.0, exclusive_min=True)
    lr_min: float = option(0.0, "lowest rate (cosine, cyclic)", min=0.0)
    period: float = option(4.0, "epochs per cycle (cyclic)", min=0.0, exclusive_min=True)
    piecewise: tuple[float, ...] = option(
        (), "flat (epoch, lr) knots, e.g. [0, 0.01, 5, 0.2, 20, 0.0] (piecewise)"
    )
    capture: CaptureConfig = option(CaptureConfig(), "when states are captured")
    seed: int = option(0, "seed of shuffling and dropout", min=0)

    def __post_init__(self) -> None:
        if self.schedule == "piecewise":
            knots = self.piecewise
            if len(knots) < 2 or len(knots) % 2:
                raise ValueError(
                    "train.piecewise: give an even number of values, (epoch, lr) pairs,"
                    f" at least one pair; got {list(knots)}"
                )
            epochs = knots[0::2]
            if any(b <= a for a, b in itertools.pairwise(epochs)):
                raise ValueError(f"train.piecewise: epochs must increase, got {list(epochs)}")
            if any(v < 0 for v in knots[1::2]):
                raise ValueError(f"train.piecewise: rates must be ≥ 0, got {list(knots[1::2])}")
        if self.schedule in ("cosine", "cyclic") and self.lr_min > self.lr:
            raise ValueError(f"train.lr_min ({self.lr_min}) must not exceed train.lr ({self.lr})")
