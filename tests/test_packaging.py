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

# whole films, wheels, clusters or browsers: the full suite (make test), not the fast lane
pytestmark = pytest.mark.slow

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


def _installed(name: str) -> str:
    """Where a checkout file lands in the wheel: compute/ and render/ under lossfilm/."""
    if name.startswith("assets/"):
        return "lossfilm/render/_" + name
    return "lossfilm/" + name


def test_wheel_holds_every_module_shader_and_asset(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = [n for n in _tracked("compute") + _tracked("render") if n.endswith(".py")]
    shaders = _tracked("render/gl/shaders")
    assets = _tracked("assets")
    assert modules and shaders and assets
    missing = sorted({_installed(n) for n in modules + shaders + assets} - names)
    assert not missing, f"not in the wheel: {missing}"


def test_wheel_installs_only_under_its_own_name(wheel):
    tops = {n.split("/")[0] for n in zipfile.ZipFile(wheel).namelist()}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"lossfilm"}


def _run_installed(site: Path, code: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run ``code`` with only ``site`` (and the venv's own packages) importable: the
    editable install's finder is removed, so nothing comes from the checkout."""
    head = (
        "import sys\n"
        "sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in getattr(f, '__module__', '')]\n"
        f"sys.path.insert(0, {str(site)!r})\n"
    )
    return subprocess.run([sys.executable, "-c", head + code], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_installed_copy_finds_its_own_assets(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = (
        "from lossfilm.render import assets\n"
        "from lossfilm.render.color import colormaps\n"
        "from lossfilm.render.overlay import text\n"
        "from lossfilm.render.gl import programs\n"
        "print(assets.ASSETS)\n"
        "print(colormaps.load_colormap('cividis').shape)\n"
        "print(text.FONT_PATH.is_file())\n"
        "print(len(programs.shader_source('surface.frag')) > 100)\n"
    )
    run = _run_installed(site, code, tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    where, shape, font, shader = run.stdout.split("\n")[:4]
    assert Path(where) == site / "lossfilm" / "render" / "_assets"
    assert shape == "(256, 3)"
    assert font == "True" and shader == "True"


def test_installs_beside_a_package_that_owns_a_top_level_render(wheel, tmp_path):
    """PyPI has an unrelated ``render``: with lossfilm's wheel in the same place both import."""
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    for name in ("render", "compute"):
        (site / name).mkdir()
        (site / name / "__init__.py").write_text(f"OWNER = 'not lossfilm: {name}'\n")
    code = (
        "import render, compute\n"
        "from lossfilm.render.parser import build_parser\n"
        "from lossfilm.render.scene.scene import load_scene\n"
        "from lossfilm.compute.config.compute import ComputeConfig\n"
        "print(render.OWNER, '|', compute.OWNER)\n"
        "print(sorted(build_parser()._subparsers._group_actions[0].choices)[:3])\n"
        "import lossfilm.render.cli as cli\n"
        "print(cli.__file__)\n"
    )
    run = _run_installed(site, code, tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    owners, commands, cli_file = run.stdout.split("\n")[:3]
    assert owners == "not lossfilm: render | not lossfilm: compute"
    assert commands.startswith("[")
    assert Path(cli_file).is_relative_to(site / "lossfilm")
