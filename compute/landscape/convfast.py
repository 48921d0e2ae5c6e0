"""The fast path for convolutional and residual networks: BN folded, samples chunked to cache.

A grid point of a ResNet costs a full forward over the evaluation subset, so the point's
overhead is noise and what counts is how fast that forward runs. Two things make it run
faster than a plain ``model(x)``, each measured in ``benchmarks/surface.py`` (workload 4):

- **BatchNorm folded into the convolution before it** (eval mode only, where it is exact up
  to float rounding): ``conv(x, W)·s + (β − μ·s)`` with ``s = γ/√(σ² + ε)`` is
  ``conv(x, W·s) + (β − μ·s)``, so each point rescales the (perturbed) filters once, a
  weight-sized operation, and the forward skips a pass over every activation. The graph is
  rewritten with ``torch.fx``; a model fx cannot trace keeps the plain path.
- **Samples in cache-sized chunks**: on a CPU, a convolution over 1,024 32×32 images
  streams activations far larger than the caches; chunks of about :data:`CHUNK_BYTES` of the
  widest activation often run faster, but not always (on a CPU shared with other jobs the
  whole batch won), so :func:`fastest_chunk` times the candidates once per process and
  keeps the winner. On a GPU the whole subset goes in one forward.

Several grid points per forward (stacked weights under ``torch.vmap``, or grouped
convolution with the points as groups) was measured slower on CPU for every zoo network
(``benchmarks/surface.py``, "per architecture"): a 32×32 convolution over hundreds of
images already keeps both cores busy, and stacking only adds memory traffic.
"""

from __future__ import annotations

import copy
from typing import Mapping

import torch
from torch import nn

__all__ = ["FoldedModel", "fold_batchnorm", "auto_batch_size", "chunk_candidates", "fastest_chunk",
           "CHUNK_BYTES", "MIN_CHUNK"]

#: target bytes of a chunk's widest activation on CPU (about a core's share of L2/L3)
CHUNK_BYTES = 8 * 2**20
#: never cut the subset into chunks smaller than this (per-forward overhead dominates)
MIN_CHUNK = 32

_CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)


