"""Hessian benchmark: seconds per Hessian-vector product and per top-eigenvalue estimate.

Workload: the surface benchmark's network (MLP 64→128→128→10, ReLU, eval mode), 2048
samples of 64 features, cross-entropy, float32 on CPU, Hessian over all parameters.
Sides, run alternately in one process, each the median of ``--repeats`` runs:

``double_backward``  ``compute.hessian.loss_hvp(method='double_backward')``: gradient graph
                     kept, one backward pass per product (PyHessian's scheme)
``jvp``              ``loss_hvp(method='jvp')``: ``torch.func`` forward-over-reverse
``pyhessian``        the peer, ``pyhessian.hessian(model, CrossEntropyLoss(), data=(x, y))``:
                     its ``hessian_vector_product`` and ``eigenvalues(maxIter=100, tol=1e-3)``
                     (skipped with a message when ``pip install pyhessian`` was not done)

Top eigenvalue: ours is Lanczos (``lossfilm.compute.curvature.hessian.lanczos``, top only, relative residual
tolerance 1e-3); PyHessian's is power iteration (relative change 1e-3). What differs: the
stopping rules (each its own, at 1e-3); the model, data, precision and operator are the
same. Both estimates are printed so the agreement is visible.

Run: ``.venv/bin/python benchmarks/hessian.py [--repeats 5] [--products 10]``
"""

from __future__ import annotations

