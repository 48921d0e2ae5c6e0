"""The camera's shared helpers: grid cells, Hermite segments, orientation and terrain."""

from __future__ import annotations

import numpy as np

from lossfilm.render.camera.motion import hermite
from lossfilm.render.camera.orientation import unit_vectors
from lossfilm.render.mesh.resample import grid_cells


def test_grid_cells_finds_the_cell_and_clamps_outside():
    coords = np.array([0.0, 1.0, 3.0, 4.0])
    index, fraction = grid_cells(coords, np.array([-1.0, 0.0, 0.5, 1.0, 2.5, 4.0, 9.0]))
    assert index.tolist() == [0, 0, 0, 1, 1, 2, 2]
    np.testing.assert_allclose(fraction, [0.0, 0.0, 0.5, 0.0, 0.75, 1.0, 1.0])


def test_hermite_meets_its_ends_and_slopes_and_keeps_float32():
    p0, p1 = np.float32([1.0, -2.0]), np.float32([3.0, 5.0])
    m0, m1 = np.float32([0.5, 0.0]), np.float32([-1.0, 2.0])
    # exact: at t = 0 and 1 the Hermite weights are the integers 1 and 0
    np.testing.assert_array_equal(hermite(p0, p1, m0, m1, 0.0), p0)
    np.testing.assert_array_equal(hermite(p0, p1, m0, m1, 1.0), p1)
    q0, q1, n0, n1 = (a.astype(np.float64) for a in (p0, p1, m0, m1))
    h = 1e-7
    np.testing.assert_allclose((hermite(q0, q1, n0, n1, h) - q0) / h, n0, atol=1e-5)
    np.testing.assert_allclose((q1 - hermite(q0, q1, n0, n1, 1 - h)) / h, n1, atol=1e-5)
    assert hermite(p0, p1, m0, m1, 0.3).dtype == np.float32
    rows = hermite(
        np.zeros((4, 3)),
        np.ones((4, 3)),
        np.zeros((4, 3)),
        np.zeros((4, 3)),
        np.linspace(0, 1, 4)[:, None],
    )
    assert rows.shape == (4, 3)
    np.testing.assert_allclose(rows[:, 0], [0.0, 7 / 27, 20 / 27, 1.0])  # smoothstep


def test_unit_vectors_normalize_rows_and_keep_zero_rows_zero():
    v = np.array([[3.0, 4.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, -2.0]])
    out = unit_vectors(v)
    np.testing.assert_allclose(out, [[0.6, 0.8, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, -1.0]])
    assert np.all(np.isfinite(out))
