"""Surfaces and films through a real Dask cluster (``distributed.LocalCluster``, 2 worker
processes): equal to the in-process results, and complete when a worker is killed mid-run."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

distributed = pytest.importorskip("distributed")

from lossfilm.compute.store import folder as st  # noqa: E402
from lossfilm.compute.config.compute import ComputeConfig  # noqa: E402
from lossfilm.compute.data.datasets import DataConfig  # noqa: E402
from lossfilm.compute.execution.executors import ClusterConfig  # noqa: E402
from lossfilm.compute.model.zoo import ModelConfig  # noqa: E402
from lossfilm.compute.stage.run import compute_sequence  # noqa: E402
from lossfilm.compute.landscape.grid import LandscapeConfig  # noqa: E402
from lossfilm.compute.config.landscape import EvalConfig, GridConfig
from lossfilm.compute.training.train import TrainConfig  # noqa: E402
from lossfilm.compute.config.train import CaptureConfig
from lossfilm.render.pipeline import RenderJob, compute_stage, draft_scene, run_film  # noqa: E402
from lossfilm.render.output.probe import probe, read_frames  # noqa: E402
from lossfilm.render.scene.scene import load_scene  # noqa: E402

# whole films, wheels, clusters or browsers: the full suite (make test), not the fast lane
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "scenes" / "quickstart.yaml"
#: torch threads of every evaluation here, in-process and on the workers: equal thread
#: counts make the sums run in the same order, so the arrays must agree bit for bit.
THREADS = 1
#: 0.3 s chunks of the 1.5 s, 10 fps tiny film: 5 chunks to spread over the workers.
FILM_SETS = ("output.chunk_seconds=0.3",)
#: seconds a killer thread waits for the first result before it gives up (fails the test).
KILL_WAIT_S = 120


def sequence_config(executor: str) -> ComputeConfig:
    """3 states × 15×15 points, one grid row per tile: 45 tiles, enough to kill mid-run."""
    return ComputeConfig(
        model=ModelConfig(hidden=(16,)),
        data=DataConfig(samples=400),
        train=TrainConfig(epochs=2, batch_size=50, capture=CaptureConfig(every=1)),
        landscape=LandscapeConfig(
            grid=GridConfig(points=15), eval=EvalConfig(samples=400, points_per_tile=15)
        ),
        executor=executor,
        cluster=ClusterConfig(threads=THREADS),
    )


@pytest.fixture(scope="module")
def cluster():
    lc = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    )
    client = distributed.Client(lc)
    try:
        yield lc, client, "dask://" + lc.scheduler_address.removeprefix("tcp://")
    finally:
        client.close()
        lc.close()


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The sequence computed in this process, serially, at THREADS torch threads."""
    before = torch.get_num_threads()
    torch.set_num_threads(THREADS)
    try:
        folder = tmp_path_factory.mktemp("ref")
        return compute_sequence(sequence_config("serial"), folder, progress=False)
    finally:
        torch.set_num_threads(before)


def assert_same_store(a: Path, b: Path) -> None:
    sa, sb = st.open(a), st.open(b)
    assert sa.complete and sb.complete
    qa, qb = sa.sequence(), sb.sequence()
    np.testing.assert_array_equal(qa.loss, qb.loss)  # bit for bit: same threads, same order
    np.testing.assert_array_equal(qa.channels["accuracy"], qb.channels["accuracy"])


class Killer(threading.Thread):
    """Kill -9 one Dask worker process as soon as ``ready()`` says results started coming."""

    def __init__(self, client, ready) -> None:
        super().__init__(daemon=True)
        self.pids = client.run(os.getpid)  # {worker address: pid}
        self.victim = sorted(self.pids.values())[0]
        self.ready = ready
        self.stop = threading.Event()
        self.killed_at: int | None = None  # results on disk when the kill landed

    def run(self) -> None:
        deadline = time.monotonic() + KILL_WAIT_S
        while not self.stop.is_set() and time.monotonic() < deadline:
            n = self.ready()
            if n:
                os.kill(self.victim, signal.SIGKILL)
                self.killed_at = n
                return
            time.sleep(0.005)


def test_sequence_through_dask_equals_in_process(cluster, reference, tmp_path, capsys):
    _, _, address = cluster
    out = compute_sequence(sequence_config(address), tmp_path / "dask", progress=True)
    assert_same_store(reference, out)
    err = capsys.readouterr().err
    assert "surfaces: 45/45 tiles (100%)" in err  # the driver's bar, fed as tasks finish
    assert address.removeprefix("dask://") in err


def test_sequence_completes_when_a_worker_is_killed(cluster, reference, tmp_path):
    _, client, address = cluster
    folder = tmp_path / "killed"
    tiles = folder / "surfaces" / "tiles"

    def results_on_disk() -> int:
        return len(list(tiles.glob("*.npz"))) if tiles.is_dir() else 0

    killer = Killer(client, results_on_disk)
    killer.start()
    try:
        compute_sequence(sequence_config(address), folder, progress=False)
    finally:
        killer.stop.set()
        killer.join()
    assert killer.killed_at is not None and killer.killed_at < 45  # it landed mid-run
    assert_same_store(reference, folder)
    client.wait_for_workers(2, timeout=60)  # the nanny restarts the killed worker
    assert killer.victim not in client.run(os.getpid).values()


