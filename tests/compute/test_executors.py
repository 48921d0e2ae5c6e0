"""Executor settings: the grammar, cluster settings, SLURM job scripts, the optional extra,
and the task thread that Dask workers run tasks on. (On a live cluster: tests/test_cluster.py.)"""

from __future__ import annotations

import concurrent.futures as cf
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from lossfilm.compute.config.compute import ComputeConfig, parse_executor
from lossfilm.compute.execution.executors import open_executor, require_dask, run_in_worker
from lossfilm.compute.config.cluster import INSTALL_HINT, ClusterConfig, ExecutorSpec, parse_executor_spec
from lossfilm.render.output.chunks import make_executor
from lossfilm.render.scene.output import OutputConfig

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "text, spec",
    [
        ("serial", ExecutorSpec("serial")),
        ("auto", ExecutorSpec("auto")),
        ("local", ExecutorSpec("local")),
        ("local:3", ExecutorSpec("local", 3)),
        ("dask://scheduler.cluster", ExecutorSpec("dask", address="tcp://scheduler.cluster:8786")),
        ("dask://10.0.0.7:9000", ExecutorSpec("dask", address="tcp://10.0.0.7:9000")),
        ("dask://[::1]:8786", ExecutorSpec("dask", address="tcp://[::1]:8786")),
        ("slurm", ExecutorSpec("slurm")),
    ],
)
def test_grammar(text, spec):
    assert parse_executor_spec(text) == spec
    assert ComputeConfig(executor=text).executor == text
    assert OutputConfig(executor=text).executor == text
    assert parse_executor(text) == (spec.kind, spec.workers)
    assert spec.distributed == (spec.kind in ("dask", "slurm"))


@pytest.mark.parametrize(
    "text",
    ["", "local:0", "local:-1", "mpi", "dask://", "dask:/host", "dask://h:99999", "dask://a b",
     "SLURM"],
)
def test_bad_settings_name_the_key(text):
    with pytest.raises(ValueError, match=r"compute\.executor"):
        ComputeConfig(executor=text)
    if text:  # "" is output.executor's default: use output.workers
        with pytest.raises(ValueError, match=r"output\.executor"):
            OutputConfig(executor=text)


@pytest.mark.parametrize(
    "kwargs, key",
    [
        ({"walltime": "1h"}, "walltime"),
        ({"walltime": "01:61:00"}, "walltime"),
        ({"memory": "lots"}, "memory"),
        ({"gpus": 3, "processes": 2}, "gpus"),
        ({"cores": 2, "processes": 4}, "cores"),
        ({"retries": -1}, "retries"),
        ({"connect_timeout": 0.0}, "connect_timeout"),
    ],
)
def test_bad_cluster_settings_name_the_key(kwargs, key):
    with pytest.raises(ValueError, match=rf"compute\.cluster\.{key}"):
        ClusterConfig(**kwargs)


def test_scene_keys_from_yaml(tmp_path):
    from lossfilm.render.scene.scene import load_scene

    scene = tmp_path / "s.yaml"
    scene.write_text(
        "name: s\ncompute:\n  executor: slurm\n  cluster: {gpus: 2, processes: 2, queue: gpu}\n"
    )
    loaded = load_scene(scene, ["output.executor=dask://head:8786", "compute.cluster.max_jobs=8"])
    assert loaded.compute.executor == "slurm" and loaded.output.executor == "dask://head:8786"
    assert (loaded.compute.cluster.gpus, loaded.compute.cluster.max_jobs) == (2, 8)
    with pytest.raises(ValueError, match="walltime"):
        load_scene(scene, ["compute.cluster.walltime=forever"])


def test_where_work_runs_is_not_in_the_surface_hash():
    from lossfilm.compute.config.compute import numbers_hash

    a = ComputeConfig()
    b = ComputeConfig(executor="dask://h:1", cluster=ClusterConfig(retries=5, gpus=1))
    assert numbers_hash(a) == numbers_hash(b)


