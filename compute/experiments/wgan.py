"""WGAN-GP (Gulrajani et al. 2017) on a 2-D ring of Gaussians: the generator's landscape.

The sliced network is :class:`CriticOfGenerator`, ``z ↦ critic(generator(z))``, and the loss
is :func:`generator_loss` ``−mean critic(G(z))`` on a fixed batch of latent codes (the
"data" of the scene, :func:`latent_noise`). Each state's weights hold *both* networks at
that step, so the critic the loss is measured with is the one of that step: the loss
function itself changes from state to state, as it does for a GAN. The directions move only
the generator's weights (:func:`build_planes`), so the surface is the generator's loss
landscape under a frozen critic.

Training (the experiment): the real distribution is ``modes`` Gaussians on a circle; per
generator step the critic takes ``n_critic`` Adam steps on the Wasserstein loss with a
gradient penalty ``λ·(‖∇D(x̂)‖ − 1)²`` on random interpolates ``x̂``. States are taken every
``steps_per_state`` generator steps, ``train.epochs`` times (plus the untrained pair).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
from torch import nn

from lossfilm.compute.store import folder as st
from lossfilm.compute.training.capture import snapshot_state
from lossfilm.compute.landscape.directions import perturbable, random_plane
from lossfilm.compute.experiments import few_threads
from lossfilm.compute.execution.progress import Progress
from lossfilm.compute.config.experiment import WganConfig

__all__ = [
    "WganConfig",
    "CriticOfGenerator",
    "generator_and_critic",
    "latent_noise",
    "generator_loss",
    "ring_samples",
    "gradient_penalty",
    "expected_states",
    "states",
    "build_planes",
    "GENERATOR_PREFIX",
]

#: state-dict prefix of the generator's entries: the only ones the directions move.
GENERATOR_PREFIX = "generator."
#: hidden width of both networks.
HIDDEN = 64


class CriticOfGenerator(nn.Module):
    """``z (N, latent) -> critic(generator(z)) (N, 1)``; both are small ReLU MLPs."""

    def __init__(self, latent: int = 2, hidden: int = HIDDEN) -> None:
        super().__init__()
        self.generator = nn.Sequential(
            nn.Linear(latent, hidden), nn.ReLU(),
            nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, 2),
        )
        self.critic = nn.Sequential(
            nn.Linear(2, hidden), nn.ReLU(),
            nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, 1),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.critic(self.generator(z))


def generator_and_critic(in_shape: tuple[int, ...]) -> CriticOfGenerator:
    """Model factory: ``{kind: user, factory: lossfilm.compute.experiments.wgan:generator_and_critic}``."""
    return CriticOfGenerator(latent=int(np.prod(in_shape)))


def latent_noise(samples: int, seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Data factory: ``samples`` latent codes ``(N, 2)`` and dummy labels (never read).

    ``n_classes`` is given as 2 only because the model builder refuses fewer; the critic's
    single output and :func:`generator_loss` ignore it.
    """
    rng = np.random.default_rng(seed)
    n = max(samples, 1)
    return rng.standard_normal((n, 2)).astype(np.float32), np.zeros(n, np.int64), 2


def generator_loss(critic_out: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
    """``−mean critic(G(z))``: the generator's WGAN loss (labels unused)."""
    return -critic_out.mean()


def ring_samples(
    n: int, modes: int, radius: float, spread: float, gen: torch.Generator
) -> torch.Tensor:
    """``n`` points ``(n, 2)`` from ``modes`` Gaussians evenly on a circle."""
    k = torch.randint(modes, (n,), generator=gen)
    angle = 2 * math.pi * k.double() / modes
    centers = radius * torch.stack([torch.cos(angle), torch.sin(angle)], 1)
    return (centers + spread * torch.randn(n, 2, generator=gen, dtype=torch.float64)).float()


def gradient_penalty(
    critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, gen: torch.Generator
) -> torch.Tensor:
    """``mean (‖∇ critic(x̂)‖ − 1)²`` on random interpolates of real and fake points."""
    eps = torch.rand(real.shape[0], 1, generator=gen)
    mix = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(mix).sum(), mix, create_graph=True)
    return ((grad.norm(dim=1) - 1) ** 2).mean()


