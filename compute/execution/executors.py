"""Where tasks run: in this process, a local process pool, or a Dask cluster (SLURM included).

One setting names the place (``compute.executor``, ``output.executor``, ``--executor``):

========================  ==========================================================
``serial``                in this process, one task after another
``local`` / ``local:N``   a ``spawn`` process pool of all cores / ``N`` processes
``auto``                  the stage decides (compute: serial for small jobs)
``dask://HOST[:PORT]``    an existing Dask scheduler (``dask scheduler``; port 8786)
``slurm``                 a ``dask_jobqueue.SLURMCluster`` sized by ``compute.cluster``
========================  ==========================================================

:func:`open_executor` turns a parsed setting into a ``concurrent.futures.Executor`` (or
None for serial), so the compute stage (tiles) and the render stage (chunks) drive every
kind through the same ``submit`` + ``as_completed`` loop and the same progress bar.
Tasks carry references only (folders, indices, row blocks, frame ranges, scene paths):
a worker process rebuilds and caches what it needs, so with Dask the store folder, the
scene file and the output folder must be on a filesystem the workers share.

Fault tolerance on Dask: a task that raises is retried ``compute.cluster.retries``
times; a task on a worker that dies is rescheduled by the scheduler on another worker
(up to Dask's ``distributed.scheduler.allowed-failures``); results already written are
atomic files, so a restarted driver computes only what is missing.

Dask is an optional extra (``pip install 'lossfilm[cluster]'``): it is imported only
inside the functions that need it, and its absence is a clear error, never an import
error at start.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import shutil
import sys
import threading
from typing import Any, Callable

from lossfilm.compute.config.cluster import INSTALL_HINT, GRAMMAR, ClusterConfig, ExecutorSpec, parse_executor_spec

__all__ = [
    "ClusterConfig",
    "ExecutorSpec",
    "parse_executor_spec",
    "open_executor",
    "DaskExecutor",
    "slurm_cluster",
    "require_dask",
    "INSTALL_HINT",
]


# --------------------------------------------------------------------------- settings


# --------------------------------------------------------------------------- opening


def require_dask(what: str = "a Dask executor") -> Any:
    """Import ``distributed`` or raise a ``RuntimeError`` that says what to install."""
    try:
        import distributed
    except ImportError as err:
        raise RuntimeError(f"{what} needs Dask: {INSTALL_HINT} ({err})") from None
    return distributed


def _set_torch_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(max(1, threads))


def _init_pool_worker(threads: int) -> None:
    """A local pool worker: the driver handles Ctrl-C, the worker finishes its task.

    Ctrl-C reaches every process of the terminal's group; a worker that took it would
    print a traceback of its own while the driver cancels what is queued and stops.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if threads > 0:
        _set_torch_threads(threads)


def open_executor(
    spec: ExecutorSpec,
    cluster: ClusterConfig | None = None,
    *,
    local_workers: int,
    threads: int = 0,
    gpu: bool = False,
) -> cf.Executor | None:
    """An executor for ``spec``: None (run in this process) or a ``concurrent.futures.Executor``.

    Parameters
    ----------
    spec : ExecutorSpec
        ``auto`` must be resolved by the caller first (to ``serial`` or ``local``).
    cluster : ClusterConfig, optional
        Retries, threads per Dask task, SLURM jobs.
    local_workers : int
        Processes of a ``local`` pool (``local:N`` names its own).
    threads : int
        torch threads per process of a ``local`` pool; 0 leaves torch's default.
    gpu : bool
        Dask tasks ask for ``resources={"GPU": 1}``: only workers started with
        ``--resources GPU=1`` (or SLURM jobs with ``gpus``) run them.

    The caller shuts it down (``with`` or ``shutdown``); for Dask that also closes the
    client and a SLURM cluster it started.
    """
    cluster = cluster or ClusterConfig()
    if spec.kind == "serial":
        return None
    if spec.kind == "local":
        n = spec.workers or local_workers
        if n < 1:
            raise ValueError(f"executor: local pool of {n} processes")
        return cf.ProcessPoolExecutor(
            n, mp_context=multiprocessing.get_context("spawn"), initializer=_init_pool_worker,
            initargs=(threads,),
        )
    if spec.kind == "dask":
        distributed = require_dask(f"executor {spec.address}")
        try:
            client = distributed.Client(spec.address, timeout=cluster.connect_timeout)
        except OSError as err:
            raise RuntimeError(
                f"executor: no Dask scheduler answers at {spec.address} ({err}); start one"
                " with `dask scheduler` and workers with `dask worker <address>`"
            ) from None
        if gpu:
            try:
                _check_gpu_workers(client)
            except ValueError:
                client.close()
                raise
        return DaskExecutor(client, retries=cluster.retries, threads=cluster.threads, gpu=gpu)
    if spec.kind == "slurm":
        distributed = require_dask("executor slurm")
        if shutil.which("sbatch") is None:  # else the cluster waits forever for jobs
            raise RuntimeError(
                "executor slurm: no `sbatch` on PATH; run the driver where SLURM jobs can be"
                " submitted (a login node), or use dask://HOST:PORT"
            )
        slurm = slurm_cluster(cluster)
        client = distributed.Client(slurm)
        return DaskExecutor(
            client, retries=cluster.retries, threads=cluster.threads, gpu=gpu, owned=slurm
        )
    raise ValueError(
        f"executor kind {spec.kind!r} must be resolved before opening (one of {GRAMMAR})"
    )


