"""The conv/residual fast path (BN folded, chunked samples) equals plain load_state_dict + forward."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from lossfilm.compute.landscape.convfast import CHUNK_BYTES, auto_batch_size, fold_batchnorm
from lossfilm.compute.landscape.directions import perturbable, random_plane
from lossfilm.compute.config.landscape import DirectionsConfig
from lossfilm.compute.model.zoo import build_model
from lossfilm.compute.config.model import ModelConfig
from lossfilm.compute.landscape.surface import choose_method, evaluate_tile

#: float32 forwards of the folded and the plain graph round differently (a product
#: W·s before the convolution instead of after it): 1e-5 relative is ~100 ulps of headroom.
REL = 1e-5
COORDS = np.array([[0.0, 0.0], [0.5, -0.25], [-1.0, 1.0], [0.9, 0.1]])


def zoo(kind: str) -> nn.Module:
    torch.manual_seed(0)
    model = build_model(ModelConfig(kind=kind, depth=1, width=8, batchnorm=True), (3, 8, 8), 4)
    for m in model.modules():  # non-trivial BN so a wrong fold shows
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.normal_()
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.normal_()
    return model.eval()


def plain(model, origin, d1, d2, x, y) -> list[float]:
    out = []
    for a, b in COORDS:
        ref = copy.deepcopy(model)
        ref.load_state_dict({k: origin[k] + a * d1[k] + b * d2[k] if k in d1 else origin[k] for k in origin})
        with torch.no_grad():
            out.append(float(F.cross_entropy(ref.eval()(x), y)))
    return out


@pytest.mark.parametrize("kind, include_states", [("cnn", False), ("resnet", True)])
def test_folded_path_equals_plain_forward(kind, include_states):
    model = zoo(kind)
    x, y = torch.randn(48, 3, 8, 8), torch.randint(0, 4, (48,))
    origin = {k: v.clone() for k, v in model.state_dict().items()}
    # include_states also moves the BN running statistics: the fold must follow them
    d1, d2 = random_plane(perturbable(model, include_states), DirectionsConfig(seed=3))
    assert choose_method(model) == "folded"
    res = evaluate_tile(model, origin, d1, d2, COORDS, x, y, F.cross_entropy, batch_size=20)
    assert res.method == "folded"
    np.testing.assert_allclose(res.loss, plain(model, origin, d1, d2, x, y), rtol=REL)
    loop = evaluate_tile(model, origin, d1, d2, COORDS, x, y, F.cross_entropy, method="loop")
    np.testing.assert_allclose(res.accuracy, loop.accuracy, atol=1 / 48 + 1e-9)


def test_fold_removes_every_bn_after_a_conv_and_leaves_the_model_alone():
    model = zoo("resnet")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    folded = fold_batchnorm(model)
    n_bn = sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    assert len(folded.pairs) == n_bn  # stem, two per block and the shortcut's
    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.module.modules())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert fold_batchnorm(nn.Sequential(nn.Linear(3, 3))) is None  # nothing to fold


def test_recompute_mode_does_not_fold():
    model = zoo("cnn")
    assert choose_method(model, "recompute") == "loop"
    x, y = torch.randn(16, 3, 16, 16), torch.randint(0, 4, (16,))
    origin = dict(model.state_dict())
    with pytest.raises(ValueError, match="folded needs bn_mode=eval"):
        evaluate_tile(model, origin, {}, {}, COORDS[:1], x, y, F.cross_entropy,
                      method="folded", bn_mode="recompute")


def test_auto_batch_size_chunks_conv_nets_only_on_cpu():
    cpu = torch.device("cpu")
    conv = zoo("resnet")
    x = torch.randn(16384, 3, 8, 8)
    chunk = auto_batch_size(conv, conv, x, cpu)
    widest = 8 * 8 * 8 * 4  # the stem's output per image, in bytes
    assert chunk < 16384 and chunk * widest <= CHUNK_BYTES < 2 * chunk * widest
    mlp = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    assert auto_batch_size(mlp, mlp, torch.randn(2048, 64), cpu) == 2048  # fits: one forward
    assert auto_batch_size(conv, conv, x, torch.device("meta")) == 16384  # not a CPU: whole set


def test_fastest_chunk_keeps_the_timed_winner():
    import time

    from lossfilm.compute.landscape.convfast import chunk_candidates, fastest_chunk

    calls = []

    def forward(h):  # a fixed cost per call: the fewest calls (whole subset) must win
        calls.append(h.shape[0])
        time.sleep(0.03)  # long enough that scheduling jitter on a loaded machine cannot flip it

    x = torch.zeros(256, 1)
    assert chunk_candidates(256, 64) == [256, 128, 64, 32]  # the halves down to MIN_CHUNK
    assert chunk_candidates(1024, 128) == [1024, 256, 128, 64, 32]
    assert chunk_candidates(40, 128) == [40]
    assert fastest_chunk(forward, x, [256, 128, 64], key=("test", 1)) == 256
    n_calls = len(calls)
    assert fastest_chunk(forward, x, [256, 128, 64], key=("test", 1)) == 256 and len(calls) == n_calls
