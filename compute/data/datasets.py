"""Data sets to train on and to evaluate the landscape with.

Every built-in set is generated with numpy from a seed (:mod:`lossfilm.compute.data.toysets`), so a
scene runs offline and reproduces exactly: 2-D toy sets (``spirals``, ``moons``,
``blobs``) for MLPs and tiny ``1×S×S`` images (``shapes``) for the CNN and the ResNet.
``npz`` / ``pt`` read arrays ``x`` and ``y`` from a file, ``user`` calls a factory,
``digits`` uses scikit-learn when it is installed.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lossfilm.compute.data.toysets import DEFAULT_NOISE, make_blobs, make_moons, make_shapes, make_spirals

from lossfilm.compute.config.data import SHAPE_CLASSES
from lossfilm.compute.config.userspec import call_with_accepted, load_object
from lossfilm.compute.config.data import DataConfig
from lossfilm.compute.config.data import DATA_KINDS

__all__ = [
    "DATA_KINDS",
    "SHAPE_CLASSES",
    "DataConfig",
    "Dataset",
    "build_data",
    "eval_subset",
    "split_holdout",
]


#: second seed word of the hold-out draw, so it never repeats the generator's stream.
HOLDOUT_STREAM = 7


@dataclasses.dataclass
class Dataset:
    """Samples and labels, on CPU.

    Attributes
    ----------
    x : (N, *in_shape) float32 tensor
    y : (N,) int64 tensor
        Class index of each sample, in ``[0, n_classes)``.
    n_classes : int
    in_shape : tuple of int
        Shape of one sample: ``(features,)`` or ``(channels, height, width)``.
    description : dict
        JSON-able summary for the manifest (kind, size, seed...).
    test_x : (M, *in_shape) float32 tensor or None
        Held-out samples (``holdout``): never trained on, only measured.
    test_y : (M,) int64 tensor or None
    """

    x: torch.Tensor
    y: torch.Tensor
    n_classes: int
    in_shape: tuple[int, ...]
    description: dict = dataclasses.field(default_factory=dict)
    test_x: torch.Tensor | None = None
    test_y: torch.Tensor | None = None

    def __post_init__(self) -> None:
        self.x = torch.as_tensor(self.x).to(torch.float32).contiguous()
        self.y = torch.as_tensor(self.y).to(torch.int64).reshape(-1).contiguous()
        if self.x.shape[0] != self.y.shape[0]:
            raise ValueError(f"data: x has {self.x.shape[0]} samples but y has {self.y.shape[0]}")
        if self.x.shape[0] == 0:
            raise ValueError("data: the data set is empty")
        self.in_shape = tuple(int(s) for s in self.x.shape[1:])
        self.n_classes = int(self.n_classes)
        if (self.test_x is None) != (self.test_y is None):
            raise ValueError("data: give both test_x and test_y, or neither")
        if self.test_x is not None:
            self.test_x = torch.as_tensor(self.test_x).to(torch.float32).contiguous()
            self.test_y = torch.as_tensor(self.test_y).to(torch.int64).reshape(-1).contiguous()
            if tuple(self.test_x.shape[1:]) != self.in_shape:
                raise ValueError(
                    f"data: test samples have shape {tuple(self.test_x.shape[1:])},"
                    f" training samples {self.in_shape}"
                )

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def fingerprint(self) -> str:
        """sha256 over shapes, dtypes and bytes of ``x``, ``y`` (and the held-out part)."""
        h = hashlib.sha256()
        tensors = (
            (self.x, self.y) if self.test_x is None else (self.x, self.y, self.test_x, self.test_y)
        )
        for t in tensors:
            arr = t.detach().cpu().contiguous().numpy()
            h.update(f"{arr.dtype.str}{arr.shape}".encode())
            h.update(arr.tobytes())
        return h.hexdigest()


# ---------------------------------------------------------------- readers


def _labels_to_classes(y: np.ndarray, key: str) -> tuple[np.ndarray, int]:
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{key}: y must be 1-D class indices, got shape {y.shape}")
    if y.dtype != bool and not np.issubdtype(y.dtype, np.integer):
        whole = np.issubdtype(y.dtype, np.floating) and np.all(np.mod(y, 1) == 0)
        if not whole:
            raise ValueError(f"{key}: y must hold integer class indices, got dtype {y.dtype}")
    y = y.astype(np.int64)
    if y.size and y.min() < 0:
        raise ValueError(f"{key}: class indices must be ≥ 0, found {int(y.min())}")
    return y, int(y.max()) + 1 if y.size else 0


def _read_npz(path: str) -> tuple[Any, Any]:
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"data.path: file {path!r} does not exist")
    with np.load(p, allow_pickle=False) as f:
        missing = [k for k in ("x", "y") if k not in f.files]
        if missing:
            raise ValueError(f"data.path: {path!r} lacks arrays {missing} (has {f.files})")
        return f["x"], f["y"]


def _read_pt(path: str) -> tuple[Any, Any]:
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"data.path: file {path!r} does not exist")
    obj = torch.load(p, map_location="cpu", weights_only=True)
    if not isinstance(obj, dict) or "x" not in obj or "y" not in obj:
        raise ValueError(f"data.path: {path!r} must hold a dict with tensors 'x' and 'y'")
    return obj["x"], obj["y"]


def _read_digits() -> tuple[Any, Any]:
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise ValueError(
            "data.kind: 'digits' needs scikit-learn (pip install scikit-learn);"
            " use kind 'shapes' for an offline image set"
        ) from exc
    d = load_digits()
    return d.images[:, None].astype(np.float32) / 16.0 - 0.5, d.target


def _from_user(cfg: DataConfig) -> tuple[Any, Any, int | None]:
    fn: Callable = load_object(cfg.factory, key="data.factory")
    out = call_with_accepted(fn, samples=cfg.samples, seed=cfg.seed, classes=cfg.classes)
    if isinstance(out, Dataset):
        return out.x, out.y, out.n_classes
    if isinstance(out, dict) and "x" in out and "y" in out:
        return out["x"], out["y"], out.get("n_classes")
    if isinstance(out, (tuple, list)) and len(out) in (2, 3):
        return out[0], out[1], out[2] if len(out) == 3 else None
    raise ValueError(
        f"data.factory: {cfg.factory!r} must return (x, y), (x, y, n_classes) or a dict with x, y;"
        f" got {type(out).__name__}"
    )


def _cap(x: np.ndarray, y: np.ndarray, samples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``samples`` rows, drawn with ``seed`` and kept in file order."""
    if samples <= 0 or samples >= len(y):
        return x, y
    idx = np.sort(np.random.default_rng(seed).choice(len(y), samples, replace=False))
    return x[idx], y[idx]


