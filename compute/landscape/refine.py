"""Adaptive refinement of a grid: evaluate coarse, then only where the surface is not resolved.

The heart is pure functions on arrays; :mod:`compute.refine_run` wraps them with the store,
the executor and progress.

Levels
------
The fine grid has ``N = (coarse − 1)·2^L + 1`` points per axis. Level 0 evaluates the
uniform lattice of stride ``s0 = (N − 1)/(coarse − 1)`` (``coarse²`` points). Level ``l``
halves the stride: the new points of the stride ``s/2`` lattice (mid-edges and cell centres)
are predicted from the stride ``s`` lattice (whose points are all known, evaluated or filled
at an earlier level) by two interpolants, the tensor-product cubic (4-point midpoint rule)
and the bilinear one. Their disagreement ``|cubic − linear|`` estimates the linear
interpolant's error (``h²·f''/8``); the cubic one's is smaller still (``O(h⁴)``), so it is a
conservative test. Points where it exceeds the tolerance are evaluated (the worst first
when the evaluation budget is short); the others take the cubic prediction and are marked
*interpolated*. Non-finite neighbours always send a point to evaluation.

Everything is a deterministic function of the values read back from the store (float32),
so a refinement killed at any point resumes to the same arrays.

Errors are measured in ``space``: ``log`` (the mesh stage's default height scale) or
``linear``; the tolerance is a fraction of the level-0 surface's span in that space.
"""

from __future__ import annotations


import numpy as np

from lossfilm.compute.config.landscape import RefineConfig

__all__ = [
    "RefineConfig",
    "strides",
    "midpoints",
    "predict_level",
    "plan_level",
    "apply_level",
    "coarse_indices",
    "refine_surface",
    "LOG_FLOOR",
]

#: values at or below this are clamped before ``log`` (a loss of exactly 0 is still finite).
LOG_FLOOR = 1e-30


def strides(target: int, coarse: int) -> list[int]:
    """Lattice stride of each level, coarse first: ``strides(1025, 33) = [32, 16, 8, 4, 2, 1]``."""
    s = (target - 1) // (coarse - 1)
    out = [s]
    while s > 1:
        s //= 2
        out.append(s)
    return out


def coarse_indices(target: int, coarse: int) -> np.ndarray:
    """Flat indices (into ``target × target``) of level 0's lattice, ``(coarse²,)`` int64."""
    idx = np.arange(0, target, strides(target, coarse)[0])
    return (idx[:, None] * target + idx[None, :]).ravel()


