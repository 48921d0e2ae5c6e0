"""Adaptive refinement: accurate with fewer evaluations, an honest mask, resumable."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from lossfilm.compute.store import folder as st
from lossfilm.compute.config.compute import ComputeConfig
from lossfilm.compute.config.data import DataConfig
from lossfilm.compute.config.landscape import DirectionsConfig
from lossfilm.compute.config.landscape import EvalConfig, GridConfig, LandscapeConfig
from lossfilm.compute.config.model import ModelConfig
from lossfilm.compute.landscape.refine import RefineConfig, midpoints, refine_surface, strides
from lossfilm.compute.stage.run import compute_sequence
from lossfilm.compute.config.train import CaptureConfig, TrainConfig

#: the render's height tolerance: one step of an 8-bit colormap over the height span
HEIGHT_TOL = 1 / 256


def bowl_with_rough_surround(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A smooth basin, a rough rim (kinks from |sin·cos|) and a sharp ridge: a loss-like
    surface whose detail is where refinement must go."""
    r2 = a**2 + b**2
    rough = 0.4 * np.clip(r2 - 0.3, 0, None) * np.abs(np.sin(23 * a) * np.cos(19 * b))
    ridge = 0.5 * np.exp(-(((a - 0.3 * b - 0.5) / 0.08) ** 2))
    return 0.1 + 2 * r2 + rough + ridge + 1e-3


def test_strides_and_midpoint_rules_are_exact_for_cubics():
    assert strides(1025, 33) == [32, 16, 8, 4, 2, 1]
    x = np.arange(9.0)
    cubic, linear = midpoints(x**3 - 2 * x, axis=0)
    mid = x[:-1] + 0.5
    np.testing.assert_allclose(cubic[1:-1], (mid**3 - 2 * mid)[1:-1], atol=1e-12)
    np.testing.assert_allclose(linear, 0.5 * ((x**3 - 2 * x)[:-1] + (x**3 - 2 * x)[1:]))
    with pytest.raises(ValueError, match="coarse − 1"):
        RefineConfig(target=1000, coarse=33)


def test_refinement_reproduces_an_analytic_surface_with_fewer_evaluations():
    n = 513
    axis = np.linspace(-1, 1, n)
    truth = bowl_with_rough_surround(*np.meshgrid(axis, axis))
    called = []

    def f(flat):
        called.append(flat)
        r, c = np.divmod(flat, n)
        return bowl_with_rough_surround(axis[c], axis[r])

    values, evaluated = refine_surface(f, n, RefineConfig(target=n, coarse=33))
    log_err = np.abs(np.log(values) - np.log(truth)) / np.ptp(np.log(truth))
    assert log_err.max() < HEIGHT_TOL, log_err.max()
    assert evaluated.mean() < 0.3  # the uniform grid of the same resolution evaluates all
    # the mask marks exactly the points that were evaluated, each once, and those hold data
    flat = np.concatenate(called)
    assert flat.size == np.unique(flat).size == evaluated.sum()
    np.testing.assert_array_equal(np.flatnonzero(evaluated), np.sort(flat))
    np.testing.assert_array_equal(values[evaluated], truth[evaluated].astype(np.float32))


def test_budget_caps_the_evaluations_worst_points_first():
    n = 129
    axis = np.linspace(-1, 1, n)
    cfg = RefineConfig(target=n, coarse=17, tolerance=1e-6, budget=0.1)

    def f(flat):
        r, c = np.divmod(flat, n)
        return bowl_with_rough_surround(axis[c], axis[r])

    _, evaluated = refine_surface(f, n, cfg)
    assert evaluated.sum() == cfg.max_evaluations


def tiny_refined(**refine) -> ComputeConfig:
    return ComputeConfig(
        model=ModelConfig(hidden=(8,)),
        data=DataConfig(samples=200),
        train=TrainConfig(epochs=1, batch_size=50, capture=CaptureConfig(every=1)),
        landscape=LandscapeConfig(
            directions=DirectionsConfig(kind="random"),
            grid=GridConfig(range=(-3.0, 3.0), refine=RefineConfig(**refine)),
            eval=EvalConfig(samples=100, points_per_tile=10),
        ),
        executor="serial",
    )


def test_refined_store_resumes_after_a_kill_to_the_same_arrays(tmp_path):
    cfg = tiny_refined(target=17, coarse=5, tolerance=0.002, budget=0.6)
    whole = compute_sequence(cfg, tmp_path / "whole", progress=False)
    parted = tmp_path / "parted"
    compute_sequence(cfg, parted, progress=False, max_tiles=4)  # stops mid-level: like a kill
    assert not st.open(parted).complete
    assert list((parted / "surfaces" / "refine").rglob("*_part_*.npz"))
    compute_sequence(cfg, parted, progress=False)
    a, b = st.open(whole), st.open(parted)
    assert a.complete and b.complete and a.manifest["complete"]
    np.testing.assert_array_equal(a.sequence().loss, b.sequence().loss)
    for i in range(len(a.states)):
        np.testing.assert_array_equal(a.evaluated(i), b.evaluated(i))
    assert not (parted / "surfaces" / "refine").exists() or not any((parted / "surfaces" / "refine").iterdir())
    # fewer evaluations than the fine grid, and every evaluated point is plain-torch data
    s = a
    assert s.loss(0).shape == (17, 17) and 0 < s.evaluated(0).mean() < 1
    assert s.manifest["states"][0]["evaluated"] == int(s.evaluated(0).sum())
    assert "evaluated" not in s.sequence().channels
    x, y = s.eval_data()
    origin, (d1, d2) = s.origin(1), s.directions(1)
    rows, cols = np.nonzero(s.evaluated(1))
    for r, c in list(zip(rows, cols))[::13][:3]:
        model = s.model()
        model.load_state_dict({k: origin[k] + s.a[c] * d1[k] + s.b[r] * d2[k] if k in d1 else origin[k]
                               for k in origin})
        with torch.no_grad():
            want = float(F.cross_entropy(model.eval()(x), y))
        assert s.loss(1)[r, c] == pytest.approx(want, rel=1e-5)
