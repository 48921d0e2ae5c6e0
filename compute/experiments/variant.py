"""Per-state model variants: the network that evaluates one state of an experiment.

Most stores are evaluated with one module, built from the manifest's ``model`` config. An
experiment may record a ``variant`` in a state's manifest entry, a plain JSON dict:

``{"model": {"skips": false}}``
    keys of ``compute.model`` that differ for this state (skips on/off, activation...);
``{"dropout_rate": 0.4, "mask_seed": 0}``
    every ``nn.Dropout`` is replaced by a :class:`FixedMaskDropout` at that rate, so the
    loss of the state is a well-defined function of the weights (the same masks at every
    grid point) even though dropout is random.

Both the main process (loss at each state) and the workers (the tiles) build the module with
:func:`state_model`, so a state is always evaluated with the network it was trained as.
"""

from __future__ import annotations

import dataclasses
import json

import torch
from torch import nn

__all__ = ["FixedMaskDropout", "build_variant", "state_model", "with_fixed_dropout"]

#: seed stride between dropout layers, so each layer's masks come from its own stream.
LAYER_SEED_STRIDE = 7919


class FixedMaskDropout(nn.Module):
    """Dropout with masks fixed by a seed, applied in train and eval mode alike.

    The mask of an input shape is ``u >= rate`` (scaled by ``1 / (1 − rate)``) with ``u``
    one uniform draw from ``seed`` for that shape. The draw does not depend on the rate, so
    the units dropped at a rate are a subset of those dropped at any higher rate: a ramp of
    rates removes units one by one instead of re-rolling the dice every state.

    Inputs of the same shape share one mask (a tile evaluated in sample chunks of equal size
    reuses it); the mask is kept per shape, dtype and device.
    """

    def __init__(self, rate: float, seed: int) -> None:
        super().__init__()
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"dropout rate must be in [0, 1), got {rate}")
        self.rate, self.seed = float(rate), int(seed)
        self._masks: dict = {}  # a plain dict, not buffers: no state-dict keys to match

    def mask(self, shape: tuple[int, ...], dtype: torch.dtype, device) -> torch.Tensor:
        """The scaled mask for inputs of ``shape``: 0 or ``1 / (1 − rate)``."""
        key = (tuple(shape), dtype, str(device))
        if key not in self._masks:
            gen = torch.Generator().manual_seed(self.seed)
            u = torch.rand(tuple(shape), generator=gen, dtype=torch.float64)
            keep = (u >= self.rate).to(dtype) / (1.0 - self.rate)
            self._masks[key] = keep.to(device)
        return self._masks[key]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.rate == 0.0:
            return x
        return x * self.mask(x.shape, x.dtype, x.device)

    def extra_repr(self) -> str:
        return f"rate={self.rate}, seed={self.seed}"


def with_fixed_dropout(model: nn.Module, rate: float, seed: int) -> nn.Module:
    """Replace every ``nn.Dropout`` of ``model`` (in place) by a :class:`FixedMaskDropout`.

    Layer ``i`` (in module order) draws from ``seed + i·LAYER_SEED_STRIDE``. Returns ``model``.
    """
    found = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Dropout)]
    for i, (name, _) in enumerate(found):
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, FixedMaskDropout(rate, seed + i * LAYER_SEED_STRIDE))
    return model


def build_variant(spec: dict, variant: dict) -> nn.Module:
    """The module of a state's variant.

    Parameters
    ----------
    spec : dict
        The manifest's ``model`` entry: ``config`` (a ``ModelConfig`` as a dict), ``in_shape``,
        ``n_classes``.
    variant : dict
        ``model`` overrides and/or ``dropout_rate`` + ``mask_seed`` (module docstring).
    """
    from lossfilm.compute.config.compute import config_from_dict
    from lossfilm.compute.model.zoo import build_model
    from lossfilm.compute.config.model import ModelConfig

    cfg = config_from_dict(ModelConfig, dict(spec["config"]))
    overrides = dict(variant.get("model", {}))
    if "hidden" in overrides:
        overrides["hidden"] = tuple(overrides["hidden"])
    cfg = dataclasses.replace(cfg, **overrides)
    # The weights are replaced by each state's anyway; the fork keeps the caller's generator
    # (training's dropout stream) where it was.
    with torch.random.fork_rng(devices=[]):
        model = build_model(cfg, tuple(spec["in_shape"]), int(spec["n_classes"]))
    if "dropout_rate" in variant:
        with_fixed_dropout(model, float(variant["dropout_rate"]), int(variant.get("mask_seed", 0)))
    return model


def state_model(cache: dict, entry: dict) -> nn.Module:
    """The module that evaluates the state ``entry`` (a manifest state or its ``extra``).

    Parameters
    ----------
    cache : dict
        Holds ``model`` (the store's module) and either ``store`` (a ``lossfilm.compute.store.folder.Store``,
        worker side) or ``spec`` (the manifest's ``model`` entry, main side); variants built
        here are kept in it under ``variants``.
    entry : dict
        A state entry; without a ``variant`` the store's module is returned.
    """
    variant = entry.get("variant")
    if not variant:
        return cache["model"]
    built = cache.setdefault("variants", {})
    key = json.dumps(variant, sort_keys=True)
    if key not in built:
        spec = cache["store"].manifest["model"] if cache.get("store") is not None else cache["spec"]
        built[key] = build_variant(spec, variant)
    return built[key]
