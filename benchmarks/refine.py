"""Refinement benchmark (BENCHMARKS.md workload 6): evaluations and height error vs uniform.

Two surfaces, each refined adaptively and evaluated on the uniform grid of the same final
resolution (the uniform grid is the reference: every point measured):

``analytic``  a smooth basin, a rough rim (|sin·cos| kinks) and a sharp ridge, at 1025²
              (coarse 33²), with a known value everywhere.
``SCENE``     a shipped scene at test scale (``--scenes``; default horizon and quickstart):
              its model, data, directions and plane, 2 epochs (3 states), 500 samples, a
              ``--target``² grid (default 129², coarse 17²), computed twice with
              ``compute_sequence``: uniform and refined.

Errors are in the mesh stage's default height space (log loss), as a fraction of each
state's height span: max and RMS over all points and states. The goal (issue 16): max error
within the render's height tolerance (1/256 of the span: one step of an 8-bit colormap)
with at most 30 % of the uniform grid's evaluations.

Run: ``.venv/bin/python benchmarks/refine.py [--target 129] [--scenes horizon quickstart]``
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _machine import append_result, cpu_model  # noqa: E402 - benchmarks run as scripts
from lossfilm.compute.landscape.refine import RefineConfig, refine_surface  # noqa: E402

#: the render's height tolerance, as a fraction of the height span
HEIGHT_TOL = 1 / 256
#: the evaluation goal, as a fraction of the uniform grid's
EVAL_GOAL = 0.30


def analytic(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    r2 = a**2 + b**2
    rough = 0.4 * np.clip(r2 - 0.3, 0, None) * np.abs(np.sin(23 * a) * np.cos(19 * b))
    ridge = 0.5 * np.exp(-(((a - 0.3 * b - 0.5) / 0.08) ** 2))
    return 0.1 + 2 * r2 + rough + ridge + 1e-3


def errors(refined: np.ndarray, uniform: np.ndarray) -> tuple[float, float]:
    """Max and RMS of ``|log refined − log uniform|`` / span of ``log uniform``, per state."""
    refined, uniform = np.atleast_3d(refined.T).T, np.atleast_3d(uniform.T).T  # (S, ny, nx)
    out = []
    for r, u in zip(refined, uniform):
        lu = np.log(np.maximum(u, 1e-30))
        out.append(np.abs(np.log(np.maximum(r, 1e-30)) - lu) / np.ptp(lu))
    e = np.stack(out)
    return float(e.max()), float(np.sqrt((e**2).mean()))


def bench_analytic(target: int = 1025, coarse: int = 33) -> dict:
    axis = np.linspace(-1, 1, target)
    truth = analytic(*np.meshgrid(axis, axis))

    def f(flat):
        r, c = np.divmod(flat, target)
        return analytic(axis[c], axis[r])

    t0 = time.perf_counter()
    values, evaluated = refine_surface(f, target, RefineConfig(target=target, coarse=coarse))
    seconds = time.perf_counter() - t0
    mx, rms = errors(values, truth)
    return dict(name=f"analytic {target}²", evals=int(evaluated.sum()), uniform=target**2,
                max=mx, rms=rms, seconds=seconds)


def bench_scene(name: str, target: int, coarse: int) -> dict:
    from lossfilm.compute.store import folder as st
    from lossfilm.compute.stage.run import compute_sequence
    from lossfilm.render.scene.scene import load_scene

    c = load_scene(ROOT / "scenes" / f"{name}.yaml").compute
    train = dataclasses.replace(c.train, epochs=2, capture=dataclasses.replace(c.train.capture, every=1, unit="epoch"))
    data = dataclasses.replace(c.data, samples=min(c.data.samples or 500, 500))
    grid = dataclasses.replace(c.landscape.grid, points=target, shape=None, refine=RefineConfig())
    ev = dataclasses.replace(c.landscape.eval, samples=min(c.landscape.eval.samples, 500))
    land = dataclasses.replace(c.landscape, grid=grid, eval=ev)
    uniform_cfg = dataclasses.replace(c, train=train, data=data, landscape=land, executor="serial",
                                      max_points=10**9)
    refined_cfg = dataclasses.replace(uniform_cfg, landscape=dataclasses.replace(
        land, grid=dataclasses.replace(grid, refine=RefineConfig(target=target, coarse=coarse))))
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        compute_sequence(uniform_cfg, Path(tmp) / "uniform", progress=False)
        t_uniform = time.perf_counter() - t0
        t0 = time.perf_counter()
        compute_sequence(refined_cfg, Path(tmp) / "refined", progress=False)
        t_refined = time.perf_counter() - t0
        u, r = st.open(Path(tmp) / "uniform"), st.open(Path(tmp) / "refined")
        evals = sum(int(r.evaluated(i).sum()) for i in range(len(r.states)))
        mx, rms = errors(r.sequence().loss, u.sequence().loss)
        states = len(r.states)
    return dict(name=f"{name} {target}² x{states}", evals=evals, uniform=states * target**2,
                max=mx, rms=rms, seconds=t_refined, uniform_seconds=t_uniform)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", type=int, default=129)
    ap.add_argument("--coarse", type=int, default=17)
    ap.add_argument("--scenes", nargs="*", default=["horizon", "quickstart"])
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args(argv)
    rows = [bench_analytic()]
    for name in args.scenes:
        rows.append(bench_scene(name, args.target, args.coarse))
    print(f"{'surface':28s} {'evals':>9s} {'of uniform':>10s} {'max err':>8s} {'RMS err':>8s} {'s':>7s}")
    parts = []
    for r in rows:
        frac = r["evals"] / r["uniform"]
        ok = r["max"] <= HEIGHT_TOL and frac <= EVAL_GOAL
        extra = f" (uniform {r['uniform_seconds']:.1f} s)" if "uniform_seconds" in r else ""
        print(f"{r['name']:28s} {r['evals']:9,d} {frac:10.1%} {r['max']:8.2e} {r['rms']:8.2e}"
              f" {r['seconds']:7.1f}{extra} {'meets' if ok else 'MISSES'} the goal")
        parts.append(f"{r['name']}: {r['evals']:,} evals = {frac:.1%} of uniform, max {r['max']:.2e},"
                     f" RMS {r['rms']:.2e} of span, {r['seconds']:.1f} s{extra}"
                     f" ({'meets' if ok else 'MISSES'})")
    print(f"goal: max error <= {HEIGHT_TOL:.2e} of the log-height span with <= {EVAL_GOAL:.0%} of the evaluations")
    if not args.no_record:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        row = (f"- {stamp} | refine | {cpu_model()}, {os.cpu_count()} cores | workload 6, tolerance"
               f" {RefineConfig().tolerance}, log height, goal max <= 1/256 of span with <= 30% evals | "
               + "; ".join(parts) + f" | load {os.getloadavg()[0]:.1f}\n")
        print(f"appended to {append_result(row)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