def _check_gpu_workers(client: Any) -> None:
    workers = client.scheduler_info().get("workers", {})
    if workers and not any(w.get("resources", {}).get("GPU") for w in workers.values()):
        raise ValueError(
            "compute.device is cuda but no Dask worker offers a GPU: start workers with"
            " `dask worker <scheduler> --resources GPU=1` (one per GPU)"
        )


def slurm_cluster(cfg: ClusterConfig) -> Any:
    """A ``dask_jobqueue.SLURMCluster`` for ``cfg`` that adapts between 0 and ``max_jobs`` jobs.

    GPU jobs ask for ``--gres=gpu:N`` and their workers offer ``GPU=N/processes``.
    """
    try:
        from dask_jobqueue import SLURMCluster
    except ImportError as err:
        raise RuntimeError(f"executor slurm needs dask-jobqueue: {INSTALL_HINT} ({err})") from None
    directives = list(cfg.job_directives)
    worker_args: list[str] = []
    if cfg.gpus:
        directives.append(f"--gres=gpu:{cfg.gpus}")
        worker_args += ["--resources", f"GPU={cfg.gpus // cfg.processes}"]
    kwargs: dict[str, Any] = dict(
        cores=cfg.cores,
        processes=cfg.processes,
        memory=cfg.memory,
        walltime=cfg.walltime,
        job_extra_directives=directives,
        worker_extra_args=worker_args,
        job_script_prologue=list(cfg.prologue),
        python=sys.executable,
    )
    if cfg.queue:
        kwargs["queue"] = cfg.queue
    if cfg.account:
        kwargs["account"] = cfg.account
    if cfg.interface:
        kwargs["interface"] = cfg.interface
    cluster = SLURMCluster(**kwargs)
    cluster.adapt(minimum_jobs=0, maximum_jobs=cfg.max_jobs)
    return cluster


# --------------------------------------------------------------------------- Dask side


class DaskExecutor(cf.Executor):
    """A ``concurrent.futures.Executor`` over a Dask client, with retries and GPU resources.

    Futures are ``concurrent.futures.Future`` objects (``cf.as_completed`` works). Each task
    runs through :func:`run_in_worker`, one at a time per worker process, on one thread
    that lives as long as the process (GL contexts and the tile cache are per process and
    not thread-safe), with ``threads`` torch threads (0: the worker's thread count).
    """

    def __init__(self, client: Any, *, retries: int = 2, threads: int = 0, gpu: bool = False,
                 owned: Any = None) -> None:
        kwargs: dict[str, Any] = {"retries": retries, "pure": False}
        if gpu:
            kwargs["resources"] = {"GPU": 1}
        self.client = client
        self.threads = threads
        self._inner = client.get_executor(**kwargs)
        self._owned = owned
        self._closed = False

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> cf.Future:
        return self._inner.submit(run_in_worker, self.threads, fn, *args, **kwargs)

    def __exit__(self, exc_type, exc, tb) -> bool:
        # on an error or Ctrl-C in the driver, free the cluster at once instead of waiting
        self.shutdown(wait=exc_type is None, cancel_futures=exc_type is not None)
        return False

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._inner.shutdown(wait=wait and not cancel_futures)
        finally:
            self.client.close()
            if self._owned is not None:
                self._owned.close()


_RUNNER: cf.ThreadPoolExecutor | None = None
_RUNNER_LOCK = threading.Lock()
_THREADS_SET: list[int] = []


def run_in_worker(threads: int, fn: Callable, *args: Any, **kwargs: Any) -> Any:
    """Run ``fn(*args, **kwargs)`` on this process's one task thread (what a Dask task calls).

    Serializing a worker's tasks on one long-lived thread keeps per-process caches and GL
    contexts (bound to the thread that made them) safe when a worker has several threads;
    those threads then go to torch instead.
    """
    global _RUNNER
    if threads <= 0:
        threads = _worker_threads()
    with _RUNNER_LOCK:
        if _RUNNER is None:
            _RUNNER = cf.ThreadPoolExecutor(1, thread_name_prefix="lossfilm-task")
    return _RUNNER.submit(_call, threads, fn, args, kwargs).result()


def _call(threads: int, fn: Callable, args: tuple, kwargs: dict) -> Any:
    if _THREADS_SET != [threads]:
        _set_torch_threads(threads)
        _THREADS_SET[:] = [threads]
    return fn(*args, **kwargs)


def _worker_threads() -> int:
    try:
        from distributed import get_worker

        return int(get_worker().state.nthreads)
    except (ImportError, ValueError, AttributeError):
        return 1
