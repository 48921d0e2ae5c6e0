"""Training with captures, LR schedules, determinism, checkpoint folders and the Recorder."""

from __future__ import annotations

import math
import runpy
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from lossfilm.compute.training.capture import Recorder, parse_position, scan_checkpoints
from lossfilm.compute.data.datasets import build_data
from lossfilm.compute.config.data import DataConfig
from lossfilm.compute.model.zoo import build_loss, build_model
from lossfilm.compute.config.model import ModelConfig
from lossfilm.compute.training.train import batch_starts, capture_steps, load_checkpoints, lr_at, train_states
from lossfilm.compute.config.train import CaptureConfig, TrainConfig

REPO = Path(__file__).resolve().parents[2]


def _small(samples=200, **data):
    return build_data(DataConfig(samples=samples, **data))


def _model(ds, seed=0, **kw):
    torch.manual_seed(seed)
    return build_model(ModelConfig(**kw), ds.in_shape, ds.n_classes)


# ---------------------------------------------------------------- schedules


def test_default_config_matches_quickstart():
    """The defaults are the quickstart's training: every key the scene file sets, and the rest."""
    import yaml

    from lossfilm.render.scene.scene import load_scene

    path = Path(__file__).resolve().parents[2] / "scenes" / "quickstart.yaml"
    written = yaml.safe_load(path.read_text())["compute"]["train"]
    assert {"optimizer", "lr", "momentum", "epochs", "batch_size", "capture"} <= set(written)
    loaded = load_scene(path).compute.train
    default = TrainConfig()
    for key, value in written.items():
        if isinstance(value, dict):  # capture: compare the fields the file names
            for sub, v in value.items():
                assert getattr(getattr(default, key), sub) == v, f"train.{key}.{sub}"
        else:
            assert getattr(default, key) == value, f"train.{key}"
    assert loaded == default


def test_constant_and_step_schedules():
    assert lr_at(TrainConfig(lr=0.3), 17.5) == 0.3
    cfg = TrainConfig(lr=0.1, schedule="step", step_size=10, gamma=0.1)
    assert lr_at(cfg, 0) == pytest.approx(0.1)
    assert lr_at(cfg, 9.99) == pytest.approx(0.1)
    assert lr_at(cfg, 10) == pytest.approx(0.01)
    assert lr_at(cfg, 25) == pytest.approx(0.001)


def test_cosine_schedule():
    cfg = TrainConfig(lr=0.2, lr_min=0.02, epochs=10, schedule="cosine")
    assert lr_at(cfg, 0) == pytest.approx(0.2)
    assert lr_at(cfg, 5) == pytest.approx(0.11)
    assert lr_at(cfg, 10) == pytest.approx(0.02)
    assert lr_at(cfg, 2.5) == pytest.approx(0.02 + 0.18 * 0.5 * (1 + math.cos(math.pi / 4)))


def test_cyclic_schedule():
    cfg = TrainConfig(lr=1.0, lr_min=0.2, period=4, schedule="cyclic")
    assert [lr_at(cfg, e) for e in (0, 1, 2, 3, 4, 6)] == pytest.approx(
        [0.2, 0.6, 1.0, 0.6, 0.2, 1.0]
    )


def test_piecewise_schedule():
    cfg = TrainConfig(schedule="piecewise", piecewise=(0, 0.01, 5, 0.2, 20, 0.0))
    assert [lr_at(cfg, e) for e in (0, 2.5, 5, 12.5, 20, 30)] == pytest.approx(
        [0.01, 0.105, 0.2, 0.1, 0.0, 0.0]
    )
    held = TrainConfig(schedule="piecewise", piecewise=(3, 0.5))
    assert lr_at(held, 0) == 0.5 and lr_at(held, 9) == 0.5


