"""The model zoo and the losses: what is trained and whose landscape is filmed.

Built-in kinds: an MLP, a small CNN, a ResNet-20-style network (skips and batch norm
switchable, as in Li et al. 2018's ResNet-56 vs. ResNet-56-noshort comparison) and
logistic regression. ``user`` calls a factory named ``package.module:function``.
The caller seeds ``torch.manual_seed`` before :func:`build_model`; this module draws
nothing itself.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from lossfilm.compute.config.userspec import call_with_accepted, load_object
from lossfilm.compute.config.model import MODEL_KINDS, ModelConfig

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "MODEL_KINDS",
    "ModelConfig",
    "build_loss",
    "build_model",
    "describe_model",
]


#: activation name -> module class.
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "silu": nn.SiLU,
    "mish": nn.Mish,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
}


# ---------------------------------------------------------------- architectures


def _norm1d(cfg: ModelConfig, n: int) -> nn.Module:
    return nn.BatchNorm1d(n) if cfg.batchnorm else nn.Identity()


def _norm2d(cfg: ModelConfig, n: int) -> nn.Module:
    return nn.BatchNorm2d(n) if cfg.batchnorm else nn.Identity()


def _mlp(cfg: ModelConfig, in_features: int, n_classes: int) -> nn.Module:
    layers: list[nn.Module] = [nn.Flatten()]
    prev = in_features
    for width in cfg.hidden:
        layers += [
            nn.Linear(prev, int(width)),
            _norm1d(cfg, int(width)),
            ACTIVATIONS[cfg.activation](),
        ]
        if cfg.dropout > 0:
            layers.append(nn.Dropout(cfg.dropout))
        prev = int(width)
    layers.append(nn.Linear(prev, n_classes))
    # Identity placeholders would only clutter names in describe_model and the store.
    return nn.Sequential(*[m for m in layers if not isinstance(m, nn.Identity)])


class SmallCNN(nn.Module):
    """``depth`` stages of conv3×3 [+BN] + activation + 2×2 max-pool, then a linear head.

    Pooling stops once the feature map is 1×1, so tiny inputs (8×8 digits) work at any depth.
    """

    def __init__(self, cfg: ModelConfig, in_shape: tuple[int, ...], n_classes: int) -> None:
        super().__init__()
        channels, height, width = in_shape
        stages: list[nn.Module] = []
        prev, side = channels, min(height, width)
        for i in range(cfg.depth):
            out = cfg.width * 2**i
            stage = [nn.Conv2d(prev, out, 3, padding=1, bias=not cfg.batchnorm)]
            if cfg.batchnorm:
                stage.append(nn.BatchNorm2d(out))
            stage.append(ACTIVATIONS[cfg.activation]())
            if side >= 2:
                stage.append(nn.MaxPool2d(2))
                side //= 2
            stages.append(nn.Sequential(*stage))
            prev = out
        self.features = nn.Sequential(*stages)
        self.dropout = nn.Dropout(cfg.dropout) if cfg.dropout > 0 else nn.Identity()
        self.head = nn.Linear(prev, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x).mean(dim=(2, 3))
        return self.head(self.dropout(h))


class BasicBlock(nn.Module):
    """Two conv3×3 [+BN] layers; the input is added back when skips are on.

    A stride or channel change takes the shortcut through a 1×1 conv [+BN] (option B
    of He et al. 2016).
    """

    def __init__(self, cfg: ModelConfig, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=not cfg.batchnorm)
        self.bn1 = _norm2d(cfg, c_out)
        self.act1 = ACTIVATIONS[cfg.activation]()
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=not cfg.batchnorm)
        self.bn2 = _norm2d(cfg, c_out)
        self.act2 = ACTIVATIONS[cfg.activation]()
        self.skips = bool(cfg.skips)
        self.shortcut: nn.Module | None = None
        if self.skips and (stride != 1 or c_in != c_out):
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride=stride, bias=not cfg.batchnorm),
                _norm2d(cfg, c_out),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.act1(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        if self.skips:
            h = h + (self.shortcut(x) if self.shortcut is not None else x)
        return self.act2(h)


class ResNet(nn.Module):
    """CIFAR-style ResNet: stem conv, 3 stages × ``depth`` blocks (widths w, 2w, 4w), head.

    ``depth=3`` is ResNet-20 (6·depth + 2 layers). Stages 2 and 3 halve the resolution.
    """

    def __init__(self, cfg: ModelConfig, in_shape: tuple[int, ...], n_classes: int) -> None:
        super().__init__()
        w = cfg.width
        self.stem = nn.Sequential(
            nn.Conv2d(in_shape[0], w, 3, padding=1, bias=not cfg.batchnorm),
            _norm2d(cfg, w),
            ACTIVATIONS[cfg.activation](),
        )
        blocks: list[nn.Module] = []
        c_in = w
        for stage in range(3):
            c_out = w * 2**stage
            for i in range(cfg.depth):
                stride = 2 if (stage > 0 and i == 0) else 1
                blocks.append(BasicBlock(cfg, c_in, c_out, stride))
                c_in = c_out
        self.blocks = nn.Sequential(*blocks)
        self.dropout = nn.Dropout(cfg.dropout) if cfg.dropout > 0 else nn.Identity()
        self.head = nn.Linear(c_in, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.blocks(self.stem(x)).mean(dim=(2, 3))
        return self.head(self.dropout(h))


def _needs_image(kind: str, in_shape: tuple[int, ...]) -> tuple[int, int, int]:
    if len(in_shape) == 3:
        return tuple(int(s) for s in in_shape)  # type: ignore[return-value]
    if len(in_shape) == 2:  # (H, W) greyscale
        return (1, int(in_shape[0]), int(in_shape[1]))
    raise ValueError(
        f"model.kind: {kind!r} needs image data shaped (channels, height, width),"
        f" but the data gives samples of shape {tuple(in_shape)}; use data.kind 'shapes' or"
        " model.kind 'mlp'"
    )


class _AddChannel(nn.Module):
    """(N, H, W) -> (N, 1, H, W), so greyscale sets without a channel axis feed convs."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.unsqueeze(1) if x.dim() == 3 else x


