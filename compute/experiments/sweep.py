"""variants: the same training budget for each variant of the network, one after another.

Every variant (``compute.experiment.variants.models``) changes a few ``compute.model`` keys
(skips on/off, the activation...), is built from the same seed and trained with the same
``train`` section. The states of all variants form one film; each state records its variant,
so the surface is evaluated with the network it was trained as (the forward differs even
where the parameter shapes agree). The label names the variant.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from lossfilm.compute.experiments.stages import Stage, stage_train_config, states_per_stage, train_stage

__all__ = ["expected_states", "states"]


def _models(cfg) -> tuple:
    models = cfg.experiment.variants.models
    if not models:
        raise ValueError("experiment.variants.models: kind 'variants' needs at least one '- model: {...}'")
    return models


def expected_states(cfg, n_samples: int) -> int:
    ex = cfg.experiment.variants
    return len(_models(cfg)) * states_per_stage(cfg.train, n_samples, ex.states, initial=True)


def states(cfg, model, dataset, loss_fn, device, progress, folder=None) -> Iterator[tuple]:
    """Train each variant from the same seed; yield its states with their ``variant``.

    ``values`` gains ``variant_index`` (0, 1, ...).
    """
    import torch

    from lossfilm.compute.model.zoo import build_model

    ex = cfg.experiment.variants
    clock = Stage()
    for k, variant in enumerate(_models(cfg)):
        overrides = variant.overrides()
        try:
            net_cfg = dataclasses.replace(cfg.model, **overrides)
        except ValueError as exc:
            raise ValueError(f"experiment.variants.models[{k}]: {exc}") from None
        torch.manual_seed(cfg.train.seed)
        net = build_model(net_cfg, dataset.in_shape, dataset.n_classes)
        train = stage_train_config(cfg.train, ex.states, initial=True)
        extra = {"variant": {"model": overrides}} if overrides else {}
        for epoch, step, cs in train_stage(net, dataset, train, clock, loss_fn=loss_fn, device=device,
                                           progress=progress):
            name = variant.name()
            label = name if ex.states == "final" else f"{name} · epoch {cs.epoch:g}"
            values = dict(cs.values) | {"variant_index": float(k)}
            yield float(epoch), int(step), label, cs.state, values, extra