def test_piecewise_and_range_errors():
    with pytest.raises(ValueError, match="train.piecewise: give an even number"):
        TrainConfig(schedule="piecewise", piecewise=(0, 0.1, 5))
    with pytest.raises(ValueError, match="train.piecewise: give an even number"):
        TrainConfig(schedule="piecewise")
    with pytest.raises(ValueError, match="epochs must increase"):
        TrainConfig(schedule="piecewise", piecewise=(0, 0.1, 5, 0.2, 5, 0.3))
    with pytest.raises(ValueError, match="train.lr_min"):
        TrainConfig(schedule="cosine", lr=0.1, lr_min=0.5)


# ---------------------------------------------------------------- capture points


def test_capture_steps():
    assert capture_steps(CaptureConfig(), 3, 5) == [0, 5, 10, 15]
    assert capture_steps(CaptureConfig(every=3), 10, 2) == [0, 6, 12, 18, 20]
    assert capture_steps(CaptureConfig(every=3, include_final=False), 10, 2) == [0, 6, 12, 18]
    assert capture_steps(CaptureConfig(every=50, unit="step"), 13, 10) == [0, 50, 100, 130]
    assert capture_steps(CaptureConfig(every=2, unit="step", include_initial=False), 1, 4) == [2, 4]


def test_batch_starts_drop_a_lone_last_sample():
    assert batch_starts(10, 4) == [0, 4, 8]
    assert batch_starts(9, 4) == [0, 4]
    assert batch_starts(1, 4) == [0]


@pytest.mark.parametrize(
    "capture, epochs, expect_steps, expect_labels",
    [
        (CaptureConfig(every=2), 3, [0, 8, 12], ["epoch 0", "epoch 2", "epoch 3"]),
        (
            CaptureConfig(every=3, unit="step", include_initial=False),
            2,
            [3, 6, 8],
            ["step 3", "step 6", "step 8"],
        ),
    ],
)
def test_train_states_capture_where_asked(capture, epochs, expect_steps, expect_labels):
    ds = _small(samples=64)
    states = list(
        train_states(
            _model(ds),
            ds,
            TrainConfig(epochs=epochs, batch_size=16, capture=capture),
            progress=False,
        )
    )
    assert [s.step for s in states] == expect_steps
    assert [s.epoch for s in states] == pytest.approx([s / 4 for s in expect_steps])
    assert [s.label for s in states] == expect_labels
    assert [s.index for s in states] == list(range(len(states)))
    assert set(states[0].values) >= {"train_loss", "train_accuracy", "lr", "weight_norm"}


def test_states_are_independent_cpu_copies():
    ds = _small(samples=64)
    model = _model(ds)
    gen = train_states(model, ds, TrainConfig(epochs=2, batch_size=16), progress=False)
    first = next(gen)
    frozen = {k: v.clone() for k, v in first.state.items()}
    rest = list(gen)
    for k, v in first.state.items():
        assert torch.equal(v, frozen[k])  # later training did not write into it
        assert v.device.type == "cpu"
    assert not torch.equal(rest[-1].state["1.weight"], first.state["1.weight"])
    assert torch.equal(rest[-1].state["1.weight"], model.state_dict()["1.weight"])


def test_schedule_drives_the_optimizer():
    ds = _small(samples=64)
    zero = TrainConfig(epochs=2, batch_size=16, schedule="piecewise", piecewise=(0, 0.0))
    states = list(train_states(_model(ds), ds, zero, progress=False))
    for k in states[0].state:
        assert torch.equal(states[0].state[k], states[-1].state[k])  # lr 0: nothing moves
    ramp = TrainConfig(epochs=2, batch_size=16, schedule="piecewise", piecewise=(0, 0.0, 2, 0.2))
    lrs = [s.values["lr"] for s in train_states(_model(ds), ds, ramp, progress=False)]
    assert lrs == pytest.approx([0.0, 0.1, 0.2])


def _run(seed_model, seed_train, **model_kw):
    ds = build_data(DataConfig(kind="spirals", samples=96, seed=0))
    cfg = TrainConfig(
        epochs=2, batch_size=16, seed=seed_train, capture=CaptureConfig(every=3, unit="step")
    )
    return list(train_states(_model(ds, seed_model, **model_kw), ds, cfg, progress=False))


