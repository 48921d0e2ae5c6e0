"""The executor setting and the ``compute.cluster`` section (Dask and SLURM), torch-free.
"""

from __future__ import annotations

import dataclasses
import re

from lossfilm.compute.config.options import option


INSTALL_HINT = "pip install 'lossfilm[cluster]'"


#: port of ``dask://HOST`` when none is given (``dask scheduler``'s default).
DEFAULT_DASK_PORT = 8786


_LOCAL_RE = re.compile(r"^(serial|auto|local(:[1-9][0-9]*)?)$")


_DASK_RE = re.compile(
    r"^dask://(?P<host>[A-Za-z0-9_.\-]+|\[[0-9A-Fa-f:]+\])(:(?P<port>[0-9]{1,5}))?$"
)


_WALLTIME_RE = re.compile(r"^([0-9]+-)?[0-9]{1,3}:[0-5][0-9]:[0-5][0-9]$")


_MEMORY_RE = re.compile(r"^[0-9]+(\.[0-9]+)?\s*(B|[KMGT]i?B)$", re.IGNORECASE)


GRAMMAR = "serial, auto, local, local:N, dask://HOST[:PORT] or slurm"


@dataclasses.dataclass(frozen=True)
class ClusterConfig:
    """Dask settings: retries, threads per task, and the SLURM jobs of ``executor: slurm``."""

    retries: int = option(2, "times a failed task is run again (Dask executors)", min=0, max=100)
    threads: int = option(
        0, "torch threads of a task on a Dask worker; 0 = the worker's thread count", min=0
    )
    queue: str | None = option(None, "SLURM partition (sbatch -p); None = the site default")
    account: str | None = option(None, "SLURM account (sbatch -A); None = the user's default")
    walltime: str = option("01:00:00", "SLURM time limit of each worker job ([D-]HH:MM:SS)")
    cores: int = option(4, "CPU cores per SLURM job (split among its worker processes)", min=1)
    processes: int = option(1, "Dask worker processes per SLURM job", min=1)
    memory: str = option("16GB", "memory per SLURM job, e.g. 16GB or 64GiB")
    gpus: int = option(
        0, "GPUs per SLURM job (--gres=gpu:N), shared evenly by its processes", min=0
    )
    max_jobs: int = option(
        4, "most SLURM jobs at once (the cluster adapts between 0 and this)", min=1
    )
    job_directives: tuple[str, ...] = option(
        (), "extra #SBATCH options, e.g. ['--constraint=a100']"
    )
    prologue: tuple[str, ...] = option(
        (),
        "shell lines run before each worker starts, e.g. ['source ~/venvs/lossfilm/bin/activate']",
    )
    interface: str | None = option(None, "network interface the workers talk on, e.g. ib0")
    connect_timeout: float = option(
        30.0, "seconds the driver waits to reach a dask:// scheduler", min=0.0, exclusive_min=True
    )

    def __post_init__(self) -> None:
        if not _WALLTIME_RE.match(self.walltime):
            raise ValueError(f"compute.cluster.walltime: {self.walltime!r} is not [D-]HH:MM:SS")
        if not _MEMORY_RE.match(self.memory):
            raise ValueError(f"compute.cluster.memory: {self.memory!r} is not a size like 16GB")
        if self.gpus % self.processes:
            raise ValueError(
                f"compute.cluster.gpus: {self.gpus} GPUs do not split evenly over"
                f" {self.processes} processes per job"
            )
        for name in ("retries", "threads", "cores", "processes", "gpus", "max_jobs"):
            low = 0 if name in ("retries", "threads", "gpus") else 1
            if getattr(self, name) < low:
                raise ValueError(f"compute.cluster.{name}: {getattr(self, name)} must be >= {low}")
        if not self.connect_timeout > 0:
            raise ValueError(f"compute.cluster.connect_timeout: {self.connect_timeout} must be > 0")
        if self.cores < self.processes:
            raise ValueError(
                f"compute.cluster.cores: {self.cores} cores cannot hold {self.processes} processes"
            )


@dataclasses.dataclass(frozen=True)
class ExecutorSpec:
    """A parsed executor setting: ``kind`` and, where it applies, ``workers`` or ``address``."""

    kind: str
    workers: int | None = None
    address: str | None = None

    @property
    def distributed(self) -> bool:
        """Whether tasks run on a Dask cluster (``dask``/``slurm``)."""
        return self.kind in ("dask", "slurm")


def parse_executor_spec(spec: str, key: str = "compute.executor") -> ExecutorSpec:
    """Parse an executor setting: ``'local:3'`` -> ``ExecutorSpec('local', 3)``.

    ``'dask://h:1'`` -> ``ExecutorSpec('dask', address='tcp://h:1')``.

    Raises ``ValueError`` naming ``key`` for anything outside the grammar.
    """
    if isinstance(spec, str):
        if _LOCAL_RE.match(spec):
            kind, _, n = spec.partition(":")
            return ExecutorSpec(kind, int(n) if n else None)
        if spec == "slurm":
            return ExecutorSpec("slurm")
        m = _DASK_RE.match(spec)
        if m:
            port = int(m["port"] or DEFAULT_DASK_PORT)
            if not 0 < port < 65536:
                raise ValueError(f"{key}: port {port} of {spec!r} is outside 1..65535")
            return ExecutorSpec("dask", address=f"tcp://{m['host']}:{port}")
    raise ValueError(f"{key} must be {GRAMMAR}, got {spec!r}")
