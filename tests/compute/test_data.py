"""Data sets: shapes, labels, determinism, file readers, user factories, the eval subset."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
import torch

from lossfilm.compute.data.datasets import Dataset, build_data, eval_subset

from lossfilm.compute.config.data import SHAPE_CLASSES, DataConfig

GENERATED = {
    "spirals": ((2,), 3),
    "moons": ((2,), 2),
    "blobs": ((5,), 4),
    "shapes": ((1, 12, 12), 4),
}


@pytest.mark.parametrize("kind", sorted(GENERATED))
def test_generated_sets_have_expected_shape_labels_and_balance(kind):
    in_shape, classes = GENERATED[kind]
    cfg = DataConfig(kind=kind, samples=301, classes=classes, features=5, image_size=12, seed=3)
    ds = build_data(cfg)
    assert ds.x.shape == (301, *in_shape)
    assert ds.x.dtype == torch.float32 and ds.y.dtype == torch.int64
    assert ds.in_shape == in_shape
    assert ds.n_classes == classes
    counts = torch.bincount(ds.y, minlength=classes)
    assert counts.max() - counts.min() <= 1  # even split
    assert torch.isfinite(ds.x).all()
    json.dumps(ds.description)  # must be JSON-able for the manifest
    assert ds.description["samples"] == 301


@pytest.mark.parametrize("kind", sorted(GENERATED))
def test_generated_sets_are_deterministic_per_seed(kind):
    classes = GENERATED[kind][1]
    a = build_data(DataConfig(kind=kind, samples=64, classes=classes, seed=1))
    b = build_data(DataConfig(kind=kind, samples=64, classes=classes, seed=1))
    c = build_data(DataConfig(kind=kind, samples=64, classes=classes, seed=2))
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    assert a.fingerprint() == b.fingerprint()
    assert a.fingerprint() != c.fingerprint()


def test_fingerprint_sees_a_single_changed_value():
    ds = build_data(DataConfig(samples=50))
    before = ds.fingerprint()
    ds.x[7, 1] += 1e-3
    assert ds.fingerprint() != before


def test_noise_default_and_override():
    quiet = build_data(DataConfig(kind="moons", samples=400, noise=0.0))
    noisy = build_data(DataConfig(kind="moons", samples=400, noise=0.5))
    # Noise-free moon points lie exactly on unit circles around their centres.
    upper = quiet.x[quiet.y == 0] + torch.tensor([0.5, 0.25])
    assert torch.allclose(upper.norm(dim=1), torch.ones(len(upper)), atol=1e-5)
    upper_noisy = noisy.x[noisy.y == 0] + torch.tensor([0.5, 0.25])
    assert (upper_noisy.norm(dim=1) - 1).abs().mean() > 0.1
    assert build_data(DataConfig(kind="spirals", samples=10)).description["noise"] == 0.03


def test_shapes_classes_differ_in_what_they_look_like():
    ds = build_data(DataConfig(kind="shapes", samples=400, classes=2, noise=0.0, seed=0))
    # Horizontal stripes vary along rows, vertical stripes along columns.
    imgs = ds.x[:, 0]
    row_var = imgs.mean(dim=2).var(dim=1)  # variance of row means
    col_var = imgs.mean(dim=1).var(dim=1)
    assert (row_var[ds.y == 0] > col_var[ds.y == 0]).float().mean() > 0.95
    assert (col_var[ds.y == 1] > row_var[ds.y == 1]).float().mean() > 0.95
    assert len(SHAPE_CLASSES) == 8


def test_config_errors_name_the_key():
    with pytest.raises(ValueError, match="data.path"):
        DataConfig(kind="npz")
    with pytest.raises(ValueError, match="data.factory"):
        DataConfig(kind="user")
    with pytest.raises(ValueError, match="data.classes"):
        DataConfig(kind="moons", classes=3)
    with pytest.raises(ValueError, match="data.classes"):
        DataConfig(kind="shapes", classes=9)


def test_npz_round_trip_with_sample_cap(tmp_path):
    x = np.arange(40, dtype=np.float64).reshape(20, 2)
    y = np.arange(20) % 3
    np.savez(tmp_path / "d.npz", x=x, y=y)
    full = build_data(DataConfig(kind="npz", path=str(tmp_path / "d.npz"), samples=0))
    assert full.x.shape == (20, 2) and full.n_classes == 3
    assert torch.equal(full.x, torch.tensor(x, dtype=torch.float32))
    capped = build_data(DataConfig(kind="npz", path=str(tmp_path / "d.npz"), samples=5, seed=4))
    assert capped.x.shape == (5, 2)
    rows = capped.x[:, 0].long() // 2
    assert torch.all(rows[1:] > rows[:-1])  # drawn rows keep file order
    assert torch.equal(capped.y, torch.tensor(y)[rows])


def test_npz_errors(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        build_data(DataConfig(kind="npz", path=str(tmp_path / "none.npz")))
    np.savez(tmp_path / "bad.npz", x=np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"lacks arrays \['y'\]"):
        build_data(DataConfig(kind="npz", path=str(tmp_path / "bad.npz")))
    np.savez(tmp_path / "frac.npz", x=np.zeros((3, 2)), y=np.array([0.0, 0.5, 1.0]))
    with pytest.raises(ValueError, match="integer class indices"):
        build_data(DataConfig(kind="npz", path=str(tmp_path / "frac.npz")))


def test_pt_round_trip_keeps_image_shape(tmp_path):
    x = torch.randn(12, 1, 8, 8)
    y = torch.tensor([0, 1, 2, 3] * 3)
    torch.save({"x": x, "y": y}, tmp_path / "d.pt")
    ds = build_data(DataConfig(kind="pt", path=str(tmp_path / "d.pt"), samples=0))
    assert ds.in_shape == (1, 8, 8) and ds.n_classes == 4
    assert torch.equal(ds.x, x)
    torch.save([x, y], tmp_path / "list.pt")
    with pytest.raises(ValueError, match="dict with tensors"):
        build_data(DataConfig(kind="pt", path=str(tmp_path / "list.pt")))


def test_user_factory_from_file_gets_accepted_keywords(tmp_path):
    (tmp_path / "mydata.py").write_text(
        "import numpy as np\n"
        "def make(samples, seed):\n"
        "    rng = np.random.default_rng(seed)\n"
        "    return rng.normal(size=(samples, 3)), np.arange(samples) % 2\n"
    )
    spec = f"{tmp_path / 'mydata.py'}:make"
    ds = build_data(DataConfig(kind="user", factory=spec, samples=30, seed=5))
    assert ds.x.shape == (30, 3) and ds.n_classes == 2
    with pytest.raises(ValueError, match="no attribute"):
        build_data(DataConfig(kind="user", factory=f"{tmp_path / 'mydata.py'}:nope"))
    with pytest.raises(ValueError, match="cannot import"):
        build_data(DataConfig(kind="user", factory="no_such_pkg_xyz.mod:make"))


@pytest.mark.skipif(
    importlib.util.find_spec("sklearn") is not None, reason="scikit-learn installed"
)
def test_digits_without_sklearn_says_what_to_install():
    with pytest.raises(ValueError, match="scikit-learn"):
        build_data(DataConfig(kind="digits"))


def test_dataset_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="x has 3 samples but y has 2"):
        Dataset(x=torch.zeros(3, 2), y=torch.zeros(2), n_classes=2, in_shape=(2,))


def test_eval_subset_is_fixed_seeded_and_a_subset():
    ds = build_data(DataConfig(samples=500, seed=0))
    x1, y1 = eval_subset(ds, 100, seed=7)
    x2, y2 = eval_subset(ds, 100, seed=7)
    x3, _ = eval_subset(ds, 100, seed=8)
    assert x1.shape == (100, 2) and y1.shape == (100,)
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert not torch.equal(x1, x3)
    # every row comes from the data set with its own label
    match = (x1[:, None, :] == ds.x[None, :, :]).all(dim=2)
    rows = match.float().argmax(dim=1)
    assert match.any(dim=1).all()
    assert torch.equal(ds.y[rows], y1)
    xa, ya = eval_subset(ds, 0, seed=1)
    assert torch.equal(xa, ds.x) and torch.equal(ya, ds.y)
    with pytest.raises(ValueError, match="eval.samples"):
        eval_subset(ds, -1, seed=0)


def test_holdout_splits_disjointly_and_deterministically():
    full = build_data(DataConfig(samples=200, seed=3))
    held = build_data(DataConfig(samples=200, seed=3, holdout=0.25))
    again = build_data(DataConfig(samples=200, seed=3, holdout=0.25))
    assert len(held) == 150 and held.test_x.shape == (50, 2) and held.test_y.shape == (50,)
    assert held.description["holdout_samples"] == 50
    assert torch.equal(held.test_x, again.test_x) and held.fingerprint() == again.fingerprint()
    assert held.fingerprint() != full.fingerprint()
    # the two parts partition the full set, labels travelling with their samples
    both = torch.cat([held.x, held.test_x])
    order = torch.argsort(both[:, 0])
    assert torch.equal(both[order], full.x[torch.argsort(full.x[:, 0])])
    labels = torch.cat([held.y, held.test_y])[order]
    assert torch.equal(labels, full.y[torch.argsort(full.x[:, 0])])
    assert full.test_x is None
