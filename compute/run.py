"""Compute orchestration: train or load states, build planes, evaluate every tile, store.

:func:`compute_sequence` is the wrapper around the heart (:func:`compute.surface.evaluate_tile`):
it owns files, devices, the executor and progress. Work is cut into *tiles* (one state ×
a block of grid rows). Tasks carry references only (folder, state index, row block); each
worker loads the model, the evaluation subset and the state's plane from the store once.
A rerun with the same configuration computes only the tiles missing on disk.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import hashlib
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch

from compute import store as st
from compute.config import ComputeConfig, parse_executor
from compute.curvature import curvature_pass
from compute.directions import (
    line_plane,
    pca_plane,
    perturbable,
    project,
    random_plane,
    three_point_plane,
)
from compute.executors import open_executor, parse_executor_spec
from compute.experiments.variant import state_model
from compute.progress import Progress, format_seconds
from compute.surface import evaluate_tile, grid_axes

__all__ = ["compute_sequence", "config_hash", "plan_tiles", "evaluate_stored_tile", "resolve_device"]

#: grid points per tile when ``eval.points_per_tile`` is 0: big enough that a worker's
#: per-tile setup (plane load, first-layer products) is noise, small enough to balance.
AUTO_POINTS_PER_TILE = 600
#: jobs with fewer grid evaluations than this run serially under ``executor: auto``:
#: starting spawn workers (a torch import each) costs more than it saves. Measured on 2 cores
#: (41×41 grid, 4 states, small MLP): serial with 2 threads 25.7 s, two 1-thread workers 14.4 s.
AUTO_SERIAL_POINTS = 2_000
#: grid points timed (after a warm-up) to estimate a run's duration before it starts.
PROBE_POINTS = 24
#: keys of the compute section that do not change the numbers (left out of the hash).
_NOT_HASHED = ("executor", "device", "max_points", "curvature", "cluster")  # curvature files hash their own


def config_hash(cfg: ComputeConfig) -> str:
    """Stable hash of everything in the compute section that changes the stored numbers."""
    data = dataclasses.asdict(cfg)
    for k in _NOT_HASHED:
        data.pop(k, None)
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when available, else ``cpu``; an unavailable choice raises."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("compute.device=cuda but torch sees no CUDA device")
    if device == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise ValueError("compute.device=mps but torch sees no MPS device")
    return device


def plan_tiles(ny: int, nx: int, points_per_tile: int = 0) -> list[tuple[int, int]]:
    """Row blocks ``[(row0, row1), ...]`` covering ``ny`` rows, about ``points_per_tile`` each."""
    per = points_per_tile or AUTO_POINTS_PER_TILE
    rows = max(1, min(ny, per // max(nx, 1)))
    return [(r, min(r + rows, ny)) for r in range(0, ny, rows)]


def _say(progress: bool, msg: str) -> None:
    if progress:
        print(f"compute: {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- worker side

_CACHE: dict = {}


def _loaded(folder: str, device: str):
    # The manifest's stamp is in the key: a long-lived (Dask) worker must not keep serving
    # a store that a later run at the same path rewrote with another configuration.
    stamp = os.stat(Path(folder) / st.MANIFEST)
    key = (folder, device, stamp.st_mtime_ns, stamp.st_size)
    if _CACHE.get("key") != key:
        s = st.open(folder)
        x, y = s.eval_data()
        _CACHE.clear()
        _CACHE.update(key=key, store=s, model=s.model(), x=x, y=y, loss_fn=s.loss_fn, state=None)
    return _CACHE


def evaluate_stored_tile(folder: str, index: int, row0: int, row1: int, device: str = "cpu"):
    """Evaluate rows ``[row0, row1)`` of state ``index`` of a store and write the tile.

    Takes references only, so it runs the same in a spawn worker and in-process.
    Returns ``(index, row0, row1, seconds, n_nonfinite)``.
    """
    t0 = time.perf_counter()
    c = _loaded(str(folder), device)
    s: st.Store = c["store"]
    i = next(j for j, e in enumerate(s.states) if e["index"] == index)
    if c["state"] != index:
        d1, d2 = s.directions(i)
        c.update(state=index, origin=s.origin(i), d1=d1, d2=d2)
    ev = s.manifest["eval"]
    aa, bb = np.meshgrid(s.a, s.b[row0:row1])
    coords = np.stack([aa.ravel(), bb.ravel()], axis=1)
    res = evaluate_tile(
        state_model(c, s.states[i]), c["origin"], c["d1"], c["d2"], coords, c["x"], c["y"], c["loss_fn"],
        accuracy=ev["accuracy"], bn_mode=ev["bn_mode"], method=ev["method"],
        batch_size=ev["batch_size"], dtype=getattr(torch, ev["dtype"]), device=device,
    )
    shape = (row1 - row0, s.a.size)
    metrics = {"loss": res.loss.reshape(shape).astype(np.float32)}
    if res.accuracy is not None:
        metrics["accuracy"] = res.accuracy.reshape(shape).astype(np.float32)
    st.write_tile(folder, index, row0, row1, metrics)
    return index, row0, row1, time.perf_counter() - t0, int((~np.isfinite(res.loss)).sum())


# --------------------------------------------------------------------------- main side


def _clear(folder: Path) -> None:
    """Remove what a previous run with another configuration wrote (only our own names)."""
    for name in ("weights", "directions", "surfaces", "data"):
        shutil.rmtree(folder / name, ignore_errors=True)
    for name in (st.MANIFEST, "model.pt"):
        (folder / name).unlink(missing_ok=True)


def _remove_temporaries(folder: Path) -> None:
    """Delete half-written temporaries a killed run left behind (never read, only litter)."""
    for name in ("weights", "directions", "surfaces", "data"):
        for p in (folder / name).rglob(".*.tmp"):
            p.unlink(missing_ok=True)


def _read_manifest(folder: Path) -> dict | None:
    try:
        with open(folder / st.MANIFEST, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _load_point(path: str) -> dict:
    from compute.capture import CheckpointInfo

    state, _ = CheckpointInfo(Path(path), 0.0, "index").load()
    return state


def _eval_at(model, weights, x, y, loss_fn, device) -> tuple[float, float]:
    r = evaluate_tile(model, weights, {}, {}, np.zeros((1, 2)), x, y, loss_fn, device=device)
    return float(r.loss[0]), (float(r.accuracy[0]) if r.accuracy is not None else float("nan"))


def _states(cfg: ComputeConfig, model, dataset, loss_fn, device, progress, folder=None):
    """Yield ``(epoch, step, label, state_dict, values)`` from training or checkpoints."""
    experiment = _experiment(cfg)
    if experiment is not None:
        yield from experiment.states(cfg, model, dataset, loss_fn, device, progress, folder)
        return
    if cfg.checkpoints:
        from compute.capture import load_checkpoints

        for position, label, state in load_checkpoints(cfg.checkpoints):
            yield float(position), 0, label, state, {}
        return
    from compute.train import train_states

    for cs in train_states(model, dataset, cfg.train, loss_fn=loss_fn, device=device, progress=progress):
        yield float(cs.epoch), int(cs.step), cs.label, cs.state, dict(cs.values)


def _check_matches(reference: dict, state: dict, label: str) -> None:
    """A state must fit the model built from ``compute.model`` (checkpoints can be anything)."""
    shapes = {k: tuple(v.shape) for k, v in state.items()}
    if shapes != reference:
        missing = sorted(set(reference) - set(shapes))[:4]
        extra = sorted(set(shapes) - set(reference))[:4]
        differ = [f"{k} {shapes[k]} vs {reference[k]}" for k in shapes if k in reference and shapes[k] != reference[k]][:3]
        raise ValueError(
            f"compute.checkpoints: state {label!r} does not fit compute.model: missing {missing},"
            f" unexpected {extra}, shapes {differ}"
        )


def _experiment(cfg: ComputeConfig):
    """The module of ``compute.experiment.kind`` (None for plain training)."""
    from compute.experiments import get

    return get(cfg.experiment.kind)


def _expected_states(cfg: ComputeConfig, n_samples: int) -> int:
    if _experiment(cfg) is not None:
        return _experiment(cfg).expected_states(cfg, n_samples)
    if cfg.checkpoints:
        from compute.capture import scan_checkpoints

        return len(scan_checkpoints(cfg.checkpoints))
    from compute.train import batch_starts, capture_steps

    per_epoch = len(batch_starts(n_samples, cfg.train.batch_size))
    return len(capture_steps(cfg.train.capture, cfg.train.epochs, per_epoch))


def _fit_range(values: np.ndarray, margin: float) -> tuple[float, float]:
    lo, hi = float(np.min(values)), float(np.max(values))
    span = max(hi - lo, 1e-6, 0.1 * max(abs(lo), abs(hi)))
    return lo - margin * span, hi + margin * span


def _build_planes(cfg: ComputeConfig, folder: Path, states: list[dict]) -> tuple:
    """Write directions (and shared origin) files; fill ``origin``, ``directions``, ``ball``.

    Returns ``fitted`` ranges for :func:`grid_axes` (None to use the configured ranges) and a
    JSON-able description of the directions.
    """
    experiment = _experiment(cfg)
    if experiment is not None and hasattr(experiment, "build_planes"):
        return experiment.build_planes(cfg, folder, states)
    land = cfg.landscape
    dcfg = land.directions
    desc = dataclasses.asdict(dcfg) | {"around": land.around}
    inc = dcfg.include_states

    def weights(i):
        return st.load_tensors(folder / states[i]["weights"])

    if land.around == "current":
        for i, s in enumerate(states):
            path = folder / "directions" / f"{st.state_name(s['index'])}.pt"
            if not path.exists():
                d1, d2 = random_plane(perturbable(weights(i), inc), dcfg)
                st.save_tensors(path, {"d1": d1, "d2": d2})
            s.update(origin=s["weights"], directions=str(path.relative_to(folder)), ball=[0.0, 0.0])
        return None, desc

    shared = folder / "directions" / "shared.pt"
    origin_path = folder / "directions" / "origin.pt"
    plane_points = np.zeros((0, 2))
    if shared.exists() and origin_path.exists():
        obj = st.load_tensors(shared)
        d1, d2, origin = obj["d1"], obj["d2"], st.load_tensors(origin_path)
        plane_points = obj["points"].numpy()
        desc.update(obj.get("extra", {}))
    else:
        extra = {}
        if dcfg.kind == "random":
            origin = weights(len(states) - 1) if land.around == "final" else _load_point(dcfg.points[0])
            d1, d2 = random_plane(perturbable(origin, inc), dcfg)
        elif dcfg.kind == "pca":
            origin = weights(len(states) - 1)
            traj = [perturbable(weights(i), inc) for i in range(len(states))]
            d1, d2, explained, _ = pca_plane(traj, perturbable(origin, inc), dcfg.ignore)
            extra["explained_variance"] = [float(v) for v in explained]
        else:
            pts = [_load_point(p) for p in dcfg.points]
            origin = pts[0]
            p = [perturbable(q, inc) for q in pts]
            if dcfg.kind == "three_point":
                d1, d2, plane_points = three_point_plane(*p)
            else:
                d1, d2, plane_points = line_plane(p[0], p[1], dcfg if dcfg.kind == "line_random" else None)
        desc.update(extra)
        st.save_tensors(origin_path, origin)
        st.save_tensors(
            shared, {"d1": d1, "d2": d2, "points": torch.as_tensor(plane_points, dtype=torch.float64), "extra": extra}
        )
    balls = []
    for i, s in enumerate(states):
        ab = project(perturbable(weights(i), inc), origin, d1, d2)
        s.update(origin="directions/origin.pt", directions="directions/shared.pt", ball=list(ab))
        balls.append(ab)
    fitted = None
    if land.grid.fit and dcfg.kind in ("pca", "three_point", "line", "line_random"):
        pts = np.concatenate([np.asarray(balls), plane_points.reshape(-1, 2)])
        ra = _fit_range(pts[:, 0], dcfg.margin)
        if dcfg.kind == "line":
            rb = None
        elif dcfg.kind == "line_random":
            rb = tuple(land.grid.range_b or land.grid.range)
        else:
            rb = _fit_range(pts[:, 1], dcfg.margin)
        fitted = (ra, rb)
    return fitted, desc


def compute_sequence(
    cfg: ComputeConfig,
    folder: str | os.PathLike,
    *,
    force: bool = False,
    progress: bool = True,
    executor: str | None = None,
    max_tiles: int | None = None,
    fresh: bool = False,
) -> Path:
    """Compute (or finish) the surface sequence of ``cfg`` into ``folder``.

    Parameters
    ----------
    cfg : ComputeConfig
    folder : path
        The store; created if needed. A store of another configuration is replaced.
    force : bool
        Run even past ``cfg.max_points``.
    progress : bool
        Print the plan and a progress line on stderr.
    executor : str, optional
        Overrides ``cfg.executor`` (``serial``, ``local``, ``local:N``, ``auto``).
    max_tiles : int, optional
        Stop after this many tiles (leaves a resumable, incomplete store; used by tests).
    fresh : bool
        Discard what the folder holds and recompute everything (``--force`` on the CLI).
        Without it a rerun resumes: same ``config_hash``, only missing tiles are computed.

    Returns
    -------
    Path of the store.
    """
    from compute.data import build_data, eval_subset
    from compute.models import build_loss, build_model, describe_model

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    h = config_hash(cfg)
    old = _read_manifest(folder)
    if old is not None and (fresh or old.get("config_hash") != h):
        _say(progress, f"{folder}: {'recomputing as asked' if fresh else 'configuration changed, recomputing'}")
        _clear(folder)
        old = None
    _remove_temporaries(folder)
    kind, workers = parse_executor(executor or cfg.executor)
    device = resolve_device(cfg.device)
    land = cfg.landscape
    ny, nx = land.grid.dims
    timings = dict(old.get("timings", {})) if old else {}

    dataset = build_data(cfg.data)
    n_states_guess = _expected_states(cfg, len(dataset))
    rows = 1 if land.directions.kind == "line" else ny
    total_points = n_states_guess * rows * nx
    if total_points > cfg.max_points and not force:
        raise ValueError(
            f"compute: {n_states_guess} states × {rows}×{nx} grid = {total_points:,} evaluations"
            f" exceeds compute.max_points={cfg.max_points:,}; shrink landscape.grid or"
            " train.capture, raise max_points, or force"
        )
    loss_fn = build_loss(cfg.train.loss)
    x, y = eval_subset(dataset, land.eval.samples, land.eval.seed)
    if not (folder / "data" / "eval.pt").exists():
        st.save_tensors(folder / "data" / "eval.pt", {"x": x.contiguous(), "y": y.contiguous()})
    torch.manual_seed(cfg.train.seed)
    model = build_model(cfg.model, dataset.in_shape, dataset.n_classes)

    # ---- states: trained (or loaded) once; weights written as they come
    if old is not None and old.get("states_complete"):
        states = old["states"]
    else:
        t0 = time.perf_counter()
        states = []
        reference = {k: tuple(v.shape) for k, v in model.state_dict().items()}
        # an experiment may yield a 6th item merged into the state's entry: its model variant
        variants = {"model": model, "spec": {"config": dataclasses.asdict(cfg.model),
                    "in_shape": list(dataset.in_shape), "n_classes": int(dataset.n_classes)}}
        for epoch, step, label, state, values, *extra in _states(
            cfg, model, dataset, loss_fn, device, progress, folder
        ):
            extra = extra[0] if extra else {}
            smodel = state_model(variants, extra)
            _check_matches(reference if smodel is model else
                           {k: tuple(v.shape) for k, v in smodel.state_dict().items()}, state, label)
            index = len(states)
            wpath = folder / "weights" / f"{st.state_name(index)}.pt"
            st.save_tensors(wpath, {k: v.detach().cpu() for k, v in state.items()})
            values["eval_loss"], values["eval_accuracy"] = _eval_at(smodel, state, x, y, loss_fn, device)
            states.append(
                dict(index=index, epoch=epoch, step=step, label=label,
                     weights=str(wpath.relative_to(folder)), values=values, **extra)
            )
        if not states:
            raise ValueError("compute: no states were captured (check train.capture or checkpoints)")
        timings["states_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    fitted, dir_desc = _build_planes(cfg, folder, states)
    timings["directions_s"] = time.perf_counter() - t0
    if dir_desc.get("around", land.around) == "current":  # an experiment's planes say their own
        for s in states:
            s["values"]["origin_loss"] = s["values"]["eval_loss"]
    else:  # one origin for all states: the loss there, for overlays that compare
        shared = st.load_tensors(folder / states[0]["origin"])
        origin_loss, _ = _eval_at(model, shared, x, y, loss_fn, device)
        for s in states:
            s["values"]["origin_loss"] = origin_loss
    a, b = grid_axes(land.grid, fitted)
    blocks = plan_tiles(b.size, a.size, land.eval.points_per_tile)
    for s in states:
        s["file"] = str(st.surface_path(folder, s["index"]).relative_to(folder))
    manifest = {
        "schema_version": st.SCHEMA_VERSION,
        "axes": list(st.AXES),
        "a": a, "b": b,
        "metrics": ["loss"] + (["accuracy"] if land.eval.accuracy else []),
        "loss": cfg.train.loss,
        "eval": dataclasses.asdict(land.eval),
        "data": {"fingerprint": dataset.fingerprint(), "description": dataset.description,
                 "eval_samples": int(x.shape[0]), "eval_hash": _tensor_hash(x, y)},
        "model": {"config": dataclasses.asdict(cfg.model), "in_shape": list(dataset.in_shape),
                  "n_classes": int(dataset.n_classes), "description": describe_model(cfg.model, model)},
        "directions": dir_desc,
        "around": land.around,
        "tiles": blocks,
        "states": states,
        "states_complete": True,
        "config_hash": h,
        "timings": timings,
        "complete": False,
    }
    st.write_json(folder / st.MANIFEST, manifest)
    _evaluate_missing(folder, manifest, kind, workers, device, progress, max_tiles,
                      spec=parse_executor_spec(executor or cfg.executor), cluster=cfg.cluster)
    curvature_pass(cfg.curvature, folder, device=device, progress=progress)
    return folder


def _tensor_hash(*tensors: torch.Tensor) -> str:
    hsh = hashlib.sha256()
    for t in tensors:
        arr = t.detach().cpu().contiguous().numpy()
        hsh.update(f"{arr.dtype.str}{arr.shape}".encode())
        hsh.update(arr.tobytes())
    return hsh.hexdigest()[:16]


def _probe(folder: str, index: int, device: str) -> float:
    """Seconds per grid point on this machine: a warm-up, then a few timed points."""
    c = _loaded(folder, device)
    s: st.Store = c["store"]
    i = next(j for j, e in enumerate(s.states) if e["index"] == index)
    d1, d2 = s.directions(i)
    origin, ev = s.origin(i), s.manifest["eval"]
    coords = np.stack([np.resize(s.a, PROBE_POINTS), np.full(PROBE_POINTS, s.b[0])], axis=1)

    model = state_model(c, s.states[i])  # an experiment's per-state variant, else c["model"]

    def run(k):
        evaluate_tile(model, origin, d1, d2, coords[:k], c["x"], c["y"], c["loss_fn"],
                      accuracy=ev["accuracy"], bn_mode=ev["bn_mode"], method=ev["method"],
                      batch_size=ev["batch_size"], dtype=getattr(torch, ev["dtype"]), device=device)

    run(2)
    t0 = time.perf_counter()
    run(PROBE_POINTS)
    return (time.perf_counter() - t0) / PROBE_POINTS


def _evaluate_missing(folder, manifest, kind, workers, device, progress, max_tiles, *,
                      spec=None, cluster=None) -> None:
    _CACHE.clear()  # this process may have cached an older store at the same path
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
    if kind == "auto":
        kind = "serial" if points < AUTO_SERIAL_POINTS or device != "cpu" else "local"
    if kind == "local" and device != "cpu":
        kind = "serial"  # one accelerator: processes would only queue on it
    n = workers or (os.cpu_count() or 1)
    if kind == "local":
        n = max(1, min(n, len(todo)))
    all_points = len(states) * len(manifest["b"]) * nx
    est = ""
    if todo and progress:
        per_point = _probe(str(folder), todo[0][0], device)
        est = f", about {format_seconds(per_point * run_points / (n if kind == 'local' else 1))}"
    where = (spec.address or "slurm") if spec is not None and spec.distributed else kind
    _say(progress, f"{all_points:,} evaluations ({len(states)} states × {len(manifest['b'])}×{nx}),"
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
            threads = max(1, (os.cpu_count() or 1) // n)
            # local pool or Dask (compute.executors): the same submit/as_completed loop
            pool = spec if spec is not None and spec.distributed else parse_executor_spec("local")
            with open_executor(pool, cluster, local_workers=n, threads=threads,
                               gpu=device == "cuda") as ex:
                futs = [ex.submit(evaluate_stored_tile, str(folder), i, r0, r1, device) for i, r0, r1 in todo]
                for fut in cf.as_completed(futs):
                    res = fut.result()
                    nonfinite[res[0]] = nonfinite.get(res[0], 0) + res[4]
                    finished(res[0])
    elapsed = time.perf_counter() - t0
    complete = True
    for s in states:
        s["nonfinite"] = int(nonfinite.get(s["index"], 0))
        s["complete"] = st.surface_path(folder, s["index"]).exists()
        complete &= s["complete"]
    bad = sum(s["nonfinite"] for s in states)
    if bad:
        _say(progress, f"{bad} grid points have non-finite loss (kept as is, flagged per state)")
    manifest["timings"]["surfaces_s"] = manifest["timings"].get("surfaces_s", 0.0) + elapsed
    if run_points and elapsed > 0:
        manifest["timings"]["points_per_s"] = run_points / elapsed
    manifest["complete"] = complete
    manifest["nonfinite"] = bad
    st.write_json(folder / st.MANIFEST, manifest)
