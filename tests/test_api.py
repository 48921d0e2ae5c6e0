"""The Python API: scenes as files or dicts, paths back, errors raised, stills inline."""

from __future__ import annotations

import numpy as np
import pytest

import lossfilm.render.api as lf
from lossfilm.compute.store import folder as store
from lossfilm.render.scene.errors import ConfigErrors
from lossfilm.render.output.probe import probe


def bowl_npz(path, scale):
    a, b = np.linspace(-1, 1, 11), np.linspace(-1, 1, 9)
    aa, bb = np.meshgrid(a, b)
    np.savez(path, loss=0.1 + scale * (aa**2 + bb**2), a=a, b=b)
    return path


def test_round_trip_import_still_run_from_a_dict(tmp_path):
    files = [bowl_npz(tmp_path / f"s_epoch{e}.npz", 2.0 / e) for e in (1, 2)]
    folder = lf.import_surfaces(files, tmp_path / "store")
    assert store.open(folder).imported and len(store.open(folder).states) == 2
    scene = {
        "name": "api",
        "compute": {"store": str(folder)},
        "camera": {"shots": [{"orbit": {"duration": 1, "turns": 0.1}}]},
        "output": {"size": [160, 90], "fps": 6},
    }
    out = tmp_path / "out"
    png = lf.still(scene, out=out, state=1, size=(120, 80), show=False)
    assert png.parent == out and png.suffix == ".png"
    from PIL import Image

    assert Image.open(png).size == (120, 80)
    written = out / "api.scene.yaml"  # the dict, as the file that workers and people read
    assert written.is_file() and "store:" in written.read_text()
    film = lf.run(scene, out=out, overrides=["output.fps=4"])
    info = probe(film)
    assert (info.width, info.height, info.frames) == (160, 90, 4)
    assert lf.compute(scene, out=out) == folder.resolve()  # a store is filmed, never recomputed


def test_errors_are_raised_with_their_messages(tmp_path):
    with pytest.raises(ConfigErrors, match=r"api\.scene\.yaml:\d+:\d+: camera"):
        lf.still({"name": "api", "camera": {"shots": [{"orbit": {"turns": "half"}}]}}, out=tmp_path)
    with pytest.raises(ValueError, match="compute.store"):
        lf.still({"name": "api", "compute": {"store": str(tmp_path / "none")}}, out=tmp_path)
    with pytest.raises(ValueError, match="no such scene file"):
        lf.run(tmp_path / "missing.yaml")
    with pytest.raises(ValueError, match="no such file"):
        lf.import_surfaces(tmp_path / "missing.h5", tmp_path / "s")


def test_a_still_shows_inline_through_ipython(tmp_path, monkeypatch):
    pytest.importorskip("IPython", reason="IPython is not installed")
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))  # no history in the user's home
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output
    from traitlets.config import Config
    from PIL import Image

    png = tmp_path / "x.png"
    Image.fromarray(np.full((8, 8, 3), 200, np.uint8)).save(png)
    config = Config()
    config.HistoryManager.enabled = False
    InteractiveShell.instance(config=config)
    with capture_output() as shown:
        lf.show(png)
    import base64

    assert len(shown.outputs) == 1  # the PNG's bytes, as a notebook front end receives them
    assert base64.b64decode(shown.outputs[0].data["image/png"]) == png.read_bytes()
    assert not lf._in_notebook()  # a plain shell is no notebook: show=None stays quiet there
