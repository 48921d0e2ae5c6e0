"""The numpy toy sets: sizes, classes, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from lossfilm.compute.data.toysets import make_blobs, make_moons, make_shapes, make_spirals


def _rng() -> np.random.Generator:
    return np.random.default_rng(3)


@pytest.mark.parametrize(
    ("make", "args", "shape", "classes"),
    [
        (make_spirals, (101, 3, 0.03), (101, 2), 3),
        (make_moons, (101, 0.1), (101, 2), 2),
        (make_blobs, (101, 4, 5, 0.3), (101, 5), 4),
        (make_shapes, (24, 8, 10, 0.5), (24, 1, 10, 10), 8),
    ],
)
def test_generators_give_every_class_evenly_and_repeat_from_a_seed(make, args, shape, classes):
    x, y = make(*args, _rng())
    assert x.shape == shape
    assert np.all(np.isfinite(x))
    counts = np.bincount(y.astype(int), minlength=classes)
    assert counts.size == classes and counts.max() - counts.min() <= 1
    x2, y2 = make(*args, _rng())  # determinism: the same seed through the same path
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)


