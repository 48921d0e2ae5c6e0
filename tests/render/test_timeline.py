"""Film time -> state position, and interpolation between states (PCHIP, linear, hold)."""

from __future__ import annotations

import numpy as np
import pytest

from scipy.interpolate import PchipInterpolator

from lossfilm.render.mesh.timeline import StateInterpolator, Timeline

from lossfilm.render.scene.mesh import TimeConfig


def test_uniform_mapping_with_holds_and_clamping():
    tl = Timeline(TimeConfig(hold_start=1.0, hold_end=2.0), duration=10.0, epochs=np.arange(8))
    assert tl.position_at(-5.0) == 0.0
    assert tl.position_at(0.5) == 0.0
    assert tl.position_at(1.0) == 0.0
    assert tl.position_at(1.0 + 3.5) == pytest.approx(3.5)
    assert tl.position_at(8.0) == 7.0
    assert tl.position_at(9.5) == 7.0
    assert tl.position_at(100.0) == 7.0


def test_epoch_mapping_spends_time_in_proportion_to_epochs():
    epochs = np.array([0.0, 1.0, 2.0, 10.0])
    tl = Timeline(TimeConfig(mapping="epoch"), duration=10.0, epochs=epochs)
    assert tl.position_at(1.0) == pytest.approx(1.0)  # epoch 1 at 10% of the film
    assert tl.position_at(6.0) == pytest.approx(2.5)  # epoch 6: halfway from epoch 2 to 10


def test_keyframes_hold_ramp_and_no_overshoot():
    # reach state 2 at 25%, hold until 50%, then run to state 9 at the end
    cfg = TimeConfig(mapping="keyframes", keyframes=(0.0, 0.0, 0.25, 2.0, 0.5, 2.0, 1.0, 9.0))
    tl = Timeline(cfg, duration=8.0, epochs=np.arange(10))
    assert tl.position_at(2.0) == 2.0
    assert tl.position_at(3.0) == 2.0  # inside the hold
    assert tl.position_at(4.0) == 2.0
    ts = np.linspace(0.0, 8.0, 401)
    ps = np.array([tl.position_at(t) for t in ts])
    assert np.all(np.diff(ps) >= -1e-12)  # monotone keyframes give a monotone film
    assert ps.min() == 0.0 and ps.max() == 9.0


def test_keyframes_in_seconds_and_epochs():
    cfg = TimeConfig(mapping="keyframes", keyframes=(0.0, 0.0, 4.0, 20.0),
                     keyframe_time="seconds", keyframe_state="epoch")
    tl = Timeline(cfg, duration=4.0, epochs=np.array([0.0, 10.0, 20.0]))
    assert tl.position_at(4.0) == 2.0
    assert tl.position_at(2.0) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"keyframes": (0.0, 1.0, 0.5)}, "pairs"),
        ({"keyframes": (0.5, 1.0, 0.2, 3.0)}, "increase"),
        ({"mapping": "keyframes"}, "keyframes"),
    ],
)
def test_bad_time_config(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TimeConfig(**kwargs)


def test_bad_time_against_the_sequence():
    with pytest.raises(ValueError, match="hold_start"):
        Timeline(TimeConfig(hold_start=3.0, hold_end=3.0), 5.0, np.arange(3))
    with pytest.raises(ValueError, match="state range"):
        Timeline(TimeConfig(mapping="keyframes", keyframes=(0, 0, 1, 7)), 5.0, np.arange(3))
    with pytest.raises(ValueError, match="increasing"):
        Timeline(TimeConfig(mapping="epoch"), 5.0, np.array([0.0, 2.0, 1.0]))


@pytest.mark.parametrize("method", ["pchip", "linear", "hold"])
def test_captured_states_are_exact(method):
    rng = np.random.default_rng(1)
    values = rng.normal(size=(7, 5, 6)).astype(np.float32)
    interp = StateInterpolator(values, method)
    # exact by design: at (or within rounding of) a state the stored array is returned as is
    for k in range(7):
        assert np.array_equal(interp(float(k)), values[k])
    # float arithmetic landing next to a state still shows that state exactly
    assert np.array_equal(interp(3.0 - 1e-12), values[3])
    assert np.array_equal(interp(10.0), values[6])


def test_pchip_does_not_overshoot_monotone_data():
    # a jump then flat: a cubic spline would ring; PCHIP stays inside each pair of states
    steps = np.array([0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 5.0, 5.1])
    values = np.stack([steps, -steps, 2 * steps], axis=1)
    interp = StateInterpolator(values, "pchip")
    ps = np.linspace(0.0, 7.0, 701)
    out = np.stack([interp(p) for p in ps])
    for c in range(3):
        k = np.minimum(np.floor(ps).astype(int), 6)
        lo = np.minimum(values[k, c], values[k + 1, c])
        hi = np.maximum(values[k, c], values[k + 1, c])
        assert np.all(out[:, c] >= lo - 1e-12) and np.all(out[:, c] <= hi + 1e-12)
    assert np.all(np.diff(out[:, 0]) >= -1e-12)


def test_linear_and_hold_between_states():
    values = np.array([[0.0], [10.0], [20.0]])
    assert StateInterpolator(values, "linear")(0.25)[0] == pytest.approx(2.5)
    assert StateInterpolator(values, "hold")(1.9)[0] == 10.0
    assert StateInterpolator(values, "hold").bracket(1.9) == (1, 1)
    assert StateInterpolator(values, "pchip").bracket(1.5) == (1, 2)


def test_single_state_sequence():
    interp = StateInterpolator(np.ones((1, 2, 2)), "pchip")
    assert np.array_equal(interp(0.7), np.ones((2, 2)))
    assert Timeline(TimeConfig(), 3.0, np.zeros(1)).position_at(1.0) == 0.0


def test_pchip_matches_scipy_between_states():
    rng = np.random.default_rng(2)
    values = np.cumsum(rng.normal(size=(9, 4, 3)), axis=0)
    ours = StateInterpolator(values, "pchip")
    ref = PchipInterpolator(np.arange(9.0), values, axis=0)
    for p in np.linspace(0.0, 8.0, 57):
        np.testing.assert_allclose(ours(p), ref(p), rtol=1e-12, atol=1e-12)
    f32 = StateInterpolator(values.astype(np.float32), "pchip")
    assert f32(3.3).dtype == np.float32
    np.testing.assert_allclose(f32(3.3), ref(3.3), atol=1e-5)


def test_pchip_slopes_across_blocks():
    from lossfilm.render.mesh.timeline import SLOPE_BLOCK, pchip_slopes

    values = np.random.default_rng(3).normal(size=(4, SLOPE_BLOCK + 7)).astype(np.float32)
    ref = PchipInterpolator(np.arange(4.0), values, axis=0)(np.arange(4.0), 1)
    np.testing.assert_allclose(pchip_slopes(values), ref, rtol=1e-5, atol=1e-5)
