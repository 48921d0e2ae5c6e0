"""Mode connectivity: the Bézier curve, its exact plane coordinates, and the melting barrier."""

from __future__ import annotations


import numpy as np
import pytest
import torch

from lossfilm.compute.store import folder as store
from lossfilm.compute.config.compute import ComputeConfig
from lossfilm.compute.config.data import DataConfig
from lossfilm.compute.landscape.directions import project, three_point_plane
from lossfilm.compute.config.experiment import ExperimentConfig
from lossfilm.compute.experiments.curves import bezier_plane_points, bezier_weights
from lossfilm.compute.config.experiment import CurveConfig
from lossfilm.compute.config.model import ModelConfig
from lossfilm.compute.stage.run import compute_sequence
from lossfilm.compute.config.landscape import EvalConfig, GridConfig, LandscapeConfig
from lossfilm.compute.config.train import TrainConfig


def _points(seed: int) -> dict:
    g = torch.Generator().manual_seed(seed)
    return {"w": torch.randn(4, 3, generator=g, dtype=torch.float64), "b": torch.randn(4, generator=g, dtype=torch.float64)}


def test_bezier_ends_and_midpoint():
    w1, bend, w2 = _points(0), _points(1), _points(2)
    for k in w1:
        assert torch.equal(bezier_weights(w1, bend, w2, 0.0)[k], w1[k])
        assert torch.equal(bezier_weights(w1, bend, w2, 1.0)[k], w2[k])
        mid = 0.25 * w1[k] + 0.5 * bend[k] + 0.25 * w2[k]
        assert torch.allclose(bezier_weights(w1, bend, w2, 0.5)[k], mid)


def test_curve_plane_coordinates_are_exact():
    """The curve lies in the plane of its three points: projection = formula, residual 0."""
    w1, bend, w2 = _points(3), _points(4), _points(5)
    d1, d2, pts = three_point_plane(w1, w2, bend)
    assert np.allclose(pts[:2], [[0.0, 0.0], [1.0, 0.0]])
    ts = np.array([0.0, 0.2, 0.5, 0.9, 1.0])
    coords = bezier_plane_points(pts[0], pts[2], pts[1], ts)
    for t, ab in zip(ts, coords):
        theta = bezier_weights(w1, bend, w2, float(t))
        assert np.allclose(project(theta, w1, d1, d2), ab, atol=1e-9)
        back = {k: w1[k] + ab[0] * d1[k] + ab[1] * d2[k] for k in w1}
        assert all(torch.allclose(back[k], theta[k], atol=1e-9) for k in w1)


def test_equal_seeds_are_refused():
    with pytest.raises(ValueError, match="experiment.curve.seeds"):
        CurveConfig(seeds=(3, 3))


@pytest.fixture(scope="module")
def mc_store(tmp_path_factory):
    cfg = ComputeConfig(
        model=ModelConfig(hidden=(32, 32)),
        data=DataConfig(kind="spirals", classes=2, samples=400, seed=0),
        train=TrainConfig(epochs=3, lr=0.1, batch_size=32),
        experiment=ExperimentConfig(kind="mode_connectivity", curve=CurveConfig(minima_epochs=80)),
        landscape=LandscapeConfig(grid=GridConfig(points=9), eval=EvalConfig(samples=256)),
        executor="serial",
    )
    folder = compute_sequence(cfg, tmp_path_factory.mktemp("mc"), progress=False)
    return cfg, store.open(folder)


def test_barrier_melts_along_the_trained_curve(mc_store):
    """Garipov et al.'s claim: the trained curve's max loss is far below the segment's."""
    _, s = mc_store
    first, last = s.states[0]["values"], s.states[-1]["values"]
    # the segment crosses a real barrier: far above both ends of the curve
    assert last["segment_max_loss"] > 2.0 * last["curve_max_loss"]
    # and training the bend is what brought the curve down
    assert last["curve_max_loss"] < 0.6 * first["curve_max_loss"]
    # the segment does not depend on the bend
    assert first["segment_max_loss"] == pytest.approx(last["segment_max_loss"], rel=1e-6)


def test_each_state_has_its_own_three_point_plane(mc_store):
    _, s = mc_store
    seq = s.sequence()
    assert seq.n_states == 4
    assert len({st["directions"] for st in s.states}) == 4
    assert {st["origin"] for st in s.states} == {"experiment/w1.pt"}
    # origin_loss is the loss at w1 (the shared origin), not at each state's curve midpoint
    at_w1 = {round(st["values"]["origin_loss"], 6) for st in s.states}
    assert len(at_w1) == 1 and s.states[0]["values"]["eval_loss"] > 2 * at_w1.pop()
    bends = np.array([st["plane_points"]["bend"] for st in s.states])
    assert np.ptp(bends[:, 1]) > 0  # the bend moves
    for st in s.states:
        assert st["plane_points"]["w1"] == [0.0, 0.0] and st["plane_points"]["w2"] == [1.0, 0.0]
    # paths: the segment on the a axis from w1 to w2, the curve from w1 to w2 through the bend
    assert set(seq.paths) == {"segment", "curve"}
    seg, cur = seq.paths["segment"], seq.paths["curve"]
    assert np.allclose(seg[:, :, 1], 0.0) and np.allclose(seg[:, [0, -1], 0], [0.0, 1.0])
    assert np.allclose(cur[:, 0], [0.0, 0.0]) and np.allclose(cur[:, -1], [1.0, 0.0])
    assert np.allclose(seq.ball, cur[:, cur.shape[1] // 2])  # the ball is the curve's midpoint
    # the grid covers every point drawn
    assert seq.a[0] < 0.0 < 1.0 < seq.a[-1]
    assert seq.b[0] < cur[..., 1].min() and cur[..., 1].max() < seq.b[-1]


def test_stored_surface_is_the_loss_at_the_plane_points(mc_store):
    """Recompute one grid point of the last state with plain torch from the stored files."""
    cfg, s = mc_store
    i = len(s.states) - 1
    d1, d2 = s.directions(i)
    origin = s.origin(i)
    x, y = s.eval_data()
    model = s.model()
    r, c = 4, 2
    w = dict(origin)
    for k in d1:
        w[k] = origin[k] + float(s.a[c]) * d1[k] + float(s.b[r]) * d2[k]
    model.load_state_dict(w)
    model.eval()
    with torch.no_grad():
        expected = float(s.loss_fn(model(x), y))
    assert s.loss(i)[r, c] == pytest.approx(expected, rel=1e-4, abs=1e-5)
