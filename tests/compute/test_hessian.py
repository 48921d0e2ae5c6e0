"""Hessian spectra: exact on quadratics, PyHessian's top eigenvalue, convexity maps, the pass."""

from __future__ import annotations

import copy
import dataclasses
import os

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from lossfilm.compute.store import folder as st
from lossfilm.compute.config.compute import ComputeConfig
from lossfilm.compute.curvature.spectra import convexity_map, curvature_current, curvature_path, curvature_pass, subgrid_indices
from lossfilm.compute.config.curvature import CurvatureConfig
from lossfilm.compute.config.data import DataConfig
from lossfilm.compute.curvature.hessian import hutchinson_trace, lanczos, loss_hvp, spectrum
from lossfilm.compute.config.curvature import HVP_METHODS
from lossfilm.compute.config.model import ModelConfig
from lossfilm.compute.stage.run import compute_sequence
from lossfilm.compute.config.compute import numbers_hash
from lossfilm.compute.config.landscape import EvalConfig, GridConfig, LandscapeConfig
from lossfilm.compute.config.train import CaptureConfig, TrainConfig

#: the issue's bound for a known Hessian; PyHessian agreement bound (relative).
EXACT = 1e-4
PYHESSIAN_REL = 0.01


class Quadratic(nn.Module):
    """Output is the parameter itself; the loss ``½ θᵀAθ`` then has Hessian ``A``."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.theta = nn.Parameter(torch.randn(n, dtype=torch.float64))

    def forward(self, x):
        return self.theta


def known_hessian(n=14, seed=0, lo=-2.0, hi=5.0):
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=torch.float64))
    eig = torch.linspace(lo, hi, n, dtype=torch.float64)
    return q @ torch.diag(eig) @ q.T, eig


def quadratic_hvp(a: torch.Tensor, method: str):
    model = Quadratic(a.shape[0])
    none = torch.zeros(1, dtype=torch.float64)
    return loss_hvp(model, model.state_dict(), none, none, lambda out, y: 0.5 * out @ a @ out,
                    method=method, dtype=torch.float64)


@pytest.mark.parametrize("method", HVP_METHODS)
def test_quadratic_eigenvalues_and_trace_are_exact(method):
    a, eig = known_hessian()
    hvp, n, _ = quadratic_hvp(a, method)
    assert n == 14
    sp = spectrum(hvp, n, top_k=3, iterations=60, tol=1e-10, trace_samples=n)
    np.testing.assert_allclose(sp.top, eig.flip(0)[:3].numpy(), atol=EXACT)
    assert abs(sp.lambda_min - float(eig[0])) < EXACT
    assert abs(sp.trace - float(eig.sum())) < EXACT and sp.trace_stderr == 0.0
    assert sp.converged
    assert sp.ratio == pytest.approx(2.0 / 5.0, abs=EXACT)


def test_hvp_methods_match_autograd_hessian():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    x, y = torch.randn(20, 3, dtype=torch.float64), torch.randint(0, 2, (20,))
    names = [k for k, _ in net.named_parameters()]
    shapes = [p.shape for p in net.parameters()]
    flat0 = torch.cat([p.detach().reshape(-1) for p in net.parameters()])

    def f(flat):
        parts = torch.split(flat, [int(np.prod(s)) for s in shapes])
        params = {k: p.view(s) for k, p, s in zip(names, parts, shapes)}
        return F.cross_entropy(torch.func.functional_call(net, params, (x,)), y)

    full = torch.autograd.functional.hessian(f, flat0)
    v = torch.randn(flat0.numel(), dtype=torch.float64)
    for method in HVP_METHODS:
        hvp, n, loss = loss_hvp(net, net.state_dict(), x, y, F.cross_entropy, method=method,
                                dtype=torch.float64)
        assert n == flat0.numel() and loss == pytest.approx(float(f(flat0)))
        torch.testing.assert_close(hvp(v), full @ v, rtol=1e-9, atol=1e-10)


def test_hutchinson_is_exact_on_diagonal_and_unbiased_otherwise():
    d = torch.linspace(0.5, 3.0, 50, dtype=torch.float64)
    est, _ = hutchinson_trace(lambda v: d * v, 50, 4, seed=3, dtype=torch.float64)
    assert abs(est - float(d.sum())) < EXACT  # Rademacher: vᵢ² = 1 exactly
    a, eig = known_hessian(n=40, seed=1)
    est, err = hutchinson_trace(lambda v: a @ v, 40, 30, seed=2, dtype=torch.float64)
    assert err > 0 and abs(est - float(eig.sum())) < 4 * err


def test_lanczos_is_seeded_and_capped():
    a, _ = known_hessian(n=200, seed=2)
    r1 = lanczos(lambda v: a @ v, 200, max_steps=5, tol=1e-12, seed=7)
    r2 = lanczos(lambda v: a @ v, 200, max_steps=5, tol=1e-12, seed=7)
    assert r1.steps == 5 and not r1.converged
    np.testing.assert_array_equal(r1.values, r2.values)  # determinism: the same path run twice
    with pytest.raises(ValueError, match="trace"):
        hutchinson_trace(lambda v: v, 3, 0)


def small_net_and_data(seed=0):
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3))
    x = torch.randn(256, 6)
    y = (x[:, 0] + x[:, 1] > 0).long() + (x[:, 2] > 1).long()
    return net.eval(), x, y


def test_top_eigenvalue_agrees_with_pyhessian():
    pyhessian = pytest.importorskip("pyhessian", reason="pyhessian==0.1 is in the dev extra: make setup")
    net, x, y = small_net_and_data()
    ref_net = copy.deepcopy(net)
    torch.manual_seed(0)
    ref = pyhessian.hessian(ref_net, nn.CrossEntropyLoss(), data=(x, y), cuda=False)
    ref_top, _ = ref.eigenvalues(maxIter=100, tol=1e-4)
    hvp, n, _ = loss_hvp(net, net.state_dict(), x, y, F.cross_entropy)
    ours = spectrum(hvp, n, iterations=60, tol=1e-4)
    assert abs(ours.top[0] - ref_top[0]) <= PYHESSIAN_REL * abs(ref_top[0])
    assert ours.top[0] > 0 and ours.converged


def ratio_map(net, x, y, span=1.0, points=3, seed=0, steps=30):
    """|λmin/λmax| at a few random perturbations of the net (a tiny sub-grid)."""
    g = torch.Generator().manual_seed(seed)
    base = net.state_dict()
    d = {k: torch.randn(v.shape, generator=g) * span for k, v in base.items()}
    out = []
    for t in np.linspace(-1, 1, points):
        w = {k: base[k] + float(t) * d[k] for k in base}
        hvp, n, _ = loss_hvp(net, w, x, y, F.cross_entropy, dtype=torch.float64)
        sp = spectrum(hvp, n, iterations=min(n, steps), tol=1e-8)
        out.append((sp.ratio, sp.lambda_min, sp.top[0]))
    return np.array(out)


def test_logistic_regression_is_convex_everywhere():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 3)).double().eval()
    x, y = torch.randn(100, 4, dtype=torch.float64), torch.randint(0, 3, (100,))
    r = ratio_map(net, x, y, span=2.0, points=5)
    # PSD up to rounding (softmax's shift symmetry leaves exact zero eigenvalues)
    assert np.all(r[:, 0] < 1e-6) and np.all(r[:, 2] > 0)


def test_nonconvex_net_shows_negative_curvature():
    net, x, y = small_net_and_data(1)
    net = net.double()
    r = ratio_map(net, x.double(), y, span=0.5, points=3)
    assert np.any(r[:, 1] < 0) and r[:, 0].max() > 0.01


def test_subgrid_keeps_both_ends_and_map_interpolates():
    np.testing.assert_array_equal(subgrid_indices(9, 4), [0, 4, 8])
    np.testing.assert_array_equal(subgrid_indices(10, 4), [0, 4, 8, 9])
    sub = np.array([0.0, 1.0])
    full = convexity_map(sub, sub, np.array([[0.0, 1.0], [2.0, 3.0]]), np.linspace(0, 1, 3),
                         np.linspace(0, 1, 3))
    np.testing.assert_allclose(full, [[0, 0.5, 1], [1, 1.5, 2], [2, 2.5, 3]])


def tiny(**curv) -> ComputeConfig:
    return ComputeConfig(
        model=ModelConfig(hidden=(8,)),
        data=DataConfig(samples=120),
        train=TrainConfig(epochs=1, batch_size=60, capture=CaptureConfig(every=1)),
        landscape=LandscapeConfig(grid=GridConfig(points=5), eval=EvalConfig(samples=60)),
        executor="serial",
        curvature=CurvatureConfig(**curv),
    )


@pytest.mark.slow
def test_pass_writes_values_channel_and_resumes(tmp_path):
    cfg = tiny(enabled=True, subgrid_every=2, iterations=12, subgrid_iterations=6,
               trace_samples=4)
    assert numbers_hash(cfg) == numbers_hash(tiny())  # curvature never recomputes surfaces
    folder = compute_sequence(cfg, tmp_path, progress=False)
    seq = st.open(folder).sequence()
    assert seq.channels["convexity"].shape == seq.loss.shape
    assert np.all(seq.channels["convexity"] >= 0)
    assert np.all(np.isfinite(seq.values["sharpness"])) and np.all(seq.values["sharpness"] > 0)
    assert np.all(seq.values["lambda_min"] <= seq.values["sharpness"])
    with np.load(curvature_path(folder, 0)) as z:
        assert z["sub_ratio"].shape == (3, 3) and z["sub_a"].tolist() == [-1.0, 0.0, 1.0]
    stamp = os.stat(curvature_path(folder, 1)).st_mtime_ns
    compute_sequence(cfg, folder, progress=False)  # rerun: nothing to redo
    assert os.stat(curvature_path(folder, 1)).st_mtime_ns == stamp
    assert curvature_current(cfg.curvature, folder)
    assert not curvature_current(dataclasses.replace(cfg.curvature, iterations=13), folder)
    before = np.load(curvature_path(folder, 1))["sub_ratio"]
    compute_sequence(cfg, folder, progress=False, fresh=True)  # --force: from nothing, curvature too
    assert os.stat(curvature_path(folder, 1)).st_mtime_ns != stamp
    # determinism: the same code recomputes the same map, so bit for bit
    np.testing.assert_array_equal(np.load(curvature_path(folder, 1))["sub_ratio"], before)
    off = dataclasses.replace(cfg.curvature, enabled=False)
    assert not curvature_current(off, folder)
    curvature_pass(off, folder, progress=False)
    assert curvature_current(off, folder)
    seq = st.open(folder).sequence()
    assert "convexity" not in seq.channels and "sharpness" not in seq.values
