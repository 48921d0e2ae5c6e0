"""prune: iterative global magnitude pruning with retraining (Frankle & Carbin 2019).

Round ``k`` zeroes the smallest-magnitude surviving weights until ``fractions[k]`` of all
prunable weights (the ≥ 2-D parameters: Linear and Conv weights) are zero, then retrains:
``rewind`` resets the survivors to their initial values first (the lottery-ticket
procedure), ``fine_tune`` keeps training the pruned network. Pruned weights stay exactly zero
while training: their gradients are masked, and SGD, Adam and weight decay all leave a zero
weight with a zero gradient (and zero momentum) at zero.

The pruning mask is not stored: it is where a state's prunable weights are exactly zero.
With ``mask_directions`` both directions are zeroed there and re-normalized to the surviving
weights of each filter, so the slice stays inside the sparse network instead of growing the
pruned weights back. The film shows a landscape that keeps its shape through the first rounds,
then lifts and collapses once the network is too sparse to fit the data.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import torch

from lossfilm.compute.training.capture import snapshot_state
from lossfilm.compute.experiments.stages import Stage, stage_train_config, states_per_stage, train_stage

__all__ = [
    "expected_states",
    "states",
    "build_planes",
    "prunable_keys",
    "magnitude_masks",
    "sparsity",
    "mask_plane",
]


def prunable_keys(state: Mapping[str, torch.Tensor]) -> list[str]:
    """Keys of the weights that pruning may zero: floating parameters with ≥ 2 dimensions."""
    from lossfilm.compute.landscape.directions import perturbable

    return [k for k, v in perturbable(state).items() if v.dim() >= 2]


def magnitude_masks(
    weights: Mapping[str, torch.Tensor], keys: list[str], fraction: float, previous: Mapping | None = None
) -> dict[str, torch.Tensor]:
    """Global magnitude pruning: boolean keep-masks with ``round(fraction · total)`` zeros.

    Parameters
    ----------
    weights : dict of str -> Tensor
    keys : list of str
        The prunable entries; ``total`` is the number of their elements.
    fraction : float
        Fraction of the prunable elements that are pruned afterwards, in ``[0, 1)``.
    previous : dict of str -> bool Tensor, optional
        Masks of the last round: what is pruned stays pruned (it is ranked first).

    Returns
    -------
    dict of str -> bool Tensor, shaped like each weight; ``True`` = survives.
    """
    scores = []
    for k in keys:
        s = weights[k].detach().abs().double().reshape(-1).clone()
        if previous is not None:
            s[~previous[k].reshape(-1)] = -1.0
        scores.append(s)
    flat = torch.cat(scores)
    n_drop = int(round(fraction * flat.numel()))
    keep = torch.ones(flat.numel(), dtype=torch.bool)
    if n_drop:
        keep[torch.argsort(flat, stable=True)[:n_drop]] = False
    out, i = {}, 0
    for k in keys:
        n = weights[k].numel()
        out[k] = keep[i : i + n].reshape(weights[k].shape)
        i += n
    return out


def sparsity(state: Mapping[str, torch.Tensor], keys: list[str] | None = None) -> float:
    """Fraction of the prunable weights of ``state`` that are exactly zero."""
    keys = prunable_keys(state) if keys is None else keys
    zeros = sum(int((state[k] == 0).sum()) for k in keys)
    total = sum(state[k].numel() for k in keys)
    return zeros / max(total, 1)


def expected_states(cfg, n_samples: int) -> int:
    ex = cfg.experiment.prune
    return len(ex.fractions) * states_per_stage(cfg.train, n_samples, ex.states, initial=True)


def states(cfg, model, dataset, loss_fn, device, progress, folder=None) -> Iterator[tuple]:
    """Train, prune, rewind or fine-tune, round after round; yield each round's state(s).

    ``values`` gains ``sparsity`` (the measured fraction of zero prunable weights) and
    ``prune_round``.
    """
    ex = cfg.experiment.prune
    init = snapshot_state(model)
    params = dict(model.named_parameters())
    keys = [k for k in prunable_keys(model.state_dict()) if k in params]
    masks = None
    clock = Stage()
    for k, fraction in enumerate(ex.fractions):
        if fraction > 0:
            masks = magnitude_masks(model.state_dict(), keys, fraction, masks)
            if ex.retrain == "rewind":
                model.load_state_dict(init)
        hooks = []
        if masks is not None:
            with torch.no_grad():
                for key in keys:
                    params[key].mul_(masks[key].to(params[key].device, params[key].dtype))
            for key in keys:
                m = masks[key].to(params[key].device, params[key].dtype)
                hooks.append(params[key].register_hook(lambda g, m=m: g * m))
        try:
            train = stage_train_config(cfg.train, ex.states, initial=True, seed_offset=k)
            for epoch, step, cs in train_stage(model, dataset, train, clock, loss_fn=loss_fn, device=device,
                                               progress=progress):
                name = f"pruned {fraction:.0%}" if fraction > 0 else "dense"
                label = name if ex.states == "final" else f"{name} · epoch {cs.epoch:g}"
                values = dict(cs.values) | {"sparsity": sparsity(cs.state, keys), "prune_round": float(k)}
                yield float(epoch), int(step), label, cs.state, values
        finally:
            for h in hooks:
                h.remove()


def mask_plane(
    origin: Mapping[str, torch.Tensor], d1: Mapping, d2: Mapping, normalization: str = "filter",
    ignore: str = "biasbn", orthogonalize: bool = True,
) -> tuple[dict, dict]:
    """Zero both directions where ``origin``'s prunable weights are zero, re-normalized.

    Each block (filter, or tensor for ``layer``) is rescaled to the norm of the surviving
    weights of the same block, and ``d2`` is made orthogonal to ``d1`` again, as
    :func:`lossfilm.compute.landscape.directions.random_plane` does. Entries that are not prunable are kept.
    """
    from lossfilm.compute.landscape.directions import normalize_direction

    keys = [k for k in prunable_keys(origin) if k in d1]
    m1 = {k: d1[k] * (origin[k] != 0).to(d1[k].dtype) for k in keys}
    m2 = {k: d2[k] * (origin[k] != 0).to(d2[k].dtype) for k in keys}
    w = {k: origin[k] for k in keys}
    n1 = normalize_direction(m1, w, normalization, ignore)
    n2 = normalize_direction(m2, w, normalization, ignore, against=n1 if orthogonalize else None)
    return dict(d1) | n1, dict(d2) | n2


def build_planes(cfg, folder, states: list[dict]) -> tuple:
    """The landscape section's planes, masked to each origin's surviving weights.

    Random directions only (PCA and point planes are not rescaled to the weights).
    """
    import dataclasses

    from lossfilm.compute.store import folder as st
    from lossfilm.compute.config.experiment import ExperimentConfig
    from lossfilm.compute.landscape import planes

    plain = dataclasses.replace(cfg, experiment=ExperimentConfig())
    fitted, desc = planes.build_planes(plain, folder, states)
    dcfg = cfg.landscape.directions
    if not cfg.experiment.prune.mask_directions or dcfg.kind != "random":
        return fitted, desc
    done = set()
    for s in states:
        if s["directions"] in done:
            continue
        done.add(s["directions"])
        path = folder / s["directions"]
        obj = st.load_tensors(path)
        origin = st.load_tensors(folder / s["origin"])
        obj["d1"], obj["d2"] = mask_plane(origin, obj["d1"], obj["d2"], dcfg.normalization, dcfg.ignore,
                                          dcfg.orthogonalize)
        st.save_tensors(path, obj)
    return fitted, desc | {"masked_to_surviving_weights": True}
