"""Store integrity: checksums in the manifest, damaged files named, set aside and recomputed alone."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from compute import integrity
from compute import store as st
from compute.config import ComputeConfig
from compute.data import DataConfig
from compute.landscape import EvalConfig, GridConfig, LandscapeConfig
from compute.models import ModelConfig
from compute.run import compute_sequence
from compute.train import CaptureConfig, TrainConfig


def tiny() -> ComputeConfig:
    return ComputeConfig(
        model=ModelConfig(hidden=(8,)),
        data=DataConfig(samples=200),
        train=TrainConfig(epochs=2, batch_size=50, capture=CaptureConfig(every=1)),
        landscape=LandscapeConfig(grid=GridConfig(points=9), eval=EvalConfig(samples=100, points_per_tile=18)),
        executor="serial",
    )


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return compute_sequence(tiny(), tmp_path_factory.mktemp("ref"), progress=False)


@pytest.fixture
def store(reference, tmp_path):
    folder = tmp_path / "store"
    shutil.copytree(reference, folder)
    return folder


def stamps(folder) -> dict:
    """``{relative path: (inode, mtime)}`` of every surface file: what a rerun rewrote."""
    return {str(p.relative_to(folder)): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in sorted((folder / "surfaces").glob("state_*.npz"))}


def test_the_manifest_lists_a_checksum_of_every_file(reference):
    m = json.loads((reference / st.MANIFEST).read_text())
    listed = integrity.listed_files(m)
    assert "data/eval.pt" in listed and "surfaces/state_0002.npz" in listed
    assert set(m["checksums"]) == set(listed)
    for relative, digest in m["checksums"].items():
        assert digest == integrity.file_digest(reference / relative)


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_a_damaged_surface_is_named_set_aside_and_recomputed_alone(store, reference, capsys, damage):
    target = st.surface_path(store, 1)
    data = bytearray(target.read_bytes())
    if damage == "flip":  # forty bytes in the middle of the array data
        mid = len(data) // 2
        data[mid:mid + 40] = bytes(b ^ 0xFF for b in data[mid:mid + 40])
    else:
        data = data[: len(data) // 3]
    target.write_bytes(bytes(data))
    before = stamps(store)

    assert not st.is_complete(store)  # a damaged store is not reused as done
    with pytest.raises(integrity.DamagedFile, match="state_0001.npz: damaged"):
        st.open(store).sequence()  # reading names the file instead of a bare BadZipFile

    compute_sequence(tiny(), store, progress=True)
    err = capsys.readouterr().err
    assert f"{target} is damaged" in err and "set aside as state_0001.npz.damaged" in err
    assert (target.parent / "state_0001.npz.damaged").read_bytes() == bytes(data)  # kept, not deleted
    after = stamps(store)
    changed = sorted(k for k in after if after[k] != before[k])
    assert changed == ["surfaces/state_0001.npz"]  # nothing else was recomputed
    assert st.is_complete(store)
    # Same code, same stored weights and directions, same thread count, serial: the rerun
    # is the same computation (bit-identical on this machine when checked); the tolerance
    # of 1e-6 only absorbs a BLAS that picks another reduction order elsewhere.
    np.testing.assert_allclose(st.open(store).loss(1), st.open(reference).loss(1), rtol=1e-6, atol=1e-7)
    recorded = st.open(store).checksums["surfaces/state_0001.npz"]
    assert recorded == integrity.file_digest(target)  # the new file is recorded, not the damaged one


def test_damaged_weights_are_named_with_the_way_on(store):
    target = store / "weights" / "state_0002.pt"
    data = bytearray(target.read_bytes())
    data[-30:] = b"\0" * 30
    target.write_bytes(bytes(data))
    with pytest.raises(integrity.DamagedFile) as info:
        compute_sequence(tiny(), store, progress=False)
    assert str(target) in str(info.value) and "--force" in str(info.value)
    with pytest.raises(integrity.DamagedFile, match="state_0002.pt: damaged"):
        st.open(store).weights(2)


def test_a_damaged_tile_is_set_aside_and_evaluated_again(reference, tmp_path):
    blocks = [(0, 2), (2, 4)]
    st.write_tile(tmp_path, 0, 0, 2, {"loss": np.ones((2, 4))})
    st.write_tile(tmp_path, 0, 2, 4, {"loss": np.ones((2, 4))})
    tile = st.tile_path(tmp_path, 0, 2, 4)
    tile.write_bytes(tile.read_bytes()[:-20])
    assert not st.assemble_state(tmp_path, 0, blocks, 4)
    assert not tile.exists() and tile.with_name(tile.name + ".damaged").exists()
    st.write_tile(tmp_path, 0, 2, 4, {"loss": np.ones((2, 4))})
    assert st.assemble_state(tmp_path, 0, blocks, 4)
