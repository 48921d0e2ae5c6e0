"""Scaling benchmark: grid points per second as the surface work spreads over workers.

Workload: BENCHMARKS.md workload 1 (an MLP 64→128→128→10, ReLU, 2048 evaluation samples
of 64 features, cross-entropy, two filter-normalized directions, float32 on CPU) on a
101×101 grid, run through the real compute stage (``lossfilm.compute.stage.run.compute_sequence``: store,
tiles of 600 points, progress, atomic tile files) with one executor setting per side:

``serial``        in this process (torch's default threads: all cores)
``local:1``       a spawn pool of 1 worker (all cores' threads)
``local:2``       a spawn pool of 2 workers (cores / 2 threads each)
``dask x2``       a ``distributed.LocalCluster`` of 2 worker processes, 1 thread each,
                  reached through ``dask://`` (skipped without ``.[cluster]``)

Sides alternate within each repeat; each reports the median over ``--repeats`` of the
points/s the stage itself records (``timings.points_per_s``: points over the wall time of
the tile loop, pool start included) and of the whole call's wall time. The Dask cluster
is started once before timing (a cluster outlives a run; a pool does not), and warmed by
one untimed run so its workers have imported torch.

Run: ``.venv/bin/python benchmarks/scaling.py [--repeats 3] [--points 101]``
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _machine import cpu_model  # noqa: E402 - benchmarks run as scripts
from lossfilm.compute.store import folder as st  # noqa: E402
from lossfilm.compute.config.compute import ComputeConfig  # noqa: E402
from lossfilm.compute.data.datasets import DataConfig  # noqa: E402
from lossfilm.compute.model.zoo import ModelConfig  # noqa: E402
from lossfilm.compute.stage.run import compute_sequence  # noqa: E402
from lossfilm.compute.landscape.grid import LandscapeConfig  # noqa: E402
from lossfilm.compute.config.landscape import EvalConfig, GridConfig
from lossfilm.compute.training.train import TrainConfig  # noqa: E402
from lossfilm.compute.config.train import CaptureConfig

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SAMPLES, FEATURES, WIDTHS, CLASSES = 2048, 64, (128, 128), 10


def workload(points: int, executor: str) -> ComputeConfig:
    """Workload 1 as a scene's compute section: one state (after one epoch), points² grid."""
    return ComputeConfig(
        model=ModelConfig(kind="mlp", hidden=WIDTHS, activation="relu"),
        data=DataConfig(kind="blobs", samples=SAMPLES, classes=CLASSES, features=FEATURES),
        train=TrainConfig(epochs=1, capture=CaptureConfig(every=1, include_initial=False)),
        landscape=LandscapeConfig(grid=GridConfig(points=points), eval=EvalConfig(samples=SAMPLES)),
        executor=executor,
        max_points=points * points,
    )


def torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def run_side(points: int, executor: str, folder: Path) -> tuple[float, float]:
    """``(points/s of the tile loop, wall seconds of the whole call)`` of one fresh run."""
    t0 = time.perf_counter()
    compute_sequence(workload(points, executor), folder, progress=False, fresh=True)
    wall = time.perf_counter() - t0
    return float(st.open(folder).manifest["timings"]["points_per_s"]), wall


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--points", type=int, default=101)
    ap.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    args = ap.parse_args(argv)
    sides = ["serial", "local:1", "local:2"]
    cluster = None
    try:
        import distributed

        cluster = distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        )
        dask_address = "dask://" + cluster.scheduler_address.removeprefix("tcp://")
        sides.append(dask_address)
    except ImportError:
        print("dask x2: skipped (pip install 'lossfilm[cluster]')", file=sys.stderr)
    names = {s: ("dask x2" if s.startswith("dask://") else s) for s in sides}
    cores = os.cpu_count() or 1
    #: torch threads per process of each side (compute.run gives a pool cores // N each)
    threads = {
        "serial": torch_threads(), "local:1": cores, "local:2": max(1, cores // 2), "dask x2": 1
    }
    rates: dict[str, list[float]] = {s: [] for s in sides}
    walls: dict[str, list[float]] = {s: [] for s in sides}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            if cluster is not None:  # warm the workers (torch import, model build): untimed
                run_side(11, sides[-1], Path(tmp) / "warm")
            for r in range(args.repeats):
                order = sides if r % 2 == 0 else sides[::-1]
                for side in order:
                    folder = Path(tmp) / names[side].replace(" ", "_")
                    rate, wall = run_side(args.points, side, folder)
                    rates[side].append(rate)
                    walls[side].append(wall)
                    print(f"repeat {r + 1}: {names[side]:8s} {rate:7.0f} pts/s, {wall:6.2f} s",
                          file=sys.stderr)
    finally:
        if cluster is not None:
            cluster.close()
    med = {s: statistics.median(rates[s]) for s in sides}
    wall = {s: statistics.median(walls[s]) for s in sides}
    base = med["local:1"]
    print(f"\nworkload 1 at {args.points}×{args.points}, median of {args.repeats}")
    print(f"{'side':10s} {'pts/s':>8s} {'vs local:1':>10s} {'wall s':>8s}")
    for s in sides:
        print(f"{names[s]:10s} {med[s]:8.0f} {med[s] / base:9.2f}x {wall[s]:8.2f}")
    if not args.no_record:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        cells = ", ".join(
            f"{names[s]} [{threads[names[s]]}t] {med[s]:.0f} pts/s"
            f" ({med[s] / base:.2f}x, {wall[s]:.1f} s)"
            for s in sides
        )
        load = os.getloadavg()[0]
        row = (
            f"- {stamp} | scaling | {cpu_model()}, {os.cpu_count()} cores | workload 1,"
            f" {args.points}x{args.points}, 1 state, compute_sequence, [torch threads per process],"
            f" median of {args.repeats}:"
            f" {cells} | load {load:.1f}\n"
        )
        with open(RESULTS, "a", encoding="utf-8") as f:
            f.write(row)
        print(f"recorded in {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