def split_holdout(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices ``(train, test)`` with ``round(fraction·n)`` seeded rows held out.

    Both stay in data order. At least one row is kept for training.
    """
    n_test = min(round(fraction * n), n - 1) if fraction > 0 else 0
    rng = np.random.default_rng([seed, HOLDOUT_STREAM])
    held = np.zeros(n, dtype=bool)
    held[rng.choice(n, n_test, replace=False)] = True
    return np.flatnonzero(~held), np.flatnonzero(held)


def build_data(cfg: DataConfig) -> Dataset:
    """Build the data set a scene describes.

    Returns
    -------
    Dataset
        ``x (N, *in_shape) float32``, ``y (N,) int64`` on CPU.

    Raises
    ------
    ValueError
        For a missing file, malformed arrays or a missing optional dependency.
    """
    rng = np.random.default_rng(cfg.seed)
    n_classes: int | None = cfg.classes
    noise = cfg.noise if cfg.noise is not None else DEFAULT_NOISE.get(cfg.kind, 0.0)
    if cfg.kind == "spirals":
        x, y = make_spirals(cfg.samples, cfg.classes, noise, rng)
    elif cfg.kind == "moons":
        x, y = make_moons(cfg.samples, noise, rng)
    elif cfg.kind == "blobs":
        x, y = make_blobs(cfg.samples, cfg.classes, cfg.features, noise, rng)
    elif cfg.kind == "shapes":
        x, y = make_shapes(cfg.samples, cfg.classes, cfg.image_size, noise, rng)
    else:
        if cfg.kind == "npz":
            x, y = _read_npz(cfg.path)
            n_classes = None
        elif cfg.kind == "pt":
            x, y = _read_pt(cfg.path)
            n_classes = None
        elif cfg.kind == "digits":
            x, y = _read_digits()
            n_classes = 10
        else:
            x, y, n_classes = _from_user(cfg)
        key = "data.factory" if cfg.kind == "user" else "data.path"
        x = np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x)
        y = np.asarray(y.detach().cpu() if isinstance(y, torch.Tensor) else y)
        if x.ndim < 2:
            raise ValueError(
                f"{key}: x must be (N, ...) with one row per sample, got shape {x.shape}"
            )
        if not np.issubdtype(x.dtype, np.number):
            raise ValueError(f"{key}: x must be numeric, got dtype {x.dtype}")
        y, seen_classes = _labels_to_classes(y, key)
        if n_classes is None:
            n_classes = seen_classes
        elif seen_classes > n_classes:
            raise ValueError(f"{key}: labels reach {seen_classes - 1} but n_classes is {n_classes}")
        x, y = _cap(x, y, cfg.samples, cfg.seed)
    x = np.ascontiguousarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.int64)
    train, test = split_holdout(len(y), cfg.holdout, cfg.seed)
    ds = Dataset(
        x=torch.from_numpy(x[train]),
        y=torch.from_numpy(y[train]),
        n_classes=int(n_classes),
        in_shape=(),
        test_x=torch.from_numpy(x[test]) if test.size else None,
        test_y=torch.from_numpy(y[test]) if test.size else None,
    )
    ds.description = {
        "kind": cfg.kind,
        "samples": len(ds),
        "holdout_samples": int(test.size),
        "in_shape": list(ds.in_shape),
        "n_classes": ds.n_classes,
        "seed": cfg.seed,
        **({"noise": noise} if cfg.kind in DEFAULT_NOISE else {}),
        **({"path": cfg.path} if cfg.path else {}),
        **({"factory": cfg.factory} if cfg.factory else {}),
    }
    return ds


def eval_subset(dataset: Dataset, samples: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """One fixed subset of ``dataset`` to evaluate every grid point and state on.

    Parameters
    ----------
    samples : int
        Size of the subset; ``0`` or at least ``len(dataset)`` gives the whole set.
    seed : int
        Seed of the draw; the same seed always gives the same rows, in data order.

    Returns
    -------
    x : (M, *in_shape) float32 tensor
    y : (M,) int64 tensor
    """
    if samples < 0:
        raise ValueError(f"eval.samples must be ≥ 0, got {samples}")
    n = len(dataset)
    if samples == 0 or samples >= n:
        return dataset.x, dataset.y
    g = torch.Generator().manual_seed(int(seed))
    idx = torch.randperm(n, generator=g)[:samples].sort().values
    return dataset.x[idx].contiguous(), dataset.y[idx].contiguous()
