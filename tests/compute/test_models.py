"""The model zoo and losses: forward/backward, toggles, skips, user factories."""

from __future__ import annotations

import json
import time

import pytest
import torch
from torch import nn

from lossfilm.compute.data.datasets import build_data

from lossfilm.compute.config.data import DataConfig
from lossfilm.compute.model.zoo import ACTIVATIONS, LOSSES, BasicBlock, build_loss, build_model, describe_model
from lossfilm.compute.config.model import ModelConfig
from lossfilm.compute.training.train import train_states
from lossfilm.compute.config.train import CaptureConfig, TrainConfig

IMAGE = (1, 16, 16)
#: budget for a few ResNet-20 training steps at width 4 on 16×16 images, in CPU seconds.
RESNET_STEPS_CPU_SECONDS = 5.0
POINTS = (2,)


def _input_for(kind):
    return IMAGE if kind in ("cnn", "resnet") else POINTS


def _build(seed=0, **kw):
    torch.manual_seed(seed)
    cfg = ModelConfig(width=4, **kw)
    return build_model(cfg, _input_for(cfg.kind), 3)


@pytest.mark.parametrize("kind", ["mlp", "cnn", "resnet", "logistic"])
@pytest.mark.parametrize("batchnorm", [False, True])
def test_forward_backward_gives_logits_and_gradients(kind, batchnorm):
    model = _build(kind=kind, batchnorm=batchnorm)
    x = torch.randn(6, *_input_for(kind))
    logits = model(x)
    assert logits.shape == (6, 3)
    loss = build_loss()(logits, torch.tensor([0, 1, 2, 0, 1, 2]))
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
    assert sum(float(p.grad.abs().sum()) for p in model.parameters()) > 0


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_activation_is_used(activation):
    model = _build(kind="mlp", activation=activation)
    acts = [m for m in model.modules() if isinstance(m, ACTIVATIONS[activation])]
    assert len(acts) == 2  # one per hidden layer
    others = [
        m
        for m in model.modules()
        if type(m) in ACTIVATIONS.values() and not isinstance(m, ACTIVATIONS[activation])
    ]
    assert others == []


@pytest.mark.parametrize("kind", ["mlp", "cnn", "resnet"])
def test_dropout_toggle(kind):
    plain = _build(kind=kind)
    dropped = _build(kind=kind, dropout=0.5)
    assert not any(isinstance(m, nn.Dropout) for m in plain.modules())
    assert any(isinstance(m, nn.Dropout) for m in dropped.modules())
    x = torch.randn(8, *_input_for(kind))
    dropped.train()
    assert not torch.equal(dropped(x), dropped(x))  # random masks in training
    dropped.eval()
    assert torch.equal(dropped(x), dropped(x))


@pytest.mark.parametrize("kind", ["mlp", "cnn", "resnet"])
def test_batchnorm_toggle(kind):
    with_bn = _build(kind=kind, batchnorm=True)
    without = _build(kind=kind, batchnorm=False)
    assert any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in with_bn.modules())
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in without.modules())
    assert any(k.endswith("running_mean") for k in with_bn.state_dict())


def test_resnet_depth_3_is_resnet_20():
    model = _build(kind="resnet", depth=3)
    blocks = [m for m in model.modules() if isinstance(m, BasicBlock)]
    assert len(blocks) == 9
    main_convs = [
        m for m in model.modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)
    ]
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert len(main_convs) + len(linears) == 20
    widths = sorted({b.conv2.out_channels for b in blocks})
    assert widths == [4, 8, 16]


def test_skips_change_the_model():
    on = _build(kind="resnet", skips=True, depth=1)
    off = _build(kind="resnet", skips=False, depth=1)
    n_on = sum(p.numel() for p in on.parameters())
    n_off = sum(p.numel() for p in off.parameters())
    assert n_on > n_off  # the strided shortcuts carry 1×1 convs
    assert not any(b.shortcut is not None for b in off.modules() if isinstance(b, BasicBlock))
    # A block whose convs are zero passes its input through only when skips are on.
    x = torch.rand(2, 4, 8, 8)
    for model, expect in ((on, torch.relu(x)), (off, torch.zeros_like(x))):
        block = next(b for b in model.modules() if isinstance(b, BasicBlock) and b.shortcut is None)
        with torch.no_grad():
            for conv in (block.conv1, block.conv2):
                conv.weight.zero_()
                conv.bias.zero_()
        assert torch.equal(block(x), expect)


