"""Compute orchestration: train or load states, build planes, evaluate every tile, store.

:func:`compute_sequence` is the wrapper around the heart (:func:`lossfilm.compute.landscape.surface.evaluate_tile`):
it owns files, devices, the executor and progress. Work is cut into *tiles* (one state ×
a block of grid rows). Tasks carry references only (folder, state index, row block); each
worker loads the model, the evaluation subset and the state's plane from the store once.
A rerun with the same configuration computes only the tiles missing on disk.

The parts live beside it: :mod:`lossfilm.compute.landscape.planes` (directions and origins per state) and
:mod:`lossfilm.compute.stage.tiles` (the unit of work and the loop that runs what is missing).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import torch

from lossfilm.compute.store import integrity, repair
from lossfilm.compute.store import folder as st
from lossfilm.compute.config.compute import ComputeConfig, numbers_hash, parse_executor
from lossfilm.compute.curvature.spectra import curvature_pass
from lossfilm.compute.config.cluster import parse_executor_spec
from lossfilm.compute.experiments.variant import state_model
from lossfilm.compute.landscape.grid import grid_axes
from lossfilm.compute.landscape.planes import build_planes
from lossfilm.compute.execution.faults import fault_point
from lossfilm.compute.execution.progress import say
from lossfilm.compute.landscape.surface import evaluate_tile
from lossfilm.compute.stage.tiles import evaluate_missing, evaluate_stored_tile, plan_tiles

__all__ = ["compute_sequence", "plan_tiles", "evaluate_stored_tile", "resolve_device"]



def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when available, else ``cpu``; an unavailable choice raises."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("compute.device=cuda but torch sees no CUDA device")
    if device == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise ValueError("compute.device=mps but torch sees no MPS device")
    return device


# --------------------------------------------------------------------------- main side


#: the store's own folders: what a changed configuration or ``--force`` starts over from.
STORE_FOLDERS = ("weights", "directions", "surfaces", "data", "curvature", "experiment")


def _clear(folder: Path) -> None:
    """Remove what a previous run with another configuration wrote (only our own names)."""
    for name in STORE_FOLDERS:
        shutil.rmtree(folder / name, ignore_errors=True)
    for name in (st.MANIFEST, "model.pt"):
        (folder / name).unlink(missing_ok=True)


def _remove_temporaries(folder: Path) -> None:
    """Delete half-written temporaries a killed run left behind (never read, only litter)."""
    for name in STORE_FOLDERS:
        for p in (folder / name).rglob(".*.tmp"):
            p.unlink(missing_ok=True)


def _read_manifest(folder: Path) -> dict | None:
    try:
        with open(folder / st.MANIFEST, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


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
        from lossfilm.compute.training.capture import load_checkpoints

        for position, label, state, values in load_checkpoints(cfg.checkpoints, with_values=True):
            yield float(position), 0, label, state, values
        return
    from lossfilm.compute.training.train import train_states

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
    from lossfilm.compute.experiments import get

    return get(cfg.experiment.kind)


def _expected_states(cfg: ComputeConfig, n_samples: int) -> int:
    if _experiment(cfg) is not None:
        return _experiment(cfg).expected_states(cfg, n_samples)
    if cfg.checkpoints:
        from lossfilm.compute.training.capture import scan_checkpoints

        return len(scan_checkpoints(cfg.checkpoints))
    from lossfilm.compute.training.train import batch_starts, capture_steps

    per_epoch = len(batch_starts(n_samples, cfg.train.batch_size))
    return len(capture_steps(cfg.train.capture, cfg.train.epochs, per_epoch))


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
        Without it a rerun resumes: same ``numbers_hash``, only missing tiles are computed.

    Returns
    -------
    Path of the store.
    """
    from lossfilm.compute.data.datasets import build_data, eval_subset
    from lossfilm.compute.model.zoo import build_loss, build_model, describe_model

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    h = numbers_hash(cfg)
    old = _read_manifest(folder)
    if old is not None and (fresh or old.get("config_hash") != h):
        say(progress, "compute", f"{folder}: {'recomputing as asked' if fresh else 'configuration changed, recomputing'}")
        _clear(folder)
        old = None
    _remove_temporaries(folder)
    if old is not None:  # what training wrote is checked before anything builds on it
        integrity.verify_inputs(folder, old)
    kind, workers = parse_executor(executor or cfg.executor)
    device = resolve_device(cfg.device)
    land = cfg.landscape
    ny, nx = land.grid.dims
    timings = dict(old.get("timings", {})) if old else {}

    dataset = build_data(cfg.data)
    n_states_guess = _expected_states(cfg, len(dataset))
    rows = 1 if land.directions.kind == "line" else ny
    total_points = n_states_guess * rows * nx
    refine = land.grid.refine
    if refine.enabled:  # at most the budget per state
        if rows == 1:
            raise ValueError("landscape.grid.refine needs a 2-D plane; directions.kind 'line' has one row")
        total_points = n_states_guess * refine.max_evaluations
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
            fault_point("train")  # test-only: LOSSFILM_FAULT=train:N (compute.execution.faults)
            values["eval_loss"], values["eval_accuracy"] = _eval_at(smodel, state, x, y, loss_fn, device)
            states.append(
                dict(index=index, epoch=epoch, step=step, label=label,
                     weights=str(wpath.relative_to(folder)), values=values, **extra)
            )
        if not states:
            raise ValueError("compute: no states were captured (check train.capture or checkpoints)")
        timings["states_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    experiment = _experiment(cfg)
    planes_of = getattr(experiment, "build_planes", build_planes)
    fitted, dir_desc = planes_of(cfg, folder, states)
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
        **({"refine": dataclasses.asdict(refine)} if refine.enabled else {}),
        "timings": timings,
        "complete": False,
        "checksums": dict(old.get("checksums") or {}) if old else {},
    }
    # damaged surfaces are set aside (and lose their checksum): evaluate_missing redoes them
    repair.check_surfaces(folder, manifest, say=lambda message: say(progress, "compute", message))
    st.write_json(folder / st.MANIFEST, manifest)
    evaluate_missing(folder, manifest, kind, workers, device, progress, max_tiles,
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


