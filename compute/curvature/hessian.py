"""Curvature of the loss in the full weight space: Hessian-vector products and spectra.

The heart of the curvature pass, pure functions on tensors:

- :func:`loss_hvp` builds ``v -> H v`` for the loss of a model on a fixed data subset, over
  all its parameters (as PyHessian does), as a function of one flat vector;
- :func:`lanczos` runs the symmetric Lanczos process with full reorthogonalization on any
  such operator and returns Ritz values with their residual bounds: both ends of the
  spectrum (the top eigenvalues and the most negative one) converge from one run;
- :func:`hutchinson_trace` estimates ``tr H`` from Rademacher probes (exact with basis
  vectors when the probe budget covers the dimension);
- :func:`spectrum` ties them together for one point of weight space.

Nothing here reads files or keeps state between calls; ``compute.curvature`` wraps it.

Two ways to get ``H v`` (see ``benchmarks/hessian.py`` for the measured speed):

``double_backward``
    The gradient's graph is built once (``create_graph=True``) and kept; each product is
    one backward pass of ``<g, v>`` through it. The same scheme as PyHessian.
``jvp``
    ``torch.func.jvp`` of ``torch.func.grad``: forward-over-reverse, a fresh forward and
    backward per product and no graph kept between products (less memory).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable, Mapping

import numpy as np
import torch
from torch import nn
from torch.func import functional_call
from lossfilm.compute.config.curvature import HVP_METHODS

__all__ = [
    "HVP_METHODS",
    "LanczosResult",
    "Spectrum",
    "flat_parameters",
    "loss_hvp",
    "lanczos",
    "hutchinson_trace",
    "spectrum",
    "BREAKDOWN_TOL",
]

#: a Lanczos coefficient beta below this (relative to the largest Ritz value) means the
#: Krylov space is invariant: the Ritz values are then exact eigenvalues.
BREAKDOWN_TOL = 1e-10
#: floor of the scale that residuals are compared with (an all-zero Hessian converges).
SCALE_FLOOR = 1e-12


# --------------------------------------------------------------------------- operator


def flat_parameters(model: nn.Module, state: Mapping[str, torch.Tensor] | None = None
                    ) -> tuple[list[str], list[torch.Size], dict[str, torch.Tensor]]:
    """Names and shapes of the model's parameters, and the remaining state (buffers).

    Parameters
    ----------
    model : nn.Module
        Gives the structure only.
    state : dict of str -> Tensor, optional
        A full state dict to read the values from (default: the model's own).

    Returns
    -------
    names : list of str
        Every parameter, in ``named_parameters`` order (the flat vector's layout).
    shapes : list of torch.Size
    buffers : dict of str -> Tensor
        The state entries that are not parameters (held fixed).
    """
    state = dict(model.state_dict() if state is None else state)
    names = [k for k, _ in model.named_parameters()]
    shapes = [state[k].shape for k in names]
    buffers = {k: v for k, v in state.items() if k not in set(names)}
    return names, shapes, buffers


def loss_hvp(
    model: nn.Module,
    state: Mapping[str, torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    *,
    method: str = "double_backward",
    dtype: torch.dtype = torch.float32,
) -> tuple[Callable[[torch.Tensor], torch.Tensor], int, float]:
    """The Hessian of ``loss_fn(model(x), y)`` at ``state`` as a function ``v -> H v``.

    Parameters
    ----------
    model : nn.Module
        Architecture only; evaluated in eval mode through ``functional_call``, left unchanged.
    state : dict of str -> Tensor
        Full state dict at which the Hessian is taken (parameters and buffers).
    x : (n, ...) Tensor ; y : (n, ...) Tensor
        The fixed evaluation subset (on the device to use).
    loss_fn : callable
        Mean-reduced loss.
    method : {'double_backward', 'jvp'}
    dtype : torch.dtype
        Precision of parameters, data and products.

    Returns
    -------
    hvp : callable
        ``(n_params,) -> (n_params,)`` Tensor, the product with the Hessian over all
        parameters (flattened in ``named_parameters`` order).
    n_params : int
    loss : float
        The loss at ``state``.
    """
    if method not in HVP_METHODS:
        raise ValueError(f"curvature.hvp must be one of {HVP_METHODS}, got {method!r}")
    names, shapes, buffers = flat_parameters(model, state)
    device = x.device
    sizes = [int(np.prod(s)) for s in shapes]
    theta = [state[k].detach().to(device=device, dtype=dtype) for k in names]
    buffers = {k: (v.to(device=device, dtype=dtype) if torch.is_floating_point(v) else v.to(device))
               for k, v in buffers.items()}
    xx = x.to(dtype=dtype) if torch.is_floating_point(x) else x
    yy = y.to(dtype=dtype) if torch.is_floating_point(y) else y
    was_training = [(m, m.training) for m in model.modules()]

    def loss_of(params: tuple) -> torch.Tensor:
        out = functional_call(model, {**dict(zip(names, params)), **buffers}, (xx,))
        return loss_fn(out, yy)

    def split(v: torch.Tensor) -> tuple:
        return tuple(p.view(s) for p, s in zip(torch.split(v, sizes), shapes))

    model.eval()
    try:
        if method == "double_backward":
            leaves = [t.clone().requires_grad_(True) for t in theta]
            with torch.enable_grad():
                loss = loss_of(tuple(leaves))
                grads = torch.autograd.grad(loss, leaves, create_graph=True)
            flat_grad = torch.cat([g.reshape(-1) for g in grads])

            def hvp(v: torch.Tensor) -> torch.Tensor:
                with torch.enable_grad():
                    hv = torch.autograd.grad(flat_grad, leaves, grad_outputs=v.to(flat_grad.dtype),
                                             retain_graph=True)
                return torch.cat([h.reshape(-1) for h in hv]).detach()

            value = float(loss.detach())
        else:
            grad_fn = torch.func.grad(loss_of)
            primal = tuple(theta)

            def hvp(v: torch.Tensor) -> torch.Tensor:
                _, tangent = torch.func.jvp(grad_fn, (primal,), (split(v.to(dtype)),))
                return torch.cat([t.reshape(-1) for t in tangent]).detach()

            with torch.no_grad():
                value = float(loss_of(primal))
    finally:
        for m, flag in was_training:
            m.training = flag
    return hvp, sum(sizes), value


# --------------------------------------------------------------------------- Lanczos


@dataclasses.dataclass(frozen=True)
class LanczosResult:
    """Ritz values of a symmetric operator after ``steps`` Lanczos steps.

    Attributes
    ----------
    values : (m,) float64
        Ritz values, largest first.
    residuals : (m,) float64
        ``|beta_m * s_last|``: an upper bound on the distance of each Ritz value to an
        eigenvalue (0 when the Krylov space became invariant).
    steps : int
        Operator products used.
    converged : bool
        Whether the wanted Ritz values met the tolerance before the step cap.
    """

    values: np.ndarray
    residuals: np.ndarray
    steps: int
    converged: bool


def lanczos(
    op: Callable[[torch.Tensor], torch.Tensor],
    n: int,
    *,
    top_k: int = 1,
    smallest: bool = True,
    max_steps: int = 50,
    tol: float = 1e-4,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
    device: str | torch.device = "cpu",
) -> LanczosResult:
    """Extreme eigenvalues of a symmetric ``n × n`` operator by Lanczos with full
    reorthogonalization.

    Parameters
    ----------
    op : callable
        ``(n,) -> (n,)`` Tensor, symmetric (a Hessian-vector product).
    n : int
        Dimension.
    top_k : int
        How many of the largest eigenvalues must converge.
    smallest : bool
        Whether the smallest eigenvalue must converge too.
    max_steps : int
        Cap on operator products (and on the Krylov dimension; never more than ``n``).
    tol : float
        Stop when every wanted Ritz value's residual bound is below
        ``tol · max|Ritz value|``.
    seed : int
        Seeds the Gaussian start vector.
    dtype, device
        Of the Krylov basis; products are cast to it (float64 keeps orthogonality).

    Returns
    -------
    LanczosResult
    """
    if n < 1:
        raise ValueError("lanczos: the operator has dimension 0")
    m_cap = max(1, min(int(max_steps), n))
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    q = torch.randn(n, generator=gen, dtype=torch.float64).to(device=device, dtype=dtype)
    q /= torch.linalg.vector_norm(q)
    basis = torch.empty((m_cap, n), dtype=dtype, device=device)
    alphas: list[float] = []
    betas: list[float] = []
    values = np.zeros(1)
    residuals = np.zeros(1)
    converged = False
    for j in range(m_cap):
        basis[j] = q
        w = op(q).to(dtype=dtype)
        alpha = float(torch.dot(w, q))
        alphas.append(alpha)
        # full reorthogonalization, twice ("twice is enough", Parlett): keeps ghosts out
        for _ in range(2):
            w -= basis[: j + 1].T @ (basis[: j + 1] @ w)
        beta = float(torch.linalg.vector_norm(w))
        t = np.diag(alphas) + np.diag(betas, 1) + np.diag(betas, -1)
        theta, s = np.linalg.eigh(t)
        order = np.argsort(theta)[::-1]
        values = theta[order]
        residuals = np.abs(beta * s[-1, order])
        scale = max(float(np.max(np.abs(values))), SCALE_FLOOR)
        if beta <= BREAKDOWN_TOL * scale:
            residuals = np.zeros_like(values)
            converged = True
            break
        wanted = list(range(min(top_k, values.size)))
        if smallest:
            wanted.append(values.size - 1)
        # at least top_k + 1 steps: a 1-step Krylov space cannot tell its own error well
        if j + 1 > top_k and np.all(residuals[wanted] <= tol * scale):
            converged = True
            break
        betas.append(beta)
        q = w / beta
    return LanczosResult(values=values, residuals=residuals, steps=len(alphas), converged=converged)


# --------------------------------------------------------------------------- trace


def hutchinson_trace(
    op: Callable[[torch.Tensor], torch.Tensor],
    n: int,
    samples: int,
    *,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device = "cpu",
) -> tuple[float, float]:
    """``tr(H)`` from ``samples`` Rademacher probes ``E[vᵀHv]`` (Hutchinson 1989).

    When ``samples >= n`` the ``n`` basis vectors are used instead: the exact trace for
    the same number of products, and no variance.

    Returns
    -------
    trace : float
    stderr : float
        Standard error of the mean over probes (0 when exact or with one probe).
    """
    if samples < 1:
        raise ValueError("trace needs at least one probe (curvature.trace_samples >= 1)")
    if samples >= n:
        total = 0.0
        e = torch.zeros(n, dtype=dtype, device=device)
        for i in range(n):
            e.zero_()
            e[i] = 1.0
            total += float(op(e)[i])
        return total, 0.0
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    draws = []
    for _ in range(samples):
        v = (torch.randint(0, 2, (n,), generator=gen) * 2 - 1).to(device=device, dtype=dtype)
        draws.append(float(torch.dot(op(v).to(dtype), v)))
    arr = np.asarray(draws)
    err = float(arr.std(ddof=1) / math.sqrt(arr.size)) if arr.size > 1 else 0.0
    return float(arr.mean()), err


# --------------------------------------------------------------------------- one point


@dataclasses.dataclass(frozen=True)
class Spectrum:
    """What the curvature pass records at one point of weight space.

    Attributes
    ----------
    top : (k,) float64
        Largest Hessian eigenvalues, largest first (``top[0]`` is the sharpness).
    lambda_min : float
        Smallest (most negative) eigenvalue.
    trace : float
        Hutchinson estimate of ``tr H`` (nan when not asked).
    trace_stderr : float
    steps : int
        Hessian-vector products spent on the eigenvalues.
    converged : bool
    """

    top: np.ndarray
    lambda_min: float
    trace: float
    trace_stderr: float
    steps: int
    converged: bool

    @property
    def ratio(self) -> float:
        """``|min(λmin, 0) / λmax|``: 0 where the Hessian has no negative eigenvalue.

        Li et al. (2018) map ``|λmin/λmax|`` with λmin the most negative eigenvalue; a
        positive λmin (locally convex) counts as no negative curvature at all.
        """
        lmax = float(self.top[0])
        if not lmax > 0.0:
            return float("inf") if self.lambda_min < 0 else 0.0
        return abs(min(self.lambda_min, 0.0)) / lmax


def spectrum(
    hvp: Callable[[torch.Tensor], torch.Tensor],
    n: int,
    *,
    top_k: int = 1,
    iterations: int = 50,
    tol: float = 1e-4,
    seed: int = 0,
    trace_samples: int = 0,
    dtype: torch.dtype = torch.float64,
    device: str | torch.device = "cpu",
) -> Spectrum:
    """Top-``k`` eigenvalues, the smallest eigenvalue and (optionally) the trace of ``H``.

    Parameters
    ----------
    hvp : callable
        ``(n,) -> (n,)`` Hessian-vector product (:func:`loss_hvp`).
    n : int
    top_k, iterations, tol, seed
        As :func:`lanczos` (``iterations`` caps its steps).
    trace_samples : int
        Rademacher probes for the trace; 0 skips it.
    """
    res = lanczos(hvp, n, top_k=top_k, smallest=True, max_steps=iterations, tol=tol, seed=seed,
                  dtype=dtype, device=device)
    top = np.full(top_k, np.nan)
    k = min(top_k, res.values.size)
    top[:k] = res.values[:k]
    trace, err = float("nan"), float("nan")
    if trace_samples > 0:
        probe_dtype = torch.float64 if dtype == torch.float64 else torch.float32
        trace, err = hutchinson_trace(hvp, n, trace_samples, seed=seed + 1, dtype=probe_dtype,
                                      device=device)
    return Spectrum(top=top, lambda_min=float(res.values[-1]), trace=trace, trace_stderr=err,
                    steps=res.steps, converged=res.converged)
