"""The surface-sequence store: one folder per scene, written by compute, read by mesh.

Layout (see ``docs/store.md``)::

    manifest.json              schema, axes, coordinates, states, metrics, hashes, timings
    data/eval.pt               the fixed evaluation subset {x, y}
    model.pt                   only for modules given as objects (no config to rebuild from)
    weights/state_0000.pt      origin weights (full state dict) of each state
    directions/shared.pt       {d1, d2} shared by all states, or directions/state_0000.pt
    surfaces/state_0000.npz    loss (ny, nx) [, accuracy (ny, nx)] once a state is complete
    surfaces/tiles/...         finished tiles of states still in progress
    curvature/state_0000.npz   Hessian spectra and the convexity map (compute.curvature)

Every file is written to a temporary name in its folder and renamed over the target
(``os.replace`` is atomic), so a ``kill -9`` at any moment leaves each file either absent or
whole: a rerun redoes at most the tiles in flight. The files on disk are the truth about
what is done; the manifest's completeness fields summarize them.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import os
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from lossfilm.compute.store.sequence import SurfaceSequence
from lossfilm.compute.store.files import atomic_write, write_json, save_tensors, load_tensors

__all__ = [
    "SCHEMA_VERSION",
    "AXES",
    "Store",
    "open",
    "is_complete",
    "state_name",
    "atomic_write",
    "write_json",
    "save_tensors",
    "load_tensors",
    "tile_path",
    "write_tile",
    "assemble_state",
    "surface_path",
    "curvature_path",
]

SCHEMA_VERSION = 1
#: environment variable that opts in to loading a store's pickled model (it runs code).
TRUST_PICKLE_ENV = "LOSSFILM_TRUST_PICKLE"
AXES = ("state", "b", "a")
MANIFEST = "manifest.json"


# --------------------------------------------------------------------------- atomic files


def state_name(index: int) -> str:
    return f"state_{int(index):04d}"


def surface_path(folder: str | os.PathLike, index: int) -> Path:
    return Path(folder) / "surfaces" / f"{state_name(index)}.npz"


def curvature_path(folder: str | os.PathLike, index: int) -> Path:
    """The curvature pass's file of state ``index`` (``lossfilm.compute.curvature.spectra``)."""
    return Path(folder) / "curvature" / f"{state_name(index)}.npz"


def tile_path(folder: str | os.PathLike, index: int, row0: int, row1: int) -> Path:
    return Path(folder) / "surfaces" / "tiles" / f"{state_name(index)}_rows_{row0:04d}_{row1:04d}.npz"


def _save_npz(path: Path, arrays: dict) -> None:
    atomic_write(path, lambda f: np.savez(f, **arrays))


def write_tile(folder, index: int, row0: int, row1: int, metrics: dict[str, np.ndarray]) -> None:
    """Store the finished rows ``[row0, row1)`` of one state: ``metrics[name] (rows, nx)``."""
    _save_npz(tile_path(folder, index, row0, row1), {k: np.asarray(v) for k, v in metrics.items()})


def assemble_state(folder, index: int, blocks: list[tuple[int, int]], nx: int) -> bool:
    """Join a state's tiles into ``surfaces/state_XXXX.npz`` once all are on disk.

    Returns True when the state's surface file exists afterwards. Tile files are removed
    only after the joined file is in place, so a kill between the two steps loses nothing.
    """
    out = surface_path(folder, index)
    if out.exists():
        return True
    paths = [tile_path(folder, index, r0, r1) for r0, r1 in blocks]
    if not all(p.exists() for p in paths):
        return False
    from lossfilm.compute.store.integrity import npz_problem, set_aside

    damaged = [p for p in paths if npz_problem(p) is not None]
    for p in damaged:  # a tile changed on disk since it was written: set aside, evaluate again
        set_aside(p)
    if damaged:
        return False
    parts: dict[str, list] = {}
    for p in paths:
        with np.load(p) as z:
            for k in z.files:
                parts.setdefault(k, []).append(z[k].reshape(-1, nx))
    _save_npz(out, {k: np.concatenate(v, axis=0).astype(np.float32) for k, v in parts.items()})
    for p in paths:
        with contextlib.suppress(OSError):
            p.unlink()
    return True


# --------------------------------------------------------------------------- reader


