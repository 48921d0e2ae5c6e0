"""Adaptive refinement against the store: levels as files, points as resumable tasks.

The wrapper around :mod:`compute.refine` (the pure heart). Files of a state in progress::

    surfaces/refine/state_0000/level_02_plan.npy        flat indices chosen for level 2
    surfaces/refine/state_0000/level_02_part_0003.npz   loss [, accuracy] of a slice of them
    surfaces/refine/state_0000/level_02.npz             index, loss [, accuracy]: level done

Each level's choice is a deterministic function of the finished levels' files (float32, as
stored), so :func:`replay` rebuilds exactly the arrays an uninterrupted run had, and a rerun
after a kill evaluates only the parts with no file. When the last level is done the state's
surface file holds the fine grid and the mask ``evaluated`` (interpolated points: False).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import dataclasses
import shutil
import time
from pathlib import Path

import numpy as np

from lossfilm.compute.store import folder as st
from lossfilm.compute.landscape.refine import (
    RefineConfig,
    apply_level,
    coarse_indices,
    plan_level,
    predict_level,
    span_of,
    strides,
)

__all__ = ["Replay", "replay", "evaluate_stored_points", "evaluate_refined", "refine_folder"]


def refine_folder(folder, index: int) -> Path:
    return Path(folder) / "surfaces" / "refine" / st.state_name(index)


def _level(folder, index, level) -> Path:
    return refine_folder(folder, index) / f"level_{level:02d}.npz"


def _plan(folder, index, level) -> Path:
    return refine_folder(folder, index) / f"level_{level:02d}_plan.npy"


def _part(folder, index, level, part) -> Path:
    return refine_folder(folder, index) / f"level_{level:02d}_part_{part:04d}.npz"


@dataclasses.dataclass
class Replay:
    """A state's refinement as far as its files go.

    ``loss (N, N)`` float64 and ``accuracy (N, N)`` (or None) hold evaluated and
    interpolated values on the lattice reached; ``evaluated (N, N)`` bool; ``level`` is the
    next level to run (``len(strides)`` when done); ``plan`` its flat indices (None when done).
    """

    loss: np.ndarray
    accuracy: np.ndarray | None
    evaluated: np.ndarray
    level: int
    plan: np.ndarray | None
    nonfinite: int


def replay(folder, index: int, cfg: RefineConfig, accuracy: bool) -> Replay:
    """Rebuild a state's arrays from its finished level files and plan the next level."""
    n, levels = cfg.target, strides(cfg.target, cfg.coarse)
    loss = np.full((n, n), np.nan)
    acc = np.full((n, n), np.nan) if accuracy else None
    evaluated = np.zeros((n, n), dtype=bool)
    tol = None
    for level in range(len(levels)):
        if level == 0:
            plan, new, predicted = coarse_indices(n, cfg.coarse), None, None
        else:
            left = cfg.max_evaluations - int(evaluated.sum())
            plan, new, predicted = plan_level(loss, levels[level - 1], tol, cfg.space, left)
        path = _level(folder, index, level)
        if not path.exists():
            return Replay(loss, acc, evaluated, level, plan, int((~np.isfinite(loss[evaluated])).sum()))
        with np.load(path) as z:
            got = {k: z[k] for k in z.files}
        if not np.array_equal(got["index"], plan):
            raise ValueError(f"{path}: its points differ from the level's plan (store edited?)")
        if level == 0:
            loss.reshape(-1)[plan] = got["loss"]
            evaluated.reshape(-1)[plan] = True
            tol = cfg.tolerance * span_of(got["loss"], cfg.space)
        else:
            apply_level(loss, evaluated, new, predicted, plan, got["loss"])
        if acc is not None:
            if level > 0:  # the accuracy follows the loss's choice, cubic in linear space
                cubic, _ = predict_level(acc[:: levels[level - 1], :: levels[level - 1]])
                h = levels[level]
                acc[::h, ::h] = np.where(np.isnan(acc[::h, ::h]), np.clip(cubic, 0, 1), acc[::h, ::h])
            acc.reshape(-1)[plan] = got["accuracy"]
    return Replay(loss, acc, evaluated, len(levels), None, int((~np.isfinite(loss[evaluated])).sum()))


def evaluate_stored_points(folder: str, index: int, level: int, part: int, start: int, stop: int,
                           device: str = "cpu"):
    """Evaluate points ``[start, stop)`` of a level's plan and write them as one part file.

    References only, like :func:`compute.tiles.evaluate_stored_tile`. Returns
    ``(index, seconds)``.
    """
    from lossfilm.compute.experiments.variant import state_model
    from lossfilm.compute.landscape.surface import evaluate_tile
    from lossfilm.compute.stage.worker import eval_options, loaded_state

    t0 = time.perf_counter()
    c, s, i = loaded_state(str(folder), device, index)
    flat = np.load(_plan(folder, index, level))[start:stop]
    rows, cols = np.divmod(flat, s.a.size)
    coords = np.stack([s.a[cols], s.b[rows]], axis=1)
    res = evaluate_tile(state_model(c, s.states[i]), c["origin"], c["d1"], c["d2"], coords,
                        c["x"], c["y"], c["loss_fn"], **eval_options(s.manifest["eval"], device))
    metrics = {"loss": res.loss.astype(np.float32)}
    if res.accuracy is not None:
        metrics["accuracy"] = res.accuracy.astype(np.float32)
    st.atomic_write(_part(folder, index, level, part), lambda f: np.savez(f, **metrics))
    return index, time.perf_counter() - t0


