"""evaluate_tile: exact against plain torch, pure, centred grid, non-finite kept."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from lossfilm.compute.landscape.directions import perturbable, random_plane, three_point_plane

from lossfilm.compute.config.landscape import DirectionsConfig
from lossfilm.compute.landscape.surface import choose_method, evaluate_tile, grid_axes, grid_axis
from lossfilm.compute.config.landscape import EvalConfig, GridConfig, LandscapeConfig

REL = 1e-5


def mlp(seed=0, bn=False) -> nn.Module:
    torch.manual_seed(seed)
    layers = [nn.Flatten(), nn.Linear(12, 16)]
    layers += [nn.BatchNorm1d(16)] if bn else []
    layers += [nn.ReLU(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 3)]
    net = nn.Sequential(*layers)
    if bn:  # non-trivial running stats, so eval and recompute differ
        net[2].running_mean.normal_()
        net[2].running_var.uniform_(0.5, 2.0)
    return net.eval()


class Branchy(nn.Module):
    """Not a Sequential: takes the generic loop path."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(1)
        self.conv = nn.Conv2d(1, 3, 3, padding=1)
        self.bn = nn.BatchNorm2d(3)
        self.head = nn.Linear(3 * 16, 3)

    def forward(self, x):
        h = torch.relu(self.bn(self.conv(x)))
        return self.head(F.avg_pool2d(h, 1).flatten(1)[:, : 3 * 16])


def data(shape=(12,), n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn((n, *shape), generator=g), torch.randint(0, 3, (n,), generator=g)


def plain_loss(model, origin, d1, d2, a, b, x, y) -> float:
    """The independent reference: load the perturbed state dict, forward, mean loss."""
    ref = type(model)() if isinstance(model, Branchy) else __import__("copy").deepcopy(model)
    sd = {k: (origin[k] + a * d1[k] + b * d2[k]) if k in d1 else origin[k] for k in origin}
    ref.load_state_dict(sd)
    ref.eval()
    with torch.no_grad():
        return float(F.cross_entropy(ref(x), y))


def plane(model, include_states=False):
    origin = {k: v.clone() for k, v in model.state_dict().items()}
    d1, d2 = random_plane(perturbable(model, include_states), DirectionsConfig(seed=5))
    return origin, d1, d2


COORDS = np.array([[0.0, 0.0], [0.5, -0.25], [-1.0, 1.0], [0.9, 0.1]])


@pytest.mark.parametrize("method", ["sequential", "loop"])
def test_matches_plain_torch(method):
    model = mlp(bn=True)
    x, y = data()
    origin, d1, d2 = plane(model)
    res = evaluate_tile(model, origin, d1, d2, COORDS, x, y, F.cross_entropy, method=method)
    assert res.method == method
    want = [plain_loss(model, origin, d1, d2, a, b, x, y) for a, b in COORDS]
    np.testing.assert_allclose(res.loss, want, rtol=REL)
    assert res.accuracy.shape == (4,) and np.all((res.accuracy >= 0) & (res.accuracy <= 1))


def test_non_sequential_model_with_bn_states_perturbed():
    model = Branchy().eval()
    x, y = data(shape=(1, 4, 4))
    origin, d1, d2 = plane(model, include_states=True)
    assert choose_method(model) == "folded"  # conv -> BN in eval mode: BN folded per point
    want = [plain_loss(model, origin, d1, d2, a, b, x, y) for a, b in COORDS]
    for method in ("auto", "loop"):
        res = evaluate_tile(model, origin, d1, d2, COORDS, x, y, F.cross_entropy, method=method)
        np.testing.assert_allclose(res.loss, want, rtol=REL)


def test_narrow_output_layer_is_padded_without_changing_the_numbers():
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 5)).eval()  # 5 -> 16 rows
    x, y = data()
    y = y % 5
    origin, d1, d2 = plane(model)
    res = evaluate_tile(model, origin, d1, d2, COORDS, x, y, F.cross_entropy, method="sequential")
    want = [plain_loss(model, origin, d1, d2, a, b, x, y) for a, b in COORDS]
    np.testing.assert_allclose(res.loss, want, rtol=REL)
    with torch.no_grad():
        acc = [float((model(x).argmax(1) == y).float().mean())]
    assert res.accuracy[0] == pytest.approx(acc[0])


def test_sample_batches_and_float64_agree():
    model = mlp()
    x, y = data(n=100)
    origin, d1, d2 = plane(model)
    full = evaluate_tile(model, origin, d1, d2, COORDS, x, y, F.cross_entropy)
    chunked = evaluate_tile(model, origin, d1, d2, COORDS, x, y, F.cross_entropy, batch_size=30)
    f64 = evaluate_tile(model, origin, d1, d2, COORDS, x, y, F.cross_entropy, dtype=torch.float64)
    np.testing.assert_allclose(chunked.loss, full.loss, rtol=REL)
    np.testing.assert_allclose(chunked.accuracy, full.accuracy, rtol=1e-12)
    np.testing.assert_allclose(f64.loss, full.loss, rtol=REL)


