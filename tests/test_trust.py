"""The trust boundary: nothing from a scene, a checkpoint or a store runs code unless asked."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
import torch

from lossfilm.compute.store import folder as st
from lossfilm.compute.training.capture import scan_checkpoints

ROOT = Path(__file__).resolve().parents[1]


class Payload:
    """Unpickling this touches a file: proof that code from a file ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_every_torch_load_is_weights_only_but_the_opt_in_one():
    """Reads the source: a new torch.load without weights_only=True fails this test."""
    unsafe = []
    for path in sorted([*ROOT.glob("compute/**/*.py"), *ROOT.glob("render/**/*.py")]):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "load" and getattr(node.func.value, "id", "") == "torch"):
                flag = {k.arg: k.value for k in node.keywords}.get("weights_only")
                if not (isinstance(flag, ast.Constant) and flag.value is True):
                    unsafe.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    # the one exception: Store.model() for a pickled module, behind trust_pickle / the env variable
    assert unsafe == [f"compute/store/folder.py:{_model_pickle_line()}"], unsafe


def _model_pickle_line() -> int:
    text = (ROOT / "compute" / "store" / "folder.py").read_text().splitlines()
    return next(i + 1 for i, line in enumerate(text) if "weights_only=False" in line)


def test_a_checkpoint_that_would_run_code_is_refused_by_name(tmp_path):
    marker = tmp_path / "ran"
    torch.save({"w": torch.zeros(2), "extra": Payload(marker)}, tmp_path / "epoch_1.pt")
    (info,) = scan_checkpoints(tmp_path)
    with pytest.raises(ValueError, match="epoch_1.pt' cannot be read safely"):
        info.load()
    assert not marker.exists()


def test_store_files_load_tensors_only(tmp_path):
    marker = tmp_path / "ran"
    torch.save({"x": torch.zeros(2), "y": Payload(marker)}, tmp_path / "eval.pt")
    with pytest.raises(Exception):  # torch's UnpicklingError: weights_only refuses the global
        st.load_tensors(tmp_path / "eval.pt")
    assert not marker.exists()


def test_a_pickled_model_in_a_store_needs_an_explicit_opt_in(tmp_path, monkeypatch):
    marker = tmp_path / "ran"
    torch.save(Payload(marker), tmp_path / "model.pt")
    manifest = {"schema_version": st.SCHEMA_VERSION, "axes": list(st.AXES), "a": [0.0], "b": [0.0],
                "model": {"pickle": "model.pt"}, "states": []}
    (tmp_path / st.MANIFEST).write_text(json.dumps(manifest))
    monkeypatch.delenv(st.TRUST_PICKLE_ENV, raising=False)
    with pytest.raises(ValueError) as info:
        st.open(tmp_path).model()
    assert f"{tmp_path / 'model.pt'}: this store keeps its model as a pickled module" in str(info.value)
    assert st.TRUST_PICKLE_ENV in str(info.value) and not marker.exists()
    monkeypatch.setenv(st.TRUST_PICKLE_ENV, "1")  # asked for: now it runs, as the message warned
    st.open(tmp_path).model()
    assert marker.exists()
