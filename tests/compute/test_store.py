"""The store's files: atomic writes, tiles joined into states, the reader and its sequence."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from lossfilm.compute.store import folder as st


def make_store(folder, n_states=3, ny=4, nx=5, done=None):
    """A hand-made store: manifest, weights, shared directions, eval data, surfaces."""
    done = range(n_states) if done is None else done
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2))
    st.save_tensors(folder / "model_weights.pt", net.state_dict())
    torch.save(net, folder / "model.pt")
    st.save_tensors(folder / "data" / "eval.pt", {"x": torch.randn(8, 2), "y": torch.randint(0, 2, (8,))})
    d = {k: torch.ones_like(v) for k, v in net.state_dict().items()}
    st.save_tensors(folder / "directions" / "shared.pt", {"d1": d, "d2": d})
    states = []
    for i in range(n_states):
        w = folder / "weights" / f"{st.state_name(i)}.pt"
        st.save_tensors(w, net.state_dict())
        states.append(dict(index=i, epoch=float(i), step=10 * i, label=f"epoch {i}",
                           weights=str(w.relative_to(folder)), origin=str(w.relative_to(folder)),
                           directions="directions/shared.pt", ball=[0.1 * i, -0.1 * i],
                           file=f"surfaces/{st.state_name(i)}.npz",
                           values={"train_loss": 1.0 / (i + 1), "lr": 0.1}))
    manifest = {"schema_version": st.SCHEMA_VERSION, "axes": list(st.AXES),
                "a": np.linspace(-1, 1, nx), "b": np.linspace(-2, 2, ny), "metrics": ["loss", "accuracy"],
                "loss": "cross_entropy", "model": {"pickle": "model.pt"}, "states": states}
    st.write_json(folder / st.MANIFEST, manifest)
    for i in done:
        loss = np.full((ny, nx), float(i), np.float32)
        loss[0, 0] = np.nan
        st.write_tile(folder, i, 0, ny, {"loss": loss, "accuracy": np.zeros((ny, nx))})
        st.assemble_state(folder, i, [(0, ny)], nx)
    return net


def test_atomic_write_leaves_only_the_target(tmp_path):
    target = tmp_path / "sub" / "m.json"
    st.write_json(target, {"x": [1.0, float("nan")], "y": np.float32(2.5)})
    assert json.loads(target.read_text()) == {"x": [1.0, None], "y": 2.5}
    assert [p.name for p in target.parent.iterdir()] == ["m.json"]

    def boom(f):
        f.write(b"partial")
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError):
        st.atomic_write(target, boom)
    assert json.loads(target.read_text())["y"] == 2.5  # the old file is intact
    assert [p.name for p in target.parent.iterdir()] == ["m.json"]  # no temp file left


def test_tiles_join_only_when_all_are_there(tmp_path):
    blocks = [(0, 2), (2, 3)]
    st.write_tile(tmp_path, 7, 0, 2, {"loss": np.arange(8.0).reshape(2, 4)})
    assert not st.assemble_state(tmp_path, 7, blocks, 4)
    assert not st.surface_path(tmp_path, 7).exists()
    st.write_tile(tmp_path, 7, 2, 3, {"loss": np.array([[8.0, 9, 10, 11]])})
    assert st.assemble_state(tmp_path, 7, blocks, 4)
    with np.load(st.surface_path(tmp_path, 7)) as z:
        # exact: small integers survive float32 and the tiles are only copied into place
        np.testing.assert_array_equal(z["loss"], np.arange(12.0).reshape(3, 4))
        assert z["loss"].dtype == np.float32
    assert not any(st.tile_path(tmp_path, 7, *b).exists() for b in blocks)


def test_reader_and_sequence(tmp_path):
    net = make_store(tmp_path)
    s = st.open(tmp_path)
    assert s.complete and s.a.shape == (5,) and s.b.shape == (4,)
    assert s.loss(2).shape == (4, 4 + 1) and s.loss(2)[1, 1] == 2.0
    assert np.isnan(s.loss(1)[0, 0])  # non-finite kept as stored
    d1, d2 = s.directions(0)
    assert set(d1) == set(net.state_dict())
    assert torch.equal(s.origin(1)["0.weight"], net.state_dict()["0.weight"])
    x, y = s.eval_data()
    assert x.shape == (8, 2) and y.shape == (8,)
    with pytest.raises(ValueError, match="runs code stored in the file"):
        s.model()  # a pickled module: only with an explicit opt-in
    assert isinstance(st.open(tmp_path, trust_pickle=True).model(), nn.Sequential)
    assert s.loss_fn(torch.zeros(2, 2), torch.tensor([0, 1])).item() == pytest.approx(np.log(2))
    seq = s.sequence()
    assert seq.loss.shape == (3, 4, 5) and seq.labels == ["epoch 0", "epoch 1", "epoch 2"]
    np.testing.assert_array_equal(seq.steps, [0, 10, 20])
    np.testing.assert_allclose(seq.ball[2], [0.2, -0.2])
    np.testing.assert_allclose(seq.values["train_loss"], [1.0, 0.5, 1 / 3])
    assert seq.channels["accuracy"].shape == (3, 4, 5)


def test_incomplete_store_says_what_is_missing(tmp_path):
    make_store(tmp_path, done=[0, 2])
    s = st.open(tmp_path)
    assert not s.complete and s.is_complete(0) and not s.is_complete(1)
    with pytest.raises(ValueError, match="epoch 1"):
        s.sequence()


def test_wrong_schema_or_folder_raises(tmp_path):
    with pytest.raises(ValueError, match="not a surface store"):
        st.open(tmp_path)
    make_store(tmp_path)
    m = json.loads((tmp_path / st.MANIFEST).read_text())
    m["schema_version"] = 999
    st.write_json(tmp_path / st.MANIFEST, m)
    with pytest.raises(ValueError, match="schema_version"):
        st.open(tmp_path)


def test_is_complete_is_false_for_missing_partial_or_broken_stores(tmp_path):
    assert not st.is_complete(tmp_path / "nothing")
    make_store(tmp_path / "part", done=[0])
    assert not st.is_complete(tmp_path / "part")
    make_store(tmp_path / "full")
    assert st.is_complete(tmp_path / "full")
    (tmp_path / "full" / st.MANIFEST).write_text("{not json")
    assert not st.is_complete(tmp_path / "full")