def test_same_seeds_give_bit_identical_states():
    kw = {"hidden": (16, 16), "dropout": 0.2, "batchnorm": True}
    a, b = _run(1, 2, **kw), _run(1, 2, **kw)
    assert len(a) == len(b) == 5
    for sa, sb in zip(a, b):
        assert sa.state.keys() == sb.state.keys()
        for k in sa.state:
            assert torch.equal(sa.state[k], sb.state[k]), k
        assert sa.values == sb.values
    c = _run(1, 3, **kw)  # another shuffling/dropout seed
    assert not torch.equal(a[-1].state["1.weight"], c[-1].state["1.weight"])


def test_loss_goes_down_on_spirals():
    ds = build_data(DataConfig(kind="spirals", samples=300, seed=0))
    cfg = TrainConfig(epochs=5, batch_size=32, optimizer="adam", lr=0.02)
    states = list(train_states(_model(ds, hidden=(32, 32)), ds, cfg, progress=False))
    losses = [s.values["train_loss"] for s in states]
    assert losses[-1] < 0.8 * losses[0]
    assert losses[-1] < losses[len(losses) // 2] < losses[0]
    assert states[-1].values["train_accuracy"] > states[0].values["train_accuracy"]


def test_bn_model_trains_with_lone_tail_sample():
    ds = _small(samples=33)
    states = list(
        train_states(
            _model(ds, batchnorm=True), ds, TrainConfig(epochs=1, batch_size=16), progress=False
        )
    )
    assert states[-1].step == 2


# ---------------------------------------------------------------- checkpoint folders


def _lin(seed):
    torch.manual_seed(seed)
    return nn.Linear(2, 2)


def test_parse_position():
    assert parse_position("epoch_003.pt") == (3.0, "epoch")
    assert parse_position("ckpt-step1200.pth") == (1200.0, "step")
    assert parse_position("model-epoch=4-step=1000.ckpt") == (1000.0, "step")
    assert parse_position("resnet20_ep2.5.pt") == (2.5, "epoch")
    assert parse_position("snapshot_7.pt") == (7.0, "epoch")
    assert parse_position("final.pt") is None


def test_load_checkpoints_sorts_numerically_and_reads_nested_formats(tmp_path):
    torch.save(_lin(10).state_dict(), tmp_path / "epoch_10.pt")
    torch.save({"state_dict": _lin(2).state_dict(), "epoch": 2}, tmp_path / "epoch_2.pt")
    torch.save({"model_state_dict": _lin(1).state_dict()}, tmp_path / "epoch_1.pth")
    ddp = {f"module.{k}": v for k, v in _lin(3).state_dict().items()}
    torch.save(ddp, tmp_path / "epoch_3.ckpt")
    (tmp_path / "notes.txt").write_text("not a checkpoint")
    loaded = load_checkpoints(tmp_path)
    assert [p for p, _, _ in loaded] == [1.0, 2.0, 3.0, 10.0]
    assert [lab for _, lab, _ in loaded] == ["epoch 1", "epoch 2", "epoch 3", "epoch 10"]
    for pos, _, state in loaded:
        assert list(state) == ["weight", "bias"]
        assert torch.equal(state["weight"], _lin(int(pos)).weight.detach())
    only = load_checkpoints(tmp_path, "*.pt")
    assert [p for p, _, _ in only] == [2.0, 10.0]


def test_explicit_order(tmp_path):
    for name, seed in (("init.pt", 0), ("best.pt", 1), ("last.pt", 2)):
        torch.save(_lin(seed).state_dict(), tmp_path / name)
    loaded = load_checkpoints(tmp_path, order=["init.pt", "best.pt", "last.pt"])
    assert [(p, lab) for p, lab, _ in loaded] == [(0.0, "init"), (1.0, "best"), (2.0, "last")]
    assert torch.equal(loaded[1][2]["weight"], _lin(1).weight.detach())
    with pytest.raises(ValueError, match=r"not found .*\['gone.pt'\]"):
        load_checkpoints(tmp_path, order=["init.pt", "gone.pt"])


def test_checkpoint_errors(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_checkpoints(tmp_path / "missing")
    with pytest.raises(ValueError, match="no files"):
        load_checkpoints(tmp_path)
    torch.save(_lin(0).state_dict(), tmp_path / "final.pt")
    with pytest.raises(ValueError, match=r"no epoch or step number in \['final.pt'\]"):
        scan_checkpoints(tmp_path)
    (tmp_path / "final.pt").unlink()
    torch.save(_lin(0).state_dict(), tmp_path / "epoch_1.pt")
    torch.save(_lin(0).state_dict(), tmp_path / "step_5.pt")
    with pytest.raises(ValueError, match="mix epochs and steps"):
        load_checkpoints(tmp_path)
    (tmp_path / "step_5.pt").unlink()
    torch.save(_lin(0).state_dict(), tmp_path / "epoch_01.pt")
    with pytest.raises(ValueError, match="several files at epoch 1"):
        load_checkpoints(tmp_path)
    (tmp_path / "epoch_01.pt").unlink()
    torch.save(nn.Linear(3, 2).state_dict(), tmp_path / "epoch_2.pt")
    with pytest.raises(ValueError, match=r"does not match the first one.*weight"):
        load_checkpoints(tmp_path)
    torch.save({"optimizer": {"lr": 0.1}}, tmp_path / "epoch_2.pt")
    with pytest.raises(ValueError, match="no state dict found"):
        load_checkpoints(tmp_path)


def test_recorder_round_trip(tmp_path):
    model = _lin(0)
    rec = Recorder(tmp_path / "run", model)
    rec.capture(epoch=0)
    with torch.no_grad():
        model.weight.add_(1.0)
    rec.capture(epoch=0.5, train_loss=0.25, label="half way")
    half = model.weight.detach().clone()
    with torch.no_grad():
        model.weight.add_(1.0)
    rec.capture(epoch=12, train_loss=torch.tensor(0.125))
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [
        "epoch_0000.5000.pt",
        "epoch_0000.pt",
        "epoch_0012.pt",
    ]  # no temp files left behind
    loaded = load_checkpoints(tmp_path / "run")
    assert [(p, lab) for p, lab, _ in loaded] == [
        (0.0, "epoch 0"),
        (0.5, "half way"),
        (12.0, "epoch 12"),
    ]
    assert torch.equal(loaded[2][2]["weight"], model.weight.detach())
    assert torch.equal(loaded[1][2]["weight"], half)
    _, meta = scan_checkpoints(tmp_path / "run")[2].load()
    assert meta["values"] == {"train_loss": 0.125} and meta["epoch"] == 12.0
    with pytest.raises(ValueError, match="epoch=... or step=..."):
        rec.capture(train_loss=1.0)
    steps = Recorder(tmp_path / "steps", model)
    steps.capture(step=1200)
    steps.capture(step=30)
    assert [p for p, _, _ in load_checkpoints(tmp_path / "steps")] == [30.0, 1200.0]


def test_checkpoint_values_reach_the_states(tmp_path):
    # another tool's layout: scalars beside the weights and a saved optimizer
    for epoch, lr in ((1, 0.1), (2, 0.01)):
        opt = torch.optim.SGD(_lin(epoch).parameters(), lr=lr)
        torch.save({"model_state_dict": _lin(epoch).state_dict(), "epoch": epoch,
                    "train_loss": torch.tensor(1.0 / epoch), "val_acc": 0.5 + epoch / 10,
                    "best": True, "optimizer_state_dict": opt.state_dict()},
                   tmp_path / f"epoch_{epoch}.pt")
    loaded = load_checkpoints(tmp_path, with_values=True)
    assert [v for *_, v in loaded] == [
        {"train_loss": 1.0, "val_acc": 0.6, "lr": 0.1},
        {"train_loss": 0.5, "val_acc": pytest.approx(0.7), "lr": 0.01},
    ]  # the position (epoch) and flags are not values
    assert [len(e) for e in load_checkpoints(tmp_path)] == [3, 3]  # the plain form is unchanged
    # a plain state dict carries none; a Recorder's values come back as recorded
    torch.save(_lin(3).state_dict(), tmp_path / "epoch_3.pt")
    assert load_checkpoints(tmp_path, with_values=True)[2][3] == {}
    rec = Recorder(tmp_path / "rec", _lin(0))
    rec.capture(epoch=1, train_loss=0.25, lr=0.05)
    assert load_checkpoints(tmp_path / "rec", with_values=True)[0][3] == {"train_loss": 0.25, "lr": 0.05}


def test_own_loop_example_runs_and_loads(tmp_path, monkeypatch, capsys):
    # Run as a script, in-process: a second interpreter would re-import torch (seconds).
    monkeypatch.setattr(sys, "argv", ["own_loop.py", str(tmp_path / "run")])
    runpy.run_path(str(REPO / "examples" / "own_loop.py"), run_name="__main__")
    assert "saved 6 states" in capsys.readouterr().out
    loaded = load_checkpoints(tmp_path / "run")
    assert [p for p, _, _ in loaded] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    spec = f"{REPO / 'examples' / 'own_loop.py'}"
    ds = build_data(DataConfig(kind="user", factory=f"{spec}:make_data", samples=256))
    model = build_model(
        ModelConfig(kind="user", factory=f"{spec}:make_model"), ds.in_shape, ds.n_classes
    )
    loss = build_loss()
    losses = []
    for _, _, state in loaded:
        model.load_state_dict(state)
        with torch.no_grad():
            losses.append(float(loss(model(ds.x), ds.y)))
    assert losses[-1] < 0.6 * losses[0]


def test_scene_keys_build_and_train(tmp_path):
    from lossfilm.render.scene.scene import load_scene

    (tmp_path / "s.yaml").write_text(
        "name: t\n"
        "compute:\n"
        "  model: {kind: cnn, width: 2, depth: 2, batchnorm: true, activation: silu}\n"
        "  data: {kind: shapes, samples: 48, classes: 3, image_size: 8}\n"
        "  train:\n"
        "    batch_size: 16\n"
        "    epochs: 2\n"
        "    schedule: piecewise\n"
        "    piecewise: [0, 0.0, 2, 0.2]\n"
        "    capture: {every: 3, unit: step}\n"
    )
    comp = load_scene(tmp_path / "s.yaml").compute
    assert comp.train.piecewise == (0.0, 0.0, 2.0, 0.2)
    assert comp.train.capture == CaptureConfig(every=3, unit="step")
    ds = build_data(comp.data)
    torch.manual_seed(comp.train.seed)
    model = build_model(comp.model, ds.in_shape, ds.n_classes)
    states = list(train_states(model, ds, comp.train, progress=False))
    assert [s.step for s in states] == [0, 3, 6]
    assert [s.values["lr"] for s in states] == pytest.approx([0.0, 0.1, 0.2])  # 3 steps per epoch


def test_divergent_training_keeps_going_and_reports_non_finite_loss():
    ds = _small(samples=64)
    cfg = TrainConfig(epochs=2, batch_size=16, lr=1e30, momentum=0.0)
    states = list(train_states(_model(ds), ds, cfg, progress=False))
    assert len(states) == 3  # no crash: the film shows the blow-up
    assert math.isfinite(states[0].values["train_loss"])
    assert not math.isfinite(states[-1].values["train_loss"])


def test_holdout_is_measured_not_trained_on():
    ds = build_data(DataConfig(samples=120, holdout=0.25))
    states = list(
        train_states(_model(ds), ds, TrainConfig(epochs=1, batch_size=30), progress=False)
    )
    assert states[-1].step == 3  # 90 training samples, 30 a batch
    for s in states:
        assert 0.0 <= s.values["test_accuracy"] <= 1.0
        assert math.isfinite(s.values["test_loss"])
    assert (
        "test_loss"
        not in next(
            train_states(_model(_small(60)), _small(60), TrainConfig(), progress=False)
        ).values
    )
