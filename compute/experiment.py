"""The ``compute.experiment`` section: states produced by an experiment instead of plain training.

``kind`` picks an entry of :data:`compute.experiments.EXPERIMENT_KINDS`; each kind reads its
own sub-section (``curve``, ``swag``, ``wgan``) and ignores the others. The model, data,
``train`` (epochs, batch size, optimizer where the kind says so) and ``landscape`` sections
keep their meaning.
"""

from __future__ import annotations

import dataclasses

from compute.experiments import EXPERIMENT_KINDS
from compute.experiments.config import DropoutRampConfig, PruneConfig, VariantsConfig
from compute.experiments.curves import CurveConfig
from compute.experiments.swag import SwagConfig
from compute.experiments.wgan import WganConfig
from compute.options import option

__all__ = ["ExperimentConfig"]


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