def _parts(count: int, per: int) -> list[tuple[int, int]]:
    return [(p, min(p + per, count)) for p in range(0, count, per)]


def _join(folder, index: int, level: int, plan: np.ndarray, per: int) -> bool:
    """Join a level's parts into its level file once all are there."""
    paths = [_part(folder, index, level, k) for k in range(len(_parts(plan.size, per)))]
    if not all(p.exists() for p in paths):
        return False
    cols: dict[str, list] = {}
    for p in paths:
        with np.load(p) as z:
            for k in z.files:
                cols.setdefault(k, []).append(z[k])
    arrays = {"index": plan, "loss": np.empty(0, np.float32), "accuracy": np.empty(0, np.float32)}
    arrays.update({k: np.concatenate(v) for k, v in cols.items()})
    st.atomic_write(_level(folder, index, level), lambda f: np.savez(f, **arrays))
    for p in paths:
        with contextlib.suppress(OSError):
            p.unlink()
    return True


def _finish(folder, index: int, r: Replay) -> None:
    arrays = {"loss": r.loss.astype(np.float32), "evaluated": r.evaluated}
    if r.accuracy is not None:
        arrays["accuracy"] = r.accuracy.astype(np.float32)
    st.atomic_write(st.surface_path(folder, index), lambda f: np.savez(f, **arrays))
    shutil.rmtree(refine_folder(folder, index), ignore_errors=True)


def evaluate_refined(folder, manifest, kind, workers, device, progress, max_tiles, *,
                     per_part: int, pool_factory=None) -> None:
    """Run every state's refinement to its last level (or ``max_tiles`` parts), then the manifest.

    Levels run in rounds: each round plans the next level of every unfinished state, then
    evaluates all their missing parts (serially or on the executor ``pool_factory()``).
    """
    from lossfilm.compute.execution.progress import Progress, say

    cfg = RefineConfig(**manifest["refine"])
    accuracy = "accuracy" in manifest["metrics"]
    n_levels = len(strides(cfg.target, cfg.coarse))
    states = manifest["states"]
    t0, budget, evaluations = time.perf_counter(), max_tiles, 0
    while True:
        todo, plans = [], {}
        for s in states:
            index = s["index"]
            if st.surface_path(folder, index).exists():
                continue
            r = replay(folder, index, cfg, accuracy)
            if r.plan is None:
                _finish(folder, index, r)
                continue
            if not _plan(folder, index, r.level).exists():
                st.atomic_write(_plan(folder, index, r.level), lambda f, p=r.plan: np.save(f, p))
            plans[index] = (r.level, r.plan)
            todo += [(index, r.level, k, a, b) for k, (a, b) in enumerate(_parts(r.plan.size, per_part))
                     if not _part(folder, index, r.level, k).exists()]
        if not plans or (budget is not None and budget <= 0):
            break
        if budget is not None:  # max_tiles: stop after that many parts (tests, partial runs)
            todo = todo[:budget]
            budget -= len(todo)
        points = sum(b - a for *_, a, b in todo)
        evaluations += points
        levels = sorted({lv for lv, _ in plans.values()})
        say(progress, "refine", f"level {'/'.join(str(lv + 1) for lv in levels)} of {n_levels}:"
                                f" {points:,} points of {len(plans)} state(s) on {device} ({kind})")
        with Progress("refine", len(todo), unit="parts", enabled=progress) as bar:
            if kind == "serial" or pool_factory is None or len(todo) < 2:
                for task in todo:
                    evaluate_stored_points(str(folder), *task, device)
                    bar.advance()
            else:
                with pool_factory(len(todo)) as ex:
                    futs = [ex.submit(evaluate_stored_points, str(folder), *t, device) for t in todo]
                    for fut in cf.as_completed(futs):
                        fut.result()
                        bar.advance()
        for index, (level, plan) in plans.items():
            _join(folder, index, level, plan, per_part)
    complete = True
    for s in states:
        done = st.surface_path(folder, s["index"]).exists()
        s["complete"] = done
        complete &= done
        if done:
            with np.load(st.surface_path(folder, s["index"])) as z:
                s["nonfinite"] = int((~np.isfinite(z["loss"][z["evaluated"]])).sum())
                s["evaluated"] = int(z["evaluated"].sum())
    elapsed = time.perf_counter() - t0
    manifest["timings"]["surfaces_s"] = manifest["timings"].get("surfaces_s", 0.0) + elapsed
    if evaluations and elapsed > 0:
        manifest["timings"]["points_per_s"] = evaluations / elapsed
    manifest["complete"] = complete
    manifest["nonfinite"] = sum(s.get("nonfinite", 0) for s in states)
    st.write_json(Path(folder) / st.MANIFEST, manifest)
