"""Tiles: the unit of work of surface evaluation, and the loop that runs the missing ones.

A tile is one state × a block of grid rows. A task carries references only (store folder,
state index, row block); :func:`evaluate_stored_tile` loads the model, the evaluation
subset and the state's plane from the store once per process and writes its rows
atomically, so the same function runs in-process, in a spawn pool or on a Dask worker,
and a killed run loses at most the tiles in flight.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import time

import numpy as np
import torch

from lossfilm.compute.store import integrity
from lossfilm.compute.store import folder as st
from lossfilm.compute.execution.executors import open_executor
from lossfilm.compute.execution.faults import fault_point
from lossfilm.compute.config.cluster import parse_executor_spec
from lossfilm.compute.experiments.variant import state_model
from lossfilm.compute.execution.progress import Progress, format_seconds, say
from lossfilm.compute.landscape.surface import evaluate_tile
from lossfilm.compute.stage.worker import eval_options, forget, loaded_state

__all__ = ["plan_tiles", "evaluate_stored_tile", "evaluate_missing", "faster_executor"]

#: grid points per tile when ``eval.points_per_tile`` is 0: big enough that a worker's
#: per-tile setup (plane load, first-layer products) is noise, small enough to balance.
AUTO_POINTS_PER_TILE = 600
#: jobs with fewer grid evaluations than this run serially under ``executor: auto``:
#: starting spawn workers (a torch import each) costs more than it saves. Measured on 2 cores
#: (41×41 grid, 4 states, small MLP): serial with 2 threads 25.7 s, two 1-thread workers 14.4 s.
AUTO_SERIAL_POINTS = 2_000
#: grid points timed (after a warm-up) to estimate a run's duration before it starts.
PROBE_POINTS = 24
#: seconds a spawn pool costs before its first tile (process start, torch import, store
#: load). Measured on 2 cores (benchmarks/scaling.py, same tiles and threads): local:1
#: 9.2 s vs serial 6.5 s.
POOL_START_S = 3.0


def plan_tiles(ny: int, nx: int, points_per_tile: int = 0) -> list[tuple[int, int]]:
    """Row blocks ``[(row0, row1), ...]`` covering ``ny`` rows, about ``points_per_tile`` each."""
    per = points_per_tile or AUTO_POINTS_PER_TILE
    rows = max(1, min(ny, per // max(nx, 1)))
    return [(r, min(r + rows, ny)) for r in range(0, ny, rows)]


# --------------------------------------------------------------------------- worker side

def evaluate_stored_tile(folder: str, index: int, row0: int, row1: int, device: str = "cpu"):
    """Evaluate rows ``[row0, row1)`` of state ``index`` of a store and write the tile.

    Takes references only, so it runs the same in a spawn worker and in-process.
    Returns ``(index, row0, row1, seconds, n_nonfinite)``.
    """
    t0 = time.perf_counter()
    c, s, i = loaded_state(str(folder), device, index)
    ev = s.manifest["eval"]
    aa, bb = np.meshgrid(s.a, s.b[row0:row1])
    coords = np.stack([aa.ravel(), bb.ravel()], axis=1)
    res = evaluate_tile(state_model(c, s.states[i]), c["origin"], c["d1"], c["d2"], coords,
                        c["x"], c["y"], c["loss_fn"], **eval_options(ev, device))
    shape = (row1 - row0, s.a.size)
    metrics = {"loss": res.loss.reshape(shape).astype(np.float32)}
    if res.accuracy is not None:
        metrics["accuracy"] = res.accuracy.reshape(shape).astype(np.float32)
    st.write_tile(folder, index, row0, row1, metrics)
    fault_point("tile")  # test-only: LOSSFILM_FAULT=tile:N
    return index, row0, row1, time.perf_counter() - t0, int((~np.isfinite(res.loss)).sum())


def _probe(folder: str, index: int, device: str, threads: int | None = None) -> float:
    """Seconds per grid point on this machine: a warm-up, then a few timed points.

    ``threads`` times it with that many torch threads (what a pool worker gets).
    """
    if threads is not None and threads != torch.get_num_threads():
        saved = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            return _probe(folder, index, device)
        finally:
            torch.set_num_threads(saved)
    c, s, i = loaded_state(folder, device, index)
    origin, d1, d2, ev = c["origin"], c["d1"], c["d2"], s.manifest["eval"]
    coords = np.stack([np.resize(s.a, PROBE_POINTS), np.full(PROBE_POINTS, s.b[0])], axis=1)

    model = state_model(c, s.states[i])  # an experiment's per-state variant, else c["model"]

    def run(k):
        evaluate_tile(model, origin, d1, d2, coords[:k], c["x"], c["y"], c["loss_fn"],
                      **eval_options(ev, device))

    run(2)
    t0 = time.perf_counter()
    run(PROBE_POINTS)
    return (time.perf_counter() - t0) / PROBE_POINTS


def _pool_threads(n: int) -> int:
    return max(1, (os.cpu_count() or 1) // n)


def faster_executor(serial_per_point: float, pool_per_point: float, points: int,
                    n: int) -> tuple[str, float]:
    """``('serial' | 'local', seconds)``: which finishes ``points`` first, by their costs.

    ``serial_per_point`` is a point's cost in this process (all cores' threads),
    ``pool_per_point`` its cost in one of ``n`` pool workers (their share of threads);
    the pool also pays :data:`POOL_START_S`. Which wins depends on the network: a small
    MLP spends its time in per-point Python overhead that only processes parallelize;
    convolutions and wide layers already use every core in one process.
    """
    serial = serial_per_point * points
    if n < 2:
        return "serial", serial
    pool = POOL_START_S + pool_per_point * points / n
    return ("local", pool) if pool < serial else ("serial", serial)


def _serial_or_pool(folder: str, index: int, points: int, n: int, device: str) -> tuple[str, float]:
    """``executor: auto`` on the CPU: :func:`faster_executor` from two probes of this job."""
    serial = _probe(folder, index, device)
    pool = _probe(folder, index, device, threads=_pool_threads(n)) if n >= 2 else serial
    return faster_executor(serial, pool, points, n)


def _evaluate_refined(folder, manifest, kind, workers, device, progress, max_tiles, *,
                      spec=None, cluster=None) -> None:
    """A refined grid (``compute.refine_run``): the same executors, points as parts."""
    from lossfilm.compute.stage.refine_run import evaluate_refined

    if kind == "auto" or device != "cpu":
        kind = "serial"  # levels are short rounds: a pool's start-up per round rarely pays
    n = workers or (os.cpu_count() or 1)

    def pool(tasks: int):
        use = spec if spec is not None and spec.distributed else parse_executor_spec("local")
        k = max(1, min(n, tasks))
        return open_executor(use, cluster, local_workers=k, threads=_pool_threads(k), gpu=device == "cuda")

    per = manifest["eval"]["points_per_tile"] or AUTO_POINTS_PER_TILE
    evaluate_refined(folder, manifest, kind, workers, device, progress, max_tiles, per_part=per,
                     pool_factory=None if kind == "serial" else pool)


def evaluate_missing(folder, manifest, kind, workers, device, progress, max_tiles, *,
                     spec=None, cluster=None) -> None:
    """Evaluate every tile of ``manifest`` not yet on disk, then update the manifest.

    ``kind`` is ``serial``, ``local`` (spawn pool of ``workers``), ``auto`` or a distributed
    ``spec``; ``max_tiles`` stops early (a resumable, incomplete store).
    """
    forget()  # this process may have cached an older store at the same path
    if manifest.get("refine"):
        return _evaluate_refined(folder, manifest, kind, workers, device, progress, max_tiles,
                                 spec=spec, cluster=cluster)
    states, blocks = manifest["states"], [tuple(t) for t in manifest["tiles"]]
    nx = len(manifest["a"])
    todo = []
    for s in states:
        if st.assemble_state(folder, s["index"], blocks, nx):
            continue
        todo += [(s["index"], r0, r1) for r0, r1 in blocks
                 if not st.tile_path(folder, s["index"], r0, r1).exists()]
    total_tiles = len(states) * len(blocks)
    points = sum((r1 - r0) * nx for _, r0, r1 in todo)
    if max_tiles is not None:
        todo = todo[:max_tiles]
    run_points = sum((r1 - r0) * nx for _, r0, r1 in todo)
    n = workers or (os.cpu_count() or 1)
    seconds = None
    if kind == "auto":
        if points < AUTO_SERIAL_POINTS or device != "cpu" or not todo:
            kind = "serial"
        else:
            kind, seconds = _serial_or_pool(str(folder), todo[0][0], run_points,
                                            max(1, min(n, len(todo))), device)
    if kind == "local" and device != "cpu":
        kind = "serial"  # one accelerator: processes would only queue on it
    if kind == "local":
        n = max(1, min(n, len(todo)))
    all_points = len(states) * len(manifest["b"]) * nx
    est = ""
    if todo and progress:
        if seconds is None:
            local = kind == "local"
            per_point = _probe(str(folder), todo[0][0], device, threads=_pool_threads(n) if local else None)
            seconds = (POOL_START_S + per_point * run_points / n) if local else per_point * run_points
        est = f", about {format_seconds(seconds)}"
    where = (spec.address or "slurm") if spec is not None and spec.distributed else kind
    say(progress, "compute", f"{all_points:,} evaluations ({len(states)} states × {len(manifest['b'])}×{nx}),"
                   f" {points:,} to do on {device} ({where}{f' ×{n}' if kind == 'local' else ''}){est}")
    t0 = time.perf_counter()
    nonfinite = {s["index"]: s.get("nonfinite", 0) for s in states}
    with Progress("surfaces", total_tiles, unit="tiles", done=total_tiles - len(todo),
                  enabled=progress) as bar:

        def finished(index):
            bar.advance()
            st.assemble_state(folder, index, blocks, nx)

        if kind == "serial":
            for index, r0, r1 in todo:
                res = evaluate_stored_tile(str(folder), index, r0, r1, device)
                nonfinite[index] = nonfinite.get(index, 0) + res[4]
                finished(index)
        elif todo:
            threads = _pool_threads(n)
            # local pool or Dask (compute.executors): the same submit/as_completed loop
            pool = spec if spec is not None and spec.distributed else parse_executor_spec("local")
            with open_executor(pool, cluster, local_workers=n, threads=threads,
                               gpu=device == "cuda") as ex:
                futs = [ex.submit(evaluate_stored_tile, str(folder), i, r0, r1, device) for i, r0, r1 in todo]
                try:
                    for fut in cf.as_completed(futs):
                        res = fut.result()
                        nonfinite[res[0]] = nonfinite.get(res[0], 0) + res[4]
                        finished(res[0])
                except BaseException:  # Ctrl-C, SIGTERM, a failed tile: stop now, not after the queue
                    for fut in futs:
                        fut.cancel()
                    raise
    elapsed = time.perf_counter() - t0
    complete = True
    for s in states:
        s["nonfinite"] = int(nonfinite.get(s["index"], 0))
        s["complete"] = st.surface_path(folder, s["index"]).exists()
        complete &= s["complete"]
    bad = sum(s["nonfinite"] for s in states)
    if bad:
        say(progress, "compute", f"{bad} grid points have non-finite loss (kept as is, flagged per state)")
    manifest["timings"]["surfaces_s"] = manifest["timings"].get("surfaces_s", 0.0) + elapsed
    if run_points and elapsed > 0:
        manifest["timings"]["points_per_s"] = run_points / elapsed
    manifest["complete"] = complete
    manifest["nonfinite"] = bad
    # digests of what this run (or a killed one, checked by check_surfaces) left on disk
    integrity.record(folder, manifest, integrity.listed_files(manifest))
    st.write_json(folder / st.MANIFEST, manifest)