def test_model_left_unperturbed_and_modes_restored():
    model = mlp(bn=True).train()  # even a model left in train mode
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x, y = data()
    origin, d1, d2 = plane(model)
    for bn_mode in ("eval", "recompute"):
        evaluate_tile(model, origin, d1, d2, COORDS, x, y, F.cross_entropy, bn_mode=bn_mode)
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert all(m.training for m in model.modules())
    assert all(torch.equal(origin[k], before[k]) for k in before)  # origin not mutated either


def test_bn_recompute_uses_batch_statistics():
    model = mlp(bn=True)
    x, y = data()
    origin, d1, d2 = plane(model)
    ev = evaluate_tile(model, origin, d1, d2, COORDS[:1], x, y, F.cross_entropy)
    rc = evaluate_tile(model, origin, d1, d2, COORDS[:1], x, y, F.cross_entropy, bn_mode="recompute")
    ref = __import__("copy").deepcopy(model).train()
    with torch.no_grad():
        want = float(F.cross_entropy(ref(x), y))
    assert rc.loss[0] == pytest.approx(want, rel=REL)
    assert ev.loss[0] != pytest.approx(want, rel=1e-3)


def test_grid_is_centred_and_middle_point_is_the_origin():
    a = grid_axis(-1.0, 1.0, 41)
    assert a[20] == 0.0 and a[0] == -1.0 and a[-1] == 1.0
    # exact by construction: centre + half*t with t = (2i - (n-1))/(n-1), antisymmetric in i
    np.testing.assert_array_equal(a, -a[::-1])
    ga, gb = grid_axes(GridConfig(shape=(5, 7), range=(-2.0, 2.0), range_b=(-0.5, 0.5)))
    assert ga.shape == (7,) and gb.shape == (5,) and gb[2] == 0.0 and ga[3] == 0.0
    model = mlp()
    x, y = data()
    origin, d1, d2 = plane(model)
    mid = evaluate_tile(model, origin, d1, d2, [[a[20], a[20]]], x, y, F.cross_entropy)
    with torch.no_grad():  # the point is the origin bit for bit; the loss differs only by rounding
        assert mid.loss[0] == pytest.approx(float(F.cross_entropy(model(x), y)), rel=1e-6)


def test_non_finite_losses_are_kept_not_raised():
    model = mlp()
    x, y = data()
    origin, d1, d2 = plane(model)
    origin = dict(origin)
    origin["5.weight"] = torch.full_like(origin["5.weight"], float("inf"))
    res = evaluate_tile(model, origin, d1, d2, COORDS, x, y, F.cross_entropy)
    assert res.loss.shape == (4,) and not np.isfinite(res.loss).any()


def test_three_point_plane_reproduces_the_three_losses():
    models = [mlp(seed=s) for s in (0, 1, 2)]
    x, y = data()
    states = [{k: v.clone() for k, v in m.state_dict().items()} for m in models]
    d1, d2, coords = three_point_plane(*(perturbable(s) for s in states))
    res = evaluate_tile(models[0], states[0], d1, d2, coords, x, y, F.cross_entropy)
    with torch.no_grad():
        want = [float(F.cross_entropy(m(x), y)) for m in models]
    np.testing.assert_allclose(res.loss, want, rtol=1e-4)


def test_landscape_config_rejects_mismatched_kind_and_origin():
    with pytest.raises(ValueError, match="around"):
        LandscapeConfig(directions=DirectionsConfig(kind="pca"), around="current")
    with pytest.raises(ValueError, match="points"):
        LandscapeConfig(directions=DirectionsConfig(kind="three_point", points=("a",)), around="fixed")
    with pytest.raises(ValueError, match="grid.range"):
        GridConfig(range=(1.0, -1.0))
    assert EvalConfig().bn_mode == "eval"


def test_batched_cross_entropy_matches_per_point_losses():
    # 37 points: two full batches of LOSS_BATCH and a remainder, against a loss the fast
    # path does not recognize (so it is computed point by point with F.cross_entropy)
    model = mlp()
    x, y = data()
    origin, d1, d2 = plane(model)
    coords = np.random.default_rng(1).uniform(-1, 1, (37, 2))
    fast = evaluate_tile(model, origin, d1, d2, coords, x, y, F.cross_entropy)
    slow = evaluate_tile(model, origin, d1, d2, coords, x, y, lambda o, t: F.cross_entropy(o, t))
    np.testing.assert_allclose(fast.loss, slow.loss, rtol=REL)
    # Both paths take the argmax of the same logits; they differ only in how the per-chunk
    # fractions are summed (one ulp at most). One flipped point would move it by 1/len(y).
    np.testing.assert_allclose(fast.accuracy, slow.accuracy, rtol=0, atol=1e-12)
