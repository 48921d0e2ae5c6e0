"""Ctrl-C and SIGTERM: stop within seconds, one line, exit 130 / 143, and the rerun resumes."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: seconds from the signal to the exit: one tile in flight at most, on a loaded machine.
STOP_SECONDS = 2.0

SCENE = """\
name: signals
compute:
  model: {kind: mlp, hidden: [16]}
  data: {kind: spirals, samples: 300}
  train: {epochs: 2, batch_size: 100}
  landscape:
    grid: {points: 61}
    eval: {samples: 300, points_per_tile: 61}
  executor: EXECUTOR
camera:
  shots:
    - orbit: {duration: 1}
"""


def start(scene: Path, out: Path) -> subprocess.Popen:
    # its own session: a signal to its group reaches pool workers too, as Ctrl-C in a terminal does
    return subprocess.Popen([sys.executable, "-m", "lossfilm.render.cli", "compute", str(scene), "--out", str(out)],
                            cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                            start_new_session=True)


def wait_for(proc: subprocess.Popen, pattern: str, timeout: float = 90) -> list[str]:
    """stderr lines up to the first matching ``pattern``."""
    lines, end = [], time.monotonic() + timeout
    while time.monotonic() < end:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if re.search(pattern, line):
            return lines
    proc.kill()
    raise AssertionError(f"no {pattern!r} in:\n" + "\n".join(lines))


def stop(proc: subprocess.Popen, signum: int) -> tuple[int, float, list[str]]:
    """Send ``signum`` to the process group; (exit code, seconds to exit, remaining stderr lines)."""
    t0 = time.monotonic()
    os.killpg(proc.pid, signum)
    rest = proc.stderr.read()
    code = proc.wait(timeout=30)
    return code, time.monotonic() - t0, [l for l in rest.splitlines() if l.strip()]


def test_sigterm_then_ctrl_c_then_the_rerun_resumes(tmp_path):
    out = tmp_path / "out"
    scene = tmp_path / "s.yaml"
    scene.write_text(SCENE.replace("EXECUTOR", "serial"))
    proc = start(scene, out)
    wait_for(proc, r"^surfaces: [1-9]\d*/")  # surfaces are being evaluated, some tiles stored
    code, seconds, rest = stop(proc, signal.SIGTERM)
    assert code == 143, rest
    assert seconds < STOP_SECONDS, seconds
    last = [l for l in rest if not l.startswith("surfaces:")]  # the progress line may close
    assert last == ["lossfilm: terminated (SIGTERM); finished work is kept and a rerun resumes"], rest
    assert not list(out.rglob("*.tmp")) and not (out / ".lossfilm.lock").exists()
    (store,) = (out / "surfaces").iterdir()
    manifest = json.loads((store / "manifest.json").read_text())
    total = len(manifest["states"]) * len(manifest["tiles"])

    # the rerun trains nothing and evaluates only what is missing; Ctrl-C stops it (pool workers too)
    scene.write_text(SCENE.replace("EXECUTOR", "local:2"))
    proc = start(scene, out)
    lines = wait_for(proc, r"^surfaces: \d+/")
    assert not any(l.startswith("training") for l in lines), lines
    done = int(re.search(r"^surfaces: (\d+)/", lines[-1]).group(1))
    assert 0 < done < total, lines
    code, seconds, rest = stop(proc, signal.SIGINT)
    assert code == 130, rest
    assert seconds < STOP_SECONDS, seconds
    assert [l for l in rest if not l.startswith("surfaces:")] == [
        "lossfilm: interrupted; finished work is kept and a rerun resumes"], rest
