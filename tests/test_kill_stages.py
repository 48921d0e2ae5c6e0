"""``kill -9`` at every stage of a run, then a rerun: the same film, frame for frame.

Each case runs a tiny film as a real process with ``LOSSFILM_FAULT=POINT:N`` (the
test-only fault points of :mod:`lossfilm.compute.execution.faults`), which sends itself
SIGKILL at that moment: nothing of it cleans up. The rerun, without the fault, must finish
from what is on disk and make a film whose decoded frames equal those of an uninterrupted
run's. Both are the same computation (same code, same stored inputs, serial, same thread
count), so equality is exact: a difference is a state or chunk resumed from the wrong place.

The scene is the curvature film under ``--tiny``: its colour is the curvature pass's
convexity map and its plot the per-state sharpness, so a wrong curvature file shows in the
pixels too. 3 tiles per state and 5-frame chunks give every stage a middle to die in.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lossfilm.compute.execution.faults import FAULT_ENV
from lossfilm.render.output.folder_lock import LOCK_NAME
from lossfilm.render.output.probe import probe, read_frames

pytestmark = pytest.mark.slow  # 13 tiny runs: about a minute on 2 quiet cores

ROOT = Path(__file__).resolve().parents[1]
SCENE = ROOT / "scenes" / "curvature.yaml"
FILM = "curvature.mp4"
#: 4 states of 3 tiles each; 15 frames in chunks of 5 (3 segments).
SETS = ["compute.landscape.eval.points_per_tile=27", "output.chunk_seconds=0.5"]
FRAMES, CHUNK = 15, 5


def lossfilm(out: Path, fault: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != FAULT_ENV}
    if fault:
        env[FAULT_ENV] = fault
    sets = [a for s in SETS for a in ("--set", s)]
    return subprocess.run([sys.executable, "-m", "lossfilm.render.cli", "run", str(SCENE), "--tiny",
                           "--out", str(out), *sets],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def frames_of(film: Path) -> list[np.ndarray]:
    return list(read_frames(film))


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Path, list[np.ndarray]]:
    """The uninterrupted run's output folder and its film's frames."""
    out = tmp_path_factory.mktemp("uninterrupted")
    done = lossfilm(out)
    assert done.returncode == 0, done.stderr[-3000:]
    frames = frames_of(out / FILM)
    assert len(frames) == FRAMES
    return out, frames


def leftovers(out: Path) -> list[str]:
    """Temporaries, locks and work folders a finished run must not leave behind."""
    found = [p for p in out.rglob("*") if ".partial" in p.name or p.name.endswith((".tmp", ".mux"))
             or p.name == LOCK_NAME or p.relative_to(out).parts[:1] == (".chunks",) and p.parent != out]
    return sorted(str(p.relative_to(out)) for p in found)


PARTIAL = rf"^\.{re.escape(FILM)}\.\d+\.partial$"  # the film's temporary, named after its writer
SEGMENT = r"^\.chunks/[^/]+/seg-[0-9a-f]+-0000{}\.mp4$"

# fault: (what the killed run left on disk, what the rerun's stderr shows it resumed from)
STAGES = {
    # the 2nd of 4 states' weights stored: no manifest yet, so training starts over
    "train:2": ([r"weights/state_0001\.pt$"], r"^training: "),
    # state 1's first tile stored, state 0 whole: no training again, 4 of 12 tiles reused
    "tile:4": ([r"surfaces/tiles/state_0001_rows_0000_0003\.npz$"], r"^surfaces: 4/12 tiles"),
    # 2 of 4 curvature files stored: 2 reused
    "curvature:2": ([r"curvature/state_0001\.npz$"], r"^curvature: 2/4 states"),
    # mid-way through the second segment: the first reused, the second rendered again
    "frame:8": ([SEGMENT.format(0)], rf"^rendering {FILM}: {CHUNK}/{FRAMES} frames"),
    # ffmpeg killed with us while joining: a cut temporary; every segment reused
    "join:1": ([SEGMENT.format(2), PARTIAL], rf"^rendering {FILM}: {FRAMES}/{FRAMES} frames"),
    # the temporary whole, the film not yet renamed into place
    "publish:1": ([SEGMENT.format(2), PARTIAL], rf"^rendering {FILM}: {FRAMES}/{FRAMES} frames"),
}


@pytest.mark.parametrize("fault", list(STAGES))
def test_kill_9_then_rerun_makes_the_same_film(fault, reference, tmp_path):
    left, resumed = STAGES[fault]
    reference_out, reference_frames = reference
    out = tmp_path / "out"
    if fault.split(":")[0] in ("frame", "join", "publish"):
        # a run that finds its surfaces stored (by an earlier run) and dies rendering
        shutil.copytree(reference_out / "surfaces", out / "surfaces")
    killed = lossfilm(out, fault)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    film = out / FILM
    assert not film.exists()  # nothing under the film's name until it is whole
    on_disk = [str(p.relative_to(out)) for p in out.rglob("*")]
    for pattern in left:
        assert any(re.search(pattern, p) for p in on_disk), (pattern, on_disk)
    assert (out / LOCK_NAME).exists()  # kill -9 leaves the lock file: the rerun takes it over
    if fault == "publish:1":
        (partial,) = out.glob(f".{FILM}.*.partial")
        assert probe(partial).frames == FRAMES  # whole, but under a name nobody reads

    again = lossfilm(out)
    assert again.returncode == 0, again.stderr[-3000:]
    lines = again.stderr.splitlines()
    assert any(re.search(resumed, line) for line in lines), lines
    if not fault.startswith("train"):
        assert not any(line.startswith("training: ") for line in lines), "trained again"
    assert leftovers(out) == []
    frames = frames_of(film)
    assert len(frames) == len(reference_frames) == FRAMES
    different = [i for i, (a, b) in enumerate(zip(frames, reference_frames)) if not np.array_equal(a, b)]
    assert different == []
