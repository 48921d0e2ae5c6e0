"""Loss on a grid of a 2-D slice of weight space: the heart of the compute stage.

:func:`evaluate_tile` evaluates ``L(origin + a·d1 + b·d2)`` at ``k`` plane coordinates for
one state. It is pure: the model is only used for its structure (``torch.func.functional_call``
swaps the weights in), its weights, buffers and train/eval flags are left as they were, and
nothing is deep-copied or reloaded per point.

Two paths, same numbers (to float32 rounding):

``sequential``
    For an ``nn.Sequential`` whose first parametrized module is affine in its weights
    (``Linear``, ``Conv1d/2d/3d``): ``f(W0 + a·D1 + b·D2) = f(W0) + a·f(D1) + b·f(D2)`` with
    ``f`` the layer without its input term, so the first layer's three products are computed
    once per tile and each point pays one fused axpy instead of a matrix product. The
    remaining layers run one point at a time with preallocated weight buffers.
``folded``
    Any module ``torch.fx`` can trace with BatchNorm after a convolution, in eval mode: the
    BN is folded into the convolution per point (:mod:`compute.convfast`) and the folded
    values are copied into the tile's own traced copy of the model, which each chunk of
    samples then calls directly (no ``functional_call`` per chunk).
``loop``
    Any module: one ``functional_call`` per point with the perturbed weights.

With ``batch_size: 0`` the subset is cut into cache-sized chunks where that pays (conv
nets on CPU, :func:`compute.convfast.auto_batch_size`); on a GPU it goes in one forward.
Data, directions and weights live on ``device`` for the whole tile and losses stay there
until the tile ends: no host synchronisation per point.

Batching grid points (``torch.vmap`` or ``bmm`` over points) was measured slower on CPU than
one point at a time: the per-point matrices already fill the cores and the batched
elementwise work spills out of cache (see ``benchmarks/surface.py``).
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Callable, Mapping

import numpy as np
import torch
from torch import nn
from torch.func import functional_call

from lossfilm.compute.landscape.convfast import auto_batch_size, chunk_candidates, fastest_chunk, fold_batchnorm
from lossfilm.compute.landscape.kernels import (
    CrossEntropyBatch,
    Point,
    SequentialRunner,
    fast_ce_applies,
    fast_cross_entropy,
    has_state,
)
from lossfilm.compute.landscape.grid import grid_axes, grid_axis
from lossfilm.compute.config.landscape import EvalConfig, GridConfig, LandscapeConfig

__all__ = [
    "TileResult",
    "evaluate_tile",
    "choose_method",
    # the configuration lives in compute.landscape; kept importable from here
    "GridConfig",
    "EvalConfig",
    "LandscapeConfig",
    "grid_axis",
    "grid_axes",
]

#: modules whose output is affine in (weight, bias) jointly: safe for the first-layer trick.
AFFINE_FIRST = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


# --------------------------------------------------------------------------- evaluation


@dataclasses.dataclass
class TileResult:
    """Metrics at the ``k`` points of a tile."""

    loss: np.ndarray  # (k,) float64, non-finite kept
    accuracy: np.ndarray | None  # (k,) float64 or None
    method: str


def _is_bn(m: nn.Module) -> bool:
    return isinstance(m, nn.modules.batchnorm._BatchNorm)


@contextlib.contextmanager
def _modes(model: nn.Module, bn_mode: str):
    """Eval mode (BatchNorm in train mode for ``recompute``), restored afterwards."""
    saved = [(m, m.training) for m in model.modules()]
    try:
        model.eval()
        if bn_mode == "recompute":
            for m in model.modules():
                if _is_bn(m):
                    m.train()
        yield
    finally:
        for m, flag in saved:
            m.training = flag


def choose_method(model: nn.Module, bn_mode: str = "eval") -> str:
    """``'sequential'`` when the first-layer trick applies to ``model``, ``'folded'`` when a
    BatchNorm can be folded into a convolution (eval mode), else ``'loop'``."""
    if not isinstance(model, nn.Sequential):
        return "folded" if bn_mode == "eval" and fold_batchnorm(model) is not None else "loop"
    for m in model:
        if not has_state(m):
            continue
        if type(m) in AFFINE_FIRST:
            return "sequential"
        return "loop"
    return "loop"


def _loss_for(loss_fn: Callable, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if loss_fn is torch.nn.functional.cross_entropy and out.dim() == 2 and y.dim() == 1 \
            and y.dtype == torch.int64:
        return fast_cross_entropy(out, y)
    return loss_fn(out, y)


def evaluate_tile(
    model: nn.Module,
    origin: Mapping[str, torch.Tensor],
    d1: Mapping[str, torch.Tensor],
    d2: Mapping[str, torch.Tensor],
    coords: np.ndarray,
    x: torch.Tensor,
    y: torch.Tensor,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    *,
    accuracy: bool = True,
    bn_mode: str = "eval",
    method: str = "auto",
    batch_size: int = 0,
    dtype: torch.dtype | None = None,
    device: str | torch.device | None = None,
) -> TileResult:
    """Mean loss (and accuracy) at ``origin + a·d1 + b·d2`` for each row ``(a, b)`` of coords.

    Parameters
    ----------
    model : nn.Module
        Gives the architecture only; left unchanged (weights, buffers, modes).
    origin : dict of str -> Tensor
        Full state dict of the state (parameters and buffers).
    d1, d2 : dict of str -> Tensor
        Directions over the perturbed keys (a subset of ``origin``).
    coords : (k, 2) float
        Plane coordinates ``(a, b)``.
    x : (n, ...) Tensor ; y : (n, ...) Tensor
        The fixed evaluation subset.
    loss_fn : callable
        ``loss_fn(output, y) -> scalar`` with mean reduction.
    accuracy : bool
        Also compute ``mean(argmax(output) == y)`` when ``output`` is ``(n, C)`` and ``y``
        is integer ``(n,)``.
    bn_mode : {'eval', 'recompute'}
    method : {'auto', 'sequential', 'folded', 'loop'}
    batch_size : int
        Samples per forward pass; 0: automatic (the whole subset, or cache-sized chunks
        for convolutional nets on CPU with ``bn_mode='eval'``).
    dtype, device : optional
        Precision and device of the evaluation (default: those of ``origin``; CPU).

    Returns
    -------
    TileResult
        ``loss (k,)`` float64, non-finite values kept as they are; ``accuracy (k,)`` or None.
    """
    coords = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
    if method == "auto":
        method = choose_method(model, bn_mode)
    elif method == "sequential" and choose_method(model, bn_mode) != "sequential":
        raise ValueError("eval.method=sequential needs an nn.Sequential starting with Linear/Conv")
    folded = None
    if method == "folded":
        folded = fold_batchnorm(model) if bn_mode == "eval" else None
        if folded is None:
            raise ValueError("eval.method=folded needs bn_mode=eval and a BatchNorm right after"
                             " a convolution in a model torch.fx can trace")
    ref = next(iter(origin.values()))
    dtype = dtype or (ref.dtype if torch.is_floating_point(ref) else torch.float32)
    device = torch.device(device) if device is not None else ref.device

    def cast(t):
        return t.detach().to(device=device, dtype=dtype) if torch.is_floating_point(t) else t.to(device)

    origin = {k: cast(v) for k, v in origin.items()}
    keys = [k for k in d1 if k in origin]
    d1 = {k: cast(d1[k]) for k in keys}
    d2 = {k: cast(d2[k]) for k in keys}
    x = cast(x)
    y = y.to(device)
    n = x.shape[0]
    if not batch_size and bn_mode == "eval":
        with torch.inference_mode(), _modes(model, "eval"):
            plain = lambda h: functional_call(model, origin, (h,))  # noqa: E731
            chunk = auto_batch_size(model, plain, x, device)
            if chunk < n:  # chunks may pay: time them against the whole subset, once
                key = (type(model).__name__, tuple(x.shape), dtype, str(device), torch.get_num_threads())
                batch_size = fastest_chunk(plain, x, chunk_candidates(n, chunk), key)
    chunks = [(s, min(s + batch_size, n)) for s in range(0, n, batch_size)] if batch_size else [(0, n)]
    fresh = set()
    if bn_mode == "recompute":
        fresh = {f"{name}.{b}" for name, m in model.named_modules() if _is_bn(m) for b, _ in m.named_buffers()}
        fresh = {k.lstrip(".") for k in fresh}
    point = Point(origin, d1, d2, list(origin), fresh)
    loss = np.empty(len(coords))
    acc = np.empty(len(coords)) if accuracy else None
    pending: list = []
    with torch.inference_mode(), _modes(model, bn_mode):
        run = SequentialRunner(model, point, x, chunks) if method == "sequential" else None
        weights: dict = {}

        def forward(a, b, c):
            if run is not None:
                return run.forward(a, b, c)
            if c == 0:  # the point's weights once, for all its chunks
                weights["now"] = point.values(a, b, origin)
                if folded is not None:  # our own copy: loaded in place, called directly
                    folded.load(folded.values(weights["now"]))
            if folded is not None:
                return folded.module(x[chunks[c][0] : chunks[c][1]])
            return functional_call(model, weights["now"], (x[chunks[c][0] : chunks[c][1]],))

        batch = CrossEntropyBatch(y, chunks, n) if fast_ce_applies(loss_fn, y) else None
        ce = batch
        for i, (a, b) in enumerate(coords.tolist()):  # Python floats: cheaper as alpha=
            outs = [forward(a, b, c) for c in range(len(chunks))]
            if batch is not None and outs[0].dim() == 2:
                if batch.add(i, outs) or i == len(coords) - 1:
                    batch.flush(loss, acc)
                continue
            batch = None  # not (n, C) logits: per point from here on
            tot_l, tot_a = 0.0, 0.0
            for out, (s, e) in zip(outs, chunks):
                w = (e - s) / n
                tot_l = tot_l + _loss_for(loss_fn, out, y[s:e]).double() * w
                if acc is not None:
                    tot_a = tot_a + _accuracy(out, y[s:e]) * w
            pending.append((i, tot_l, tot_a))  # on the device until the tile ends
    if ce is not None:
        ce.finish(loss, acc)
    for i, tot_l, tot_a in pending:
        loss[i] = float(tot_l)
        if acc is not None:
            acc[i] = float(tot_a)
    if acc is not None and np.isnan(acc).all():
        acc = None
    return TileResult(loss=loss, accuracy=acc, method=method)


def _accuracy(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor | float:
    if out.dim() != 2 or y.dim() != 1 or torch.is_floating_point(y):
        return float("nan")
    return (out.argmax(dim=1) == y).to(torch.float64).mean()
