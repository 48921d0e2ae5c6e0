"""End to end: a real network trains, its loss is evaluated on a grid, the surfaces are
meshed, rendered on EGL and encoded by ffmpeg; then the film is decoded and checked."""

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
QUICKSTART = ROOT / "scenes" / "quickstart.yaml"
# The quickstart film, shrunk: 3 epochs on a 9×9 grid, 160×90 at 10 fps for 1.5 s.
TINY = [
    "compute.train.epochs=3",
    "compute.data.samples=400",
    "compute.landscape.grid.points=9",
    "compute.landscape.eval.samples=256",
    "compute.executor=serial",
    "mesh.resolution=40",
    "camera.shots[0].orbit.duration=1.5",
    "output.size=[160,90]",
    "output.fps=10",
    "output.preset=veryfast",
    "render.msaa=0",
    "render.light.shadow_map_size=512",
]


def lossfilm(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lossfilm.render.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def sets(*extra: str) -> list[str]:
    out = []
    for s in (*TINY, *extra):
        out += ["--set", s]
    return out


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("quickstart")
    result = lossfilm("run", str(QUICKSTART), "--out", str(out), *sets())
    assert result.returncode == 0, result.stderr[-3000:]
    return out, result


def test_film_decodes_with_the_promised_metadata(tiny_run):
    out, result = tiny_run
    film = out / "quickstart.mp4"
    assert str(film) in result.stdout.splitlines()
    info = probe(film)
    assert (info.codec, info.pix_fmt) == ("h264", "yuv420p")
    assert (info.width, info.height) == (160, 90)
    assert info.frames == 15
    assert float(info.fps) == pytest.approx(10.0)


def test_pixels_show_a_changing_surface(tiny_run):
    out, _ = tiny_run
    frames = list(read_frames(out / "quickstart.mp4"))
    assert len(frames) == 15
    first, last = frames[0].astype(np.float32), frames[-1].astype(np.float32)
    for f in (first, last):
        assert f.std() > 8.0, "frame is blank"
        # the surface is colormapped: some pixels are clearly not grey background
        chroma = f.max(axis=2) - f.min(axis=2)
        assert (chroma > 40).mean() > 0.02
    assert np.abs(first - last).mean() > 3.0, "first and last frames do not differ"


def test_stages_report_progress_and_paths(tiny_run):
    _, result = tiny_run
    assert "surfaces stored in" in result.stderr
    assert "rendering 15 frames" in result.stderr


def test_camera_change_reuses_surfaces(tiny_run):
    out, _ = tiny_run
    manifest = next((out / "surfaces").glob("*/manifest.json"))
    stamp = manifest.stat().st_mtime_ns
    result = lossfilm(
        "run", str(QUICKSTART), "--out", str(out), *sets("camera.shots[0].orbit.turns=0.25")
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "reusing stored surfaces" in result.stderr
    assert manifest.stat().st_mtime_ns == stamp
    assert probe(out / "quickstart.mp4").frames == 15


def test_a_device_or_executor_change_reuses_surfaces(tiny_run):
    out, _ = tiny_run
    manifest = next((out / "surfaces").glob("*/manifest.json"))
    stamp = manifest.stat().st_mtime_ns
    result = lossfilm("compute", str(QUICKSTART), "--out", str(out),
                      *sets("compute.device=cpu", "compute.executor=local:2",
                            "compute.max_points=1000000", "compute.cluster.processes=2"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "reusing stored surfaces" in result.stderr
    assert manifest.stat().st_mtime_ns == stamp
    assert len(list((out / "surfaces").iterdir())) == 1


def test_bad_override_keeps_what_was_computed(tiny_run):
    out, _ = tiny_run
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    result = lossfilm("run", str(QUICKSTART), "--out", str(out), *sets("compute.train.lr=fast"))
    assert result.returncode == 2
    assert "compute.train.lr: expected a number, got 'fast'" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before


def test_still_opens_the_films_shutter_with_motion_blur(tiny_run, tmp_path):
    from PIL import Image

    out, _ = tiny_run
    images = {}
    for blur in ("false", "true"):
        png = tmp_path / f"blur-{blur}.png"
        result = lossfilm("still", str(QUICKSTART), "--out", str(out), *sets(f"render.motion_blur.enabled={blur}"),
                          "--set", "output.fps=2", "--time", "0.75", "--size", "200x120", "-o", str(png))
        assert result.returncode == 0, result.stderr[-3000:]
        images[blur] = np.asarray(Image.open(png)).astype(int)
    # the orbit turns while a 180-degree shutter at 2 fps is open: the still is smeared
    assert (np.abs(images["true"] - images["false"]).max(axis=2) > 24).mean() > 0.01


def test_still_and_mesh_export(tiny_run, tmp_path):
    out, _ = tiny_run
    png = tmp_path / "still.png"
    result = lossfilm("still", str(QUICKSTART), "--out", str(out), *sets(), "--state", "2",
                      "--size", "200x120", "-o", str(png))
    assert result.returncode == 0, result.stderr[-3000:]
    from PIL import Image

    from lossfilm.render.output.png import read_png_text

    image = np.asarray(Image.open(png))
    assert image.shape == (120, 200, 3)
    assert image.std() > 8.0
    assert read_png_text(png)["lossfilm:scene"] == "quickstart"
    ply = tmp_path / "surface.ply"
    result = lossfilm("mesh", str(QUICKSTART), "--out", str(out), *sets(), "--state", "1", "-o", str(ply))
    assert result.returncode == 0, result.stderr[-3000:]
    import trimesh

    mesh = trimesh.load(ply, process=False)
    assert len(mesh.vertices) == 40 * 40
    assert len(mesh.faces) == 2 * 39 * 39
