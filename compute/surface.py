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
``loop``
    Any module: one ``functional_call`` per point with the perturbed weights.

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

from compute.directions import DirectionsConfig
from compute.options import option

__all__ = [
    "GridConfig",
    "EvalConfig",
    "LandscapeConfig",
    "TileResult",
    "grid_axis",
    "grid_axes",
    "evaluate_tile",
    "choose_method",
]

#: modules whose output is affine in (weight, bias) jointly: safe for the first-layer trick.
AFFINE_FIRST = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
#: linear layers narrower than PAD_MAX outputs are padded to a multiple of PAD_ROWS rows.
PAD_ROWS = 16
PAD_MAX = 64
#: grid points whose cross-entropy is reduced together (see _CrossEntropyBatch).
LOSS_BATCH = 16


@dataclasses.dataclass(frozen=True)
class GridConfig:
    """The grid of plane coordinates ``(a, b)`` evaluated for every state."""

    points: int = option(41, "grid points along each axis (odd keeps the origin on the grid)", min=2)
    shape: tuple[int, int] | None = option(
        None, "(rows along b, columns along a) for a non-square grid; overrides points"
    )
    range: tuple[float, float] = option((-1.0, 1.0), "coordinate range along a (and b)")
    range_b: tuple[float, float] | None = option(None, "coordinate range along b if different")
    fit: bool = option(
        True, "for pca/three_point/line planes: fit the range to the points (plus margin)"
    )

    def __post_init__(self) -> None:
        if self.shape is not None and (len(self.shape) != 2 or min(self.shape) < 1):
            raise ValueError(f"grid.shape must be two positive ints (rows, columns), got {self.shape}")
        for key, r in (("grid.range", self.range), ("grid.range_b", self.range_b)):
            if r is not None and not (len(r) == 2 and float(r[0]) < float(r[1])):
                raise ValueError(f"{key} must be [lo, hi] with lo < hi, got {r}")

    @property
    def dims(self) -> tuple[int, int]:
        """``(ny, nx)``."""
        return tuple(self.shape) if self.shape is not None else (self.points, self.points)


@dataclasses.dataclass(frozen=True)
class EvalConfig:
    """How each grid point is evaluated."""

    samples: int = option(2000, "size of the fixed evaluation subset (same for all points)", min=1)
    seed: int = option(0, "seed that picks the evaluation subset", min=0)
    batch_size: int = option(
        0, "samples per forward pass (0: the whole subset at once); bounds memory", min=0
    )
    points_per_tile: int = option(
        0, "grid points per task sent to a worker (0: automatic, whole rows)", min=0
    )
    bn_mode: str = option(
        "eval",
        "eval: BatchNorm uses the state's running stats; recompute: stats of the subset per point",
        choices=("eval", "recompute"),
    )
    dtype: str = option("float32", "precision of the evaluation", choices=("float32", "float64"))
    accuracy: bool = option(True, "also record accuracy per point (classification only)")
    method: str = option(
        "auto", "evaluation path: auto, sequential (first-layer trick), loop",
        choices=("auto", "sequential", "loop"),
    )


@dataclasses.dataclass(frozen=True)
class LandscapeConfig:
    """Which slice of weight space is evaluated, around which weights, on which grid."""

    directions: DirectionsConfig = option(DirectionsConfig(), "how the two axes are chosen")
    around: str = option(
        "current",
        "current: plane moves with the weights; final: one plane at the final weights; "
        "fixed: one plane through directions.points",
        choices=("current", "final", "fixed"),
    )
    grid: GridConfig = option(GridConfig(), "grid of plane coordinates")
    eval: EvalConfig = option(EvalConfig(), "how each point is evaluated")

    def __post_init__(self) -> None:
        kind, around = self.directions.kind, self.around
        if kind == "pca" and around != "final":
            raise ValueError("landscape.around must be 'final' for directions.kind=pca")
        if kind in ("three_point", "line", "line_random") and around != "fixed":
            raise ValueError(f"landscape.around must be 'fixed' for directions.kind={kind}")
        if kind == "random" and around == "fixed" and len(self.directions.points) != 1:
            raise ValueError(
                "landscape.around=fixed with random directions needs directions.points = [origin]"
            )
        need = {"three_point": 3, "line": 2, "line_random": 2}.get(kind)
        if need is not None and len(self.directions.points) != need:
            raise ValueError(
                f"directions.points must list {need} checkpoints for kind={kind},"
                f" got {len(self.directions.points)}"
            )


