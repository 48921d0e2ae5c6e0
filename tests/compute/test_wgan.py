"""WGAN-GP: gradient penalty, ring data, and a generator landscape under each step's critic."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from lossfilm.compute.store import folder as store
from lossfilm.compute.config.compute import ComputeConfig
from lossfilm.compute.config.data import DataConfig
from lossfilm.compute.config.experiment import ExperimentConfig
from lossfilm.compute.experiments.wgan import GENERATOR_PREFIX, CriticOfGenerator, generator_loss, gradient_penalty, ring_samples
from lossfilm.compute.config.experiment import WganConfig
from lossfilm.compute.config.model import ModelConfig
from lossfilm.compute.stage.run import compute_sequence
from lossfilm.compute.config.landscape import EvalConfig, GridConfig, LandscapeConfig
from lossfilm.compute.config.train import TrainConfig


def test_gradient_penalty_of_a_unit_slope_critic_is_zero():
    gen = torch.Generator().manual_seed(0)
    critic = nn.Linear(2, 1)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[0.6, 0.8]]))  # ‖∇‖ = 1 everywhere
    real, fake = torch.randn(64, 2, generator=gen), torch.randn(64, 2, generator=gen)
    assert float(gradient_penalty(critic, real, fake, gen).detach()) == pytest.approx(0.0, abs=1e-10)
    with torch.no_grad():
        critic.weight.mul_(3.0)  # ‖∇‖ = 3 -> (3 − 1)² = 4
    assert float(gradient_penalty(critic, real, fake, gen).detach()) == pytest.approx(4.0, rel=1e-5)


def test_ring_samples_sit_on_the_modes():
    pts = ring_samples(4000, 8, 2.0, 0.05, torch.Generator().manual_seed(1))
    r = pts.norm(dim=1)
    assert abs(float(r.mean()) - 2.0) < 0.01 and float(r.std()) < 0.08
    angles = torch.atan2(pts[:, 1], pts[:, 0]) / (2 * math.pi / 8)
    assert float((angles - angles.round()).abs().max()) < 0.25  # near one of the 8 centres (σ ≈ 0.03)
    assert len(set(angles.round().remainder(8).tolist())) == 8


def test_generator_loss_is_minus_the_mean_critic():
    out = torch.tensor([[1.0], [3.0]])
    assert float(generator_loss(out, torch.zeros(2))) == -2.0


@pytest.fixture(scope="module")
def wgan_store(tmp_path_factory):
    cfg = ComputeConfig(
        model=ModelConfig(kind="user", factory="lossfilm.compute.experiments.wgan:generator_and_critic"),
        data=DataConfig(kind="user", factory="lossfilm.compute.experiments.wgan:latent_noise", samples=256),
        train=TrainConfig(epochs=2, loss="lossfilm.compute.experiments.wgan:generator_loss"),
        experiment=ExperimentConfig(kind="wgan", wgan=WganConfig(steps_per_state=8, n_critic=2, batch=64)),
        landscape=LandscapeConfig(grid=GridConfig(points=5), eval=EvalConfig(samples=128, accuracy=False)),
        executor="serial",
    )
    return store.open(compute_sequence(cfg, tmp_path_factory.mktemp("wgan"), progress=False))


def test_directions_move_only_the_generator(wgan_store):
    s = wgan_store
    assert len(s.states) == 3 and [st["step"] for st in s.states] == [0, 8, 16]
    for i in range(len(s.states)):
        d1, d2 = s.directions(i)
        assert d1 and all(k.startswith(GENERATOR_PREFIX) for k in list(d1) + list(d2))
        assert any(float(v.abs().sum()) > 0 for v in d1.values())


def test_each_state_is_measured_with_its_own_critic(wgan_store):
    """Centre of every surface = −mean critic_s(G_s(z)); swapping in another step's critic changes it."""
    s = wgan_store
    z, _ = s.eval_data()
    model = s.model()
    assert isinstance(model, CriticOfGenerator)
    centre = s.loss(0).shape[0] // 2
    own, crossed = [], []
    for i in range(len(s.states)):
        model.load_state_dict(s.weights(i))
        with torch.no_grad():
            own.append(float(generator_loss(model(z))))
        assert s.loss(i)[centre, centre] == pytest.approx(own[-1], rel=1e-4, abs=1e-5)
        assert s.states[i]["values"]["eval_loss"] == pytest.approx(own[-1], rel=1e-4, abs=1e-5)
    # the generator of the last state under the first state's critic: another loss function
    last, first = s.weights(len(s.states) - 1), s.weights(0)
    mixed = {k: (first[k] if k.startswith("critic.") else v) for k, v in last.items()}
    model.load_state_dict(mixed)
    with torch.no_grad():
        crossed = float(generator_loss(model(z)))
    assert abs(crossed - own[-1]) > 1e-4
    assert np.isfinite(s.sequence().loss).all()
    assert {"wasserstein", "ring_distance"} <= set(s.states[-1]["values"])
