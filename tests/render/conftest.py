"""Fixtures shared by the render tests: a GL context per module, and for the explorer's
tests one tiny surface store, computed once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ctx():
    """A headless GL context (EGL), released after the module's tests."""
    from lossfilm.render.gl.context import create_context

    context = create_context()
    yield context
    context.release()


@pytest.fixture(scope="session")
def explored(tmp_path_factory):
    """``(scene_path, scene, folder, out)``: the quickstart scene copied into a temporary
    folder (saved scenes go next to it) with its ``--tiny`` surfaces computed for real."""
    from lossfilm.render.explore.session import explore_scene
    from lossfilm.render.pipeline import compute_stage
    from lossfilm.render.scene.scene import load_scene

    base = tmp_path_factory.mktemp("explore")
    scene_path = base / "quickstart.yaml"
    shutil.copy(ROOT / "scenes" / "quickstart.yaml", scene_path)
    scene = explore_scene(load_scene(scene_path), tiny=True)
    out = base / "out"
    folder = compute_stage(scene, out)
    return scene_path, scene, folder, out