def test_resnet_trains_a_few_steps_quickly():
    ds = build_data(DataConfig(kind="shapes", samples=128, classes=4, image_size=16))
    torch.manual_seed(0)
    model = build_model(
        ModelConfig(kind="resnet", width=4, batchnorm=True), ds.in_shape, ds.n_classes
    )
    cfg = TrainConfig(epochs=1, batch_size=32, lr=0.05, capture=CaptureConfig(every=2, unit="step"))
    # One-time library start-up is not training: torch.optim imports torch._dynamo on first
    # use and oneDNN builds its conv kernels on the first pass (1-4 s each on a busy machine).
    torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)
    build_model(ModelConfig(kind="resnet", width=4, batchnorm=True), ds.in_shape, 4)(
        ds.x[:32]
    ).sum().backward()
    # CPU seconds of one thread, not wall time: other jobs on a shared machine stretch the
    # wall clock, not the work.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        start = time.process_time()
        states = list(train_states(model, ds, cfg, progress=False))
        elapsed = time.process_time() - start
    finally:
        torch.set_num_threads(threads)
    assert [s.step for s in states] == [0, 2, 4]
    assert all(torch.isfinite(torch.tensor(s.values["train_loss"])) for s in states)
    assert elapsed < RESNET_STEPS_CPU_SECONDS


def test_conv_models_reject_flat_data_and_accept_greyscale_without_channel():
    with pytest.raises(ValueError, match="image data"):
        build_model(ModelConfig(kind="cnn"), (2,), 2)
    model = build_model(ModelConfig(kind="resnet", width=2, depth=1), (8, 8), 10)
    assert model(torch.randn(3, 8, 8)).shape == (3, 10)
    deep = build_model(ModelConfig(kind="cnn", width=2, depth=5), (1, 8, 8), 10)
    assert deep(torch.randn(3, 1, 8, 8)).shape == (3, 10)


def test_mlp_flattens_images():
    model = build_model(ModelConfig(kind="mlp", hidden=(5,)), (1, 4, 4), 2)
    assert model(torch.randn(3, 1, 4, 4)).shape == (3, 2)
    assert model[1].in_features == 16


def test_user_factory(tmp_path):
    (tmp_path / "mine.py").write_text(
        "from torch import nn\n"
        "def make(in_shape, n_classes):\n"
        "    return nn.Linear(in_shape[0], n_classes)\n"
        "def bare():\n"
        "    return nn.Linear(2, 2)\n"
        "def wrong():\n"
        "    return 3\n"
    )
    model = build_model(ModelConfig(kind="user", factory=f"{tmp_path / 'mine.py'}:make"), (7,), 4)
    assert isinstance(model, nn.Linear) and model.weight.shape == (4, 7)
    assert isinstance(
        build_model(ModelConfig(kind="user", factory=f"{tmp_path / 'mine.py'}:bare"), (2,), 2),
        nn.Linear,
    )
    with pytest.raises(ValueError, match="not a torch.nn.Module"):
        build_model(ModelConfig(kind="user", factory=f"{tmp_path / 'mine.py'}:wrong"), (2,), 2)
    with pytest.raises(ValueError, match="model.factory"):
        ModelConfig(kind="user")
    with pytest.raises(ValueError, match="model.factory"):
        build_model(ModelConfig(kind="user", factory="no-colon"), (2,), 2)


def test_describe_model_is_json_and_counts_parameters():
    model = _build(kind="mlp", hidden=(8, 4), batchnorm=True)
    desc = describe_model(ModelConfig(kind="mlp", hidden=(8, 4), batchnorm=True), model)
    json.dumps(desc)
    assert desc["params"] == sum(p.numel() for p in model.parameters())
    assert desc["params"] == sum(layer["params"] for layer in desc["layers"])
    assert [layer["type"] for layer in desc["layers"]][:3] == ["Flatten", "Linear", "BatchNorm1d"]
    assert desc["config"]["hidden"] == [8, 4]


def test_losses(tmp_path):
    logits = torch.tensor([[2.0, -1.0], [0.0, 3.0]])
    y = torch.tensor([0, 1])
    assert set(LOSSES) >= {"cross_entropy", "mse"}
    assert torch.allclose(
        build_loss("cross_entropy")(logits, y), nn.functional.cross_entropy(logits, y)
    )
    expected_mse = ((logits - torch.eye(2)) ** 2).mean()
    assert torch.allclose(build_loss("mse")(logits, y), expected_mse)
    (tmp_path / "myloss.py").write_text(
        "import torch\n"
        "def first_logit(logits, y):\n"
        "    return logits[:, 0].mean()\n"
        "class Zero(torch.nn.Module):\n"
        "    def forward(self, logits, y):\n"
        "        return logits.sum() * 0\n"
    )
    assert float(build_loss(f"{tmp_path / 'myloss.py'}:first_logit")(logits, y)) == 1.0
    assert float(build_loss(f"{tmp_path / 'myloss.py'}:Zero")(logits, y)) == 0.0
    with pytest.raises(ValueError, match="unknown loss 'hinge2'"):
        build_loss("hinge2")
