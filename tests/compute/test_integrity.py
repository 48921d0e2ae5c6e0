"""Store integrity: checksums in the manifest, damaged files named, set aside and recomputed alone
(surfaces, tiles and curvature files); write errors and a full disk named."""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from lossfilm.compute.store import integrity
from lossfilm.compute.store import folder as st
from lossfilm.compute.config.compute import ComputeConfig
from lossfilm.compute.config.curvature import CurvatureConfig
from lossfilm.compute.curvature.spectra import curvature_current, curvature_path
from lossfilm.compute.config.data import DataConfig
from lossfilm.compute.landscape.grid import GridConfig
from lossfilm.compute.config.landscape import EvalConfig, LandscapeConfig
from lossfilm.compute.config.model import ModelConfig
from lossfilm.compute.stage.run import compute_sequence
from lossfilm.compute.config.train import CaptureConfig, TrainConfig
from tests.disks import fill


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


# ------------------------------------------------------------------ curvature files


def curved() -> ComputeConfig:
    """:func:`tiny` with the curvature pass: spectra per state, a 3×3 sub-grid."""
    return dataclasses.replace(tiny(), curvature=CurvatureConfig(
        enabled=True, iterations=8, trace_samples=2, subgrid_every=4, subgrid_iterations=4))


@pytest.fixture(scope="module")
def curved_reference(reference, tmp_path_factory):
    folder = tmp_path_factory.mktemp("curved") / "store"
    shutil.copytree(reference, folder)  # the same surfaces: only the pass runs
    return compute_sequence(curved(), folder, progress=False)


def curvature_stamps(folder) -> dict:
    return {str(p.relative_to(folder)): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in sorted((folder / "curvature").glob("state_*.npz"))}


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_a_damaged_curvature_file_is_named_set_aside_and_computed_again_alone(
        curved_reference, tmp_path, capsys, damage):
    store = tmp_path / "store"
    shutil.copytree(curved_reference, store)
    m = json.loads((store / st.MANIFEST).read_text())
    assert set(m["checksums"]) == set(integrity.listed_files(m))  # curvature files included
    target = curvature_path(store, 1)
    assert m["checksums"]["curvature/state_0001.npz"] == integrity.file_digest(target)
    data = bytearray(target.read_bytes())
    if damage == "flip":  # forty bytes in the middle of the arrays
        mid = len(data) // 2
        data[mid:mid + 40] = bytes(b ^ 0xFF for b in data[mid:mid + 40])
    else:
        data = data[: len(data) // 3]
    target.write_bytes(bytes(data))
    before, surfaces = curvature_stamps(store), stamps(store)
    weights = {p.name: p.stat().st_mtime_ns for p in (store / "weights").iterdir()}

    assert not curvature_current(curved().curvature, store)  # `lossfilm run` will not reuse it
    with pytest.raises(integrity.DamagedFile, match="curvature/state_0001.npz: damaged"):
        st.open(store).sequence()  # the convexity channel names the file

    compute_sequence(curved(), store, progress=True)
    err = capsys.readouterr().err
    assert f"{target} is damaged" in err and "set aside as state_0001.npz.damaged" in err
    assert (target.parent / "state_0001.npz.damaged").read_bytes() == bytes(data)
    after = curvature_stamps(store)
    assert sorted(k for k in after if after[k] != before[k]) == ["curvature/state_0001.npz"]
    assert stamps(store) == surfaces  # no surface was touched, nothing trained
    assert {p.name: p.stat().st_mtime_ns for p in (store / "weights").iterdir()} == weights
    assert curvature_current(curved().curvature, store)
    recorded = json.loads((store / st.MANIFEST).read_text())["checksums"]["curvature/state_0001.npz"]
    assert recorded == integrity.file_digest(target)
    # Same code, same stored weights, seeds and thread count: the state's spectra come out
    # the same (bit for bit here); the tolerance absorbs another BLAS's reduction order.
    with np.load(target) as new, np.load(curvature_path(curved_reference, 1)) as old:
        assert set(new.files) == set(old.files)
        for name in new.files:
            if name != "config":
                np.testing.assert_allclose(new[name], old[name], rtol=1e-6, atol=1e-9, err_msg=name)
    fresh, ref = st.open(store).sequence(), st.open(curved_reference).sequence()
    np.testing.assert_allclose(fresh.channels["convexity"], ref.channels["convexity"], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(fresh.values["sharpness"], ref.values["sharpness"], rtol=1e-6)


# ------------------------------------------------------------------ write errors, disk full

ROOT = Path(__file__).resolve().parents[2]


def leftovers(folder) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*.tmp"))


def test_a_failed_write_names_the_file_keeps_the_rest_and_the_next_run_completes(store, reference, monkeypatch):
    target = st.surface_path(store, 1)
    target.unlink()  # state 1 is to be (re)assembled by the next run
    before = stamps(store)
    real_fsync = os.fsync

    def full_disk(fd):  # the OS call that reports a full disk, for that one file only
        if f".{target.name}." in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(integrity.WriteFailed) as info:
        compute_sequence(tiny(), store, progress=False)
    assert str(info.value) == f"cannot write {target}: No space left on device"
    assert info.value.errno == errno.ENOSPC
    assert not target.exists() and leftovers(store) == []
    assert stamps(store) == before  # every surface written before is untouched
    assert st.open(store).loss(2).shape == (9, 9)  # and reads back as recorded

    monkeypatch.setattr(os, "fsync", real_fsync)  # space is free again
    compute_sequence(tiny(), store, progress=False)
    assert st.is_complete(store)
    np.testing.assert_allclose(st.open(store).loss(1), st.open(reference).loss(1), rtol=1e-6, atol=1e-7)


def test_a_full_disk_is_named_and_the_run_after_space_is_freed_completes(small_disk, reference, capsys):
    from lossfilm.render.cli import main

    scene = small_disk / "scene.yaml"
    scene.write_text("name: full\ncompute: {model: {hidden: [8]}, data: {samples: 200},"
                     " train: {epochs: 1, batch_size: 50}, landscape: {grid: {points: 5}}}\n")
    store = small_disk / "store"
    shutil.copytree(reference, store)
    target = st.surface_path(store, 2)
    target.unlink()
    before = stamps(store)
    filler = fill(small_disk)

    with pytest.raises(integrity.WriteFailed) as info:
        compute_sequence(tiny(), store, progress=False)
    assert info.value.errno == errno.ENOSPC and str(info.value).startswith(f"cannot write {store}/")
    assert leftovers(store) == [] and stamps(store) == before
    # the command line says it in one line, exit 1
    code = main(["compute", str(scene), "--tiny", "--out", str(small_disk / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and "Traceback" not in "".join(err)
    assert err[-1].startswith(f"lossfilm: cannot write {small_disk / 'out'}/") and "No space left on device" in err[-1]

    filler.unlink()
    compute_sequence(tiny(), store, progress=False)
    assert st.is_complete(store) and stamps(store).keys() == stamps(reference).keys()
    np.testing.assert_allclose(st.open(store).loss(2), st.open(reference).loss(2), rtol=1e-6, atol=1e-7)
