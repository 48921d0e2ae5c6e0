"""Directions in weight space: the two axes of a loss-landscape slice.

A direction is a ``dict`` from state-dict key to a tensor shaped like that entry (the
*perturbable* entries of a model: its parameters, and with ``include_states`` the float
buffers such as BatchNorm running statistics). Everything here is a pure function of
tensors; nothing touches a module.

Kinds
-----
``random``
    Two seeded Gaussian draws (Li et al. 2018), normalized to the weights (filter, layer or
    none). With ``around: current`` the *same draw* is re-normalized to each state's weights.
``pca``
    The top two principal directions of ``θ_i − θ_final`` over the trajectory.
``three_point``
    The plane through three weight vectors (Gram–Schmidt), origin at the first.
``line`` / ``line_random``
    The line from the first to the second weight vector; ``line`` has no second axis
    (one grid row), ``line_random`` adds a filter-normalized random second axis.

Orthogonality and normalization
-------------------------------
A known peer bug orthogonalizes two directions and *then* filter-normalizes them, which
rescales each filter separately and undoes the orthogonality. Here orthogonalization is done
*block by block inside the normalization*: in every block (a filter for ``filter``, a whole
tensor for ``layer``) ``d2`` loses its component along ``d1`` and is then rescaled to the
weight norm of that block. Rescaling a block keeps its inner product with ``d1`` at zero, and
the global inner product is the sum of the block ones, so both properties hold exactly.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import torch

from lossfilm.compute.config.landscape import DirectionsConfig

__all__ = [
    "DirectionsConfig",
    "Direction",
    "perturbable",
    "gaussian_direction",
    "normalize_direction",
    "filter_normalize",
    "random_plane",
    "pca_plane",
    "three_point_plane",
    "line_plane",
    "project",
    "inner",
    "norm",
    "NORM_EPS",
    "COLLINEAR_TOL",
]

Direction = dict  # str -> torch.Tensor

#: added to a block norm before dividing, so an all-zero random block stays zero, not NaN.
NORM_EPS = 1e-10
#: three points whose second side is shorter than this fraction of the first, once its
#: component along the first is removed, count as one line (float32 weights: ~1e-7 noise).
COLLINEAR_TOL = 1e-5


# --------------------------------------------------------------------------- basics


def perturbable(model_or_state, include_states: bool = False) -> Direction:
    """The entries of a model (or state dict) that a direction moves.

    Parameters
    ----------
    model_or_state : torch.nn.Module or mapping of str -> Tensor
    include_states : bool
        Also take floating-point buffers (BatchNorm running mean/var), never integer ones
        (``num_batches_tracked``).

    Returns
    -------
    dict of str -> Tensor, detached, in state-dict order.

    Given only a state dict, buffers are recognized by the names of the standard
    normalization layers (``running_mean``, ``running_var``, ``num_batches_tracked``).
    """
    if isinstance(model_or_state, torch.nn.Module):
        params = {k for k, _ in model_or_state.named_parameters()}
        state = model_or_state.state_dict()
    else:
        state = dict(model_or_state)
        params = None
    out = {}
    for k, v in state.items():
        if not torch.is_floating_point(v):
            continue
        is_param = k in params if params is not None else not _is_buffer_name(k)
        if is_param or include_states:
            out[k] = v.detach()
    return out


def _is_buffer_name(key: str) -> bool:
    """Buffer names of the standard normalization layers (used when only a state dict is known)."""
    return key.rsplit(".", 1)[-1] in ("running_mean", "running_var", "num_batches_tracked")


def inner(u: Mapping, v: Mapping) -> float:
    """Inner product of two directions over their common keys (float64 accumulate)."""
    return float(sum((u[k].double() * v[k].double()).sum() for k in u if k in v))


def norm(u: Mapping) -> float:
    """Euclidean norm of a direction."""
    return inner(u, u) ** 0.5


def gaussian_direction(weights: Mapping, seed: int) -> Direction:
    """A standard-normal draw shaped like ``weights``, reproducible from ``seed``.

    The draw is made on CPU in float32 in state-dict order, so the same seed gives the same
    direction on every machine and for every state of one model (the re-normalization for
    ``around: current`` relies on this).
    """
    gen = torch.Generator().manual_seed(int(seed))
    return {
        k: torch.randn(tuple(w.shape), generator=gen, dtype=torch.float32).to(w.dtype)
        for k, w in weights.items()
    }


def _blocks(t: torch.Tensor, how: str) -> torch.Tensor:
    """View of ``t`` as ``(n_blocks, block_size)`` for a normalization kind."""
    if how == "filter" and t.dim() > 1:
        return t.reshape(t.shape[0], -1)
    return t.reshape(1, -1)


def normalize_direction(
    direction: Mapping,
    weights: Mapping,
    normalization: str = "filter",
    ignore: str = "biasbn",
    against: Mapping | None = None,
) -> Direction:
    """Scale a direction to the weights, optionally orthogonal to another direction.

    Parameters
    ----------
    direction, weights : dict of str -> Tensor
        Same keys and shapes.
    normalization : {'filter', 'layer', 'none'}
        ``filter``: every output filter/neuron (slice along dim 0) of ``d`` gets the norm of
        the same slice of ``θ``; ``layer``: every tensor; ``none``: unscaled.
    ignore : {'biasbn', 'none'}
        ``biasbn`` zeroes 1-D entries (biases, BatchNorm); ``none`` normalizes each 1-D entry
        as one block (never element by element, which would copy ``|θ|`` into the direction).
    against : dict, optional
        Remove the component along this direction, per block before rescaling (see module
        docstring), so the result is orthogonal to ``against`` and normalized at once.

    Returns
    -------
    dict of str -> Tensor, new tensors.
    """
    if normalization not in ("filter", "layer", "none"):
        raise ValueError(f"directions.normalization must be filter, layer or none, got {normalization!r}")
    if ignore not in ("biasbn", "none"):
        raise ValueError(f"directions.ignore must be biasbn or none, got {ignore!r}")
    out = {}
    for k, w in weights.items():
        d = direction[k].detach().to(w.dtype).clone()
        if w.dim() <= 1 and ignore == "biasbn":
            out[k] = torch.zeros_like(d)
            continue
        if normalization == "none":
            out[k] = d
            continue
        db = _blocks(d, normalization)
        if against is not None:
            ab = _blocks(against[k].to(w.dtype), normalization)
            aa = (ab * ab).sum(1, keepdim=True)
            coef = torch.where(aa > 0, (db * ab).sum(1, keepdim=True) / aa.clamp_min(NORM_EPS), 0.0)
            db = db - coef * ab
        wb = _blocks(w, normalization)
        db = db * (wb.norm(dim=1, keepdim=True) / (db.norm(dim=1, keepdim=True) + NORM_EPS))
        out[k] = db.reshape(d.shape)
    if against is not None and normalization == "none":
        c = inner(out, against) / max(inner(against, against), NORM_EPS)
        out = {k: v - c * against[k] for k, v in out.items()}
    return out


def filter_normalize(direction: Mapping, weights: Mapping, ignore: str = "biasbn") -> Direction:
    """``d ← d/‖d‖·‖θ‖`` per output filter or neuron; 1-D entries zeroed (``ignore='biasbn'``)."""
    return normalize_direction(direction, weights, "filter", ignore)


# --------------------------------------------------------------------------- planes


def random_plane(weights: Mapping, cfg: DirectionsConfig) -> tuple[Direction, Direction]:
    """Two normalized Gaussian directions at ``weights``.

    The raw draws depend only on ``cfg.seed``, so calling this with each state's weights
    re-normalizes the same draw to every state (``around: current``).
    """
    raw1 = gaussian_direction(weights, cfg.seed)
    # A second, independent stream: seed + a large odd offset keeps it distinct from seed + 1.
    raw2 = gaussian_direction(weights, cfg.seed + 1_000_003)
    d1 = normalize_direction(raw1, weights, cfg.normalization, cfg.ignore)
    d2 = normalize_direction(
        raw2, weights, cfg.normalization, cfg.ignore, against=d1 if cfg.orthogonalize else None
    )
    return d1, d2


def pca_plane(
    states: list[Mapping], final: Mapping, ignore: str = "biasbn"
) -> tuple[Direction, Direction, np.ndarray, np.ndarray]:
    """Top-two principal directions of a trajectory around its final weights.

    Parameters
    ----------
    states : list of S dicts of str -> Tensor
        Perturbable weights of every captured state.
    final : dict
        The origin (usually ``states[-1]``).
    ignore : {'biasbn', 'none'}
        ``biasbn`` leaves 1-D entries out of the analysis (zero in both directions).

    Returns
    -------
    d1, d2 : dict
        Orthonormal directions (unit Euclidean norm).
    explained : (2,) float64
        Fraction of the trajectory's variance about ``final`` along each direction.
    coords : (S, 2) float64
        Projection ``(a, b)`` of every state; the final state projects to ``(0, 0)``.
    """
    keys = [k for k, v in final.items() if not (ignore == "biasbn" and v.dim() <= 1)]
    if len(states) < 2:
        raise ValueError("directions.kind=pca needs at least 2 captured states")
    mat = np.stack(
        [np.concatenate([(s[k] - final[k]).double().reshape(-1).numpy() for k in keys]) for s in states]
    )
    # The trajectory matrix is (S, P) with S tiny: an SVD of it is cheap and exact.
    _, sing, vt = np.linalg.svd(mat, full_matrices=False)
    total = float((sing**2).sum())
    explained = (sing[:2] ** 2 / total) if total > 0 else np.zeros(2)
    if vt.shape[0] < 2:
        raise ValueError("directions.kind=pca: the trajectory spans fewer than 2 dimensions")
    d1 = _unflatten(vt[0], final, keys)
    d2 = _unflatten(vt[1], final, keys)
    coords = mat @ vt[:2].T
    return d1, d2, np.asarray(explained, dtype=np.float64), coords


def _unflatten(vec: np.ndarray, like: Mapping, keys: list[str]) -> Direction:
    out, i = {}, 0
    for k, v in like.items():
        if k in keys:
            n = v.numel()
            out[k] = torch.from_numpy(vec[i : i + n].copy()).reshape(v.shape).to(v.dtype)
            i += n
        else:
            out[k] = torch.zeros_like(v)
    return out


def three_point_plane(
    p0: Mapping, p1: Mapping, p2: Mapping
) -> tuple[Direction, Direction, np.ndarray]:
    """The plane through three weight vectors, origin at ``p0``.

    ``d1 = p1 − p0``; ``d2`` is ``p2 − p0`` with its ``d1`` component removed (Gram–Schmidt)
    and scaled to ``‖d1‖`` so the plane is isotropic.

    Returns
    -------
    d1, d2 : dict
    coords : (3, 2) float64
        ``(a, b)`` of ``p0, p1, p2``: ``(0, 0)``, ``(1, 0)`` and ``(u, v)`` with ``v > 0``.
    """
    d1 = {k: p1[k] - p0[k] for k in p0}
    v = {k: p2[k] - p0[k] for k in p0}
    n1 = norm(d1)
    if n1 == 0:
        raise ValueError("directions.points: the first two points are the same weights")
    c = inner(v, d1) / n1**2
    vo = {k: v[k] - c * d1[k] for k in v}
    nvo = norm(vo)
    if nvo <= COLLINEAR_TOL * n1:
        raise ValueError("directions.points: the three points lie on one line")
    d2 = {k: t * (n1 / nvo) for k, t in vo.items()}
    coords = np.array([[0.0, 0.0], [1.0, 0.0], [c, nvo / n1]])
    return d1, d2, coords


def line_plane(
    p0: Mapping, p1: Mapping, cfg: DirectionsConfig | None = None
) -> tuple[Direction, Direction, np.ndarray]:
    """The line from ``p0`` to ``p1``; with ``cfg`` a random normalized second axis.

    Returns ``d1 = p1 − p0``, ``d2`` (zero without ``cfg``; else a Gaussian normalized to
    ``p0`` and orthogonal to ``d1`` block by block) and coords ``[[0, 0], [1, 0]]``.
    """
    d1 = {k: p1[k] - p0[k] for k in p0}
    if norm(d1) == 0:
        raise ValueError("directions.points: the two points are the same weights")
    if cfg is None:
        d2 = {k: torch.zeros_like(v) for k, v in p0.items()}
    else:
        raw = gaussian_direction(p0, cfg.seed)
        d2 = normalize_direction(raw, p0, cfg.normalization, cfg.ignore, against=d1)
    return d1, d2, np.array([[0.0, 0.0], [1.0, 0.0]])


def project(theta: Mapping, origin: Mapping, d1: Mapping, d2: Mapping) -> tuple[float, float]:
    """Plane coordinates ``(a, b)`` of ``theta``: least squares ``origin + a·d1 + b·d2 ≈ θ``.

    Works for non-orthogonal directions (solves the 2×2 Gram system); a zero ``d2`` gives
    ``b = 0``.
    """
    r = {k: theta[k] - origin[k] for k in d1}
    g11, g12, g22 = inner(d1, d1), inner(d1, d2), inner(d2, d2)
    r1, r2 = inner(r, d1), inner(r, d2)
    if g22 <= 0:
        return (r1 / g11 if g11 > 0 else 0.0), 0.0
    det = g11 * g22 - g12 * g12
    if det <= 0:
        return 0.0, 0.0
    return (g22 * r1 - g12 * r2) / det, (g11 * r2 - g12 * r1) / det
