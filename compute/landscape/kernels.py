"""The per-point machinery behind :func:`lossfilm.compute.landscape.surface.evaluate_tile`.

Each class here exists because a benchmark said the plain version was the bottleneck
(``benchmarks/surface.py``): a grid point of a small network costs well under a
millisecond, so allocations, dispatch and tiny reductions are what the time goes to.

- :class:`Point` fills preallocated buffers with the perturbed weights;
- :class:`CrossEntropyBatch` reduces the logits of several points at once;
- :class:`SequentialRunner` runs an ``nn.Sequential`` with the first layer's products
  precomputed per tile and preallocated, padded Linear outputs.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch import nn
from torch.func import functional_call

__all__ = ["Point", "CrossEntropyBatch", "SequentialRunner", "fast_ce_applies", "fast_cross_entropy", "has_state",
           "LOSS_BATCH", "PAD_ROWS", "PAD_MAX"]

#: linear layers narrower than PAD_MAX outputs are padded to a multiple of PAD_ROWS rows.
PAD_ROWS = 16
PAD_MAX = 64
#: grid points whose cross-entropy is reduced together (see CrossEntropyBatch).
LOSS_BATCH = 16


def has_state(m: nn.Module) -> bool:
    """Whether ``m`` has parameters or buffers of its own (or below it)."""
    return any(True for _ in m.parameters()) or any(True for _ in m.buffers())


class Point:
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


def fast_cross_entropy(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``F.cross_entropy(out, y)`` (mean, class indices) as ``mean(logsumexp) − mean(out[y])``.

    The same number to float rounding at less than half the cost on CPU (measured:
    74 µs vs 170 µs for ``(2048, 10)``), which matters when a point costs ~0.5 ms.
    """
    return torch.logsumexp(out, 1).mean() - out.gather(1, y.unsqueeze(1)).mean()


def fast_ce_applies(loss_fn: Callable, y: torch.Tensor) -> bool:
    return loss_fn is torch.nn.functional.cross_entropy and y.dim() == 1 and y.dtype == torch.int64


class CrossEntropyBatch:
    """Cross-entropy (and accuracy) of :data:`LOSS_BATCH` points' logits at once.

    Per point, the reductions over a ``(n, C)`` logit matrix are a dozen tiny kernels whose
    fixed cost rivals a layer's matrix product; stacking points amortizes it.
    """

    def __init__(self, y: torch.Tensor, chunks, n: int) -> None:
        self.ys = [y[s:e] for s, e in chunks]
        self.weights = [(e - s) / n for s, e in chunks]
        self.slabs: list | None = None
        self.index: list[int] = []
        self.done: list = []

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
        # kept on the device: copied to the host once, in finish(), not every LOSS_BATCH points
        self.done.append((self.index, tot_l, tot_a if acc is not None else None))
        self.index = []

    def finish(self, loss: np.ndarray, acc: np.ndarray | None) -> None:
        """Copy every flushed batch's losses (and accuracies) to the host arrays."""
        for index, tot_l, tot_a in self.done:
            loss[index] = tot_l.cpu().numpy()
            if acc is not None and tot_a is not None:
                acc[index] = tot_a.cpu().numpy()
        self.done = []


class _Weight:
    """One Linear weight or bias of the moving point, in a buffer padded with zero rows."""

    def __init__(self, point: Point, key: str, pad: int) -> None:
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


class SequentialRunner:
    """First-layer products precomputed once; the rest of the stack per point.

    Linear layers write into preallocated outputs (``addmm(out=)``: no 1 MB allocation per
    layer per point) and ReLUs run in place on them. A small output layer is padded with
    zero rows to a multiple of :data:`PAD_ROWS`: BLAS runs a ``(n, 128) @ (128, 16)``
    product about twice as fast as ``(128, 10)`` (measured), and the padded columns are
    sliced away. The per-module plan is made once, so a point runs no type checks.
    """

    def __init__(self, model: nn.Sequential, point: Point, x: torch.Tensor, chunks) -> None:
        self.point = point
        names = list(model._modules)
        first = next(i for i, m in enumerate(model) if has_state(m))
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
