"""Every shipped scene runs end to end (shrunk by --tiny) and its film decodes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lossfilm.render.output.probe import probe, read_frames

# whole films, wheels, clusters or browsers: the full suite (make test), not the fast lane
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SCENES = sorted((ROOT / "scenes").glob("*.yaml"))


@pytest.mark.parametrize("scene", SCENES, ids=[s.stem for s in SCENES])
def test_scene_renders_tiny(scene, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "lossfilm.render.cli", "run", str(scene), "--tiny", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    film = Path(result.stdout.strip().splitlines()[-1])
    info = probe(film)
    assert (info.width, info.height) == (160, 90)
    assert info.frames == 15
    frames = list(read_frames(film))
    assert len(frames) == 15
    assert max(float(f.std()) for f in frames) > 8.0, "every frame is blank"
    assert np.abs(frames[0].astype(float) - frames[-1].astype(float)).mean() > 1.0
