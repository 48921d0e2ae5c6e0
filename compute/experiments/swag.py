"""SWAG (Maddox et al. 2019): a Gaussian over the weights from constant-LR SGD iterates.

After plain training converges (``pretrain_epochs`` of ``compute.train``), SGD continues at a
high constant rate and collects ``collect_per_epoch`` iterates per epoch. Their running mean
is SWA; their spread gives SWAG's Gaussian: a diagonal part plus a low-rank part from the
deviation matrix ``D`` (the last ``rank`` iterates minus the mean).

The film: one fixed plane, the top two principal directions of the final deviation matrix,
each scaled to its standard deviation (so plane units are standard deviations of the
posterior), origin at the final SWA mean. States are the collection epochs (state 0: the
converged SGD weights, nothing collected yet); the surface stays put (the loss function does
not change) while the iterates collected so far accumulate on it as markers, the ball is the
running SWA mean, and ``samples`` draws from the Gaussian built from the iterates so far
(the same normal draws in every state) spread out as the posterior is learned.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Iterator, Mapping

import numpy as np
import torch

from lossfilm.compute.store import folder as st
from lossfilm.compute.training.capture import snapshot_state
from lossfilm.compute.landscape.directions import perturbable, project
from lossfilm.compute.experiments import experiment_folder, few_threads
from lossfilm.compute.execution.progress import Progress
from lossfilm.compute.config.experiment import SwagConfig

__all__ = [
    "SwagConfig", "swag_moments", "swag_samples", "deviation_plane", "expected_states", "states",
    "build_planes",
]

#: variance floor of the diagonal part (float32 rounding makes tiny variances negative).
VAR_FLOOR = 1e-30


def _flat(w: Mapping, keys: list[str]) -> torch.Tensor:
    return torch.cat([w[k].double().reshape(-1) for k in keys])


def _unflat(vec: torch.Tensor, like: Mapping, keys: list[str]) -> dict:
    out, i = {}, 0
    for k in keys:
        n = like[k].numel()
        out[k] = vec[i : i + n].reshape(like[k].shape).to(like[k].dtype)
        i += n
    return out


def swag_moments(
    iterates: torch.Tensor, rank: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """SWA mean, diagonal variance and deviation matrix of flat iterates.

    Parameters
    ----------
    iterates : (n, P) float64
    rank : int

    Returns
    -------
    mean : (P,) ; var : (P,) ; dev : (min(n, rank), P)
    """
    mean = iterates.mean(0)
    var = ((iterates**2).mean(0) - mean**2).clamp_min(VAR_FLOOR)
    return mean, var, iterates[-rank:] - mean


def swag_samples(mean: torch.Tensor, var: torch.Tensor, dev: torch.Tensor, z1: torch.Tensor,
                 z2: torch.Tensor) -> torch.Tensor:
    """``mean + √var∘z1/√2 + Dᵀz2/√(2(K−1))``: SWAG draws for given normals.

    Parameters
    ----------
    z1 : (m, P) ; z2 : (m, K) with ``K = dev.shape[0] ≥ 2``

    Returns
    -------
    (m, P) float64
    """
    k = dev.shape[0]
    return mean + var.sqrt() * z1 / np.sqrt(2.0) + z2[:, :k] @ dev / np.sqrt(2.0 * (k - 1))


def deviation_plane(dev: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """Top two principal directions of a deviation matrix, scaled to their standard deviations.

    Returns
    -------
    v1, v2 : (P,) float64
    std : (2,) float64
        The standard deviation of the iterates along each.
    """
    _, sing, vt = torch.linalg.svd(dev, full_matrices=False)
    std = (sing[:2] / np.sqrt(max(dev.shape[0] - 1, 1))).numpy()
    return vt[0] * std[0], vt[1] * std[1], std


def expected_states(cfg, n_samples: int) -> int:
    return int(cfg.train.epochs) + 1


def states(cfg, model, dataset, loss_fn, device, progress, folder) -> Iterator[tuple]:
    """Pretrain, then collect; yield the running SWA mean after each collection epoch."""
    with few_threads(model):
        yield from _run(cfg, model, dataset, loss_fn, device, progress, folder)


def _run(cfg, model, dataset, loss_fn, device, progress, folder) -> Iterator[tuple]:
    from lossfilm.compute.training.train import batch_starts, train_states
    from lossfilm.compute.config.train import CaptureConfig

    ex = cfg.experiment.swag
    out = experiment_folder(folder)
    once = CaptureConfig(every=ex.pretrain_epochs, include_initial=False)
    pre = dataclasses.replace(cfg.train, epochs=ex.pretrain_epochs, capture=once)
    start = None
    for cs in train_states(model, dataset, pre, loss_fn=loss_fn, device=device, progress=progress):
        start = cs.state
    model.load_state_dict(start)
    keys = list(perturbable(model))
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=ex.lr,
                          momentum=cfg.train.momentum)
    x, y = dataset.x.to(device), dataset.y.to(device)
    n = len(y)
    starts = batch_starts(n, cfg.train.batch_size)
    # steps of each epoch after which an iterate is taken, evenly spread, the last one included
    marks = np.linspace(0, len(starts), ex.collect_per_epoch + 1).round().astype(int)[1:]
    marks = set(marks.tolist())
    shuffle = torch.Generator().manual_seed(int(cfg.train.seed) + 17)
    iterates: list[torch.Tensor] = []

    yield 0.0, 0, "SGD solution", start, {"iterates": 0.0, "lr": ex.lr}
    step = 0
    model.train()
    with Progress("swag", cfg.train.epochs * len(starts), unit="steps", enabled=progress) as bar:
        for epoch in range(1, cfg.train.epochs + 1):
            order = torch.randperm(n, generator=shuffle).to(device)
            for j, s0 in enumerate(starts, start=1):
                batch = order[s0 : s0 + cfg.train.batch_size]
                opt.zero_grad(set_to_none=True)
                loss_fn(model(x[batch]), y[batch]).backward()
                opt.step()
                step += 1
                bar.advance()
                if j in marks:
                    iterates.append(_flat(snapshot_state(model), keys))
            st.save_tensors(out / "iterates.pt", torch.stack(iterates))
            state = snapshot_state(model)
            state.update(_unflat(torch.stack(iterates).mean(0), state, keys))
            values = {"iterates": float(len(iterates)), "lr": ex.lr}
            yield float(epoch), step, f"collection epoch {epoch}", state, values


def build_planes(cfg, folder: Path, states: list[dict]) -> tuple:
    """One plane for every state; ball = running SWA mean; markers = iterates and samples."""
    folder = Path(folder)
    ex = cfg.experiment.swag
    out = experiment_folder(folder)
    its = st.load_tensors(out / "iterates.pt")
    if its.shape[0] < 2:
        raise ValueError(
            "experiment.swag: need at least 2 collected iterates (raise collect_per_epoch or"
            " train.epochs)"
        )
    final = st.load_tensors(folder / states[-1]["weights"])
    keys = list(perturbable(final))
    mean, _, dev = swag_moments(its, ex.rank)
    v1, v2, std = deviation_plane(dev)
    origin = dict(final)
    origin.update(_unflat(mean, final, keys))
    d1, d2 = _unflat(v1, final, keys), _unflat(v2, final, keys)
    origin_path, shared = out / "swa_mean.pt", folder / "directions" / "shared.pt"
    st.save_tensors(origin_path, origin)
    st.save_tensors(shared, {"d1": d1, "d2": d2, "points": torch.zeros(0, 2, dtype=torch.float64)})
    # Plane coordinates by least squares against the (orthogonal) scaled directions.
    basis = torch.stack([v1, v2])
    gram = basis @ basis.T

    def coords(vecs: torch.Tensor) -> np.ndarray:
        return torch.linalg.solve(gram, basis @ (vecs - mean).T).T.numpy()

    gen = torch.Generator().manual_seed(ex.seed)
    z1 = torch.randn(ex.samples, its.shape[1], generator=gen, dtype=torch.float64)
    z2 = torch.randn(ex.samples, ex.rank, generator=gen, dtype=torch.float64)
    everything = [np.zeros((1, 2))]
    for s in states:
        k = int(s["values"].get("iterates", 0))
        seen = its[:k]
        ball = project(perturbable(st.load_tensors(folder / s["weights"])), origin, d1, d2)
        markers = {"iterates": coords(seen).tolist() if k else []}
        if k >= 2 and ex.samples:
            m, var, dv = swag_moments(seen, ex.rank)
            markers["samples"] = coords(swag_samples(m, var, dv, z1, z2)).tolist()
        else:
            markers["samples"] = []
        s.update(origin=str(origin_path.relative_to(folder)),
                 directions=str(shared.relative_to(folder)),
                 ball=[float(v) for v in ball], markers=markers)
        everything.append(np.asarray(ball)[None])
        everything += [np.asarray(v).reshape(-1, 2) for v in markers.values()]
    desc = {"kind": "swag_deviation_pca", "around": "swa_mean", "experiment": "swag",
            "std": [float(v) for v in std], "units": "standard deviations of the iterates"}
    land = cfg.landscape
    if not land.grid.fit:
        return None, desc
    pts = np.concatenate(everything)
    lim = float(np.abs(pts).max()) * (1.0 + land.directions.margin)
    return ((-lim, lim), (-lim, lim)), desc
