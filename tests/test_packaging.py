"""The wheel carries everything an installed lossfilm loads: code, shaders, colormaps, fonts.

Builds the wheel with the project's own build backend (no network: setuptools is a dev
dependency), unpacks it, and imports the renderer's asset lookups from the unpacked
copy with the editable install hidden, so nothing can be found in the checkout instead.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tracked(folder: str = ".") -> list[str]:
    """The project's files under ``folder``: what git tracks or would (not what it ignores)."""
    names = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", folder],
                           cwd=ROOT, capture_output=True, text=True).stdout.split()
    if not names:  # not a git checkout: what is on disk
        names = [str(p.relative_to(ROOT)) for p in (ROOT / folder).rglob("*") if p.is_file()]
    return [n for n in names if "__pycache__" not in n and (ROOT / n).is_file()]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    # built from a copy of the project's files: an in-tree build/ left from an earlier
    # build would be reused by setuptools and could hide a file the config leaves out
    src = tmp_path_factory.mktemp("src")
    for name in _tracked():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, src / name)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(src)],
        check=True, capture_output=True, text=True, timeout=300,
    )
    (path,) = out.glob("lossfilm-*.whl")
    return path


def test_wheel_holds_every_module_shader_and_asset(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = [n for n in _tracked("compute") + _tracked("render") if n.endswith(".py")]
    shaders = _tracked("render/shaders")
    assets = ["render/_" + n for n in _tracked("assets")]
    assert modules and shaders and assets
    missing = sorted(set(modules + shaders + assets) - names)
    assert not missing, f"not in the wheel: {missing}"


def test_installed_copy_finds_its_own_assets(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = (
        "import sys\n"
        "sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in getattr(f, '__module__', '')]\n"
        f"sys.path.insert(0, {str(site)!r})\n"
        "import render.assets, render.colormaps, render.text, render.programs\n"
        "print(render.assets.ASSETS)\n"
        "print(render.colormaps.load_colormap('cividis').shape)\n"
        "print(render.text.FONT_PATH.is_file())\n"
        "print(len(render.programs.shader_source('surface.frag')) > 100)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    where, shape, font, shader = run.stdout.split("\n")[:4]
    assert Path(where) == site / "render" / "_assets"
    assert shape == "(256, 3)"
    assert font == "True" and shader == "True"
