"""Foreign surface files: Li et al.'s .h5, numpy grids, training order, the imported store."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lossfilm.compute.store import folder as store
from lossfilm.compute.store.foreign import (
    STRIP_ROWS,
    grid_to_li_values,
    li_values_to_grid,
    read_surface_file,
    training_order,
    write_li_h5,
)
from lossfilm.compute.store.foreign_store import import_surfaces

h5py = pytest.importorskip("h5py", reason="h5py is in the dev extra: pip install -e '.[dev]'")


def reference_h5(path, x, y=None, loss_of=None, test=False):
    """A surface file written exactly as the reference code's plot_surface.py does.

    It creates the value arrays as ``(len(x), len(y))`` and fills them with
    ``losses.ravel()[ind] = loss`` where ``ind`` runs over ``np.meshgrid(x, y)`` raveled.
    """
    with h5py.File(path, "w") as f:
        f["dir_file"] = "model_300.t7_weights_xignore=biasbn_xnorm=filter.h5"
        f["xcoordinates"] = x
        if y is not None:
            f["ycoordinates"] = y
        shape = x.shape if y is None else (len(x), len(y))
        losses, accuracies = -np.ones(shape), -np.ones(shape)
        xm, ym = (x, np.zeros_like(x)) if y is None else np.meshgrid(x, y)
        for ind in range(losses.size):
            losses.ravel()[ind] = loss_of(xm.ravel()[ind], ym.ravel()[ind])
            accuracies.ravel()[ind] = 100.0 - 20.0 * losses.ravel()[ind]
        f["train_loss"], f["train_acc"] = losses, accuracies
        if test:
            f["test_loss"], f["test_acc"] = losses + 0.5, accuracies - 5.0
    return path


def bowl(a, b):
    return 0.05 + a * a + 0.5 * b * b + 0.3 * a  # asymmetric: a transposed read shows


def test_reference_h5_imports_with_the_files_values_exactly(tmp_path):
    x, y = np.linspace(-1, 1, 7), np.linspace(-0.5, 1.5, 5)  # nx != ny: a wrong reshape fails
    src = reference_h5(tmp_path / "surf.h5", x, y, bowl, test=True)
    folder = import_surfaces([src], tmp_path / "store")
    s = store.open(folder)
    with h5py.File(src) as f:
        flat = f["train_loss"][()].ravel()
        acc = f["train_acc"][()].ravel()
    grid = s.loss(0)
    assert grid.shape == (5, 7) and grid.dtype == np.float64
    assert np.array_equal(grid.ravel(), flat)  # exactly the file's numbers, in its order
    # and each sits where the reference code evaluated it: row = y, column = x
    assert grid[3, 6] == bowl(x[6], y[3])
    assert np.array_equal(s.a, x) and np.array_equal(s.b, y)
    assert np.array_equal(s.channel("accuracy", 0).ravel(), acc / 100.0)
    assert set(s.metrics) == {"loss", "accuracy", "test_loss", "test_accuracy"}
    assert s.imported and "cannot be recomputed" in s.manifest["imported"]["note"]
    with pytest.raises(ValueError, match="imported store has no weights"):
        s.weights(0)
    seq = s.sequence()
    assert seq.loss.shape == (1, 5, 7) and "test_accuracy" in seq.channels


def test_points_never_computed_become_nan(tmp_path):
    x, y = np.linspace(-1, 1, 4), np.linspace(-1, 1, 4)
    src = reference_h5(tmp_path / "partial.h5", x, y, bowl)
    with h5py.File(src, "r+") as f:
        values = f["train_loss"][()]
        values.ravel()[5] = -1.0
        f["train_loss"][...] = values
    surface = read_surface_file(src)
    assert np.isnan(surface.loss[0].ravel()[5]) and np.isfinite(np.delete(surface.loss[0].ravel(), 5)).all()
    assert any("not computed" in n for n in surface.notes)


def test_one_dimensional_file_becomes_a_strip(tmp_path):
    x = np.linspace(-1, 1, 9)
    src = reference_h5(tmp_path / "line.h5", x, None, lambda a, _b: bowl(a, 0.0))
    surface = read_surface_file(src)
    assert surface.strip and surface.loss.shape == (1, STRIP_ROWS, 9)
    assert np.array_equal(surface.loss[0], np.tile([bowl(v, 0.0) for v in x], (STRIP_ROWS, 1)))
    assert surface.b[0] < 0 < surface.b[-1]


def test_li_layout_round_trips_through_the_writer(tmp_path):
    rng = np.random.default_rng(0)
    a, b = np.linspace(-1, 1, 6), np.linspace(-2, 2, 4)
    loss, acc = rng.random((4, 6)), rng.random((4, 6))
    path = write_li_h5(tmp_path / "out.h5", a, b, loss, {"accuracy": acc})
    with h5py.File(path) as f:
        assert f["train_loss"].shape == (6, 4)  # declared (nx, ny), as the reference does
    back = read_surface_file(path)
    assert np.array_equal(back.loss[0], loss)
    # percent and back: *100 then /100 is within an ulp, not bit for bit
    assert np.allclose(back.channels["accuracy"][0], acc, rtol=1e-15, atol=0)
    assert np.array_equal(li_values_to_grid(grid_to_li_values(loss), 6, 4), loss)


def test_npz_and_npy_grids_with_and_without_coordinates(tmp_path):
    a, b = np.linspace(0, 2, 5), np.linspace(-1, 1, 3)
    loss = np.arange(15.0).reshape(3, 5) + 1
    np.savez(tmp_path / "g.npz", loss=loss, a=a[::-1], b=b, accuracy=loss / 20)
    s = read_surface_file(tmp_path / "g.npz")
    assert np.array_equal(s.a, a) and np.array_equal(s.loss[0], loss[:, ::-1])  # sorted to increase
    assert np.array_equal(s.channels["accuracy"][0], loss[:, ::-1] / 20)
    np.save(tmp_path / "bare.npy", loss)
    bare = read_surface_file(tmp_path / "bare.npy", grid_range=(0, 4, 10, 12))
    assert bare.a[-1] == 4 and bare.b[0] == 10 and any("assumed" in n for n in bare.notes)
    xx, yy = np.meshgrid(a, b)
    np.save(tmp_path / "xyz.npy", np.stack([xx, yy, loss]))
    xyz = read_surface_file(tmp_path / "xyz.npy")
    assert np.array_equal(xyz.a, a) and np.array_equal(xyz.b, b) and not xyz.notes
    with pytest.raises(ValueError, match="does not match the coordinates"):
        np.savez(tmp_path / "bad.npz", loss=loss, a=a[:4], b=b)
        read_surface_file(tmp_path / "bad.npz")


def test_training_order_uses_the_number_that_differs():
    names = [f"run/model_{e}.t7_weights.h5_[-1.0,1.0,51]x[-1.0,1.0,51].h5" for e in (100, 5, 20)]
    ordered = training_order(names)
    assert [p for _, p, _ in ordered] == [5.0, 20.0, 100.0]
    assert training_order(["ckpt-step300.npz", "ckpt-step1200.npz"])[1][1:] == (1200.0, "step")
    with pytest.raises(ValueError, match="keep-order"):
        training_order(["best.npz", "last.npz"])


def test_a_sequence_imports_in_order_and_refuses_to_overwrite(tmp_path):
    a, b = np.linspace(-1, 1, 5), np.linspace(-1, 1, 4)
    for epoch in (10, 2, 5):
        np.savez(tmp_path / f"surface_epoch{epoch}.npz", loss=np.full((4, 5), float(epoch)), a=a, b=b)
    files = sorted(tmp_path.glob("*.npz"))
    folder = import_surfaces(files, tmp_path / "seq")
    s = store.open(folder)
    assert [st["epoch"] for st in s.states] == [2.0, 5.0, 10.0]
    assert [float(s.loss(i)[0, 0]) for i in range(3)] == [2.0, 5.0, 10.0]
    with pytest.raises(ValueError, match="--force"):
        import_surfaces(files, folder)
    import_surfaces(files[:1], folder, force=True)
    assert len(store.open(folder).states) == 1
    computed = tmp_path / "computed"
    computed.mkdir()
    (computed / "manifest.json").write_text(json.dumps({"schema_version": 1}))
    with pytest.raises(ValueError, match="never overwritten"):
        import_surfaces(files, computed, force=True)
    np.savez(tmp_path / "surface_epoch99.npz", loss=np.ones((4, 6)), a=np.linspace(-1, 1, 6), b=b)
    with pytest.raises(ValueError, match="needs one grid"):
        import_surfaces(files + [tmp_path / "surface_epoch99.npz"], tmp_path / "mixed")