import argparse
import copy
import datetime
import os
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lossfilm.compute.curvature.hessian import lanczos, loss_hvp  # noqa: E402
from surface import SAMPLES, workload  # noqa: E402 - workload 1 of BENCHMARKS.md
from _machine import cpu_model  # noqa: E402 - benchmarks run as scripts

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
TOL = 1e-3


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--products", type=int, default=10, help="HVPs per timed run")
    ap.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    args = ap.parse_args()
    model, x, y = workload()
    n = sum(p.numel() for p in model.parameters())
    try:
        import pyhessian
        from pyhessian.utils import hessian_vector_product
    except ImportError:
        pyhessian = None
        print("pyhessian not installed (pip install --no-deps pyhessian): peer skipped")

    ours = {m: loss_hvp(model, model.state_dict(), x, y, F.cross_entropy, method=m)[0]
            for m in ("double_backward", "jvp")}
    v = torch.randn(n)
    hvp_times: dict[str, list] = {k: [] for k in ("double_backward", "jvp", "pyhessian")}
    eig_times: dict[str, list] = {"lanczos": [], "pyhessian": []}
    eig_values: dict[str, list] = {"lanczos": [], "pyhessian": []}
    steps: dict[str, list] = {"lanczos": [], "pyhessian": []}
    peer = None
    if pyhessian is not None:
        peer_model = copy.deepcopy(model)
        peer = pyhessian.hessian(peer_model, nn.CrossEntropyLoss(), data=(x, y), cuda=False)
        sizes = [p.numel() for p in peer.params]
        shapes = [p.shape for p in peer.params]
        v_list = [t.view(s) for t, s in zip(torch.split(v, sizes), shapes)]

    for op in ours.values():  # warm-up: the first product pays for allocations
        op(v)
    if peer is not None:
        hessian_vector_product(peer.gradsH, peer.params, v_list)
    for r in range(args.repeats):
        for name, op in ours.items():
            hvp_times[name].append(timed(lambda: [op(v) for _ in range(args.products)]) / args.products)
        if peer is not None:
            hvp_times["pyhessian"].append(
                timed(lambda: [hessian_vector_product(peer.gradsH, peer.params, v_list)
                               for _ in range(args.products)]) / args.products)
        op = ours["double_backward"]
        res = {}
        eig_times["lanczos"].append(timed(lambda: res.update(
            r=lanczos(op, n, top_k=1, smallest=False, max_steps=100, tol=TOL, seed=r))))
        eig_values["lanczos"].append(float(res["r"].values[0]))
        steps["lanczos"].append(res["r"].steps)
        if peer is not None:
            torch.manual_seed(r)
            got = {}
            module = sys.modules["pyhessian.hessian"]
            counted = {"n": 0}

            def counting(*a, **k):
                counted["n"] += 1
                return hessian_vector_product(*a, **k)

            def run_peer():
                module.hessian_vector_product = counting  # count its products (load-free measure)
                try:
                    got["value"] = peer.eigenvalues(maxIter=100, tol=TOL)[0][0]
                finally:
                    module.hessian_vector_product = hessian_vector_product

            eig_times["pyhessian"].append(timed(run_peer))
            eig_values["pyhessian"].append(float(got["value"]))
            steps["pyhessian"].append(counted["n"])

    med = {k: statistics.median(v) for k, v in {**hvp_times, **{f"eig_{k}": t for k, t in eig_times.items()}}.items() if v}
    print(f"workload: MLP 64-128-128-10, {SAMPLES} samples, {n} parameters, float32, "
          f"{torch.get_num_threads()} threads, median of {args.repeats}")
    print(f"{'side':<18}{'s / HVP':>12}")
    for k in ("double_backward", "jvp", "pyhessian"):
        if k in med:
            print(f"{k:<18}{med[k] * 1e3:>10.2f}ms")
    print(f"{'top eigenvalue':<18}{'seconds':>12}{'value':>12}{'HVPs':>8}")
    print(f"{'lanczos':<18}{med['eig_lanczos']:>12.3f}{statistics.median(eig_values['lanczos']):>12.5f}"
          f"{statistics.median(steps['lanczos']):>8.0f}")
    row_peer = "pyhessian not installed"
    if peer is not None:
        print(f"{'pyhessian power':<18}{med['eig_pyhessian']:>12.3f}"
              f"{statistics.median(eig_values['pyhessian']):>12.5f}{statistics.median(steps['pyhessian']):>8.0f}")
        agree = abs(statistics.median(eig_values["lanczos"]) - statistics.median(eig_values["pyhessian"])) \
            / abs(statistics.median(eig_values["pyhessian"]))
        hvp_ratio = med["pyhessian"] / med["double_backward"]
        eig_ratio = med["eig_pyhessian"] / med["eig_lanczos"]
        print(f"HVP: double_backward {hvp_ratio:.2f}x PyHessian's speed; jvp/double_backward "
              f"{med['jvp'] / med['double_backward']:.2f}x the time")
        fewer = statistics.median(steps["pyhessian"]) / statistics.median(steps["lanczos"])
        print(f"top eigenvalue: Lanczos {eig_ratio:.2f}x PyHessian's speed with {fewer:.1f}x fewer HVPs,"
              f" values agree to {agree:.2%}")
        row_peer = (f"pyhessian HVP {med['pyhessian'] * 1e3:.2f} ms, top eig {med['eig_pyhessian']:.3f} s "
                    f"({statistics.median(steps['pyhessian']):.0f} HVPs, λ {statistics.median(eig_values['pyhessian']):.4f}); HVP {hvp_ratio:.2f}x, "
                    f"top eig {eig_ratio:.2f}x PyHessian ({fewer:.1f}x fewer HVPs), agree {agree:.2%}")
    if not args.no_record:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        load = os.getloadavg()[0]
        row = (f"- {stamp} | hessian | {cpu_model()}, {os.cpu_count()} cores, {torch.get_num_threads()} threads"
               f" | MLP 64-128-128-10, {SAMPLES} samples, {n} params, median of {args.repeats}:"
               f" HVP double_backward {med['double_backward'] * 1e3:.2f} ms, jvp {med['jvp'] * 1e3:.2f} ms;"
               f" top eig Lanczos {med['eig_lanczos']:.3f} s ({statistics.median(steps['lanczos']):.0f} HVPs,"
               f" λ {statistics.median(eig_values['lanczos']):.4f}) | {row_peer} | load {load:.1f}\n")
        with open(RESULTS, "a", encoding="utf-8") as f:
            f.write(row)
        print("recorded in", RESULTS)


if __name__ == "__main__":
    main()