# --------------------------------------------------------------------------- grid


def grid_axis(lo: float, hi: float, n: int) -> np.ndarray:
    """``n`` evenly spaced coordinates from ``lo`` to ``hi``, shape ``(n,)`` float64.

    Built as ``centre + half·t`` with ``t = (2i − (n−1))/(n−1)``, so for a symmetric range
    and odd ``n`` the middle coordinate is exactly ``0.0`` (the origin is on the grid, bit
    for bit) and the axis is symmetric.
    """
    if n == 1:
        return np.array([(lo + hi) / 2.0])
    i = np.arange(n, dtype=np.float64)
    t = (2.0 * i - (n - 1)) / (n - 1)
    centre, half = (lo + hi) / 2.0, (hi - lo) / 2.0
    return centre + half * t


def grid_axes(grid: GridConfig, fitted: tuple | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates ``a (nx,)`` and ``b (ny,)``.

    ``fitted`` = ``((lo_a, hi_a), (lo_b, hi_b) | None)`` replaces the configured ranges
    (fixed planes fitted to their points); ``None`` for b means a single row at ``b = 0``.
    """
    ny, nx = grid.dims
    ra = tuple(grid.range)
    rb = tuple(grid.range_b) if grid.range_b is not None else ra
    if fitted is not None:
        ra = fitted[0]
        if fitted[1] is None:
            return grid_axis(ra[0], ra[1], nx), np.zeros(1)
        rb = fitted[1]
    return grid_axis(ra[0], ra[1], nx), grid_axis(rb[0], rb[1], ny)


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


def _has_state(m: nn.Module) -> bool:
    return any(True for _ in m.parameters()) or any(True for _ in m.buffers())


def choose_method(model: nn.Module, bn_mode: str = "eval") -> str:
    """``'sequential'`` when the first-layer trick applies to ``model``, else ``'loop'``."""
    if not isinstance(model, nn.Sequential):
        return "loop"
    for m in model:
        if not _has_state(m):
            continue
        if type(m) in AFFINE_FIRST:
            return "sequential"
        return "loop"
    return "loop"


class _Point:
    """Fills preallocated tensors with ``origin + b·d2 + a·d1`` for the perturbed keys.

    ``origin + b·d2`` is kept per grid row (tiles run row by row, ``b`` fixed), so a point
    costs one fused add per tensor.
    """

    def __init__(self, origin, d1, d2, keys, fresh: set):
        self.origin, self.d1, self.d2 = origin, d1, d2
        # keys whose directions are both zero (biases under ignore=biasbn) stay at the origin
        self.moving = [k for k in keys if k in d1 and (bool(d1[k].any()) or bool(d2[k].any()))]
        self.bufs = {k: torch.empty_like(origin[k]) for k in self.moving}
        self.rows = {k: torch.empty_like(origin[k]) for k in self.moving}
        self.fresh = fresh  # keys a module mutates in place (BN stats in recompute mode)
        self.b = None

    def set_row(self, b: float) -> None:
        if b != self.b:
            for k in self.moving:
                torch.add(self.origin[k], self.d2[k], alpha=b, out=self.rows[k])
            self.b = b

    def values(self, a: float, b: float, keys) -> dict:
        self.set_row(b)
        out = {}
        for k in keys:
            if k in self.bufs:
                buf = self.bufs[k]
                torch.add(self.rows[k], self.d1[k], alpha=a, out=buf)
                out[k] = buf.clone() if k in self.fresh else buf
            else:
                out[k] = self.origin[k].clone() if k in self.fresh else self.origin[k]
        return out


def _fast_cross_entropy(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``F.cross_entropy(out, y)`` (mean, class indices) as ``mean(logsumexp) − mean(out[y])``.

    The same number to float rounding at less than half the cost on CPU (measured:
    74 µs vs 170 µs for ``(2048, 10)``), which matters when a point costs ~0.5 ms.
    """
    return torch.logsumexp(out, 1).mean() - out.gather(1, y.unsqueeze(1)).mean()


def _fast_ce_applies(loss_fn: Callable, y: torch.Tensor) -> bool:
    return loss_fn is torch.nn.functional.cross_entropy and y.dim() == 1 and y.dtype == torch.int64


class _CrossEntropyBatch:
    """Cross-entropy (and accuracy) of :data:`LOSS_BATCH` points' logits at once.

    Per point, the reductions over a ``(n, C)`` logit matrix are a dozen tiny kernels whose
    fixed cost rivals a layer's matrix product; stacking points amortizes it.
    """

    def __init__(self, y: torch.Tensor, chunks, n: int) -> None:
        self.ys = [y[s:e] for s, e in chunks]
        self.weights = [(e - s) / n for s, e in chunks]
        self.slabs: list | None = None
        self.index: list[int] = []

    def add(self, i: int, outs: list) -> bool:
        """Keep the logits of point ``i``; True when the batch is full."""
        if self.slabs is None:
            self.slabs = [o.new_empty((LOSS_BATCH, *o.shape)) for o in outs]
        k = len(self.index)
        for slab, o in zip(self.slabs, outs):
            slab[k].copy_(o)
        self.index.append(i)
        return k + 1 == LOSS_BATCH

    def flush(self, loss: np.ndarray, acc: np.ndarray | None) -> None:
        k = len(self.index)
        if k == 0:
            return
        tot_l = tot_a = 0.0
        for slab, yc, w in zip(self.slabs, self.ys, self.weights):
            z = slab[:k]
            picked = z.gather(2, yc.view(1, -1, 1).expand(k, -1, 1)).squeeze(2)
            tot_l = tot_l + (torch.logsumexp(z, 2) - picked).mean(1).double() * w
            if acc is not None:
                tot_a = tot_a + (z.argmax(2) == yc).double().mean(1) * w
        loss[self.index] = tot_l.cpu().numpy()
        if acc is not None:
            acc[self.index] = tot_a.cpu().numpy()
        self.index = []


def _loss_for(loss_fn: Callable, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if loss_fn is torch.nn.functional.cross_entropy and out.dim() == 2 and y.dim() == 1 \
            and y.dtype == torch.int64:
        return _fast_cross_entropy(out, y)
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
    method : {'auto', 'sequential', 'loop'}
    batch_size : int
        Samples per forward pass, 0 for all at once.
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
    chunks = [(s, min(s + batch_size, n)) for s in range(0, n, batch_size)] if batch_size else [(0, n)]
    fresh = set()
    if bn_mode == "recompute":
        fresh = {f"{name}.{b}" for name, m in model.named_modules() if _is_bn(m) for b, _ in m.named_buffers()}
        fresh = {k.lstrip(".") for k in fresh}
    point = _Point(origin, d1, d2, list(origin), fresh)
    loss = np.empty(len(coords))
    acc = np.empty(len(coords)) if accuracy else None
    with torch.inference_mode(), _modes(model, bn_mode):
        run = _SequentialRunner(model, point, x, chunks) if method == "sequential" else None

        def forward(a, b, c):
            if run is not None:
                return run.forward(a, b, c)
            return functional_call(model, point.values(a, b, origin), (x[chunks[c][0] : chunks[c][1]],))

        batch = _CrossEntropyBatch(y, chunks, n) if _fast_ce_applies(loss_fn, y) else None
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
                tot_l += float(_loss_for(loss_fn, out, y[s:e])) * w
                if acc is not None:
                    tot_a += _accuracy(out, y[s:e]) * w
            loss[i] = tot_l
            if acc is not None:
                acc[i] = tot_a
    if acc is not None and np.isnan(acc).all():
        acc = None
    return TileResult(loss=loss, accuracy=acc, method=method)


def _accuracy(out: torch.Tensor, y: torch.Tensor) -> float:
    if out.dim() != 2 or y.dim() != 1 or torch.is_floating_point(y):
        return float("nan")
    return float((out.argmax(dim=1) == y).to(torch.float64).mean())


class _Weight:
    """One Linear weight or bias of the moving point, in a buffer padded with zero rows."""

    def __init__(self, point: _Point, key: str, pad: int) -> None:
        o = point.origin[key]
        self.point, self.key, self.moving = point, key, key in point.rows
        self.padded = o.new_zeros((o.shape[0] + pad, *o.shape[1:]))
        self.view = self.padded[: o.shape[0]]
        self.view.copy_(o)  # the value at the origin; kept as is when the key does not move

    def update(self, a: float) -> torch.Tensor:
        """``origin + b·d2 + a·d1`` (``b`` set by ``point.set_row``), padded."""
        if self.moving:
            torch.add(self.point.rows[self.key], self.point.d1[self.key], alpha=a, out=self.view)
        return self.padded


class _SequentialRunner:
    """First-layer products precomputed once; the rest of the stack per point.

    Linear layers write into preallocated outputs (``addmm(out=)``: no 1 MB allocation per
    layer per point) and ReLUs run in place on them. A small output layer is padded with
    zero rows to a multiple of :data:`PAD_ROWS`: BLAS runs a ``(n, 128) @ (128, 16)``
    product about twice as fast as ``(128, 10)`` (measured), and the padded columns are
    sliced away. The per-module plan is made once, so a point runs no type checks.
    """

    def __init__(self, model: nn.Sequential, point: _Point, x: torch.Tensor, chunks) -> None:
        self.point = point
        names = list(model._modules)
        first = next(i for i, m in enumerate(model) if _has_state(m))
        fname, fmod = names[first], model[first]
        pk = [fname + "." + k for k, _ in fmod.named_parameters()]
        o, d1, d2 = point.origin, point.d1, point.d2
        zero = {k: torch.zeros_like(o[k]) for k in pk}

        def affine(src, h):
            return functional_call(fmod, {k.split(".", 1)[1]: src.get(k, zero[k]) for k in pk}, (h,))

        self.base = []
        for s, e in chunks:
            h = x[s:e]
            for i in range(first):
                h = model[i](h)
            p0, p1, p2 = affine(o, h), affine(d1, h), affine(d2, h)
            self.base.append([p0, p1, p2, torch.empty_like(p0), torch.empty_like(p0)])
        self.b = [None] * len(chunks)
        self.plan = []
        for i in range(first + 1, len(model)):
            m, prefix = model[i], names[i] + "."
            keys = [prefix + k for k, _ in m.named_parameters()] + [prefix + k for k, _ in m.named_buffers()]
            if type(m) is nn.ReLU:
                self.plan.append(("relu",))
            elif not keys:
                self.plan.append(("call", m))
            elif type(m) is nn.Linear:
                rows = m.out_features
                pad = -rows % PAD_ROWS if rows < PAD_MAX else 0
                bias = _Weight(point, prefix + "bias", pad) if m.bias is not None else None
                self.plan.append(("linear", _Weight(point, prefix + "weight", pad), bias, rows, pad, {}))
            else:
                self.plan.append(("module", m, prefix, keys))

    def forward(self, a: float, b: float, chunk: int) -> torch.Tensor:
        point = self.point
        point.set_row(b)
        p0, p1, p2, q, z = self.base[chunk]
        if self.b[chunk] != b:
            torch.add(p0, p2, alpha=b, out=q)
            self.b[chunk] = b
        torch.add(q, p1, alpha=a, out=z)
        h, owned = z, True
        for step in self.plan:
            kind = step[0]
            if kind == "relu":
                h = h.relu_() if owned else torch.relu(h)
                owned = True
            elif kind == "linear":
                _, weight, bias, rows, pad, outs = step
                if h.dim() != 2:
                    h = torch.nn.functional.linear(h, weight.update(a)[:rows], bias and bias.update(a)[:rows])
                    owned = True
                    continue
                out = outs.get(chunk)
                if out is None or out.shape[0] != h.shape[0]:
                    out = outs[chunk] = h.new_empty((h.shape[0], rows + pad))
                w = weight.update(a)
                if bias is None:
                    torch.mm(h, w.t(), out=out)
                else:
                    torch.addmm(bias.update(a), h, w.t(), out=out)
                h, owned = (out[:, :rows] if pad else out), True
            elif kind == "call":
                h, owned = step[1](h), False
            else:
                _, m, prefix, keys = step
                vals = point.values(a, b, keys)
                h, owned = functional_call(m, {k[len(prefix):]: vals[k] for k in keys}, (h,)), False
        return h
