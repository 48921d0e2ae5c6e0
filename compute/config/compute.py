"""The ``compute`` section of a scene: what to train or load and which slice to evaluate."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing

from lossfilm.compute.config.curvature import CurvatureConfig
from lossfilm.compute.config.data import DataConfig
from lossfilm.compute.config.cluster import ClusterConfig, parse_executor_spec
from lossfilm.compute.config.experiment import ExperimentConfig
from lossfilm.compute.config.model import ModelConfig
from lossfilm.compute.config.options import option
from lossfilm.compute.config.landscape import LandscapeConfig
from lossfilm.compute.config.train import TrainConfig

__all__ = ["ComputeConfig", "config_from_dict", "numbers_hash", "parse_executor", "DEFAULT_MAX_POINTS",
           "NOT_NUMBERS"]

#: grid evaluations (states × ny × nx) above which a run is refused unless forced.
DEFAULT_MAX_POINTS = 2_000_000


@dataclasses.dataclass(frozen=True)
class ComputeConfig:
    """Stage 1: the network, its data and training, and the loss-landscape slice."""

    model: ModelConfig = option(ModelConfig(), "the network")
    data: DataConfig = option(DataConfig(), "the data it trains and is evaluated on")
    train: TrainConfig = option(TrainConfig(), "training and when states are captured")
    landscape: LandscapeConfig = option(LandscapeConfig(), "the slice of weight space and its grid")
    checkpoints: str | None = option(
        None, "folder of checkpoints to use as the states instead of training"
    )
    store: str | None = option(
        None, "a finished surface store to film as it is (e.g. from lossfilm import):"
        " no model, no training, the other compute keys are ignored"
    )
    experiment: ExperimentConfig = option(
        ExperimentConfig(), "an experiment that produces the states instead of plain training"
    )
    executor: str = option(
        "auto",
        "auto (in this process or a local process pool, whichever a timed probe says is"
        " faster), serial, local, local:N,"
        " dask://HOST[:PORT] (a Dask scheduler) or slurm (Dask on SLURM jobs, see cluster)",
    )
    cluster: ClusterConfig = option(
        ClusterConfig(), "Dask and SLURM settings of the dask:// and slurm executors"
    )
    device: str = option("auto", "where to evaluate", choices=("auto", "cpu", "cuda", "mps"))
    max_points: int = option(
        DEFAULT_MAX_POINTS, "refuse runs with more grid evaluations than this (states × ny × nx)", min=1
    )
    curvature: CurvatureConfig = option(
        CurvatureConfig(), "Hessian spectra per state and the |λmin/λmax| map (after the surfaces)"
    )

    def __post_init__(self) -> None:
        parse_executor(self.executor)
        if self.store is not None and not str(self.store).strip():
            raise ValueError("compute.store: give the folder of a surface store, or leave the key out")


#: keys of the compute section that say where and how the work runs, never what it computes:
#: changing one reuses stored surfaces. (The curvature pass keeps a hash of its own.)
NOT_NUMBERS = ("executor", "cluster", "device", "max_points", "curvature")


def numbers_hash(cfg: ComputeConfig) -> str:
    """Stable hash (16 hex digits) of everything in ``cfg`` that changes a stored number.

    The one definition of "the same surfaces": the store records it in its manifest, and
    the scene's surfaces folder is named by it, so a rerun that changes only where the work
    runs (:data:`NOT_NUMBERS`) finds and reuses what is stored.
    """
    data = dataclasses.asdict(cfg)
    for key in NOT_NUMBERS:
        data.pop(key)
    if data.get("store") is None:  # a store made elsewhere is filmed as it is
        data.pop("store", None)
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def parse_executor(spec: str) -> tuple[str, int | None]:
    """``'local:3'`` -> ``('local', 3)``; ``'serial'``/``'dask://h'`` -> ``(kind, None)``.

    The full parse (with the scheduler address) is :func:`lossfilm.compute.execution.executors.parse_executor_spec`.
    """
    parsed = parse_executor_spec(spec, "compute.executor")
    return parsed.kind, parsed.workers


def config_from_dict(cls: type, data: dict) -> typing.Any:
    """Rebuild a frozen config dataclass from ``dataclasses.asdict`` output (lists -> tuples).

    Used to rebuild the model from a store's manifest; unknown keys raise ``ValueError``.
    """
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown keys {sorted(unknown)}")
    kwargs = {k: _convert(hints[k], v) for k, v in data.items()}
    return cls(**kwargs)


def _convert(tp, value):
    if value is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            if arg is type(None):
                continue
            try:
                return _convert(arg, value)
            except (TypeError, ValueError):
                continue
        return value
    if dataclasses.is_dataclass(tp) and isinstance(value, dict):
        return config_from_dict(tp, value)
    if origin is tuple and isinstance(value, (list, tuple)):
        args = typing.get_args(tp)
        inner = args[0] if args else None
        if inner is not None and dataclasses.is_dataclass(inner):
            return tuple(config_from_dict(inner, v) for v in value)
        return tuple(_convert(inner, v) if inner not in (None, Ellipsis) else v for v in value)
    return value
