"""The height transform: one mapping for the whole film, clipping, relief, non-finite losses."""

from __future__ import annotations

import numpy as np
import pytest

from lossfilm.render.mesh.heights import AUTO_RELIEF, HeightTransform

from lossfilm.render.scene.mesh import HeightConfig


def _loss(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(0.01, 5.0, size=(6, 9, 11)).astype(np.float32)


def test_log_transform_spans_relief_times_plane_size():
    loss = _loss()
    t = HeightTransform.fit(loss, HeightConfig(scale="log", relief=0.5), plane_size=4.0)
    z = t(loss)
    assert z.dtype == np.float32
    assert float(z.min()) == pytest.approx(0.0, abs=1e-6)
    assert float(z.max()) == pytest.approx(2.0, rel=1e-5)
    # log is monotone and affine in log(loss): equal ratios give equal steps
    z1, z2, z3 = t(np.array([0.1, 0.4, 1.6], dtype=np.float32))
    assert (z2 - z1) == pytest.approx(z3 - z2, rel=1e-3)


def test_auto_relief_is_the_documented_default():
    t = HeightTransform.fit(_loss(), HeightConfig(), plane_size=2.0)
    assert t.top == pytest.approx(AUTO_RELIEF * 2.0)


def test_same_loss_maps_to_same_height_in_every_state():
    loss = _loss()
    loss[:, 4, 5] = 1.2345  # one point with the same loss in every state
    t = HeightTransform.fit(loss, HeightConfig(), plane_size=1.0)
    z = t(loss)
    assert np.unique(z[:, 4, 5]).size == 1
    # and a state alone maps as it does inside the film (no per-frame rescale)
    # exact: the same elementwise transform on the same numbers (a rescale would move them)
    assert np.array_equal(t(loss[3]), z[3])


def test_linear_invert_and_ceiling():
    loss = np.linspace(0.0, 10.0, 11, dtype=np.float32).reshape(1, 1, 11)
    cfg = HeightConfig(scale="linear", ceiling=5.0, relief=1.0, invert=True)
    t = HeightTransform.fit(loss, cfg, 1.0)
    z = t(loss)[0, 0]
    assert z[0] == pytest.approx(1.0)  # lowest loss on top when inverted
    assert np.all(z[5:] == pytest.approx(0.0, abs=1e-7))  # everything above the ceiling clipped
    assert t.loss_of_z(z[2]) == pytest.approx(2.0, rel=1e-5)


def test_ceiling_percentile_and_floor():
    loss = np.arange(1, 101, dtype=np.float32).reshape(1, 10, 10)
    cfg = HeightConfig(scale="linear", ceiling_percentile=90, floor=20)
    t = HeightTransform.fit(loss, cfg, 1.0)
    assert t.loss_hi == pytest.approx(np.percentile(loss, 90))
    assert t.loss_lo == 20.0
    z = t(loss)
    assert np.all(z[loss <= 20] == 0.0)


def test_non_finite_goes_to_the_ceiling_and_is_flagged():
    loss = _loss()
    loss[2, 3, 3] = np.nan
    loss[2, 0, 0] = np.inf
    t = HeightTransform.fit(loss, HeightConfig(), plane_size=1.0)
    z = t(loss)
    assert np.isfinite(z).all()
    assert z[2, 3, 3] == pytest.approx(t.top) and z[2, 0, 0] == pytest.approx(t.top)
    assert HeightTransform.invalid(loss).sum() == 2


def test_all_diverged_is_a_flat_plane():
    loss = np.full((2, 3, 3), np.nan, dtype=np.float32)
    t = HeightTransform.fit(loss, HeightConfig(), plane_size=1.0)
    assert np.array_equal(t(loss), np.zeros_like(loss))


def test_bad_config_is_a_value_error_naming_the_key():
    with pytest.raises(ValueError, match="ceiling_percentile"):
        HeightConfig(ceiling=3.0, ceiling_percentile=95.0)
    with pytest.raises(ValueError, match="floor"):
        HeightConfig(floor=3.0, ceiling=1.0)
