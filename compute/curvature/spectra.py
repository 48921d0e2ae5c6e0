"""The curvature pass: Hessian spectra per state and the |λmin/λmax| map over the slice.

Runs after the surfaces, on the same model, evaluation subset and planes. Per state it
writes ``curvature/state_XXXX.npz`` atomically (a rerun skips states already on disk with
the same configuration; the manifest records each file's checksum, and a damaged file is
set aside as ``.damaged`` and computed again alone) holding:

- ``top (k,)``, ``lambda_min``, ``trace``, ``trace_stderr``: at the state's weights;
- ``sub_a (mx,)``, ``sub_b (my,)``, ``sub_lambda_max (my, mx)``, ``sub_lambda_min (my, mx)``,
  ``sub_ratio (my, mx)``: the raw coarse sub-grid (every ``subgrid_every``-th grid point);
- ``convexity (ny, nx)``: ``sub_ratio`` interpolated (bilinear, so it invents no extremes)
  to the full grid, read as a channel by :meth:`lossfilm.compute.store.folder.Store.sequence`.

The per-state numbers go into the manifest's state ``values`` as ``sharpness``
(``lambda_max``), ``lambda_min``, ``trace`` (and ``lambda_2`` ... for ``top_k > 1``).
The heart is :mod:`lossfilm.compute.curvature.hessian`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy.interpolate import RegularGridInterpolator

from lossfilm.compute.store import folder as st
from lossfilm.compute.store import integrity, repair
from lossfilm.compute.experiments.variant import state_model
from lossfilm.compute.curvature.hessian import Spectrum, loss_hvp, spectrum
from lossfilm.compute.execution.faults import fault_point
from lossfilm.compute.execution.progress import Progress, say
from lossfilm.compute.config.curvature import CurvatureConfig

__all__ = ["CurvatureConfig", "curvature_pass", "curvature_current", "subgrid_indices", "convexity_map",
           "state_values", "CURVATURE_VALUES", "curvature_path"]

#: value names this pass adds to each state (besides ``lambda_2`` ... for top_k > 1).
CURVATURE_VALUES = ("sharpness", "lambda_max", "lambda_min", "trace")


def curvature_path(folder: str | Path, index: int) -> Path:
    return st.curvature_path(folder, index)


def _hash(cfg: CurvatureConfig, compute_hash: str) -> str:
    text = json.dumps([dataclasses.asdict(cfg), compute_hash], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def subgrid_indices(n: int, every: int) -> np.ndarray:
    """Every ``every``-th index of ``0..n-1``, always including both ends, shape ``(m,)``."""
    idx = list(range(0, n, max(int(every), 1)))
    if idx[-1] != n - 1:
        idx.append(n - 1)
    return np.asarray(idx)


def convexity_map(sub_a: np.ndarray, sub_b: np.ndarray, ratio: np.ndarray,
                  a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of a sub-grid map ``(my, mx)`` to the full grid ``(ny, nx)``.

    Bilinear, not cubic: a ratio is never negative and a spline would overshoot below 0.
    """
    if sub_a.size == 1 or sub_b.size == 1:
        return np.broadcast_to(np.nanmean(ratio), (b.size, a.size)).astype(np.float32)
    f = RegularGridInterpolator((sub_b, sub_a), ratio, method="linear")
    bb, aa = np.meshgrid(b, a, indexing="ij")
    return f(np.stack([bb, aa], axis=-1)).astype(np.float32)


def state_values(z: dict) -> dict[str, float]:
    """The per-state numbers in a curvature file, named for overlays."""
    out = {}
    if "top" in z:
        top = np.asarray(z["top"])
        out["sharpness"] = out["lambda_max"] = float(top[0])
        for i in range(1, top.size):
            out[f"lambda_{i + 1}"] = float(top[i])
        out["lambda_min"] = float(z["lambda_min"])
        out["trace"] = float(z["trace"])
    return out


def _perturbed(origin: dict, d1: dict, d2: dict, a: float, b: float) -> dict:
    return {k: (v + a * d1[k].to(v.dtype) + b * d2[k].to(v.dtype)) if k in d1 else v
            for k, v in origin.items()}


def _one_state(s: st.Store, i: int, cfg: CurvatureConfig, model, x, y, device: str) -> dict:
    dtype = getattr(torch, cfg.dtype)
    basis = torch.float64  # Krylov basis in double: orthogonality holds for many steps
    loss_fn = s.loss_fn
    out: dict[str, np.ndarray] = {}
    if cfg.per_state:
        hvp, n, _ = loss_hvp(model, s.weights(i), x, y, loss_fn, method=cfg.hvp, dtype=dtype)
        sp: Spectrum = spectrum(hvp, n, top_k=cfg.top_k, iterations=cfg.iterations, tol=cfg.tol,
                                seed=cfg.seed, trace_samples=cfg.trace_samples if cfg.trace else 0,
                                dtype=basis, device=device)
        out.update(top=sp.top, lambda_min=np.float64(sp.lambda_min), trace=np.float64(sp.trace),
                   trace_stderr=np.float64(sp.trace_stderr), steps=np.int64(sp.steps))
    if cfg.subgrid_every > 0:
        origin = s.origin(i)
        d1, d2 = s.directions(i)
        ia, ib = subgrid_indices(s.a.size, cfg.subgrid_every), subgrid_indices(s.b.size, cfg.subgrid_every)
        lmax = np.full((ib.size, ia.size), np.nan)
        lmin = np.full_like(lmax, np.nan)
        ratio = np.full_like(lmax, np.nan)
        for r, jb in enumerate(ib):
            for c, ja in enumerate(ia):
                w = _perturbed(origin, d1, d2, float(s.a[ja]), float(s.b[jb]))
                hvp, n, _ = loss_hvp(model, w, x, y, loss_fn, method=cfg.hvp, dtype=dtype)
                sp = spectrum(hvp, n, top_k=1, iterations=cfg.subgrid_iterations, tol=cfg.tol,
                              seed=cfg.seed, dtype=basis, device=device)
                lmax[r, c], lmin[r, c], ratio[r, c] = sp.top[0], sp.lambda_min, sp.ratio
        sub_a, sub_b = s.a[ia], s.b[ib]
        out.update(sub_a=sub_a, sub_b=sub_b, sub_lambda_max=lmax, sub_lambda_min=lmin,
                   sub_ratio=ratio, convexity=convexity_map(sub_a, sub_b, ratio, s.a, s.b))
    return out


