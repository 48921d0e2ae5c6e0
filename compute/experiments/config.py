"""Settings of the dropout_ramp, prune and variants experiments (``compute.experiment.*``).

Each kind reads its own block of :class:`compute.experiment.ExperimentConfig`: ``dropout``,
``prune`` and ``variants``; every block says which states a run contributes (``states``).
"""

from __future__ import annotations

import dataclasses
import itertools

from compute.models import ACTIVATIONS
from compute.options import option

__all__ = [
    "DropoutRampConfig",
    "ModelVariant",
    "PruneConfig",
    "VariantsConfig",
    "EXPERIMENT_STATES",
]

#: which training states an experiment run contributes to the film.
EXPERIMENT_STATES: dict[str, str] = {
    "final": "one state per rate / round / variant: the weights at the end of its training",
    "captures": "every train.capture of each run (the film also shows the training in between)",
}


@dataclasses.dataclass(frozen=True)
class DropoutRampConfig:
    """dropout_ramp: train on at rising dropout rates; each state is evaluated with fixed masks."""

    rates: tuple[float, ...] = option(
        (0.0, 0.2, 0.4, 0.6, 0.8), "dropout rate of each stage, in film order", min=0.0, max=1.0,
        exclusive_max=True,
    )
    mask_seed: int = option(
        0, "seed of the fixed evaluation masks (one draw, thresholded per rate: masks nest)", min=0
    )
    states: str = option(
        "final", "which states each stage contributes: final (its trained weights) or captures"
        " (every train.capture)", choices=tuple(EXPERIMENT_STATES),
    )

    def __post_init__(self) -> None:
        if not self.rates:
            raise ValueError("experiment.dropout.rates: give at least one rate")
        if max(self.rates) <= 0.0:
            raise ValueError(f"experiment.dropout.rates: at least one rate must be > 0, got {list(self.rates)}")


@dataclasses.dataclass(frozen=True)
class PruneConfig:
    """prune: iterative global magnitude pruning with retraining (lottery tickets)."""

    fractions: tuple[float, ...] = option(
        (0.0, 0.2, 0.4, 0.6, 0.8, 0.9),
        "fraction of prunable weights that are zero after each round (0 = the dense net), increasing",
        min=0.0, max=1.0, exclusive_max=True,
    )
    retrain: str = option(
        "rewind",
        "rewind: survivors back to their initial values, then train (Frankle & Carbin); "
        "fine_tune: keep training the pruned weights",
        choices=("rewind", "fine_tune"),
    )
    mask_directions: bool = option(
        True, "zero both directions where a weight is pruned (the slice stays in the sparse net)"
    )
    states: str = option(
        "final", "which states each stage contributes: final (its trained weights) or captures"
        " (every train.capture)", choices=tuple(EXPERIMENT_STATES),
    )

    def __post_init__(self) -> None:
        if not self.fractions:
            raise ValueError("experiment.prune.fractions: give at least one fraction")
        if any(b <= a for a, b in itertools.pairwise(self.fractions)):
            raise ValueError(f"experiment.prune.fractions must increase, got {list(self.fractions)}")


@dataclasses.dataclass(frozen=True)
class ModelVariant:
    """One network of a `variants` experiment: the compute.model keys it changes (null keeps)."""

    label: str | None = option(None, "name shown for its states (default: the changed keys)")
    activation: str | None = option(None, "activation function", choices=tuple(ACTIVATIONS))
    skips: bool | None = option(None, "residual skip connections (resnet)")
    batchnorm: bool | None = option(None, "batch normalization")
    depth: int | None = option(None, "blocks per stage (resnet) or conv stages (cnn)", min=1)
    width: int | None = option(None, "channels of the first stage (cnn, resnet)", min=1)
    hidden: tuple[int, ...] | None = option(None, "widths of the hidden layers (mlp)", min=1)

    def overrides(self) -> dict:
        """The compute.model keys this variant sets, ``{name: value}``."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name != "label" and getattr(self, f.name) is not None
        }

    def name(self) -> str:
        """``label``, else ``'activation=silu, skips=False'``."""
        if self.label:
            return self.label
        return ", ".join(f"{k}={v}" for k, v in self.overrides().items()) or "base"


@dataclasses.dataclass(frozen=True)
class VariantsConfig:
    """variants: the networks trained one after another, each from the same seed and budget."""

    models: tuple[ModelVariant, ...] = option(
        (), "the variants in film order, each '- model: {skips: false, label: ...}'",
        registry={"model": ModelVariant},
    )
    states: str = option(
        "final", "which states each stage contributes: final (its trained weights) or captures"
        " (every train.capture)", choices=tuple(EXPERIMENT_STATES),
    )
