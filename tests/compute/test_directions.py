"""Directions: Gaussian draws, filter/layer normalization, orthogonality, PCA, planes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from lossfilm.compute.landscape.directions import filter_normalize, gaussian_direction, inner, line_plane, norm, normalize_direction, pca_plane, perturbable, project, random_plane, three_point_plane

from lossfilm.compute.config.landscape import DirectionsConfig


def tiny_net(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 8),
        nn.ReLU(), nn.Linear(8, 3),
    )


def weights(seed: int = 0) -> dict:
    return perturbable(tiny_net(seed))


def test_perturbable_takes_parameters_and_optionally_float_buffers():
    net = tiny_net()
    assert set(perturbable(net)) == {k for k, _ in net.named_parameters()}
    with_states = perturbable(net, include_states=True)
    assert "1.running_mean" in with_states and "1.running_var" in with_states
    assert "1.num_batches_tracked" not in with_states  # integer buffer: never moved


def test_draw_is_gaussian_not_uniform_and_seeded():
    w = {"w": torch.zeros(200_000)}
    d = gaussian_direction(w, seed=3)["w"].double()
    # A uniform [0, 1) draw (a peer's choice) has no negatives and variance 1/12.
    assert (d < 0).float().mean().item() == pytest.approx(0.5, abs=0.01)
    assert d.var().item() == pytest.approx(1.0, abs=0.02)
    beyond_2sigma = (d.abs() > 2).double().mean().item()
    assert beyond_2sigma == pytest.approx(0.0455, abs=0.003)
    assert torch.equal(gaussian_direction(w, 3)["w"], gaussian_direction(w, 3)["w"])
    assert not torch.equal(gaussian_direction(w, 3)["w"], gaussian_direction(w, 4)["w"])


def test_filter_normalize_matches_every_filter_norm_and_zeroes_1d():
    w = weights()
    d = filter_normalize(gaussian_direction(w, 0), w)
    for k, t in w.items():
        if t.dim() <= 1:
            assert torch.count_nonzero(d[k]) == 0, k
            continue
        got = d[k].reshape(t.shape[0], -1).norm(dim=1)
        want = t.reshape(t.shape[0], -1).norm(dim=1)
        torch.testing.assert_close(got, want, rtol=1e-5, atol=0)


def test_biases_are_not_normalized_element_by_element():
    # ignore=none normalizes a bias vector as one block. Per element (a peer bug) the
    # direction would be |θ_i|·sign(d_i): every |d_i| equal to |θ_i|.
    w = weights()
    d = normalize_direction(gaussian_direction(w, 0), w, "filter", ignore="none")
    bias = "4.bias"
    assert d[bias].norm().item() == pytest.approx(w[bias].norm().item(), rel=1e-5)
    assert not torch.allclose(d[bias].abs(), w[bias].abs(), rtol=1e-3)


def test_layer_normalization_matches_each_tensor_norm():
    w = weights()
    d = normalize_direction(gaussian_direction(w, 0), w, "layer")
    for k, t in w.items():
        if t.dim() > 1:
            assert d[k].norm().item() == pytest.approx(t.norm().item(), rel=1e-5)


@pytest.mark.parametrize("how", ["filter", "layer", "none"])
def test_orthogonality_survives_normalization(how):
    w = weights()
    d1, d2 = random_plane(w, DirectionsConfig(normalization=how, orthogonalize=True))
    cos = inner(d1, d2) / (norm(d1) * norm(d2))
    assert abs(cos) < 1e-6
    if how == "filter":  # and d2 is still filter-normalized
        for k, t in w.items():
            if t.dim() > 1:
                torch.testing.assert_close(
                    d2[k].reshape(t.shape[0], -1).norm(dim=1),
                    t.reshape(t.shape[0], -1).norm(dim=1), rtol=1e-5, atol=0,
                )


def test_orthogonalize_then_normalize_would_undo_it():
    # The peer bug this module avoids: global Gram–Schmidt, then filter normalization.
    w = weights()
    r1, r2 = gaussian_direction(w, 1), gaussian_direction(w, 2)
    c = inner(r2, r1) / inner(r1, r1)
    r2 = {k: r2[k] - c * r1[k] for k in r2}
    assert abs(inner(r1, r2)) / (norm(r1) * norm(r2)) < 1e-6
    n1, n2 = filter_normalize(r1, w), filter_normalize(r2, w)
    assert abs(inner(n1, n2)) / (norm(n1) * norm(n2)) > 1e-4


def test_same_draw_renormalized_to_each_state():
    # around: current moves the plane with the weights: same raw draw, new scale per filter.
    cfg = DirectionsConfig(orthogonalize=False)
    wa, wb = weights(0), weights(1)
    da, _ = random_plane(wa, cfg)
    db, _ = random_plane(wb, cfg)
    k = "4.weight"
    ua = da[k] / da[k].norm(dim=1, keepdim=True)
    ub = db[k] / db[k].norm(dim=1, keepdim=True)
    torch.testing.assert_close(ua, ub, rtol=1e-5, atol=1e-6)
    assert not torch.allclose(da[k].norm(dim=1), db[k].norm(dim=1))


def test_pca_is_orthonormal_and_final_projects_to_origin():
    final = weights(0)
    gen = torch.Generator().manual_seed(0)
    u = {k: torch.randn(v.shape, generator=gen) for k, v in final.items()}
    v = {k: torch.randn(v.shape, generator=gen) for k, v in final.items()}
    # a trajectory that lies in a 2-D plane plus a little noise
    ts = [(2.0, 1.0), (1.0, 0.7), (0.5, -0.3), (0.1, 0.05), (0.0, 0.0)]
    states = [
        {k: final[k] + a * u[k] + b * v[k] + 1e-4 * torch.randn(final[k].shape, generator=gen)
         for k in final}
        for a, b in ts
    ]
    states[-1] = final
    d1, d2, explained, coords = pca_plane(states, final, ignore="none")
    assert norm(d1) == pytest.approx(1.0, abs=1e-5)
    assert norm(d2) == pytest.approx(1.0, abs=1e-5)
    assert abs(inner(d1, d2)) < 1e-5
    assert np.all(coords[-1] == 0.0)
    assert explained.sum() > 0.999 and explained[0] >= explained[1]
    for s, c in zip(states, coords):
        assert project(s, final, d1, d2) == pytest.approx(tuple(c), abs=1e-3)


def test_pca_ignores_1d_parts_by_default():
    final = weights(0)
    states = [weights(1), weights(2), final]
    d1, d2, _, _ = pca_plane(states, final)
    assert torch.count_nonzero(d1["4.bias"]) == 0 and torch.count_nonzero(d2["1.weight"]) == 0


def test_three_point_plane_coordinates():
    p0, p1, p2 = weights(0), weights(1), weights(2)
    d1, d2, coords = three_point_plane(p0, p1, p2)
    assert norm(d1) == pytest.approx(norm(d2), rel=1e-6)
    assert abs(inner(d1, d2)) / norm(d1) ** 2 < 1e-6
    for p, c in zip((p0, p1, p2), coords):
        assert project(p, p0, d1, d2) == pytest.approx(tuple(c), abs=1e-5)
        rebuilt = {k: p0[k] + c[0] * d1[k] + c[1] * d2[k] for k in p0}
        for k in p0:
            torch.testing.assert_close(rebuilt[k], p[k], rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="one line"):
        three_point_plane(p0, p1, {k: 2 * p1[k] - p0[k] for k in p0})


def test_line_plane():
    p0, p1 = weights(0), weights(1)
    d1, d2, coords = line_plane(p0, p1)
    assert norm(d2) == 0.0 and coords.tolist() == [[0.0, 0.0], [1.0, 0.0]]
    _, d2r, _ = line_plane(p0, p1, DirectionsConfig(kind="line_random"))
    assert abs(inner(d1, d2r)) / (norm(d1) * norm(d2r)) < 1e-6