def midpoints(f: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Cubic and linear values halfway between neighbours along ``axis``.

    Parameters
    ----------
    f : (..., m, ...) float
        Values on a uniform lattice, ``m >= 2`` along ``axis``.

    Returns
    -------
    cubic, linear : (..., m − 1, ...) float
        Cubic: the 4-point rule ``(−f₀ + 9f₁ + 9f₂ − f₃)/16`` inside, the 3-point quadratic
        ``(3f₀ + 6f₁ − f₂)/8`` at the two ends; linear: ``(f₁ + f₂)/2``.
    """
    f = np.moveaxis(f, axis, -1)
    m = f.shape[-1]
    lin = 0.5 * (f[..., :-1] + f[..., 1:])
    cub = lin.copy()
    if m >= 4:
        cub[..., 1:-1] = (-f[..., :-3] + 9 * f[..., 1:-2] + 9 * f[..., 2:-1] - f[..., 3:]) / 16
    if m >= 3:
        cub[..., 0] = (3 * f[..., 0] + 6 * f[..., 1] - f[..., 2]) / 8
        cub[..., -1] = (3 * f[..., -1] + 6 * f[..., -2] - f[..., -3]) / 8
    return np.moveaxis(cub, -1, axis), np.moveaxis(lin, -1, axis)


def _interleave(f: np.ndarray, mid: np.ndarray, axis: int) -> np.ndarray:
    f, mid = np.moveaxis(f, axis, -1), np.moveaxis(mid, axis, -1)
    out = np.empty(f.shape[:-1] + (2 * f.shape[-1] - 1,), dtype=np.result_type(f, mid))
    out[..., ::2], out[..., 1::2] = f, mid
    return np.moveaxis(out, -1, axis)


def predict_level(lattice: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cubic and bilinear predictions on the lattice of half the stride.

    Parameters
    ----------
    lattice : (m, m) float
        Known values at stride ``s``.

    Returns
    -------
    cubic, linear : (2m − 1, 2m − 1) float64
        Both equal ``lattice`` at the even positions.
    """
    f = np.asarray(lattice, dtype=np.float64)
    ca, la = midpoints(f, 1)
    rows_c, rows_l = _interleave(f, ca, 1), _interleave(f, la, 1)
    cb, _ = midpoints(rows_c, 0)
    _, lb = midpoints(rows_l, 0)
    return _interleave(rows_c, cb, 0), _interleave(rows_l, lb, 0)


def _to_space(values: np.ndarray, space: str) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    if space == "log":
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(np.isfinite(v), np.log(np.maximum(v, LOG_FLOOR)), np.nan)
    return np.where(np.isfinite(v), v, np.nan)


def _from_space(values: np.ndarray, space: str) -> np.ndarray:
    return np.exp(values) if space == "log" else values


def span_of(values: np.ndarray, space: str) -> float:
    """Height span of the finite values in ``space`` (1 when flat or empty)."""
    t = _to_space(values, space)
    t = t[np.isfinite(t)]
    span = float(t.max() - t.min()) if t.size else 0.0
    return span if span > 0 else 1.0


def _scatter(flags: np.ndarray, where: np.ndarray) -> np.ndarray:
    out = np.zeros(where.shape, dtype=bool)
    out[where] = flags
    return out


def _dilate(mask: np.ndarray, steps: int) -> np.ndarray:
    """Grow a boolean ``(r, c)`` mask by ``steps`` cells (8-neighbourhood)."""
    for _ in range(steps):
        grown = mask.copy()
        grown[1:] |= mask[:-1]
        grown[:-1] |= mask[1:]
        grown[:, 1:] |= grown[:, :-1].copy()
        grown[:, :-1] |= grown[:, 1:].copy()
        mask = grown
    return mask


def _curvature_bound(lattice: np.ndarray) -> np.ndarray:
    """``max |Δ²f| / 8`` of the lattice points around each point of the half-stride lattice.

    The bound on linear interpolation's error from the lattice's own second differences.
    Unlike ``|cubic − linear|`` (which sums the two neighbours' second differences) it does
    not cancel at an inflection or between two kinks. ``(2m − 1, 2m − 1)`` float64.
    """
    f = lattice
    m = f.shape[0]
    curv = np.zeros_like(f)
    if m >= 3:
        with np.errstate(invalid="ignore"):
            da = np.abs(f[:, :-2] - 2 * f[:, 1:-1] + f[:, 2:])
            db = np.abs(f[:-2] - 2 * f[1:-1] + f[2:])
        curv[:, 1:-1] = np.fmax(curv[:, 1:-1], da)
        curv[:, 0], curv[:, -1] = np.fmax(curv[:, 0], da[:, 0]), np.fmax(curv[:, -1], da[:, -1])
        curv[1:-1] = np.fmax(curv[1:-1], db)
        curv[0], curv[-1] = np.fmax(curv[0], db[0]), np.fmax(curv[-1], db[-1])
    curv = np.where(np.isfinite(f), curv, np.inf)
    # each new point: the largest curvature among the lattice points of its edge or cell
    big = np.full((2 * m - 1, 2 * m - 1), 0.0)
    big[::2, ::2] = curv
    big[::2, 1::2] = np.maximum(curv[:, :-1], curv[:, 1:])
    big[1::2, :] = np.maximum(big[:-2:2, :], big[2::2, :])
    return big / 8


def plan_level(
    values: np.ndarray, stride: int, tolerance: float, space: str, budget_left: int,
    dilate: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which new points of the next level to evaluate, and the prediction for the rest.

    Parameters
    ----------
    values : (N, N) float
        The fine grid; the stride-``stride`` lattice must be filled (evaluated or predicted).
    stride : int
        The current lattice stride (even); the level adds the stride/2 lattice.
    tolerance : float
        Absolute, in ``space`` (already multiplied by the span).
    budget_left : int
        Most points to select; the largest estimated errors first (ties by index).
    dilate : int
        Also select new points within this many lattice steps of a flagged one: a feature
        seen by one interpolant test is rarely narrower than its neighbourhood, and a ridge
        that crosses a cell flags only the points nearest its crest.

    Returns
    -------
    selected : (k,) int64
        Flat indices into ``(N, N)`` of the points to evaluate, increasing.
    new : (q,) int64
        Flat indices of all of the level's new points.
    predicted : (q,) float64
        The cubic prediction at ``new``, back in value space (NaN where a neighbour is not
        finite: those are always selected).
    """
    n = values.shape[0]
    h = stride // 2
    lattice = _to_space(values[::stride, ::stride], space)
    cubic, linear = predict_level(lattice)
    rows, cols = np.meshgrid(np.arange(0, n, h), np.arange(0, n, h), indexing="ij")
    is_new = (rows % stride != 0) | (cols % stride != 0)
    new = (rows * n + cols)[is_new]
    with np.errstate(invalid="ignore"):
        error = np.maximum(np.abs(cubic - linear), _curvature_bound(lattice))[is_new]
    error = np.where(np.isfinite(error), error, np.inf)
    want = np.flatnonzero(_dilate(_scatter(error > tolerance, is_new), dilate)[is_new])
    if want.size > budget_left:
        order = np.lexsort((want, -error[want]))  # worst first, ties by position
        want = np.sort(want[order[: max(budget_left, 0)]])
    return new[want].astype(np.int64), new.astype(np.int64), _from_space(cubic[is_new], space)


def apply_level(
    values: np.ndarray, evaluated: np.ndarray, new: np.ndarray, predicted: np.ndarray,
    selected: np.ndarray, measured: np.ndarray,
) -> None:
    """Fill a level in place: ``measured`` at ``selected``, the prediction at the other new points.

    ``values (N, N)`` and ``evaluated (N, N) bool`` are updated; ``measured (k,)``.
    """
    flat_v, flat_e = values.reshape(-1), evaluated.reshape(-1)
    flat_v[new] = predicted
    flat_v[selected] = measured
    flat_e[selected] = True


def refine_surface(f, target: int, cfg: RefineConfig) -> tuple[np.ndarray, np.ndarray]:
    """Refine a surface given as a function of flat indices, all in memory.

    ``f(indices (k,) int64) -> (k,) float`` evaluates points. This is the loop the store
    wrapper runs level by level with files in between; benchmarks and tests call it
    directly.

    Returns
    -------
    values : (target, target) float32 ; evaluated : (target, target) bool
    """
    values = np.full((target, target), np.nan, dtype=np.float64)
    evaluated = np.zeros((target, target), dtype=bool)
    first = coarse_indices(target, cfg.coarse)
    values.reshape(-1)[first] = np.asarray(f(first), dtype=np.float32)
    evaluated.reshape(-1)[first] = True
    tol = cfg.tolerance * span_of(values.reshape(-1)[first], cfg.space)
    for stride in strides(target, cfg.coarse)[:-1]:
        left = cfg.max_evaluations - int(evaluated.sum())
        selected, new, predicted = plan_level(values, stride, tol, cfg.space, left)
        measured = np.asarray(f(selected), dtype=np.float32) if selected.size else np.empty(0)
        apply_level(values, evaluated, new, predicted, selected, measured)
    return values.astype(np.float32), evaluated