def test_slurm_job_script_asks_for_gpus_and_offers_them_as_resources():
    pytest.importorskip("dask_jobqueue")
    from lossfilm.compute.execution.executors import slurm_cluster

    cfg = ClusterConfig(
        queue="gpu", account="lab", walltime="02:30:00", cores=8, processes=2, memory="32GB",
        gpus=2, max_jobs=3, job_directives=("--constraint=a100",),
        prologue=("source /shared/venv/bin/activate",),
    )
    cluster = slurm_cluster(cfg)
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    expected = (
        "#SBATCH -p gpu", "#SBATCH -A lab", "#SBATCH -t 02:30:00", "#SBATCH --gres=gpu:2",
        "#SBATCH --constraint=a100", "#SBATCH --cpus-per-task=8",
        "source /shared/venv/bin/activate",
    )
    for line in expected:
        assert line in script, line
    assert "--resources GPU=1" in script  # 2 GPUs shared by 2 worker processes
    assert "--nworkers 2" in script and sys.executable in script


def test_missing_extra_is_a_clear_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` now fails
    with pytest.raises(RuntimeError, match=r"pip install 'lossfilm\[cluster\]'"):
        require_dask()
    with pytest.raises(RuntimeError, match=r"pip install 'lossfilm\[cluster\]'"):
        open_executor(parse_executor_spec("dask://localhost"), local_workers=1)
    with pytest.raises(RuntimeError, match=r"pip install 'lossfilm\[cluster\]'"):
        make_executor(1, "slurm")
    assert "lossfilm[cluster]" in INSTALL_HINT


def test_nothing_imports_dask_at_start():
    code = (
        "import sys, lossfilm.compute.stage.run, lossfilm.compute.config.compute, lossfilm.render.output.chunks, lossfilm.render.pipeline, lossfilm.render.cli;"
        "print(sorted(m for m in ('dask', 'distributed', 'dask_jobqueue') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


def test_unreachable_scheduler_says_how_to_start_one():
    pytest.importorskip("distributed")
    spec = parse_executor_spec("dask://127.0.0.1:9")  # the discard port: nothing listens
    with pytest.raises(RuntimeError, match="dask scheduler"):
        open_executor(spec, ClusterConfig(connect_timeout=1.0), local_workers=1)


def test_render_executor_follows_workers_unless_set():
    assert make_executor(1) is None and make_executor(1, "auto") is None
    assert make_executor(4, "serial") is None
    for workers, setting, n in ((2, "", 2), (1, "local:3", 3), (2, "auto", 2)):
        ex = make_executor(workers, setting)
        try:
            assert isinstance(ex, cf.ProcessPoolExecutor) and ex._max_workers == n
        finally:
            ex.shutdown()


def test_tasks_run_on_one_long_lived_thread_and_raise_through():
    import torch

    before = torch.get_num_threads()  # a task sets this process's torch threads
    try:
        check_task_thread()
    finally:
        torch.set_num_threads(before)


def check_task_thread() -> None:
    idents = {run_in_worker(1, threading.get_ident) for _ in range(3)}
    with cf.ThreadPoolExecutor(2) as pool:  # tasks arriving on several threads, like Dask's
        idents |= set(pool.map(lambda _: run_in_worker(1, threading.get_ident), range(4)))
    assert len(idents) == 1 and threading.get_ident() not in idents
    assert run_in_worker(1, divmod, 7, 2) == (3, 1)
    with pytest.raises(ZeroDivisionError):
        run_in_worker(1, divmod, 1, 0)


def test_slurm_without_sbatch_says_where_to_run(monkeypatch, tmp_path):
    pytest.importorskip("dask_jobqueue")
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no sbatch here
    with pytest.raises(RuntimeError, match="sbatch"):
        open_executor(parse_executor_spec("slurm"), local_workers=1)