def expected_states(cfg, n_samples: int) -> int:
    return int(cfg.train.epochs) + 1


def states(cfg, model, dataset, loss_fn, device, progress, folder) -> Iterator[tuple]:
    """Train the pair adversarially; yield both every ``steps_per_state`` generator steps."""
    with few_threads(model):
        yield from _run(cfg, model, dataset, loss_fn, device, progress, folder)


def _run(cfg, model, dataset, loss_fn, device, progress, folder) -> Iterator[tuple]:
    if not isinstance(model, CriticOfGenerator):
        raise ValueError(
            "experiment.kind wgan needs model: {kind: user,"
            " factory: lossfilm.compute.experiments.wgan:generator_and_critic}"
        )
    ex = cfg.experiment.wgan
    gen = torch.Generator().manual_seed(int(cfg.train.seed))
    g_opt = torch.optim.Adam(model.generator.parameters(), lr=ex.lr, betas=(0.5, 0.9))
    c_opt = torch.optim.Adam(model.critic.parameters(), lr=ex.lr, betas=(0.5, 0.9))
    latent = model.generator[0].in_features
    probe_real = ring_samples(1024, ex.modes, ex.radius, ex.spread, gen)
    probe_z = torch.randn(1024, latent, generator=gen)

    def capture(k: int) -> tuple:
        with torch.no_grad():
            fake = model.generator(probe_z)
            w_est = float(model.critic(probe_real).mean() - model.critic(fake).mean())
            mode_dist = float(((fake.norm(dim=1) - ex.radius) ** 2).mean().sqrt())
        state = snapshot_state(model)
        values = {"wasserstein": w_est, "ring_distance": mode_dist, "lr": ex.lr}
        return float(k), k * ex.steps_per_state, f"step {k * ex.steps_per_state}", state, values

    yield capture(0)
    total = cfg.train.epochs * ex.steps_per_state
    with Progress("wgan", total, unit="steps", enabled=progress) as bar:
        for step in range(1, total + 1):
            for _ in range(ex.n_critic):
                real = ring_samples(ex.batch, ex.modes, ex.radius, ex.spread, gen)
                with torch.no_grad():
                    fake = model.generator(torch.randn(ex.batch, latent, generator=gen))
                c_loss = model.critic(fake).mean() - model.critic(real).mean()
                c_loss = c_loss + ex.gp_weight * gradient_penalty(model.critic, real, fake, gen)
                c_opt.zero_grad(set_to_none=True)
                c_loss.backward()
                c_opt.step()
            g_loss = generator_loss(model(torch.randn(ex.batch, latent, generator=gen)))
            g_opt.zero_grad(set_to_none=True)
            g_loss.backward()
            g_opt.step()
            bar.advance()
            if step % ex.steps_per_state == 0:
                yield capture(step // ex.steps_per_state)


def build_planes(cfg, folder: Path, states: list[dict]) -> tuple:
    """Per-state random planes over the generator's weights only (the critic stays as it was).

    The same seeded draw is normalized to each state's generator (``around: current``), so the
    plane travels with the generator; the critic entries get no direction.
    """
    folder = Path(folder)
    dcfg = cfg.landscape.directions
    for s in states:
        path = folder / "directions" / f"{st.state_name(s['index'])}.pt"
        if not path.exists():
            w = perturbable(st.load_tensors(folder / s["weights"]))
            gen_only = {k: v for k, v in w.items() if k.startswith(GENERATOR_PREFIX)}
            d1, d2 = random_plane(gen_only, dcfg)
            st.save_tensors(path, {"d1": d1, "d2": d2})
        s.update(origin=s["weights"], directions=str(path.relative_to(folder)), ball=[0.0, 0.0])
    desc = dataclasses.asdict(dcfg) | {
        "around": "current", "experiment": "wgan", "moves": "generator only"
    }
    return None, desc
