"""``--executor slurm`` for real: a one-node SLURM on this machine films a tiny scene.

A worker job is cancelled while surfaces are being computed; the cluster submits another,
the run finishes, and the film decodes frame-identical to a serial run of the same scene.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tests.slurm_local import LocalSlurm, missing

pytest.importorskip("dask_jobqueue", reason="executor slurm needs the cluster extra")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(missing() is not None, reason=str(missing()))]

ROOT = Path(__file__).resolve().parents[1]
#: one worker job of one core at a time, small enough for the test machine's node.
CLUSTER = ["--set", "compute.cluster.memory=1GB", "--set", "compute.cluster.cores=1",
           "--set", "compute.cluster.max_jobs=1", "--set", "compute.cluster.walltime=00:10:00",
           "--set", "compute.landscape.eval.points_per_tile=9"]  # 9×9 grid: a tile per row


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    cluster = LocalSlurm(tmp_path_factory.mktemp("slurm")).start()
    yield cluster
    cluster.stop()


def lossfilm(out: Path, *extra: str, env=None, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "lossfilm.render.cli", "run", str(ROOT / "scenes" / "quickstart.yaml"), "--tiny",
         "--out", str(out), *CLUSTER, *extra],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_a_tiny_scene_films_through_slurm_with_a_job_killed_mid_run(slurm, tmp_path):
    from lossfilm.render.output.probe import probe, read_frames

    env = dict(slurm.env, PYTHONPATH=str(ROOT))
    run = lossfilm(tmp_path / "slurm", "--executor", "slurm", env=env, cwd=tmp_path)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(run.stderr), daemon=True)
    reader.start()
    killed, deadline = None, time.monotonic() + 240
    try:
        while run.poll() is None and time.monotonic() < deadline and killed is None:
            # the worker took tiles and some are left: cancel its job under it
            if any(re.match(r"surfaces: [1-9]\d*/36 ", line) for line in list(lines)):
                running = [job for job, state in slurm.jobs() if state == "RUNNING"]
                if running:
                    slurm.run("scancel", running[0])
                    killed = running[0]
            time.sleep(0.1)
        out = run.stdout.read() if run.wait(timeout=max(deadline - time.monotonic(), 1)) == 0 else ""
    finally:
        if run.poll() is None:  # a hung run must not outlive the test
            run.kill()
            run.wait()
    reader.join(timeout=5)
    err = "".join(lines)
    assert run.returncode == 0, err[-3000:]
    assert killed is not None, "no SLURM job was seen running"
    assert slurm.submitted() >= 2, "the killed job was not replaced"
    assert "(slurm)" in err  # the plan says where tiles run
    done_at_kill = [line for line in lines if line.startswith("surfaces:")]
    assert len(done_at_kill) >= 3  # progress went on after the kill, to 36/36
    assert done_at_kill[-1].startswith("surfaces: 36/36")

    serial = lossfilm(tmp_path / "serial", "--executor", "serial", cwd=tmp_path)
    _, serial_err = serial.communicate(timeout=240)
    assert serial.returncode == 0, serial_err[-3000:]
    film, reference = Path(out.split()[-1]), tmp_path / "serial" / "quickstart.mp4"
    assert probe(film).frames == probe(reference).frames == 15
    for a, b in zip(read_frames(film), read_frames(reference), strict=True):
        assert np.array_equal(a, b)