class FoldedModel:
    """A traced copy of a model whose eval-mode BatchNorms are folded into their convolutions.

    Attributes
    ----------
    module : torch.fx.GraphModule
        Same parameter names as the original for every kept module; folded convolutions
        always have a bias.
    pairs : list of (str, str)
        ``(conv name, bn name)`` of each folded pair.
    """

    def __init__(self, module: torch.fx.GraphModule, pairs: list[tuple[str, str]],
                 eps: dict[str, float]) -> None:
        self.module, self.pairs, self.eps = module, pairs, eps
        self._bn = {bn for _, bn in pairs}
        self._conv = {c: bn for c, bn in pairs}
        self.keys = [k for k in module.state_dict()]
        self._slots = dict(module.named_parameters()) | dict(module.named_buffers())

    def load(self, state: Mapping[str, torch.Tensor]) -> None:
        """Copy a point's folded values (:meth:`values`) into :attr:`module` in place.

        The module is this object's own traced copy, so the point's chunks then call it
        directly: one copy per point instead of a ``functional_call`` per chunk.
        """
        for k, v in state.items():
            self._slots[k].copy_(v)

    def values(self, state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The folded module's parameters and buffers from a full state dict of the original.

        ``state`` holds the point's (perturbed) weights under the original names.
        """
        out = {}
        for k in self.keys:
            owner, _, leaf = k.rpartition(".")
            bn = self._conv.get(owner)
            if bn is None:
                out[k] = state[k]
                continue
            gamma = state.get(bn + ".weight")
            beta = state.get(bn + ".bias")
            var, mean = state[bn + ".running_var"], state[bn + ".running_mean"]
            scale = torch.rsqrt(var + self.eps[bn])
            if gamma is not None:
                scale = scale * gamma
            if leaf == "weight":
                w = state[k]
                out[k] = w * scale.view(-1, *([1] * (w.dim() - 1)))
            else:
                bias = state.get(k)
                shift = -mean * scale if bias is None else (bias - mean) * scale
                out[k] = shift + beta if beta is not None else shift
        return out


def _foldable_bn(m: nn.Module) -> bool:
    return (isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats
            and m.running_mean is not None)


def fold_batchnorm(model: nn.Module) -> FoldedModel | None:
    """Trace ``model`` and fold each BatchNorm that directly follows a convolution.

    Returns None when nothing can be folded or ``torch.fx`` cannot trace the model
    (data-dependent control flow); the caller keeps the plain path then. The original
    model is not touched.
    """
    if not any(_foldable_bn(m) for m in model.modules()):
        return None
    try:
        gm = torch.fx.symbolic_trace(copy.deepcopy(model))
    except Exception:  # noqa: BLE001 - any tracing failure means: no folding, plain path
        return None
    modules = dict(gm.named_modules())
    pairs, eps = [], {}
    for node in list(gm.graph.nodes):
        if node.op != "call_module" or not _foldable_bn(modules[node.target]):
            continue
        src = node.args[0] if node.args else None
        if not (isinstance(src, torch.fx.Node) and src.op == "call_module"
                and isinstance(modules[src.target], _CONVS) and len(src.users) == 1):
            continue
        conv = modules[src.target]
        if conv.bias is None:  # the folded shift needs a bias to live in
            conv.bias = nn.Parameter(torch.zeros(conv.out_channels, dtype=conv.weight.dtype))
        node.replace_all_uses_with(src)
        gm.graph.erase_node(node)
        pairs.append((src.target, node.target))
        eps[node.target] = float(modules[node.target].eps)
    if not pairs:
        return None
    gm.graph.lint()
    gm.delete_all_unused_submodules()
    gm.recompile()
    return FoldedModel(gm, pairs, eps)


#: (model class, sample shape, n, dtype, device, threads) -> fastest chunk, timed once
_FASTEST: dict = {}


def chunk_candidates(n: int, chunk: int) -> list[int]:
    """Chunk sizes worth timing: the whole subset, twice the cache-sized chunk, and the
    chunk halved down to :data:`MIN_CHUNK`.

    The halves matter: on the EPYC this was measured on, ResNet-20's 128-image chunk ran
    2.6x slower than 64 images (the cache estimate is only a start), and the forward limit
    of workload 4 is at 64.
    """
    sizes, c = {n, min(n, 2 * chunk)}, min(n, chunk)
    while c >= MIN_CHUNK:
        sizes.add(c)
        c //= 2
    return sorted(sizes, reverse=True)


def fastest_chunk(forward, x: torch.Tensor, candidates: list[int], key) -> int:
    """The candidate chunk size with the fastest forward per sample (cached by ``key``).

    The whole subset runs once; a smaller chunk runs over ``max(2·chunk, 256)`` samples
    (at most the subset) and is judged by its time per sample, after one warm-up pass of
    the smallest: about two grid points' worth of work for five candidates, once per
    process and model shape.
    """
    import time

    if len(candidates) == 1:
        return candidates[0]
    if key in _FASTEST:
        return _FASTEST[key]
    n = x.shape[0]
    forward(x[: candidates[-1]])
    best, best_t = candidates[0], float("inf")
    for c in candidates:
        m = n if c >= n else min(n, max(2 * c, 256))
        t0 = time.perf_counter()
        for s in range(0, m, c):
            forward(x[s : min(s + c, m)])
        t = (time.perf_counter() - t0) / m
        if t < best_t:
            best, best_t = c, t
    _FASTEST[key] = best
    return best


def auto_batch_size(model: nn.Module, forward, x: torch.Tensor, device: torch.device) -> int:
    """Samples per forward for ``batch_size: 0``: the whole subset unless chunks pay.

    On CPU: the largest power of two whose widest activation stays under
    :data:`CHUNK_BYTES` (at least :data:`MIN_CHUNK`), measured with hooks on a
    two-sample ``forward(x[:2])`` (which runs ``model``). On a GPU (or when chunks would hold the whole subset): ``n``.
    """
    n = int(x.shape[0])
    if device.type != "cpu" or n <= MIN_CHUNK:
        return n
    widest = 0

    def hook(_m, _i, out):
        nonlocal widest
        if isinstance(out, torch.Tensor) and out.dim() > 1:
            widest = max(widest, out[0].numel() * out.element_size())

    handles = [m.register_forward_hook(hook) for m in model.modules() if not list(m.children())]
    try:
        forward(x[:2])
    finally:
        for h in handles:
            h.remove()
    if widest == 0 or n * widest <= CHUNK_BYTES:
        return n
    chunk = MIN_CHUNK
    while chunk * 2 * widest <= CHUNK_BYTES:
        chunk *= 2
    return min(chunk, n)
