"""Mesh stage benchmark: time per frame for a 1024x1024 render grid from a 51x51 sequence.

Two measurements, each the median of several repetitions:

1. Upsampling one frame, side by side and alternating in one process, three ways to
   evaluate the same interpolating cubic spline on the same data and grids (float32 out):
   the sparse B-spline basis the mesh stage uses (``By @ (Cy Z Cx.T) @ Bx.T``), dense
   precomputed matrices (``Ry @ Z @ Rx.T``, two BLAS products) and
   ``scipy.interpolate.RectBivariateSpline(..., s=0)`` refitted per frame.
2. The whole ``FilmSurface.frame_at`` (time interpolation, upsampling, normals, colour
   coordinate, landmarks, trajectory) and its parts.

The floor this project holds itself to is 50 ms per frame on CPU. Prints a table and
appends a dated row to ``benchmarks/RESULTS.md``.

Run: ``.venv/bin/python benchmarks/mesh.py [--resolution 1024] [--repeats 15]``
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from scipy.interpolate import RectBivariateSpline

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lossfilm.compute.execution.progress import Progress  # noqa: E402
from lossfilm.compute.store.sequence import SurfaceSequence  # noqa: E402
from lossfilm.render.mesh.film_surface import FilmSurface, MeshConfig  # noqa: E402
from lossfilm.render.mesh.resample import grid_normals  # noqa: E402
from _machine import append_result, cpu_model  # noqa: E402 - benchmarks run as scripts

#: Per-frame budget on CPU (ms) for a 1024x1024 render grid.
FLOOR_MS = 50.0


def make_sequence(n_states: int = 20, n: int = 51) -> SurfaceSequence:
    """A drifting, deepening bowl with ripples, on an n x n grid in [-1, 1]^2."""
    a = np.linspace(-1.0, 1.0, n)
    aa, bb = np.meshgrid(a, a)
    s = np.arange(n_states, dtype=np.float64)
    cx = 0.5 * np.cos(np.pi * s / (n_states - 1))
    loss = np.stack([
        0.02 + (1 + k) * ((aa - cx[k]) ** 2 + 0.6 * bb ** 2)
        + 0.2 * np.sin(6 * aa + k) * np.cos(5 * bb)
        for k in range(n_states)
    ]).astype(np.float32) + 0.5
    ball = np.stack([cx, 0.2 * np.sin(s / 3)], axis=1)
    return SurfaceSequence(a=a, b=a, loss=loss, epochs=s, steps=s.astype(int) * 100,
                           labels=[f"epoch {int(k)}" for k in s], ball=ball,
                           values={"lr": 0.1 * np.ones(n_states)})


def timed(fn, *args) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - t0) * 1e3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=int, default=1024)
    parser.add_argument("--states", type=int, default=20)
    parser.add_argument("--grid", type=int, default=51)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args(argv)

    seq = make_sequence(args.states, args.grid)
    duration, fps = 10.0, 30.0
    t0 = time.perf_counter()
    fs = FilmSurface(seq, MeshConfig(resolution=args.resolution), duration, fps)
    setup_ms = (time.perf_counter() - t0) * 1e3
    x = fs.topology.x.astype(np.float64)
    y = fs.topology.y.astype(np.float64)
    rng = np.random.default_rng(0)
    times = rng.uniform(0.0, duration, size=args.repeats)

    parts: dict[str, list[float]] = {k: [] for k in (
        "sparse basis (used)", "dense Ry@Z@Rx.T", "RectBivariateSpline",
        "time interpolation (coarse)",
        "normals", "frame_at (everything)")}
    up = fs.field.upsample
    ry, rx = up.ry, up.rx
    fs.frame_at(0.1)  # warm caches and BLAS threads
    with Progress("mesh benchmark", args.repeats, unit="repeats") as progress:
        for t in times:
            p = fs.position_at(t)
            zc = fs.surface.z(p)
            parts["time interpolation (coarse)"].append(timed(fs.surface.z, p))
            # alternate the three upsamplers on the same coarse heights
            parts["sparse basis (used)"].append(timed(up, zc))
            parts["dense Ry@Z@Rx.T"].append(timed(lambda z: (ry @ z) @ rx.T, zc))
            parts["RectBivariateSpline"].append(timed(
                lambda z: RectBivariateSpline(seq.b, seq.a, z, s=0)(y, x).astype(np.float32), zc))
            h = up(zc)
            parts["normals"].append(timed(grid_normals, h, fs.field.dx, fs.field.dy))
            parts["frame_at (everything)"].append(timed(fs.frame_at, t))
            progress.advance()

    med = {k: statistics.median(v) for k, v in parts.items()}
    used = med["sparse basis (used)"]
    ratio = med["RectBivariateSpline"] / used
    dense_ratio = med["dense Ry@Z@Rx.T"] / used
    ny, nx = fs.topology.shape
    print(f"\nmesh stage, {ny}x{nx} render grid from {args.grid}x{args.grid}"
          f" x {args.states} states,"
          f" median of {args.repeats}")
    print(f"{'part':32s} {'ms':>9s}")
    for k, v in med.items():
        print(f"{k:32s} {v:9.2f}")
    print(f"{'setup (once per film)':32s} {setup_ms:9.2f}")
    print(f"upsampling: the sparse basis is {ratio:.1f}x faster than RectBivariateSpline"
          f" and {dense_ratio:.1f}x faster than dense BLAS matrices")
    print(f"load average while measuring: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    frame_ms = med["frame_at (everything)"]
    verdict = "within" if frame_ms <= FLOOR_MS else "OVER"
    print(f"frame_at {frame_ms:.1f} ms: {verdict} the {FLOOR_MS:.0f} ms floor")

    if not args.no_record:
        row = (f"- {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC | mesh |"
               f" {cpu_model()}, {os.cpu_count()} cores | {ny}x{nx} from {args.grid}x{args.grid}"
               f" x {args.states} | frame_at {frame_ms:.1f} ms (upsample {used:.2f}, normals"
               f" {med['normals']:.1f}); upsampling vs RectBivariateSpline {ratio:.1f}x,"
               f" vs dense BLAS {dense_ratio:.1f}x faster | load {os.getloadavg()[0]:.1f}\n")
        print(f"appended to {append_result(row)}")
    return 0 if frame_ms <= FLOOR_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
