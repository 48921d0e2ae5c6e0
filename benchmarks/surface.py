"""Surface-evaluation benchmark (BENCHMARKS.md workload 1): grid points per second.

Workload: an MLP 64→128→128→10 (ReLU) in eval mode, 2048 samples of 64 features,
cross-entropy, a 51×51 grid in [-1, 1]² along two filter-normalized directions, float32 on
CPU. Sides, run alternately in one process, each the median of ``--repeats`` runs:

``lossfilm``       ``lossfilm.compute.landscape.surface.evaluate_tile`` with ``method='auto'`` (here the
                   ``sequential`` path: first-layer products precomputed once)
``lossfilm xN``    the same in N spawn workers of one thread (N = cores), rows split
                   between them: what ``compute.run``'s default local pool does
``lossfilm-loop``  ``evaluate_tile(method='loop')``: one ``functional_call`` per point
``vmap``           ``torch.vmap`` over batches of 64 grid points of a ``functional_call``
                   (the batched design this project measured and did not keep)
``plain``          a loop that loads each perturbed state dict and calls the model
``loss-landscapes`` the peer, ``random_plane(model, Loss, distance=1, steps=51,
                   normalization='filter')`` on the same model and tensors (skipped with a
                   message when ``pip install loss-landscapes==3.0.6`` was not done)

What differs: the peer draws its own (uniform) directions and scales its grid by its
``distance`` rule; the number of points, model, data and precision are the same.
Also measures float32 ``torch.mm`` 2048³ GFLOP/s and the fraction the evaluation reaches
(FLOPs per point = 2 × samples × multiply-adds of the network).

Workload 4 (``--workload 4``): the zoo's ``resnet`` (depth 3 = ResNet-20, widths 16/32/64,
BN) in eval mode, 1,024 synthetic 3×32×32 images, 10 classes, a 7×7 grid of two
filter-normalized directions. Sides: ``lossfilm`` (``evaluate_tile``, auto: BN folded,
cache-sized chunks), ``lossfilm-1024`` (the plain ``loop`` path, all images in one forward:
what lossfilm did before), ``plain`` (load_state_dict + forward, all images at once) and
``loss-landscapes`` ``random_plane(steps=7)``; plus the *forward limit*: one plain forward of
the same model over the same images at its best batch size (chosen from 1024…64 by timing),
reported as points/s and as the fraction of it each side reaches.

Run: ``.venv/bin/python benchmarks/surface.py [--repeats 5] [--steps 51] [--workload 1|4]``
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import copy
import multiprocessing
import datetime
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.func import functional_call
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lossfilm.compute.landscape.directions import perturbable, random_plane  # noqa: E402

from lossfilm.compute.config.landscape import DirectionsConfig
from lossfilm.compute.landscape.surface import evaluate_tile, grid_axis  # noqa: E402
from _machine import append_result, cpu_model  # noqa: E402 - benchmarks run as scripts

SAMPLES, FEATURES, WIDTHS, CLASSES = 2048, 64, (128, 128), 10
VMAP_BATCH = 64
#: the floor this project holds itself to against the peer (points/s ratio)
FLOOR_RATIO = 1.5


def workload(seed: int = 0):
    torch.manual_seed(seed)
    layers, prev = [], FEATURES
    for w in WIDTHS:
        layers += [nn.Linear(prev, w), nn.ReLU()]
        prev = w
    model = nn.Sequential(*layers, nn.Linear(prev, CLASSES)).eval()
    x = torch.randn(SAMPLES, FEATURES)
    y = torch.randint(0, CLASSES, (SAMPLES,))
    return model, x, y


def macs() -> int:
    dims = (FEATURES, *WIDTHS, CLASSES)
    return sum(a * b for a, b in zip(dims, dims[1:]))


def matmul_gflops(n: int = 2048, reps: int = 3) -> float:
    a = torch.randn(n, n)
    a @ a
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        a @ a
        times.append(time.perf_counter() - t)
    return 2 * n**3 / statistics.median(times) / 1e9


def side_ours(method):
    def run(model, x, y, origin, d1, d2, coords):
        return evaluate_tile(model, origin, d1, d2, coords, x, y, F.cross_entropy,
                             method=method, accuracy=False).loss
    return run


_WORKER: dict = {}


def _worker_init() -> None:
    # what compute.run's local pool does: one thread per worker, workload built once
    torch.set_num_threads(1)
    model, x, y = workload()
    origin = {k: v.clone() for k, v in model.state_dict().items()}
    d1, d2 = random_plane(perturbable(model), DirectionsConfig(seed=1))
    _WORKER.update(args=(model, x, y, origin, d1, d2))


def _worker_tile(coords: np.ndarray) -> np.ndarray:
    model, x, y, origin, d1, d2 = _WORKER["args"]
    return side_ours("auto")(model, x, y, origin, d1, d2, coords)


def side_pool(pool, workers: int):
    """evaluate_tile in ``workers`` spawn processes of one thread, rows split between them."""

    def run(model, x, y, origin, d1, d2, coords):
        parts = np.array_split(coords, workers * 4)
        return np.concatenate(list(pool.map(_worker_tile, parts)))
    return run


def side_vmap(model, x, y, origin, d1, d2, coords):
    def point(ab):
        p = {k: origin[k] + ab[0] * d1[k] + ab[1] * d2[k] if k in d1 else origin[k] for k in origin}
        return F.cross_entropy(functional_call(model, p, (x,)), y)

    f = torch.vmap(point)
    c = torch.as_tensor(coords, dtype=torch.float32)
    with torch.inference_mode():
        return torch.cat([f(c[i : i + VMAP_BATCH]) for i in range(0, len(c), VMAP_BATCH)]).numpy()


def side_plain(model, x, y, origin, d1, d2, coords):
    m = copy.deepcopy(model)
    out = np.empty(len(coords))
    with torch.no_grad():
        for i, (a, b) in enumerate(coords):
            m.load_state_dict({k: origin[k] + a * d1[k] + b * d2[k] if k in d1 else origin[k] for k in origin})
            out[i] = F.cross_entropy(m(x), y).item()
    return out


def side_peer(steps):
    import loss_landscapes
    import loss_landscapes.metrics

    def run(model, x, y, origin, d1, d2, coords):
        metric = loss_landscapes.metrics.Loss(F.cross_entropy, x, y)
        return loss_landscapes.random_plane(model, metric, distance=1, steps=steps,
                                            normalization="filter", deepcopy_model=True)
    return run


def per_architecture(repeats: int, points: int = 48) -> dict[str, dict[str, float]]:
    """Loop vs vmap on the zoo's conv nets (not Sequential: no first-layer trick there)."""
    from lossfilm.compute.model.zoo import build_model
    from lossfilm.compute.config.model import ModelConfig

    out = {}
    for kind in ("cnn", "resnet"):
        torch.manual_seed(0)
        model = build_model(ModelConfig(kind=kind, depth=1, width=8), (1, 16, 16), 4).eval()
        x, y = torch.randn(512, 1, 16, 16), torch.randint(0, 4, (512,))
        origin = {k: v.clone() for k, v in model.state_dict().items()}
        d1, d2 = random_plane(perturbable(model), DirectionsConfig(seed=1))
        coords = np.random.default_rng(0).uniform(-1, 1, (points, 2))
        sides = {"lossfilm": side_ours("auto"), "vmap": side_vmap}
        times = {k: [] for k in sides}
        for fn in sides.values():
            fn(model, x, y, origin, d1, d2, coords[:2])
        for r in range(repeats):
            for name in (list(sides) if r % 2 == 0 else list(sides)[::-1]):
                t = time.perf_counter()
                sides[name](model, x, y, origin, d1, d2, coords)
                times[name].append(time.perf_counter() - t)
        out[kind] = {k: points / statistics.median(v) for k, v in times.items()}
    return out


