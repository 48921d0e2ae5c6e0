"""The ``compute.model`` section: which network is trained and filmed (torch-free).

The builders live in :mod:`lossfilm.compute.model.zoo`; this module only names the kinds.
"""

from __future__ import annotations

import dataclasses

from lossfilm.compute.config.options import option

#: activation names; :data:`lossfilm.compute.model.zoo.ACTIVATIONS` maps each to its module.
ACTIVATION_NAMES = ("relu", "silu", "mish", "gelu", "tanh")


#: one-line description of each model kind.
MODEL_KINDS: dict[str, str] = {
    "mlp": "fully connected: Linear + activation [+ BatchNorm] [+ Dropout] per hidden layer",
    "cnn": "small CNN: `depth` stages of conv-BN-act + 2×2 max-pool, global average, linear head",
    "resnet": "ResNet-20 style: 3 stages × `depth` basic blocks, skips and BN switchable",
    "logistic": "logistic regression: one Linear layer on the flattened input",
    "user": "your own torch.nn.Module from `factory` ('package.module:function')",
}


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """The network to train (or the architecture that checkpoints were saved from)."""

    kind: str = option("mlp", "which model", choices=tuple(MODEL_KINDS))
    hidden: tuple[int, ...] = option((64, 64), "widths of the hidden layers (mlp)")
    activation: str = option("relu", "activation function", choices=ACTIVATION_NAMES)
    dropout: float = option(
        0.0,
        "dropout rate after each hidden layer (mlp) / before the head (cnn, resnet)",
        min=0.0,
        max=1.0,
        exclusive_max=True,
    )
    batchnorm: bool = option(False, "batch normalization after each linear/conv layer")
    skips: bool = option(
        True, "residual skip connections (resnet); off gives the 'noshort' variant"
    )
    depth: int = option(
        3, "basic blocks per stage (resnet: 3 = ResNet-20) or conv stages (cnn)", min=1
    )
    width: int = option(16, "channels of the first stage (cnn, resnet); doubles per stage", min=1)
    factory: str | None = option(
        None, "user model as 'package.module:function'; gets in_shape, n_classes if accepted"
    )

    def __post_init__(self) -> None:
        if any(int(h) < 1 for h in self.hidden):
            raise ValueError(f"model.hidden: widths must be ≥ 1, got {list(self.hidden)}")
        if self.kind == "user" and not self.factory:
            raise ValueError("model.factory: kind 'user' needs 'package.module:function'")
