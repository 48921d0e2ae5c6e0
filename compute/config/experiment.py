"""The ``lossfilm.compute.experiments.registry`` section: experiments that produce the states (torch-free).

Each kind reads its own block of :class:`lossfilm.compute.experiments.registry.ExperimentConfig`: ``dropout``,
``prune`` and ``variants``; every block says which states a run contributes (``states``).
"""

from __future__ import annotations

import dataclasses
import itertools

from lossfilm.compute.config.model import ACTIVATION_NAMES
from lossfilm.compute.config.options import option

__all__ = [
    "DropoutRampConfig",
    "ModelVariant",
    "PruneConfig",
    "VariantsConfig",
    "EXPERIMENT_STATES",
]


#: kind -> (module under compute.experiments, one-line description).
EXPERIMENT_KINDS: dict[str, tuple[str | None, str]] = {
    "none": (None, "plain training (compute.train) or checkpoints"),
    "mode_connectivity": (
        "curves",
        "two minima from different seeds joined by a trained quadratic Bézier curve (Garipov et al. 2018)",
    ),
    "swag": ("swag", "SWAG (Maddox et al. 2019): constant-LR iterates, SWA mean, low-rank Gaussian"),
    "wgan": ("wgan", "WGAN-GP on a 2-D toy ring: the generator's landscape under each step's critic"),
    "dropout_ramp": (
        "dropout", "train at rising dropout rates; each state's loss under fixed dropout masks"
    ),
    "prune": ("pruning", "iterative global magnitude pruning with rewind or fine-tuning (lottery tickets)"),
    "variants": ("sweep", "the same training budget for each model variant (skips on/off, activations...)"),
}


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
    activation: str | None = option(None, "activation function", choices=ACTIVATION_NAMES)
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


@dataclasses.dataclass(frozen=True)
class CurveConfig:
    """Mode connectivity: the two minima and the Bézier curve trained between them."""

    seeds: tuple[int, int] = option(
        (1, 2), "seeds of the two minima (initial weights and shuffling)"
    )
    minima_epochs: int = option(
        30, "epochs of plain training (compute.train) for each minimum", min=1
    )
    lr: float = option(
        0.05, "learning rate of the bend (SGD; epochs and batch size from train)",
        min=0.0, exclusive_min=True,
    )
    momentum: float = option(
        0.9, "momentum of the bend's SGD", min=0.0, max=1.0, exclusive_max=True
    )
    init_offset: float = option(
        0.1, "the bend starts at the midpoint plus a random offset of this fraction of |w2 − w1|",
        min=0.0, exclusive_min=True,
    )
    path_points: int = option(
        33, "points along the segment and the curve (drawn, and their loss recorded)", min=3
    )

    def __post_init__(self) -> None:
        if self.seeds[0] == self.seeds[1]:
            raise ValueError(
                "experiment.curve.seeds: the two minima need different seeds,"
                f" got {list(self.seeds)}"
            )


@dataclasses.dataclass(frozen=True)
class SwagConfig:
    """SWAG: the converged SGD run, the constant-LR collection and the Gaussian's samples."""

    pretrain_epochs: int = option(
        30, "epochs of plain training (compute.train) before collecting", min=1
    )
    lr: float = option(0.05, "the constant, high learning rate of the collection phase", min=0.0,
                       exclusive_min=True)
    collect_per_epoch: int = option(
        4, "iterates collected per collection epoch (train.epochs of them)", min=1
    )
    rank: int = option(20, "columns of the deviation matrix (the last this many iterates)", min=2)
    samples: int = option(24, "draws from the SWAG Gaussian shown per state", min=0)
    seed: int = option(0, "seed of the Gaussian's normal draws", min=0)


@dataclasses.dataclass(frozen=True)
class WganConfig:
    """WGAN-GP on a ring of Gaussians: the real data and the adversarial training."""

    modes: int = option(8, "Gaussians on the ring of real data", min=1)
    radius: float = option(2.0, "radius of the ring", min=0.0, exclusive_min=True)
    spread: float = option(0.05, "std of each Gaussian", min=0.0, exclusive_min=True)
    steps_per_state: int = option(
        40, "generator steps between captured states (train.epochs states)", min=1
    )
    n_critic: int = option(5, "critic steps per generator step", min=1)
    gp_weight: float = option(10.0, "λ of the gradient penalty", min=0.0)
    lr: float = option(1e-3, "Adam learning rate of both networks (betas 0.5, 0.9)", min=0.0,
                       exclusive_min=True)
    batch: int = option(256, "real and fake samples per step", min=2)


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """An experiment that produces the states (mode connectivity, SWAG, WGAN...)."""

    kind: str = option("none", "which experiment produces the states (none: compute.train)",
                       choices=tuple(EXPERIMENT_KINDS))
    curve: CurveConfig = option(CurveConfig(), "mode_connectivity: the minima and the Bézier curve")
    swag: SwagConfig = option(SwagConfig(), "swag: the collection phase and the Gaussian's samples")
    wgan: WganConfig = option(WganConfig(), "wgan: the ring data and the adversarial training")
    dropout: DropoutRampConfig = option(DropoutRampConfig(), "dropout_ramp: the rates and the fixed masks")
    prune: PruneConfig = option(PruneConfig(), "prune: the pruning rounds and how they retrain")
    variants: VariantsConfig = option(VariantsConfig(), "variants: the model variants trained in turn")

    def __post_init__(self) -> None:
        if self.kind == "variants" and not self.variants.models:
            raise ValueError(
                "experiment.variants.models: kind 'variants' needs at least one '- model: {...}'"
            )