RESNET_IMAGES, RESNET_STEPS = 1024, 7
LIMIT_BATCHES = (1024, 256, 128, 64, 32)
#: the goal for workload 4: this fraction of the forward limit
LIMIT_GOAL = 0.9


def resnet_workload(seed: int = 0, images: int = RESNET_IMAGES):
    from lossfilm.compute.model.zoo import build_model
    from lossfilm.compute.config.model import ModelConfig

    torch.manual_seed(seed)
    model = build_model(ModelConfig(kind="resnet", depth=3, width=16, batchnorm=True), (3, 32, 32), 10)
    for m in model.modules():  # trained-looking BN, so folding has work to do; and
        if isinstance(m, nn.BatchNorm2d):  # loss-landscapes divides by zero on all-zero biases
            m.running_mean.normal_(0, 0.1)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.normal_(0, 0.1)
    x = torch.randn(images, 3, 32, 32)
    y = torch.randint(0, 10, (images,))
    return model.eval(), x, y


def forward_time(model, x, batch: int) -> float:
    with torch.inference_mode():
        t = time.perf_counter()
        for i in range(0, x.shape[0], batch):
            model(x[i : i + batch])
        return time.perf_counter() - t


def workload4(args) -> int:
    images, steps = args.images or RESNET_IMAGES, args.w4_steps or RESNET_STEPS
    model, x, y = resnet_workload(images=images)
    origin = {k: v.clone() for k, v in model.state_dict().items()}
    d1, d2 = random_plane(perturbable(model), DirectionsConfig(seed=1))
    axis = grid_axis(-1.0, 1.0, steps)
    aa, bb = np.meshgrid(axis, axis)
    coords = np.stack([aa.ravel(), bb.ravel()], 1)
    n = len(coords)

    def ours(c):
        return evaluate_tile(model, origin, d1, d2, c, x, y, F.cross_entropy, accuracy=False)

    def ours_1024(c):
        return evaluate_tile(model, origin, d1, d2, c, x, y, F.cross_entropy, accuracy=False,
                             method="loop", batch_size=images)

    sides = {"lossfilm": lambda c: ours(c).loss,
             "plain": lambda c: side_plain(model, x, y, origin, d1, d2, c)}
    if args.with_1024:
        sides["lossfilm-1024"] = lambda c: ours_1024(c).loss
    try:
        import loss_landscapes  # noqa: F401

        peer = side_peer(steps)
        sides["loss-landscapes"] = lambda c: peer(model, x, y, origin, d1, d2, c)
    except ImportError:
        print("loss-landscapes not installed: peer skipped (pip install -e '.[bench]')")
    few = coords[[0, n // 2, n - 1]]
    res = ours(few)
    err = np.max(np.abs(res.loss - side_plain(model, x, y, origin, d1, d2, few)) / res.loss)
    print(f"lossfilm path: {res.method}; max rel. difference to plain on 3 points: {err:.1e}")
    forward_time(model, x, 256)  # warm-up
    best = {b: forward_time(model, x, b) for b in LIMIT_BATCHES if b <= images}
    batch = min(best, key=best.get)
    print(f"plain forward of {images} images by batch size (s): "
          + ", ".join(f"{b}: {t:.2f}" for b, t in best.items()) + f" -> limit at batch {batch}")
    times = {k: [] for k in [*sides, "limit"]}
    for r in range(args.repeats):
        order = list(times) if r % 2 == 0 else list(times)[::-1]
        for name in order:
            t = time.perf_counter()
            if name == "limit":
                forward_time(model, x, batch)
                times[name].append((time.perf_counter() - t) * n)  # as if for the whole grid
            else:
                sides[name](coords)
                times[name].append(time.perf_counter() - t)
            print(f"  repeat {r + 1}: {name} {n / times[name][-1]:.3f} points/s", flush=True)
    rate = {k: n / statistics.median(v) for k, v in times.items()}
    print(f"\nworkload 4: ResNet-20 (16/32/64, BN, eval), {images} images 3x32x32,"
          f" {steps}x{steps} grid, {torch.get_num_threads()} threads, median of {args.repeats}")
    print(f"{'side':16s} {'points/s':>9s} {'of limit':>9s}")
    for k in times:
        print(f"{k:16s} {rate[k]:9.3f} {rate[k] / rate['limit']:9.0%}")
    paired = statistics.median(lim / o for o, lim in zip(times["lossfilm"], times["limit"]))
    verdict = "meets" if paired >= LIMIT_GOAL else "BELOW"
    print(f"lossfilm / forward limit: {paired:.0%} (median of paired repeats; {verdict} the"
          f" {LIMIT_GOAL:.0%} goal)")
    peer_text = ""
    if "loss-landscapes" in rate:
        ratio = statistics.median(p / o for o, p in zip(times["lossfilm"], times["loss-landscapes"]))
        peer_text = f", loss-landscapes {rate['loss-landscapes']:.3f} (lossfilm {ratio:.2f}x, paired)"
        print(f"lossfilm / loss-landscapes: {ratio:.2f}x (median of paired repeats)")
    if not args.no_record:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        reduced = "" if (images, steps) == (RESNET_IMAGES, RESNET_STEPS) else " REDUCED"
        row = (
            f"- {stamp} | surface w4 | {cpu_model()}, {os.cpu_count()} cores, {torch.get_num_threads()} threads"
            f" | workload 4{reduced}, ResNet-20 BN eval, {images} images, {steps}x{steps},"
            f" median of {args.repeats}: lossfilm ({res.method}) {rate['lossfilm']:.3f} pts/s,"
            + (f" lossfilm-1024 (loop, one batch) {rate['lossfilm-1024']:.3f}," if args.with_1024 else "")
            + f" plain {rate['plain']:.3f}"
            + peer_text
            + f" | forward limit {rate['limit']:.3f} pts/s at batch {batch}; lossfilm reaches"
            f" {paired:.0%} ({verdict} the {LIMIT_GOAL:.0%} goal) | load {os.getloadavg()[0]:.1f}\n"
        )
        print(f"appended to {append_result(row)}")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--steps", type=int, default=51)
    ap.add_argument("--workload", type=int, default=1, choices=(1, 4))
    ap.add_argument("--images", type=int, default=0,
                    help="workload 4: fewer images than 1024 (a reduced run, marked so in the row)")
    ap.add_argument("--w4-steps", type=int, default=0,
                    help="workload 4: grid steps instead of 7 (a reduced run, marked so in the row)")
    ap.add_argument("--with-1024", action="store_true",
                    help="workload 4: also the plain loop path with all images in one forward")
    ap.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    args = ap.parse_args(argv)
    if args.workload == 4:
        return workload4(args)

    model, x, y = workload()
    origin = {k: v.clone() for k, v in model.state_dict().items()}
    d1, d2 = random_plane(perturbable(model), DirectionsConfig(seed=1))
    axis = grid_axis(-1.0, 1.0, args.steps)
    aa, bb = np.meshgrid(axis, axis)
    coords = np.stack([aa.ravel(), bb.ravel()], 1)
    n = len(coords)

    workers = os.cpu_count() or 1
    ctx = multiprocessing.get_context("spawn")
    pool = cf.ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init)
    sides = {"lossfilm": side_ours("auto"), f"lossfilm x{workers}": side_pool(pool, workers),
             "lossfilm-loop": side_ours("loop"), "vmap": side_vmap, "plain": side_plain}
    try:
        import loss_landscapes  # noqa: F401

        sides["loss-landscapes"] = side_peer(args.steps)
    except ImportError:
        print("loss-landscapes not installed: peer skipped (pip install loss-landscapes==3.0.6)")

    # same numbers first: our paths against the plain reference, on a few points
    few = coords[:: max(1, n // 17)]
    ref = side_plain(model, x, y, origin, d1, d2, few)
    for name in ("lossfilm", f"lossfilm x{workers}", "lossfilm-loop", "vmap"):
        err = np.max(np.abs(np.asarray(sides[name](model, x, y, origin, d1, d2, few)) - ref) / ref)
        print(f"check {name:14s} max rel. difference to plain: {err:.1e}")

    for fn in sides.values():  # warm-up
        fn(model, x, y, origin, d1, d2, coords[:8])
    times = {k: [] for k in sides}
    for r in range(args.repeats):
        # alternate the order, and keep lossfilm next to the peer so their pair sees one load
        order = list(sides) if r % 2 == 0 else list(sides)[::-1]
        if "loss-landscapes" in order:
            order.remove("lossfilm")
            order.insert(order.index("loss-landscapes") + (r % 2 == 0), "lossfilm")
        for name in order:
            t = time.perf_counter()
            sides[name](model, x, y, origin, d1, d2, coords)
            times[name].append(time.perf_counter() - t)
    gflops = matmul_gflops()
    flops_point = 2 * SAMPLES * macs()
    rate = {k: n / statistics.median(v) for k, v in times.items()}

    print(f"\nworkload 1: MLP {FEATURES}→{'→'.join(map(str, WIDTHS))}→{CLASSES}, {SAMPLES} samples,"
          f" {args.steps}×{args.steps} grid, float32, {torch.get_num_threads()} threads,"
          f" median of {args.repeats}")
    print("(GFLOP/s are nominal, 2 × samples × network multiply-adds per point: the first-layer\n trick skips about a third of them, so lossfilm's figure can pass the mm rate)")
    print(f"{'side':16s} {'points/s':>10s} {'s/grid':>8s} {'GFLOP/s':>8s} {'of mm':>6s}")
    for k in sides:
        g = rate[k] * flops_point / 1e9
        print(f"{k:16s} {rate[k]:10.0f} {n / rate[k]:8.2f} {g:8.1f} {g / gflops:6.0%}")
    print(f"torch.mm 2048³ float32: {gflops:.1f} GFLOP/s")
    peer = rate.get("loss-landscapes")
    ratio_text = ""
    if peer:
        # Load from other jobs drifts: the ratio of each repeat's adjacent pair is steadier
        # than the ratio of medians, so that is the one judged against the floor.
        paired = statistics.median(p / o for o, p in zip(times["lossfilm"], times["loss-landscapes"]))
        ratio = rate["lossfilm"] / peer
        verdict = "meets" if paired >= FLOOR_RATIO else "BELOW"
        ratio_text = (f"; vs loss-landscapes {ratio:.2f}x (medians), {paired:.2f}x (median of"
                      f" paired repeats, {verdict} the {FLOOR_RATIO}x floor)")
        print(f"lossfilm / loss-landscapes: {ratio:.2f}x of medians, {paired:.2f}x median of paired"
              f" repeats ({verdict} the {FLOOR_RATIO}x floor)")
    pool.shutdown()
    pooled = rate[f"lossfilm x{workers}"]
    if peer:
        print(f"lossfilm x{workers} (compute's local pool: {workers} processes of 1 thread)"
              f" / loss-landscapes: {pooled / peer:.2f}x of medians")
        ratio_text += f"; lossfilm x{workers} {pooled:.0f} pts/s = {pooled / peer:.2f}x"
    print(f"lossfilm / plain loop: {rate['lossfilm'] / rate['plain']:.2f}x")
    arch = per_architecture(max(5, args.repeats))
    print("\nper architecture (512 samples of 1×16×16, 4 classes), points/s:")
    for kind, r in arch.items():
        print(f"  {kind:8s} lossfilm (loop) {r['lossfilm']:7.0f}   vmap {r['vmap']:7.0f}")
    arch_text = ", ".join(f"{k} loop {r['lossfilm']:.0f} vs vmap {r['vmap']:.0f}" for k, r in arch.items())

    if not args.no_record:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        ours_g = rate["lossfilm"] * flops_point / 1e9
        row = (
            f"- {stamp} | surface | {cpu_model()}, {os.cpu_count()} cores, {torch.get_num_threads()} threads"
            f" | workload 1, {args.steps}x{args.steps}, median of {args.repeats}:"
            f" lossfilm {rate['lossfilm']:.0f} pts/s, lossfilm-loop {rate['lossfilm-loop']:.0f},"
            f" vmap {rate['vmap']:.0f}, plain {rate['plain']:.0f}"
            + (f", loss-landscapes {peer:.0f}" if peer else ", loss-landscapes not installed")
            + ratio_text
            + f" | mm {gflops:.0f} GFLOP/s, lossfilm reaches {ours_g / gflops:.0%} | {arch_text}\n"
        )
        print(f"appended to {append_result(row)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