def build_model(cfg: ModelConfig, in_shape: tuple[int, ...], n_classes: int) -> nn.Module:
    """Build the network; weights are drawn from torch's global generator (seed it first).

    Parameters
    ----------
    in_shape : tuple of int
        Shape of one sample, ``(features,)`` or ``(C, H, W)``.
    n_classes : int
        Number of output logits.

    Raises
    ------
    ValueError
        When the kind does not fit the data (a CNN on 2-D points) or a user factory fails
        to return a module.
    """
    in_shape = tuple(int(s) for s in in_shape)
    n_classes = int(n_classes)
    if n_classes < 2:
        raise ValueError(f"model: need at least 2 classes, the data has {n_classes}")
    in_features = math.prod(in_shape)
    if cfg.kind == "mlp":
        return _mlp(cfg, in_features, n_classes)
    if cfg.kind == "logistic":
        return nn.Sequential(nn.Flatten(), nn.Linear(in_features, n_classes))
    if cfg.kind in ("cnn", "resnet"):
        image = _needs_image(cfg.kind, in_shape)
        net = (
            SmallCNN(cfg, image, n_classes) if cfg.kind == "cnn" else ResNet(cfg, image, n_classes)
        )
        return nn.Sequential(_AddChannel(), net) if len(in_shape) == 2 else net
    fn = load_object(cfg.factory, key="model.factory")
    model = call_with_accepted(fn, in_shape=in_shape, n_classes=n_classes)
    if not isinstance(model, nn.Module):
        raise ValueError(
            f"model.factory: {cfg.factory!r} returned {type(model).__name__}, not a torch.nn.Module"
        )
    return model


def describe_model(cfg: ModelConfig, model: nn.Module) -> dict:
    """JSON-able summary: kind, config, parameter and buffer counts, leaf layers."""
    layers = []
    for name, module in model.named_modules():
        if any(True for _ in module.children()) or isinstance(module, nn.Identity):
            continue  # only real leaves: containers repeat what their children say
        n = sum(p.numel() for p in module.parameters(recurse=False))
        layers.append({"name": name, "type": type(module).__name__, "params": int(n)})
    return {
        "kind": cfg.kind,
        "config": dataclasses.asdict(cfg) | {"hidden": list(cfg.hidden)},
        "class": type(model).__name__,
        "params": int(sum(p.numel() for p in model.parameters())),
        "trainable_params": int(sum(p.numel() for p in model.parameters() if p.requires_grad)),
        "buffers": int(sum(b.numel() for b in model.buffers())),
        "layers": layers,
    }


# ---------------------------------------------------------------- losses


def _one_hot_mse(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(logits, F.one_hot(y, logits.shape[-1]).to(logits.dtype))


#: built-in loss name -> ``fn(logits (N, C), y (N,)) -> scalar mean``.
LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "cross_entropy": F.cross_entropy,
    "nll": F.nll_loss,
    "mse": _one_hot_mse,
    "multi_margin": F.multi_margin_loss,
}


def build_loss(name: str = "cross_entropy") -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """A loss ``fn(logits (N, C), y (N,)) -> scalar mean`` by name or ``package.module:function``.

    A user reference may name a function with that signature or an ``nn.Module`` class
    (instantiated without arguments).
    """
    if name in LOSSES:
        return LOSSES[name]
    if ":" not in name:
        raise ValueError(
            f"loss: unknown loss {name!r}; choose one of {sorted(LOSSES)}"
            " or 'package.module:function'"
        )
    obj = load_object(name, key="loss")
    if isinstance(obj, type) and issubclass(obj, nn.Module):
        obj = obj()
    if not callable(obj):
        raise ValueError(f"loss: {name!r} is not callable")
    return obj
