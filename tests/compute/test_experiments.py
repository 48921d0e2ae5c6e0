"""The dropout_ramp, prune and variants experiments, their measures, and the LR-stress claim.

Each compute run here is small (a few hundred samples, a 7×7 grid, serial) and checks the
experiment's own claim numerically, with the real training loop and evaluator.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from lossfilm.compute.store import folder as st
from lossfilm.compute.config.compute import ComputeConfig
from lossfilm.compute.config.data import DataConfig
from lossfilm.compute.landscape.directions import inner, random_plane
from lossfilm.compute.config.landscape import DirectionsConfig
from lossfilm.compute.config.experiment import ExperimentConfig
from lossfilm.compute.config.experiment import DropoutRampConfig, ModelVariant, PruneConfig, VariantsConfig
from lossfilm.compute.experiments.measures import (
    nonconvex_fraction,
    origin_value,
    radial_nonmonotone_fraction,
    roughness,
)
from lossfilm.compute.experiments.pruning import magnitude_masks, mask_plane, prunable_keys, sparsity
from lossfilm.compute.experiments.variant import FixedMaskDropout, build_variant, with_fixed_dropout
from lossfilm.compute.config.model import ModelConfig
from lossfilm.compute.stage.run import compute_sequence
from lossfilm.compute.config.landscape import EvalConfig, GridConfig, LandscapeConfig
from lossfilm.compute.config.train import TrainConfig
from lossfilm.render.scene.scene import load_scene

ROOT = Path(__file__).resolve().parents[2]
MY_SCENES = ("lr_stress", "dropout", "lottery", "resnet_skips", "activations")


def _cfg(experiment: ExperimentConfig, *, model=None, data=None, points=7, eval_samples=200,
         **train) -> ComputeConfig:
    train = {"epochs": 3, "lr": 0.1, "batch_size": 32} | train
    return ComputeConfig(
        model=model or ModelConfig(hidden=(16, 16)),
        data=data or DataConfig(kind="moons", samples=300, noise=0.1),
        train=TrainConfig(**train),
        landscape=LandscapeConfig(grid=GridConfig(points=points), eval=EvalConfig(samples=eval_samples)),
        experiment=experiment,
        executor="serial",
    )


def _run(cfg: ComputeConfig, folder: Path) -> st.Store:
    compute_sequence(cfg, folder, progress=False)
    return st.open(folder)


# --------------------------------------------------------------------------- pure parts


def test_fixed_mask_dropout_is_fixed_nested_and_on_in_eval_mode():
    x = torch.ones(64, 32)
    low, high = FixedMaskDropout(0.3, seed=5).eval(), FixedMaskDropout(0.7, seed=5).eval()
    a, b = low(x), low(x)
    assert torch.equal(a, b)  # the same mask at every call: a well-defined loss
    assert 0.2 < float((a == 0).double().mean()) < 0.4
    assert torch.allclose(a[a != 0], torch.full_like(a[a != 0], 1 / 0.7))
    dropped_low, dropped_high = low(x) == 0, high(x) == 0
    assert bool((dropped_high | ~dropped_low).all())  # a higher rate drops a superset
    assert torch.equal(FixedMaskDropout(0.0, seed=5)(x), x)
    other = FixedMaskDropout(0.3, seed=6)(x)
    assert not torch.equal(other, a)


def test_with_fixed_dropout_replaces_every_layer_and_keeps_keys():
    model = build_variant(
        {"config": dataclasses.asdict(ModelConfig(hidden=(8, 8))), "in_shape": [2], "n_classes": 2},
        {"model": {"dropout": 0.5}, "dropout_rate": 0.25, "mask_seed": 1},
    )
    fixed = [m for m in model.modules() if isinstance(m, FixedMaskDropout)]
    assert len(fixed) == 2 and all(m.rate == 0.25 for m in fixed)
    assert fixed[0].seed != fixed[1].seed
    assert not any(type(m) is torch.nn.Dropout for m in model.modules())
    plain = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Dropout(0.1))
    keys = set(plain.state_dict())
    assert set(with_fixed_dropout(plain, 0.4, 0).state_dict()) == keys


def test_magnitude_masks_prune_the_smallest_and_keep_what_was_pruned():
    w = {"a.weight": torch.tensor([[0.1, -5.0], [3.0, 0.2]]), "b.weight": torch.tensor([[-0.3, 4.0]])}
    keys = ["a.weight", "b.weight"]
    m1 = magnitude_masks(w, keys, 0.5)
    assert sum(int((~m).sum()) for m in m1.values()) == 3
    assert not bool(m1["a.weight"][0, 0]) and not bool(m1["b.weight"][0, 0])
    # the previously pruned entries stay pruned even when the weights there grew back
    grown = {"a.weight": torch.tensor([[9.0, -5.0], [3.0, 0.2]]), "b.weight": torch.tensor([[-0.3, 4.0]])}
    m2 = magnitude_masks(grown, keys, 0.8, previous=m1)
    assert not bool(m2["a.weight"][0, 0])
    assert sum(int((~m).sum()) for m in m2.values()) == 5


def test_mask_plane_zeroes_pruned_weights_and_renormalizes_filters():
    torch.manual_seed(0)
    origin = {"0.weight": torch.randn(6, 4), "0.bias": torch.randn(6), "2.weight": torch.randn(3, 6)}
    origin["0.weight"][:, :2] = 0.0
    origin["2.weight"][0] = 0.0  # a whole filter pruned
    cfg = DirectionsConfig()
    d1, d2 = random_plane(origin, cfg)
    m1, m2 = mask_plane(origin, d1, d2)
    for k in prunable_keys(origin):
        pruned = origin[k] == 0
        assert bool((m1[k][pruned] == 0).all()) and bool((m2[k][pruned] == 0).all())
    rows = origin["0.weight"].norm(dim=1)
    assert torch.allclose(m1["0.weight"].norm(dim=1), rows, rtol=1e-4)
    assert torch.allclose(m2["0.weight"].norm(dim=1), rows, rtol=1e-4)
    assert float(m1["2.weight"][0].abs().sum()) == 0.0
    assert abs(inner(m1, m2)) < 1e-4 * (inner(m1, m1) * inner(m2, m2)) ** 0.5
    assert torch.equal(m1["0.bias"], d1["0.bias"])


def test_measures_tell_a_bowl_from_a_rough_surface():
    a = b = np.linspace(-1, 1, 21)
    aa, bb = np.meshgrid(a, b)
    bowl = 0.1 + aa**2 + 2 * bb**2
    rough = bowl * np.exp(0.6 * np.sin(9 * aa) * np.cos(8 * bb))
    assert nonconvex_fraction(bowl, a, b) == 0.0
    assert radial_nonmonotone_fraction(bowl, a, b) == 0.0
    assert nonconvex_fraction(rough, a, b) > 0.3
    assert radial_nonmonotone_fraction(rough, a, b) > 0.2
    assert roughness(rough, a, b) > roughness(bowl, a, b)
    assert origin_value(bowl, a, b) == pytest.approx(0.1)


# --------------------------------------------------------------------------- experiments


def test_prune_to_90_percent_is_worse_than_20_and_stays_sparse(tmp_path):
    exp = ExperimentConfig(kind="prune", prune=PruneConfig(fractions=(0.2, 0.9), retrain="rewind"))
    s = _run(_cfg(exp, epochs=4, lr=0.2), tmp_path)
    assert [e["label"] for e in s.states] == ["pruned 20%", "pruned 90%"]
    seq = s.sequence()
    assert seq.values["sparsity"] == pytest.approx([0.2, 0.9], abs=0.01)
    for i in range(2):
        w = s.weights(i)
        keys = prunable_keys(w)
        assert sparsity(w, keys) == pytest.approx(seq.values["sparsity"][i])
        d1, d2 = s.directions(i)
        for k in keys:  # the slice stays inside the sparse network
            assert bool((d1[k][w[k] == 0] == 0).all()) and bool((d2[k][w[k] == 0] == 0).all())
    centre = [origin_value(seq.loss[i], seq.a, seq.b) for i in range(2)]
    assert centre[1] > 1.3 * centre[0]
    assert float(np.median(seq.loss[1])) > float(np.median(seq.loss[0]))


def test_dropout_ramp_surfaces_get_higher(tmp_path):
    exp = ExperimentConfig(kind="dropout_ramp", dropout=DropoutRampConfig(rates=(0.0, 0.5, 0.85)))
    cfg = _cfg(exp, model=ModelConfig(hidden=(32, 32)), data=DataConfig(kind="spirals", samples=300), points=9)
    s = _run(cfg, tmp_path)
    assert [e["label"] for e in s.states] == ["dropout 0", "dropout 0.5", "dropout 0.85"]
    assert [e["variant"]["dropout_rate"] for e in s.states] == [0.0, 0.5, 0.85]
    seq = s.sequence()
    # the worker evaluated each state with the main process's fixed masks
    for i in range(3):
        assert origin_value(seq.loss[i], seq.a, seq.b) == pytest.approx(seq.values["eval_loss"][i], rel=1e-4)
    means = [float(np.mean(seq.loss[i])) for i in range(3)]
    assert means[0] < means[1] < means[2]
    assert seq.values["eval_loss"][2] > seq.values["eval_loss"][0]


def test_lr_spike_raises_the_loss_at_the_origin(tmp_path):
    spike = (0.0, 0.1, 1.99, 0.1, 2.0, 6.0, 3.0, 6.0)
    cfg = _cfg(ExperimentConfig(), points=3, epochs=3, schedule="piecewise", piecewise=spike)
    seq = _run(cfg, tmp_path).sequence()
    assert seq.values["lr"][3] == pytest.approx(6.0)
    before, after = seq.values["origin_loss"][2], seq.values["origin_loss"][3]
    assert after > 1.5 * before
    assert origin_value(seq.loss[3], seq.a, seq.b) > 1.5 * origin_value(seq.loss[2], seq.a, seq.b)


def test_variants_are_evaluated_with_their_own_forward(tmp_path):
    models = (ModelVariant(activation="relu", label="ReLU"), ModelVariant(activation="mish"))
    exp = ExperimentConfig(kind="variants", variants=VariantsConfig(models=models, states="captures"))
    s = _run(_cfg(exp, epochs=2, points=3), tmp_path)
    labels = [e["label"] for e in s.states]
    assert labels == ["ReLU · epoch 0", "ReLU · epoch 1", "ReLU · epoch 2",
                      "activation=mish · epoch 0", "activation=mish · epoch 1", "activation=mish · epoch 2"]
    assert s.states[3]["variant"] == {"model": {"activation": "mish"}}
    epochs = [e["epoch"] for e in s.states]
    assert np.all(np.diff(epochs) > 0)  # one clock, strictly increasing (the film maps epochs)
    seq = s.sequence()
    for i in range(len(labels)):
        assert origin_value(seq.loss[i], seq.a, seq.b) == pytest.approx(seq.values["eval_loss"][i], rel=1e-4)
    # the same seed: both variants start from the same weights, yet their losses differ
    assert torch.equal(s.weights(0)["1.weight"], s.weights(3)["1.weight"])
    assert seq.values["eval_loss"][0] != pytest.approx(seq.values["eval_loss"][3], rel=1e-6)


def test_bad_experiment_settings_raise_value_errors(tmp_path):
    with pytest.raises(ValueError, match="variants.models"):
        compute_sequence(_cfg(ExperimentConfig(kind="variants")), tmp_path / "a", progress=False)
    logistic = _cfg(ExperimentConfig(kind="dropout_ramp"), model=ModelConfig(kind="logistic"))
    with pytest.raises(ValueError, match="no dropout layers"):
        compute_sequence(logistic, tmp_path / "b", progress=False)
    with pytest.raises(ValueError, match="fractions must increase"):
        PruneConfig(fractions=(0.5, 0.2))
    with pytest.raises(ValueError, match="rate must be > 0|> 0"):
        DropoutRampConfig(rates=(0.0,))


@pytest.mark.parametrize("name", MY_SCENES)
def test_experiment_scenes_validate(name):
    scene = load_scene(ROOT / "scenes" / f"{name}.yaml")
    assert scene.name == name


def test_captures_mode_counts_and_clock(tmp_path):
    from lossfilm.compute.experiments import dropout, pruning

    ramp = ExperimentConfig(kind="dropout_ramp", dropout=DropoutRampConfig(rates=(0.0, 0.5), states="captures"))
    cfg = _cfg(ramp, epochs=2, points=3)
    s = _run(cfg, tmp_path / "ramp")
    labels = [e["label"] for e in s.states]
    # the initial weights once, then every epoch of each stage on one clock
    assert labels == ["dropout 0 · epoch 0", "dropout 0 · epoch 1", "dropout 0 · epoch 2",
                      "dropout 0.5 · epoch 3", "dropout 0.5 · epoch 4"]
    assert len(labels) == dropout.expected_states(cfg, 300)
    steps = [e["step"] for e in s.states]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)
    prune = ExperimentConfig(kind="prune", prune=PruneConfig(fractions=(0.0, 0.5), states="captures",
                                                             retrain="fine_tune"))
    pcfg = _cfg(prune, epochs=2, points=3)
    p = _run(pcfg, tmp_path / "prune")
    assert len(p.states) == pruning.expected_states(pcfg, 300) == 6
    assert p.sequence().values["sparsity"][3:] == pytest.approx([0.5, 0.5, 0.5], abs=0.01)
    assert np.all(np.diff([e["epoch"] for e in p.states]) > 0)