class Store:
    """A surface-sequence folder, read side.

    Attributes
    ----------
    folder : Path
    manifest : dict
    a : (nx,) float64 ; b : (ny,) float64
    states : list of dict
        ``index, epoch, step, label, file, weights, directions, ball, values`` per state.
    """

    def __init__(self, folder: str | os.PathLike, *, trust_pickle: bool = False) -> None:
        self.folder = Path(folder)
        #: load a model kept as a pickled module (runs code from the store; see model()).
        self.trust_pickle = trust_pickle
        path = self.folder / MANIFEST
        if not path.exists():
            raise ValueError(f"{self.folder}: not a surface store (no {MANIFEST})")
        with builtins.open(path, encoding="utf-8") as f:
            self.manifest = json.load(f)
        version = self.manifest.get("schema_version")
        if version != SCHEMA_VERSION:
            raise ValueError(f"{path}: schema_version {version}, this lossfilm reads {SCHEMA_VERSION}")
        if tuple(self.manifest.get("axes", ())) != AXES:
            raise ValueError(f"{path}: axes {self.manifest.get('axes')} != {list(AXES)}")
        self.a = np.asarray(self.manifest["a"], dtype=np.float64)
        self.b = np.asarray(self.manifest["b"], dtype=np.float64)
        self.states = list(self.manifest["states"])
        #: ``{relative path: digest}`` of the files the manifest lists (compute.integrity).
        self.checksums = dict(self.manifest.get("checksums") or {})
        self._model = None

    # -- what is done
    def is_complete(self, i: int) -> bool:
        return surface_path(self.folder, self.states[i]["index"]).exists()

    @property
    def complete(self) -> bool:
        return bool(self.states) and all(self.is_complete(i) for i in range(len(self.states)))

    @property
    def metrics(self) -> list[str]:
        return list(self.manifest.get("metrics", ["loss"]))

    # -- arrays
    def _surface(self, i: int) -> dict[str, np.ndarray]:
        from lossfilm.compute.store.integrity import DamagedFile, verify

        path = surface_path(self.folder, self.states[i]["index"])
        if not path.exists():
            raise ValueError(f"{self.folder}: state {i} ({self.states[i]['label']}) is not computed yet")
        advice = "`lossfilm compute` sets it aside and recomputes this state alone"
        verify(self.folder, self.checksums, str(path.relative_to(self.folder)), advice)
        try:
            with np.load(path, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        except Exception as exc:  # zip, CRC, zlib, truncation: many types, one meaning
            raise DamagedFile(path, f"{type(exc).__name__}: {exc}", advice) from None

    def intact(self) -> bool:
        """True when every computed surface file reads back as recorded (checksum or load)."""
        from lossfilm.compute.store.integrity import DamagedFile, npz_problem, verify

        for i, s in enumerate(self.states):
            path = surface_path(self.folder, s["index"])
            if not path.exists():
                continue
            relative = str(path.relative_to(self.folder))
            try:
                verify(self.folder, self.checksums, relative)
            except DamagedFile:
                return False
            if relative not in self.checksums and npz_problem(path) is not None:
                return False
        return True

    def _tensors(self, relative: str) -> Any:
        """``load_tensors`` of a listed file, checked against the manifest's checksum first."""
        from lossfilm.compute.store.integrity import DamagedFile, verify

        advice = "it comes from training: `lossfilm compute --force` recomputes the store"
        verify(self.folder, self.checksums, relative, advice)
        try:
            return load_tensors(self.folder / relative)
        except FileNotFoundError:
            raise
        except Exception as exc:  # torch reports a broken zip as RuntimeError, pickle as others
            raise DamagedFile(self.folder / relative, f"{type(exc).__name__}: {exc}", advice) from None

    def loss(self, i: int) -> np.ndarray:
        """Loss grid of state ``i``, ``(ny, nx)`` float32."""
        return self._surface(i)["loss"]

    def evaluated(self, i: int) -> np.ndarray:
        """Which points of state ``i`` were evaluated, ``(ny, nx)`` bool.

        All True for a uniform grid; for a refined one (``grid.refine``) False marks points
        whose value is the refinement's cubic interpolation, not a loss evaluation.
        """
        surface = self._surface(i)
        if "evaluated" in surface:
            return surface["evaluated"].astype(bool)
        return np.ones(surface["loss"].shape, dtype=bool)

    def channel(self, name: str, i: int) -> np.ndarray:
        """Another per-point metric (``accuracy``) of state ``i``, ``(ny, nx)`` float32."""
        return self._surface(i)[name]

    # -- what anyone needs to recompute a point with plain torch
    @property
    def imported(self) -> bool:
        """True for stores made by ``lossfilm import``: surfaces only, nothing to recompute from."""
        return bool(self.manifest.get("imported"))

    def _needs_weights(self, what: str) -> None:
        if self.imported:
            raise ValueError(f"{self.folder}: an imported store has no {what} (surfaces only)")

    def origin(self, i: int) -> dict[str, torch.Tensor]:
        """Full state dict at the plane origin of state ``i``."""
        self._needs_weights("weights")
        return self._tensors(self.states[i]["origin"])

    def weights(self, i: int) -> dict[str, torch.Tensor]:
        """The trained weights of state ``i`` (same as :meth:`origin` for ``around: current``)."""
        self._needs_weights("weights")
        return self._tensors(self.states[i]["weights"])

    def directions(self, i: int) -> tuple[dict, dict]:
        """``(d1, d2)`` of state ``i``: dicts over the perturbed state-dict keys."""
        self._needs_weights("directions")
        obj = self._tensors(self.states[i]["directions"])
        return obj["d1"], obj["d2"]

    def eval_data(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The fixed evaluation subset ``(x (n, ...), y (n,))``."""
        self._needs_weights("evaluation data")
        obj = self._tensors("data/eval.pt")
        return obj["x"], obj["y"]

    @property
    def loss_fn(self) -> Callable:
        """The loss by the name in the manifest (``lossfilm.compute.model.zoo.build_loss``)."""
        from lossfilm.compute.model.zoo import build_loss

        return build_loss(self.manifest.get("loss", "cross_entropy"))

    def model(self) -> torch.nn.Module:
        """A fresh module of the stored architecture (weights: whatever it was built with)."""
        self._needs_weights("model")
        spec = self.manifest["model"]
        if spec.get("pickle"):
            # A pickled module runs code from the file when it is loaded: never by default.
            if not (self.trust_pickle or os.environ.get(TRUST_PICKLE_ENV) == "1"):
                raise ValueError(
                    f"{self.folder / spec['pickle']}: this store keeps its model as a pickled module,"
                    " and loading a pickle runs code stored in the file. Load it only if you trust"
                    f" where the store came from: {TRUST_PICKLE_ENV}=1, or compute.store.open(folder,"
                    " trust_pickle=True)"
                )
            return torch.load(self.folder / spec["pickle"], map_location="cpu", weights_only=False)
        from lossfilm.compute.config.compute import config_from_dict
        from lossfilm.compute.model.zoo import build_model
        from lossfilm.compute.config.model import ModelConfig

        cfg = config_from_dict(ModelConfig, spec["config"])
        return build_model(cfg, tuple(spec["in_shape"]), int(spec["n_classes"]))

    def sequence(self) -> SurfaceSequence:
        """The whole sequence for the mesh stage (every state must be complete)."""
        missing = [s["label"] for i, s in enumerate(self.states) if not self.is_complete(i)]
        if missing:
            raise ValueError(f"{self.folder}: states not computed yet: {missing[:5]}")
        surfaces = [self._surface(i) for i in range(len(self.states))]
        loss = np.stack([s["loss"] for s in surfaces])
        channels = {
            k: np.stack([s[k] for s in surfaces])
            for k in surfaces[0]
            if k not in ("loss", "evaluated") and all(k in s for s in surfaces)
        }
        channels.update(self._curvature_channels())
        names = sorted({k for s in self.states for k in s.get("values", {})})
        values = {
            k: np.array([_num(s.get("values", {}).get(k)) for s in self.states]) for k in names
        }
        return SurfaceSequence(
            a=self.a,
            b=self.b,
            loss=loss,
            epochs=[s["epoch"] for s in self.states],
            steps=[s["step"] for s in self.states],
            labels=[s["label"] for s in self.states],
            ball=[s.get("ball", (0.0, 0.0)) for s in self.states],
            values=values,
            channels=channels,
            paths=self._point_sets("paths"),
            markers=self._point_sets("markers"),
        )

    def _point_sets(self, field: str) -> dict:
        """Per-state named point lists (``paths``, ``markers``) stacked to ``(S, k, 2)``."""
        from lossfilm.compute.store.sequence import stack_ragged

        names = sorted({k for s in self.states for k in s.get(field, {})})
        return {k: stack_ragged([s.get(field, {}).get(k, []) for s in self.states]) for k in names}

    def _curvature_channels(self) -> dict[str, np.ndarray]:
        """``convexity (S, ny, nx)`` from the curvature pass's files, when it made them."""
        from lossfilm.compute.store.integrity import DamagedFile, verify

        info = self.manifest.get("curvature") or {}
        names = info.get("channels", []) if info.get("complete") else []
        grids: dict[str, list[np.ndarray]] = {name: [] for name in names}
        advice = "`lossfilm compute` sets it aside and computes this state's curvature again alone"
        for s in self.states if names else []:
            path = curvature_path(self.folder, s["index"])
            verify(self.folder, self.checksums, str(path.relative_to(self.folder)), advice)
            try:
                with np.load(path, allow_pickle=False) as z:
                    for name in names:
                        grids[name].append(z[name].astype(np.float32))
            except Exception as exc:  # zip, CRC, zlib, truncation: many types, one meaning
                raise DamagedFile(path, f"{type(exc).__name__}: {exc}", advice) from None
        return {name: np.stack(g) for name, g in grids.items()}


def _num(v) -> float:
    return float("nan") if v is None else float(v)


def open(folder: str | os.PathLike, *, trust_pickle: bool = False) -> Store:  # noqa: A001
    """Open a surface store for reading (``trust_pickle``: see :meth:`Store.model`)."""
    return Store(folder, trust_pickle=trust_pickle)


def is_complete(folder: str | os.PathLike) -> bool:
    """True when ``folder`` is a readable store with every state's surface on disk and intact."""
    try:
        store = Store(folder)
        return store.complete and store.intact()  # a damaged surface is not done
    except (ValueError, OSError, KeyError):
        return False