def test_a_restarted_driver_resumes_what_the_cluster_wrote(cluster, reference, tmp_path):
    _, _, address = cluster
    folder = tmp_path / "resumed"
    compute_sequence(sequence_config(address), folder, progress=False, max_tiles=20)  # driver stops
    assert not st.open(folder).complete
    kept = {p.name: p.stat().st_mtime_ns for p in (folder / "surfaces").rglob("*.npz")}
    assert len(kept) >= 3  # at least one assembled state or tiles, all still on disk
    compute_sequence(sequence_config(address), folder, progress=False)
    assert_same_store(reference, folder)
    after = {p.name: p.stat().st_mtime_ns for p in (folder / "surfaces").rglob("*.npz")}
    assert all(after[n] == t for n, t in kept.items() if n in after)  # nothing rewritten


@pytest.fixture(scope="module")
def film_scene(cluster, tmp_path_factory):
    """The tiny quickstart scene, its surfaces computed through Dask, and a serial film."""
    _, _, address = cluster
    scene = draft_scene(load_scene(QUICKSTART, FILM_SETS), tiny=True)
    out = tmp_path_factory.mktemp("film")
    folder = compute_stage(scene, out / "dask", executor=address)
    serial = run_film(scene, out / "serial", job(folder), executor="serial")
    return scene, folder, serial


def job(folder: Path, sets: tuple[str, ...] = FILM_SETS) -> RenderJob:
    return RenderJob(str(QUICKSTART), sets, False, str(folder), tiny=True)


def decoded(path: Path) -> np.ndarray:
    return np.stack(list(read_frames(path)))


def test_film_through_dask_matches_the_serial_film(cluster, film_scene, tmp_path):
    _, _, address = cluster
    scene, folder, serial = film_scene
    assert st.open(folder).complete
    film = run_film(scene, tmp_path, job(folder), executor=address)
    info = probe(film)
    assert (info.width, info.height, info.frames) == (160, 90, 15)
    np.testing.assert_array_equal(decoded(film), decoded(serial))


def test_film_completes_when_a_worker_is_killed(cluster, film_scene, tmp_path):
    _, client, address = cluster
    scene, folder, serial = film_scene
    client.wait_for_workers(2, timeout=60)

    def segments_on_disk() -> int:
        return sum(1 for p in tmp_path.glob(".chunks/*/seg-*") if not p.name.startswith("."))

    killer = Killer(client, segments_on_disk)
    killer.start()
    try:
        film = run_film(scene, tmp_path, job(folder), executor=address)
    finally:
        killer.stop.set()
        killer.join()
    assert killer.killed_at is not None and killer.killed_at < 5  # it landed mid-run
    assert probe(film).frames == 15
    np.testing.assert_array_equal(decoded(film), decoded(serial))


def test_dask_task_that_fails_is_retried_then_reported(cluster, tmp_path):
    from lossfilm.compute.execution.executors import DaskExecutor

    lc, _, _ = cluster
    flag = tmp_path / "failed-once"
    with DaskExecutor(distributed.Client(lc.scheduler_address), retries=1, threads=1) as ex:
        assert ex.submit(fail_once, str(flag)).result() == "second try"
    with DaskExecutor(distributed.Client(lc.scheduler_address), retries=0, threads=1) as ex:
        fut = ex.submit(always_fail)
        with pytest.raises(RuntimeError, match="always"):
            fut.result()


def fail_once(flag: str) -> str:
    if not os.path.exists(flag):
        Path(flag).touch()
        raise RuntimeError("first try fails")
    return "second try"


def always_fail() -> None:
    raise RuntimeError("always fails")


def test_output_executor_key_sends_chunks_to_the_cluster(cluster, film_scene, tmp_path):
    """``output.executor`` in the scene, no flag: the chunks run as tasks on the cluster.

    (``compute.executor`` in the config is what the sequence tests above already use.)
    """
    _, client, address = cluster
    _, folder, serial = film_scene
    sets = (*FILM_SETS, f"output.executor={address}")
    scene = draft_scene(load_scene(QUICKSTART, sets), tiny=True)
    assert scene.output.executor == address
    with distributed.get_task_stream(client) as stream:
        film = run_film(scene, tmp_path, job(folder, sets))
    assert len(stream.data) == 5  # the five chunks ran as tasks on the cluster
    np.testing.assert_array_equal(decoded(film), decoded(serial))


def test_an_error_in_the_driver_cancels_the_cluster_work(cluster):
    from lossfilm.compute.execution.executors import DaskExecutor

    lc, client, _ = cluster
    client.wait_for_workers(2, timeout=60)
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        with DaskExecutor(distributed.Client(lc.scheduler_address), threads=1) as ex:
            futures = [ex.submit(time.sleep, 30) for _ in range(2)]
            time.sleep(0.5)
            raise KeyboardInterrupt  # Ctrl-C while tasks run
    assert time.monotonic() - t0 < 10  # not the 30 s the tasks would take
    deadline = time.monotonic() + 5  # the cancellation reaches the futures from the client's loop
    while not all(f.cancelled() for f in futures) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(f.cancelled() for f in futures)


def test_cuda_work_needs_workers_that_offer_a_gpu(cluster):
    from lossfilm.compute.execution.executors import open_executor
    from lossfilm.compute.config.cluster import parse_executor_spec

    _, client, address = cluster
    client.wait_for_workers(1, timeout=60)
    with pytest.raises(ValueError, match="--resources GPU=1"):
        open_executor(parse_executor_spec(address), local_workers=1, gpu=True)
