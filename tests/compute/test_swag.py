"""SWAG: moments, samples and deviation plane (pure), and the film's store (fixed plane, points accumulate)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lossfilm.compute.store import folder as store
from lossfilm.compute.config.compute import ComputeConfig
from lossfilm.compute.config.data import DataConfig
from lossfilm.compute.config.experiment import ExperimentConfig
from lossfilm.compute.experiments.swag import deviation_plane, swag_moments, swag_samples
from lossfilm.compute.config.experiment import SwagConfig
from lossfilm.compute.config.model import ModelConfig
from lossfilm.compute.stage.run import compute_sequence
from lossfilm.compute.config.landscape import EvalConfig, GridConfig, LandscapeConfig
from lossfilm.compute.config.train import TrainConfig


def test_moments_match_numpy():
    its = torch.randn(7, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    mean, var, dev = swag_moments(its, rank=4)
    a = its.numpy()
    assert np.allclose(mean.numpy(), a.mean(0))
    assert np.allclose(var.numpy(), a.var(0))
    assert np.allclose(dev.numpy(), a[-4:] - a.mean(0))


def test_samples_have_the_swag_covariance():
    """Cov = diag(var)/2 + DᵀD / (2(K−1)) (Maddox et al., eq. 4), checked on many draws."""
    gen = torch.Generator().manual_seed(1)
    its = torch.randn(6, 3, generator=gen, dtype=torch.float64) * torch.tensor([1.0, 0.3, 2.0], dtype=torch.float64)
    mean, var, dev = swag_moments(its, rank=6)
    m = 200_000
    z1 = torch.randn(m, 3, generator=gen, dtype=torch.float64)
    z2 = torch.randn(m, 6, generator=gen, dtype=torch.float64)
    draws = swag_samples(mean, var, dev, z1, z2).numpy()
    expected = np.diag(var.numpy()) / 2 + dev.numpy().T @ dev.numpy() / (2 * 5)
    assert np.allclose(draws.mean(0), mean.numpy(), atol=0.02)
    assert np.allclose(np.cov(draws.T), expected, rtol=0.05, atol=0.01)
    zero = swag_samples(mean, var, dev, torch.zeros(1, 3, dtype=torch.float64), torch.zeros(1, 6, dtype=torch.float64))
    assert np.allclose(zero[0].numpy(), mean.numpy())


def test_deviation_plane_recovers_the_spread():
    gen = torch.Generator().manual_seed(2)
    u = torch.linalg.qr(torch.randn(10, 2, generator=gen, dtype=torch.float64))[0].T  # 2 orthonormal rows
    c = torch.randn(400, 2, generator=gen, dtype=torch.float64) * torch.tensor([3.0, 0.5], dtype=torch.float64)
    dev = c @ u
    dev = dev - dev.mean(0)
    v1, v2, std = deviation_plane(dev)
    assert std[0] == pytest.approx(3.0, rel=0.15) and std[1] == pytest.approx(0.5, rel=0.15)
    assert float(torch.linalg.norm(v1)) == pytest.approx(std[0])
    assert abs(float(v1 @ v2)) < 1e-9
    # both lie in the span of u
    for v in (v1, v2):
        assert torch.allclose(u.T @ (u @ v), v, atol=1e-9)


@pytest.fixture(scope="module")
def swag_store(tmp_path_factory):
    cfg = ComputeConfig(
        model=ModelConfig(hidden=(16, 16)),
        data=DataConfig(kind="spirals", samples=300, seed=2),
        train=TrainConfig(epochs=3, lr=0.1, batch_size=32),
        experiment=ExperimentConfig(kind="swag", swag=SwagConfig(pretrain_epochs=15, collect_per_epoch=3, samples=8)),
        landscape=LandscapeConfig(grid=GridConfig(points=7), eval=EvalConfig(samples=200)),
        executor="serial",
    )
    return store.open(compute_sequence(cfg, tmp_path_factory.mktemp("swag"), progress=False))


def test_points_accumulate_on_a_fixed_surface(swag_store):
    s = swag_store
    seq = s.sequence()
    assert seq.n_states == 4 and seq.labels[0] == "SGD solution"
    n_iterates = np.isfinite(seq.markers["iterates"][..., 0]).sum(1)
    assert n_iterates.tolist() == [0, 3, 6, 9]
    n_samples = np.isfinite(seq.markers["samples"][..., 0]).sum(1)
    assert n_samples.tolist() == [0, 8, 8, 8]
    # earlier iterates keep their place: the plane is fixed
    its = seq.markers["iterates"]
    assert np.allclose(its[1, :3], its[3, :3])
    # one plane, one loss function: every state's surface is the same
    assert np.allclose(seq.loss, seq.loss[:1], rtol=1e-5)
    # the ball is the running SWA mean: the final mean is the origin
    assert np.allclose(seq.ball[-1], 0.0, atol=1e-6)
    assert np.allclose(seq.ball[-1], its[-1, :9].mean(0), atol=1e-6)
    assert {st["directions"] for st in s.states} == {"directions/shared.pt"}
    # one origin (the final SWA mean) for every state: the loss there is the last state's
    final = s.states[-1]["values"]["eval_loss"]
    assert all(st["values"]["origin_loss"] == pytest.approx(final, rel=1e-5) for st in s.states)
    assert seq.a[0] < its[-1, :9, 0].min() and its[-1, :9, 0].max() < seq.a[-1]


def test_swa_mean_is_lower_than_the_average_iterate(swag_store):
    """SWA's point: the mean of the iterates sits lower than the iterates themselves."""
    s = swag_store
    seq = s.sequence()
    x, y = s.eval_data()
    model = s.model()
    its = torch.load(s.folder / "experiment" / "iterates.pt", weights_only=True)
    w = s.weights(len(s.states) - 1)
    keys = [k for k in w if torch.is_floating_point(w[k])]
    losses = []
    for row in its:
        state, i = dict(w), 0
        for k in keys:
            n = w[k].numel()
            state[k] = row[i : i + n].reshape(w[k].shape).float()
            i += n
        model.load_state_dict(state)
        model.eval()
        with torch.no_grad():
            losses.append(float(s.loss_fn(model(x), y)))
    assert s.states[-1]["values"]["eval_loss"] < np.mean(losses)
    assert seq.loss.shape == (4, 7, 7)
