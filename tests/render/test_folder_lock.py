"""One writer per output folder: a second writer is refused by name, or waits with --wait; a dead
holder's lock is taken over."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import re
import shutil
import threading
import time
from pathlib import Path

import pytest

from lossfilm.render.output.folder_lock import LOCK_NAME, FolderBusy, hold_output_folder, lock_holder

ROOT = Path(__file__).resolve().parents[2]

HOLDER = """
import sys
from lossfilm.render.output.folder_lock import hold_output_folder
with hold_output_folder(sys.argv[1], "run"):
    print("held", flush=True)
    sys.stdin.read()  # until the test closes stdin or kills this process
"""


def start_holder(folder: Path) -> subprocess.Popen:
    """Another process that holds ``folder``'s lock until killed."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(folder)], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_writer_is_refused_with_the_holders_pid(tmp_path):
    out = tmp_path / "film"
    holder = start_holder(out)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "lossfilm.render.cli", "compute", "scenes/quickstart.yaml", "--tiny", "--out", str(out)],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
        )
        assert result.returncode == 1, result.stderr
        line = result.stderr.strip()
        assert line.startswith(f"lossfilm: {out} is being written by pid {holder.pid} (lossfilm run) since "), line
        assert line.endswith("; wait (--wait), or use --out") and "\n" not in line
        assert re.search(r" since \d\d:\d\d; wait", line), line
        assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME]  # the refused run wrote nothing
    finally:
        holder.kill()
        holder.wait()


def test_a_killed_holders_lock_is_taken_over(tmp_path):
    holder = start_holder(tmp_path)
    assert lock_holder(tmp_path)["pid"] == holder.pid
    with pytest.raises(FolderBusy, match=f"pid {holder.pid}"):
        with hold_output_folder(tmp_path):
            pass
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert (tmp_path / LOCK_NAME).exists()  # kill -9 leaves the file: a stale lock
    with hold_output_folder(tmp_path, "compute"):
        info = json.loads((tmp_path / LOCK_NAME).read_text())
        assert info["pid"] == os.getpid() and info["command"] == "compute"
    assert not (tmp_path / LOCK_NAME).exists()  # a clean exit leaves no lock behind


def test_the_lock_is_released_on_an_error_and_taken_again(tmp_path):
    with pytest.raises(RuntimeError):
        with hold_output_folder(tmp_path):
            raise RuntimeError("stage failed")
    with hold_output_folder(tmp_path):  # not stuck
        pass


def compute(out: Path, *options: str) -> subprocess.Popen:
    """``lossfilm compute`` of the tiny quickstart into ``out``, as a process."""
    return subprocess.Popen(
        [sys.executable, "-m", "lossfilm.render.cli", "compute", "scenes/quickstart.yaml", "--tiny",
         "--out", str(out), *options],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def snapshot(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")}


def test_with_wait_a_second_writer_waits_for_the_holder_then_runs(tmp_path, explored):
    out = tmp_path / "film"
    holder = start_holder(out)
    _, _, folder, explored_out = explored  # the tiny quickstart's surfaces, computed once
    shutil.copytree(folder, out / folder.relative_to(explored_out))  # as the holder's run left them
    before = snapshot(out)
    waiter = compute(out, "--wait")
    try:
        line = waiter.stderr.readline().rstrip("\n")
        assert re.fullmatch(rf"lossfilm: waiting for {re.escape(str(out))}: being written by pid"
                            rf" {holder.pid} \(lossfilm run\) since \d\d:\d\d", line), line
        time.sleep(0.5)
        assert waiter.poll() is None  # still waiting, and having written nothing
        assert snapshot(out) == before
        holder.stdin.close()  # the holder finishes
        assert holder.wait(timeout=30) == 0
        stdout, rest = waiter.communicate(timeout=300)
        assert waiter.returncode == 0, rest[-3000:]
        assert "waiting for" not in rest  # one line, not one per try
        assert "reusing stored surfaces" in rest
        assert stdout.split() == [str(out / folder.relative_to(explored_out) / "manifest.json")]
        assert not (out / LOCK_NAME).exists()
    finally:
        for proc in (holder, waiter):
            proc.kill()
            proc.wait()


def test_wait_timeout_gives_up_naming_the_holder_and_exits_1(tmp_path):
    out = tmp_path / "film"
    holder = start_holder(out)
    try:
        started = time.monotonic()
        waiter = compute(out, "--wait-timeout", "0.5")
        _, err = waiter.communicate(timeout=120)
        assert waiter.returncode == 1, err
        assert time.monotonic() - started < 60
        waiting, gave_up = err.strip().splitlines()
        assert waiting.startswith(f"lossfilm: waiting for {out}: being written by pid {holder.pid} ")
        assert gave_up.startswith(f"lossfilm: {out} is still being written by pid {holder.pid} (lossfilm run)")
        assert gave_up.endswith(" after waiting 0.5 s; wait longer (--wait-timeout), or use --out")
        assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME]
    finally:
        holder.kill()
        holder.wait()


def test_waiting_in_process_tells_once_and_takes_the_lock_once_the_holder_is_gone(tmp_path):
    holder = start_holder(tmp_path)
    told = []
    started = time.monotonic()
    with pytest.raises(FolderBusy, match="after waiting 0.3 s"):
        with hold_output_folder(tmp_path, "render", wait=True, timeout=0.3, tell=told.append):
            pass
    assert 0.3 <= time.monotonic() - started < 5
    assert len(told) == 1 and told[0].startswith(f"waiting for {tmp_path}: being written by pid {holder.pid}")
    killer = threading.Timer(0.5, holder.kill)  # the holder dies (kill -9) while we wait
    started = time.monotonic()
    killer.start()
    try:
        with hold_output_folder(tmp_path, "render", wait=True, timeout=30, tell=told.append):
            assert lock_holder(tmp_path)["pid"] == os.getpid()
            assert time.monotonic() - started >= 0.5
    finally:
        killer.join()
        holder.wait()
    assert len(told) == 2 and told[1] == told[0]  # one line per wait


def test_an_import_into_a_store_folder_being_written_is_refused(tmp_path):
    import numpy as np

    src = tmp_path / "surface.npy"
    np.save(src, np.arange(30.0).reshape(5, 6))
    out = tmp_path / "store"
    holder = start_holder(out)
    try:
        result = subprocess.run([sys.executable, "-m", "lossfilm.render.cli", "import", str(src), "--out", str(out)],
                                cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert result.returncode == 1, result.stderr
        assert f"{out} is being written by pid {holder.pid}" in result.stderr
        assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME]  # nothing imported beside it
    finally:
        holder.kill()
        holder.wait()
    result = subprocess.run([sys.executable, "-m", "lossfilm.render.cli", "import", str(src), "--out", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert (out / "manifest.json").is_file()
