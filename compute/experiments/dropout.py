"""dropout_ramp: the network trains on while its dropout rate rises, stage by stage.

Stage ``k`` sets every dropout layer to ``rates[k]`` and trains ``train.epochs`` more epochs
(continuing from the previous stage). Each state is evaluated with :class:`FixedMaskDropout`
at its stage's rate: one seeded draw per layer, the same at every grid point, so each surface
is a well-defined function of the weights, and the masks nest as the rate rises. What the
film shows is the noise layer taking over: the surface lifts and grows rough as more units
are dropped, even though the weights adapt to it.

The network is built with dropout layers even when ``compute.model.dropout`` is 0 (the ramp
sets their rate); dropout layers draw no weights, so the initial weights are those of the
model without them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from torch import nn

from lossfilm.compute.experiments.stages import Stage, stage_train_config, states_per_stage, train_stage

__all__ = ["expected_states", "states", "dropout_layers"]


def dropout_layers(model: nn.Module) -> list[nn.Dropout]:
    """Every ``nn.Dropout`` of ``model``, in module order."""
    return [m for m in model.modules() if isinstance(m, nn.Dropout)]


def expected_states(cfg, n_samples: int) -> int:
    ex = cfg.experiment.dropout
    first = states_per_stage(cfg.train, n_samples, ex.states, initial=True)
    rest = states_per_stage(cfg.train, n_samples, ex.states, initial=False)
    return first + rest * (len(ex.rates) - 1)


def states(cfg, model, dataset, loss_fn, device, progress, folder=None) -> Iterator[tuple]:
    """Yield ``(epoch, step, label, state, values, extra)`` for every stage of the ramp.

    ``values`` gains ``dropout`` (the stage's rate); ``extra`` carries the state's
    ``variant``: the dropout layers and the fixed masks it is evaluated with.
    """
    import torch

    from lossfilm.compute.model.zoo import build_model

    ex = cfg.experiment.dropout
    top = max(ex.rates)
    net_cfg = dataclasses.replace(cfg.model, dropout=top)
    torch.manual_seed(cfg.train.seed)
    net = build_model(net_cfg, dataset.in_shape, dataset.n_classes)
    layers = dropout_layers(net)
    if not layers:
        raise ValueError(
            f"experiment.kind=dropout_ramp: compute.model kind {cfg.model.kind!r} has no dropout layers;"
            " use mlp, cnn or resnet"
        )
    clock = Stage()
    for k, rate in enumerate(ex.rates):
        for layer in layers:
            layer.p = float(rate)
        train = stage_train_config(cfg.train, ex.states, initial=k == 0, seed_offset=k)
        variant = {"model": {"dropout": top}, "dropout_rate": float(rate), "mask_seed": ex.mask_seed}
        for epoch, step, cs in train_stage(net, dataset, train, clock, loss_fn=loss_fn, device=device,
                                           progress=progress):
            label = f"dropout {rate:g}" if ex.states == "final" else f"dropout {rate:g} · epoch {epoch:g}"
            values = dict(cs.values) | {"dropout": float(rate)}
            yield float(epoch), int(step), label, cs.state, values, {"variant": variant}
