"""One writer per output folder: a second writer is refused by name; a dead holder's lock is taken over."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import re
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
        assert line.endswith("; wait, or use --out") and "\n" not in line
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
