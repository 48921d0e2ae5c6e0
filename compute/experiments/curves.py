"""Mode connectivity (Garipov et al. 2018): a trained quadratic Bézier curve between two minima.

Two copies of the network are trained from different seeds to two minima ``w1`` and ``w2``.
The curve ``θ(t) = (1−t)²·w1 + 2t(1−t)·θ + t²·w2`` joins them; only its bend ``θ`` is trained,
with one ``t ~ U(0, 1)`` drawn per batch, so the whole curve, not one point, is pulled down to
low loss. The states are the curve-training epochs (epoch 0: the bend near the segment's
midpoint, where the straight line's barrier stands).

Each state is sliced on its own plane: the plane through ``w1``, ``w2`` and that state's bend
(:func:`lossfilm.compute.landscape.directions.three_point_plane`, origin ``w1``, so ``w1 = (0, 0)`` and
``w2 = (1, 0)`` in every state). The whole curve lies in that plane, so it is drawn exactly,
next to the straight segment, and the loss along both is recorded per state
(``curve_max_loss``, ``segment_max_loss``): the barrier that melts.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Iterator, Mapping

import numpy as np
import torch
from torch.func import functional_call

from lossfilm.compute.store import folder as st
from lossfilm.compute.landscape.directions import perturbable, three_point_plane
from lossfilm.compute.experiments import experiment_folder, few_threads
from lossfilm.compute.execution.progress import Progress
from lossfilm.compute.config.experiment import CurveConfig

__all__ = [
    "CurveConfig",
    "bezier_weights",
    "bezier_plane_points",
    "path_losses",
    "expected_states",
    "states",
    "build_planes",
]

#: smallest (b span) / (a span) of a fitted grid, so the film shows a plane, not a strip.
MIN_ASPECT = 0.6


def bezier_weights(w1: Mapping, bend: Mapping, w2: Mapping, t: float | torch.Tensor) -> dict:
    """``(1−t)²·w1 + 2t(1−t)·bend + t²·w2`` for every key of ``bend`` (differentiable in it)."""
    return {k: (1 - t) ** 2 * w1[k] + 2 * t * (1 - t) * bend[k] + t**2 * w2[k] for k in bend}


def bezier_plane_points(
    p0: np.ndarray, pb: np.ndarray, p2: np.ndarray, ts: np.ndarray
) -> np.ndarray:
    """Plane coordinates ``(k, 2)`` of the curve at ``ts (k,)``, given those of its three points.

    Exact, not a projection: the curve is an affine combination of the three points, which
    span the plane.
    """
    ts = np.asarray(ts, dtype=np.float64)[:, None]
    return (1 - ts) ** 2 * p0 + 2 * ts * (1 - ts) * pb + ts**2 * p2


def path_losses(model, base: Mapping, w1: Mapping, bend: Mapping, w2: Mapping, ts: np.ndarray,
                x: torch.Tensor, y: torch.Tensor, loss_fn) -> tuple[np.ndarray, np.ndarray]:
    """Loss along the straight segment and along the curve at ``ts``.

    Parameters
    ----------
    model : nn.Module
        Used for its structure only (``functional_call``), in eval mode.
    base : dict
        Full state dict the non-curve entries (buffers) are taken from.
    w1, bend, w2 : dict
        Perturbable weights.
    ts : (k,) float
    x, y : the evaluation subset

    Returns
    -------
    segment, curve : (k,) float64
    """
    was = model.training
    model.eval()
    seg, cur = [], []
    with torch.no_grad():
        for t in np.asarray(ts, dtype=np.float64):
            line = {k: (1 - t) * w1[k] + t * w2[k] for k in w1}
            for out, w in ((seg, line), (cur, bezier_weights(w1, bend, w2, float(t)))):
                out.append(float(loss_fn(functional_call(model, {**base, **w}, (x,)), y)))
    model.train(was)
    return np.asarray(seg), np.asarray(cur)


def expected_states(cfg, n_samples: int) -> int:
    return int(cfg.train.epochs) + 1


def _train_minimum(cfg, dataset, seed: int, loss_fn, device, progress) -> dict:
    from lossfilm.compute.model.zoo import build_model
    from lossfilm.compute.training.train import train_states
    from lossfilm.compute.config.train import CaptureConfig

    torch.manual_seed(seed)
    model = build_model(cfg.model, dataset.in_shape, dataset.n_classes)
    ex = cfg.experiment.curve
    tcfg = dataclasses.replace(
        cfg.train, epochs=ex.minima_epochs, seed=seed,
        capture=CaptureConfig(every=ex.minima_epochs, include_initial=False, include_final=True),
    )
    last = None
    for cs in train_states(model, dataset, tcfg, loss_fn=loss_fn, device=device, progress=progress):
        last = cs.state
    return last


def states(cfg, model, dataset, loss_fn, device, progress, folder) -> Iterator[tuple]:
    """Train the two minima, then the bend; yield each curve-training epoch.

    The yielded weights of a state are the curve's midpoint ``θ(½)``: a real network on the
    curve (the ball); the bend itself goes to ``experiment/bend_XXXX.pt``.
    """
    with few_threads(model):
        yield from _run(cfg, model, dataset, loss_fn, device, progress, folder)


def _run(cfg, model, dataset, loss_fn, device, progress, folder) -> Iterator[tuple]:
    from lossfilm.compute.training.train import batch_starts

    ex = cfg.experiment.curve
    out = experiment_folder(folder)
    full1 = _train_minimum(cfg, dataset, ex.seeds[0], loss_fn, device, progress)
    full2 = _train_minimum(cfg, dataset, ex.seeds[1], loss_fn, device, progress)
    st.save_tensors(out / "w1.pt", full1)
    st.save_tensors(out / "w2.pt", full2)
    w1, w2 = perturbable(full1), perturbable(full2)
    base = {k: v for k, v in full1.items() if k not in w1}
    gen = torch.Generator().manual_seed(int(cfg.train.seed))
    span = float(torch.sqrt(sum(((w2[k] - w1[k]) ** 2).sum() for k in w1)))
    noise = {k: torch.randn(v.shape, generator=gen, dtype=v.dtype) for k, v in w1.items()}
    scale = ex.init_offset * span / float(torch.sqrt(sum((n**2).sum() for n in noise.values())))
    bend = {k: (0.5 * (w1[k] + w2[k]) + scale * noise[k]).clone().requires_grad_(True) for k in w1}
    opt = torch.optim.SGD(list(bend.values()), lr=ex.lr, momentum=ex.momentum)
    x, y = dataset.x, dataset.y
    n = len(y)
    starts = batch_starts(n, cfg.train.batch_size)
    shuffle = torch.Generator().manual_seed(int(cfg.train.seed) + 1)
    model.train()

    def capture(epoch: int, step: int) -> tuple:
        b = {k: v.detach().clone() for k, v in bend.items()}
        st.save_tensors(out / f"bend_{epoch:04d}.pt", b)
        mid = {**base, **bezier_weights(w1, b, w2, 0.5)}
        values = {"lr": ex.lr}  # the losses along the paths come with the planes (eval subset)
        return float(epoch), int(step), f"curve epoch {epoch}", mid, values

    yield capture(0, 0)
    step = 0
    with Progress("curve", cfg.train.epochs * len(starts), unit="steps", enabled=progress) as bar:
        for epoch in range(1, cfg.train.epochs + 1):
            order = torch.randperm(n, generator=shuffle)
            for start in starts:
                batch = order[start : start + cfg.train.batch_size]
                t = float(torch.rand((), generator=gen))
                w = bezier_weights(w1, bend, w2, t)
                loss = loss_fn(functional_call(model, {**base, **w}, (x[batch],)), y[batch])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                step += 1
                bar.advance()
            yield capture(epoch, step)


def build_planes(cfg, folder: Path, states: list[dict]) -> tuple:
    """Per-state three-point planes through ``w1``, ``w2`` and the state's bend.

    Fills ``origin``, ``directions``, ``ball``, ``paths`` (``segment``, ``curve``) and the
    values ``segment_max_loss`` / ``curve_max_loss`` (on the evaluation subset) of each state.
    """
    from lossfilm.compute.model.zoo import build_loss, build_model

    folder = Path(folder)
    out = experiment_folder(folder)
    ex = cfg.experiment.curve
    full1 = st.load_tensors(out / "w1.pt")
    w1, w2 = perturbable(full1), perturbable(st.load_tensors(out / "w2.pt"))
    base = {k: v for k, v in full1.items() if k not in w1}
    ev = st.load_tensors(folder / "data" / "eval.pt")
    x, y = ev["x"], ev["y"]
    torch.manual_seed(0)  # the module only lends its structure; its own weights are never used
    model = build_model(cfg.model, tuple(x.shape[1:]), _n_classes(cfg))
    loss_fn = build_loss(cfg.train.loss)
    ts = np.linspace(0.0, 1.0, ex.path_points)
    with few_threads(model):
        return _planes(cfg, folder, states, out, ex, w1, w2, base, x, y, model, loss_fn, ts)


def _planes(cfg, folder, states, out, ex, w1, w2, base, x, y, model, loss_fn, ts) -> tuple:
    everything = []
    for s in states:
        epoch = int(round(s["epoch"]))
        bend = st.load_tensors(out / f"bend_{epoch:04d}.pt")
        path = folder / "directions" / f"{st.state_name(s['index'])}.pt"
        d1, d2, pts = three_point_plane(w1, w2, bend)
        if not path.exists():
            st.save_tensors(path, {"d1": d1, "d2": d2, "points": torch.as_tensor(pts)})
        curve = bezier_plane_points(pts[0], pts[2], pts[1], ts)
        segment = bezier_plane_points(pts[0], 0.5 * (pts[0] + pts[1]), pts[1], ts)
        middle = bezier_plane_points(pts[0], pts[2], pts[1], np.array([0.5]))[0]
        seg_loss, cur_loss = path_losses(model, base, w1, bend, w2, ts, x, y, loss_fn)
        s.update(
            origin=str((out / "w1.pt").relative_to(folder)),
            directions=str(path.relative_to(folder)),
            ball=[float(v) for v in middle],
            paths={"segment": segment.tolist(), "curve": curve.tolist()},
            plane_points={"w1": pts[0].tolist(), "w2": pts[1].tolist(), "bend": pts[2].tolist()},
        )
        s["values"].update(
            segment_max_loss=float(seg_loss.max()), curve_max_loss=float(cur_loss.max())
        )
        everything += [pts, curve]
    desc = {"kind": "three_point", "around": "per_state", "experiment": "mode_connectivity",
            "plane": "w1 at (0, 0), w2 at (1, 0), the state's bend above the a axis"}
    land = cfg.landscape
    if not land.grid.fit:
        return None, desc
    allp = np.concatenate(everything)
    ra, rb = _fit(allp[:, 0], land.directions.margin), _fit(allp[:, 1], land.directions.margin)
    # The bend rises only a little above the segment: a b range fitted to it alone would
    # film a thin strip. Widen it about its centre to MIN_ASPECT of the a range.
    half = max(rb[1] - rb[0], MIN_ASPECT * (ra[1] - ra[0])) / 2
    mid = (rb[0] + rb[1]) / 2
    return (ra, (mid - half, mid + half)), desc


def _n_classes(cfg) -> int:
    from lossfilm.compute.data.datasets import build_data

    return int(build_data(cfg.data).n_classes)


def _fit(values: np.ndarray, margin: float) -> tuple[float, float]:
    lo, hi = float(np.min(values)), float(np.max(values))
    span = max(hi - lo, 1e-6)
    return lo - margin * span, hi + margin * span