def curvature_current(cfg: CurvatureConfig, folder: str | Path) -> bool:
    """Whether the store in ``folder`` already holds what ``cfg`` asks (nothing to compute).

    Lets a caller reuse a complete store whose curvature settings changed without
    retraining: the surfaces do not depend on them.
    """
    try:
        with open(Path(folder) / st.MANIFEST, encoding="utf-8") as f:
            manifest = json.load(f)
    except (OSError, ValueError):
        return False
    info = manifest.get("curvature")
    if not cfg.enabled:
        return info is None
    if not (info and info.get("complete") and info.get("hash") == _hash(cfg, manifest.get("config_hash", ""))):
        return False
    try:  # a damaged or missing curvature file is work to do (the pass sets it aside)
        for relative in integrity.curvature_files(manifest):
            integrity.verify(folder, manifest.get("checksums") or {}, relative)
    except integrity.DamagedFile:
        return False
    return True


def curvature_pass(cfg: CurvatureConfig, folder: str | Path, *, device: str = "cpu",
                   progress: bool = True) -> None:
    """Compute (or finish) the curvature files of a complete store and update its manifest.

    Disabled: removes the curvature values from the manifest (files stay as a cache).
    """
    folder = Path(folder)
    manifest_path = folder / st.MANIFEST
    with open(manifest_path, encoding="utf-8") as f:
        manifest = json.load(f)
    if not cfg.enabled:
        if "curvature" in manifest:
            for relative in integrity.curvature_files(manifest):  # the files stay, as a cache
                manifest.get("checksums", {}).pop(relative, None)
            manifest.pop("curvature")
            for s in manifest["states"]:
                for k in list(s.get("values", {})):
                    if k in CURVATURE_VALUES or k.startswith("lambda_"):
                        s["values"].pop(k)
            st.write_json(manifest_path, manifest)
        return
    if not manifest.get("complete"):
        return  # surfaces first: the pass runs once the store is whole
    h = _hash(cfg, manifest.get("config_hash", ""))
    s = st.open(folder)
    x, y = s.eval_data()
    x, y = x.to(device), y.to(device)
    model = s.model().to(device)
    checksums = manifest.setdefault("checksums", {})
    todo, forgotten = [], False
    for i, state in enumerate(s.states):
        path = curvature_path(folder, state["index"])
        relative = str(path.relative_to(folder))
        if path.exists():
            reason = repair.npz_damage(folder, checksums, relative)
            if reason is None:
                with np.load(path) as z:
                    if str(z["config"]) == h:
                        continue
            else:
                aside = integrity.set_aside(path)
                say(progress, "compute", f"{path} is damaged ({reason}); set aside as {aside.name},"
                    f" computing the curvature of state {state['index']} ({state.get('label', '')}) again alone")
        forgotten |= checksums.pop(relative, None) is not None
        todo.append(i)
    if forgotten:  # a rerun killed mid-pass must not hold the new files to the old checksums
        st.write_json(manifest_path, manifest)
    t0 = time.perf_counter()
    if todo and progress:
        print(f"compute: curvature of {len(todo)} states"
              f"{f', {cfg.subgrid_every}-spaced sub-grid' if cfg.subgrid_every else ''}",
              file=sys.stderr, flush=True)
    with Progress("curvature", len(s.states), unit="states", done=len(s.states) - len(todo),
                  enabled=progress) as bar:
        for i in todo:
            # experiments (dropout ramps, model variants) evaluate each state with its own module
            state_module = state_model({"model": model, "store": s}, s.states[i]).to(device)
            arrays = _one_state(s, i, cfg, state_module, x, y, device)
            arrays["config"] = np.array(h)
            path = curvature_path(folder, s.states[i]["index"])
            st.atomic_write(path, lambda f, a=arrays: np.savez(f, **a))
            fault_point("curvature")  # test-only: LOSSFILM_FAULT=curvature:N
            bar.advance()
    for state in manifest["states"]:
        with np.load(curvature_path(folder, state["index"])) as z:
            state.setdefault("values", {}).update(state_values(z))
    manifest["curvature"] = {"config": dataclasses.asdict(cfg), "hash": h,
                             "channels": ["convexity"] if cfg.subgrid_every else [],
                             "complete": True}
    integrity.record(folder, manifest, integrity.curvature_files(manifest))
    manifest.setdefault("timings", {})["curvature_s"] = (
        manifest.get("timings", {}).get("curvature_s", 0.0) + time.perf_counter() - t0)
    st.write_json(manifest_path, manifest)
