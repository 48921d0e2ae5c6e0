"""FilmSurface: a synthetic surface sequence becomes a topology and a stream of frames."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import trimesh
from scipy.interpolate import RectBivariateSpline

from lossfilm.compute.store.sequence import SurfaceSequence
from lossfilm.render.mesh.film_surface import FilmSurface
from lossfilm.render.scene.mesh import HeightConfig, TimeConfig
from lossfilm.render.scene.mesh import MeshConfig
from lossfilm.render.mesh.resample import Upsampler, cubic_matrix, grid_normals, grid_triangles


def make_sequence(
    n_states: int = 5, nx: int = 21, ny: int = 21, *, fixed_plane: bool = True,
    extent: tuple[float, float, float, float] = (-1.0, 1.0, -1.0, 1.0),
) -> SurfaceSequence:
    """A bowl whose centre drifts and whose depth grows, with an accuracy channel."""
    a = np.linspace(extent[0], extent[1], nx)
    b = np.linspace(extent[2], extent[3], ny)
    aa, bb = np.meshgrid(a, b)
    s = np.arange(n_states, dtype=np.float64)
    cx = 0.4 * np.cos(s / max(n_states - 1, 1) * np.pi)
    loss = np.stack([
        0.05 + (1.0 + k) * ((aa - cx[k]) ** 2 + 0.5 * bb ** 2) + 0.1 * np.sin(3 * aa)
        for k in range(n_states)
    ])
    acc = np.exp(-loss)
    ball = np.stack([cx, 0.1 * np.sin(s)], axis=1) if fixed_plane else np.zeros((n_states, 2))
    return SurfaceSequence(
        a=a, b=b, loss=loss, epochs=s * 2.0, steps=(s * 100).astype(int),
        labels=[f"epoch {2 * k}" for k in range(n_states)], ball=ball,
        values={"lr": 0.1 / (1.0 + s)}, channels={"accuracy": acc},
    )


def state_time(fs: FilmSurface, k: int) -> float:
    """Film time at which the default uniform timeline reaches state k."""
    return fs.duration * k / (fs.sequence.n_states - 1)


def test_topology_grid_triangles_and_bounds():
    fs = FilmSurface(make_sequence(), MeshConfig(resolution=41), duration=2.0, fps=10)
    topo = fs.topology
    assert topo.shape == (41, 41)
    assert topo.indices.dtype == np.uint32 and topo.indices.shape == (2 * 40 * 40, 3)
    assert topo.x[0] == -1.0 and topo.x[-1] == 1.0
    assert fs.n_frames == 20
    frame = fs.frame_at(0.7)
    v = np.column_stack([np.tile(topo.x, 41), np.repeat(topo.y, 41), frame.heights.ravel()])
    tri = v[topo.indices]
    cross = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    assert np.all(cross[:, 2] > 0)  # counter-clockwise seen from +z
    lo, hi = np.asarray(topo.bounds.lo), np.asarray(topo.bounds.hi)
    for f in fs.frames(0, 20):
        assert f.heights.min() >= lo[2] and f.heights.max() <= hi[2]


def test_states_are_shown_exactly_at_their_times():
    seq = make_sequence()
    fs = FilmSurface(seq, MeshConfig(resolution=41), duration=4.0, fps=25)
    z_states = fs.transform(seq.loss)
    for k in range(seq.n_states):
        t = state_time(fs, k)
        assert fs.position_at(t) == k
        _, _, zc = fs.coarse_at(t)
        # exact by construction: at a state the interpolator returns that state's array, and
        # without smoothing the coarse read multiplies by identity matrices (x*1 + 0s)
        assert np.array_equal(zc, np.clip(z_states[k], 0, fs.top))
        expected = fs.field.upsample(z_states[k]).clip(0, fs.top)  # the same upsampler on the same input
        assert np.array_equal(fs.frame_at(t).heights, expected)


def test_cubic_matrices_match_rect_bivariate_spline():
    seq = make_sequence(nx=17, ny=13)
    z = np.asarray(seq.loss[2], dtype=np.float64)
    x, y = np.linspace(-1, 1, 50), np.linspace(-1, 1, 40)
    ours = cubic_matrix(seq.b, y) @ z @ cubic_matrix(seq.a, x).T
    ref = RectBivariateSpline(seq.b, seq.a, z, kx=3, ky=3, s=0)(y, x)
    np.testing.assert_allclose(ours, ref, atol=1e-10)
    # the sparse-basis form the frames use, and its dense rows, are the same spline
    up = Upsampler(seq.b, y, seq.a, x)
    np.testing.assert_allclose(up(z), ref, atol=1e-5 * np.abs(ref).max())
    np.testing.assert_allclose(up.ry @ z @ up.rx.T, ref, atol=1e-5 * np.abs(ref).max())


def test_same_loss_same_height_in_every_frame():
    seq = make_sequence(n_states=6)
    seq.loss[:, 10, 10] = 0.7  # coarse point (a=0, b=0) with the same loss in every state
    fs = FilmSurface(seq, MeshConfig(resolution=41), duration=3.0, fps=8)
    # render vertex 20 coincides with coarse point 10 (41 = 2 * 20 + 1)
    assert fs.topology.x[20] == 0.0 and fs.topology.y[20] == 0.0
    z07 = float(fs.transform(np.float32(0.7)))
    coarse = {float(fs.coarse_at(state_time(fs, k))[2][10, 10]) for k in range(6)}
    assert coarse == {z07}  # bit-identical on the sequence grid
    rendered = np.array([fs.frame_at(state_time(fs, k)).heights[20, 20] for k in range(6)])
    # through the spline only float32 rounding of the neighbours' weights remains
    np.testing.assert_allclose(rendered, z07, atol=1e-6 * fs.top)


def test_nan_state_meshes_flat_at_the_ceiling_and_is_flagged():
    seq = make_sequence()
    seq.loss[2, 4:9, 4:9] = np.nan
    seq.loss[2, 0, 0] = np.inf
    fs = FilmSurface(seq, MeshConfig(resolution=41), duration=4.0, fps=10)
    frame = fs.frame_at(state_time(fs, 2))
    assert np.isfinite(frame.heights).all() and np.isfinite(frame.normals).all()
    assert frame.invalid is not None and frame.invalid.shape == (41, 41)
    assert frame.invalid[8:17, 8:17].all() and frame.invalid[0, 0]
    assert not frame.invalid[30, 30]
    # the NaN points themselves sit at the ceiling
    assert np.all(frame.heights[8:17:2, 8:17:2] == pytest.approx(fs.top))
    assert fs.frame_at(state_time(fs, 0)).invalid is None
    # between states, the neighbour of a bad state is flagged too
    assert fs.frame_at(state_time(fs, 1.5)).invalid is not None


def _dip_below_cells(fs: FilmSurface, k: int, bad: np.ndarray) -> float:
    """How far the drawn heights fall below the lowest corner of their coarse cell, over
    cells whose corners are all finite (a spline of a smooth bowl dips a little there)."""
    from lossfilm.render.mesh.resample import grid_cells

    t = state_time(fs, k)
    heights, zc = fs.frame_at(t).heights, fs.surface.z(fs.position_at(t))
    j, _ = grid_cells(fs.sequence.a, fs.topology.x.astype(float))
    i, _ = grid_cells(fs.sequence.b, fs.topology.y.astype(float))
    corners = [np.ix_(i + di, j + dj) for di in (0, 1) for dj in (0, 1)]
    low = np.minimum.reduce([zc[c] for c in corners])
    valid = ~np.logical_or.reduce([bad[c] for c in corners])
    return float(np.max(np.where(valid, low - heights, 0.0)))


def test_a_nan_cliff_does_not_ring_into_the_valid_surface():
    seq = make_sequence()
    seq.loss[2, 4:9, 4:9] = np.nan  # drawn at the ceiling: a cliff the data does not have
    fs = FilmSurface(seq, MeshConfig(resolution=201), duration=4.0, fps=10)
    clean = _dip_below_cells(fs, 3, np.zeros(seq.loss.shape[1:], bool))
    near_cliff = _dip_below_cells(fs, 2, np.isnan(seq.loss[2]))
    # measured: 0.0043 vs 0.0032 on a clean state; the plain cubic spline dipped 0.023
    assert near_cliff < 2 * clean, (near_cliff, clean)
    # Far from the cliff the surface is the cubic spline. Not bit-equal: the not-a-knot
    # spline is global, so the cliff reaches everywhere in the last float32 places (one ulp
    # on some CPUs). Ringing that matters is millimetres of a unit relief (0.023 above);
    # 1e-5 of the height span is twenty times finer than the damping the test guards.
    plain = FilmSurface(make_sequence(), MeshConfig(resolution=201), duration=4.0, fps=10)
    far = (slice(150, None), slice(150, None))
    ours = fs.frame_at(state_time(fs, 2)).heights[far]
    theirs = plain.frame_at(state_time(plain, 2)).heights[far]
    span = float(np.ptp(theirs))
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5 * span)


def test_a_fully_diverged_run_renders_flat():
    seq = make_sequence(n_states=3)
    seq.loss[:] = np.nan
    fs = FilmSurface(seq, MeshConfig(resolution=16), duration=1.0, fps=5)
    frame = fs.frame_at(0.5)
    assert np.all(frame.heights == 0.0) and frame.invalid.all()
    np.testing.assert_allclose(frame.normals[..., 2], 1.0)


def test_normals_agree_with_trimesh():
    fs = FilmSurface(make_sequence(), MeshConfig(resolution=64), duration=1.0, fps=4)
    frame = fs.frame_at(0.3)
    ny, nx = fs.topology.shape
    xx, yy = np.meshgrid(fs.topology.x, fs.topology.y)
    mesh = trimesh.Trimesh(np.column_stack([xx.ravel(), yy.ravel(), frame.heights.ravel()]),
                           fs.topology.indices, process=False)
    theirs = mesh.vertex_normals.reshape(ny, nx, 3)
    ours = frame.normals
    np.testing.assert_allclose(np.linalg.norm(ours, axis=-1), 1.0, atol=1e-5)
    cos = np.clip(np.sum(ours * theirs, axis=-1), -1, 1)
    angle = np.degrees(np.arccos(cos))
    assert np.median(angle) < 0.5
    assert angle[1:-1, 1:-1].max() < 3.0  # interior: central differences vs face averages
    assert angle.max() < 10.0  # edges: one-sided differences


def test_grid_normals_of_a_plane_are_exact():
    x, y = np.linspace(0, 1, 9), np.linspace(0, 2, 7)
    z = (0.5 * x[None, :] - 0.25 * y[:, None]).astype(np.float32)
    n = grid_normals(z, x[1] - x[0], y[1] - y[0])
    expected = np.array([-0.5, 0.25, 1.0]) / np.linalg.norm([-0.5, 0.25, 1.0])
    np.testing.assert_allclose(n, np.broadcast_to(expected, n.shape), atol=1e-6)
    assert grid_triangles(3, 4).shape == (12, 3)


def test_frames_stream_with_bounded_memory():
    fs = FilmSurface(make_sequence(n_states=8), MeshConfig(resolution=96), duration=20.0, fps=10)
    one = fs.frame_at(1.0)
    frame_bytes = sum(arr.nbytes for arr in (one.heights, one.normals, one.scalar))
    tracemalloc.start()
    try:
        count = 0
        times = []
        for frame in fs.frames():
            count += 1
            times.append(frame.time)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 200 and times[37] == pytest.approx(3.7)
    assert peak < 4 * frame_bytes  # one frame plus temporaries, never 200 frames


def test_frames_range_and_clamping():
    fs = FilmSurface(make_sequence(), MeshConfig(resolution=16), duration=1.0, fps=10)
    idx = [f.index for f in fs.frames(3, 7)]
    assert idx == [3, 4, 5, 6]
    assert [f.index for f in fs.frames(8, 100)] == [8, 9]
    assert fs.frame_at(50.0).position == fs.sequence.n_states - 1
    assert fs.frame_at(-1.0).position == 0.0


def test_non_square_grid():
    seq = make_sequence(nx=31, ny=11, extent=(-2.0, 2.0, -0.5, 0.5))
    fs = FilmSurface(seq, MeshConfig(resolution=81), duration=1.0, fps=4)
    assert fs.topology.shape == (21, 81)  # square cells: 80 cells over 4, 20 over 1
    assert fs.topology.bounds.size == pytest.approx(4.0)
    assert fs.top == pytest.approx(0.35 * 4.0)
    frame = fs.frame_at(0.0)
    assert frame.heights.shape == frame.scalar.shape == (21, 81)
    assert frame.normals.shape == (21, 81, 3)
    # row i is b (y), column j is a (x): a point of the state lies where it should
    zc = fs.transform(seq.loss[0])
    assert frame.heights[10, 40] == pytest.approx(zc[5, 15], abs=1e-5)
    assert frame.heights[0, 80] == pytest.approx(zc[0, 30], abs=1e-5)
    assert fs.topology.indices.shape == (2 * 20 * 80, 3)


def test_crop_shows_a_window_of_the_same_spline():
    seq = make_sequence(nx=21, ny=21)
    crop = (-0.3, 0.5, -0.2, 0.2)
    fs = FilmSurface(seq, MeshConfig(resolution=33, crop=crop), duration=2.0, fps=5)
    topo = fs.topology
    assert topo.shape == (17, 33)
    assert (topo.x[0], topo.x[-1], topo.y[0], topo.y[-1]) == pytest.approx(crop)
    assert fs.top == pytest.approx(0.35 * 0.8)
    zc = fs.transform(seq.loss[0]).astype(np.float64)
    spline = RectBivariateSpline(seq.b, seq.a, zc, s=0)
    expected = np.clip(spline(topo.y.astype(np.float64), topo.x.astype(np.float64)), 0, fs.top)
    np.testing.assert_allclose(fs.frame_at(0.0).heights, expected, atol=1e-5)
    x0, y0, _ = fs.coarse_at(0.0)
    assert x0[0] <= crop[0] and x0[-1] >= crop[1] and y0[0] <= crop[2] and y0[-1] >= crop[3]
    with pytest.raises(ValueError, match="crop"):
        FilmSurface(seq, MeshConfig(crop=(-2.0, 0.0, 0.0, 1.0)), 1.0, 1.0)
    with pytest.raises(ValueError, match="crop"):
        MeshConfig(crop=(0.5, 0.0, 0.0, 1.0))


def test_smoothing_flattens_the_surface():
    seq = make_sequence()
    rng = np.random.default_rng(0)
    seq.loss[:] = seq.loss * np.exp(0.3 * rng.normal(size=seq.loss.shape)).astype(np.float32)
    rough = FilmSurface(seq, MeshConfig(resolution=41), 1.0, 4).frame_at(0.0).heights
    smooth = FilmSurface(seq, MeshConfig(resolution=41, smooth=1.5), 1.0, 4).frame_at(0.0).heights
    assert np.abs(np.diff(smooth, axis=1)).mean() < 0.5 * np.abs(np.diff(rough, axis=1)).mean()


def test_ball_sits_on_the_surface_and_leaves_a_trajectory():
    seq = make_sequence(n_states=5)
    fs = FilmSurface(seq, MeshConfig(resolution=81), duration=4.0, fps=10)
    t = 2.5  # position 2.5
    frame = fs.frame_at(t)
    assert frame.ball is not None
    assert frame.ball[2] == pytest.approx(fs.height_at(t, frame.ball[0], frame.ball[1]), abs=1e-5)
    # on the drawn surface: bilinear read of the render grid near the ball
    x, y = fs.topology.x, fs.topology.y
    j = np.searchsorted(x, frame.ball[0]) - 1
    i = np.searchsorted(y, frame.ball[1]) - 1
    u = (frame.ball[0] - x[j]) / (x[j + 1] - x[j])
    v = (frame.ball[1] - y[i]) / (y[i + 1] - y[i])
    h = frame.heights
    bilinear = ((1 - u) * (1 - v) * h[i, j] + u * (1 - v) * h[i, j + 1]
                + (1 - u) * v * h[i + 1, j] + u * v * h[i + 1, j + 1])
    assert frame.ball[2] == pytest.approx(bilinear, abs=1e-3 * fs.top)
    # exactly on the drawn triangle (cell split along the (i, j)-(i+1, j+1) diagonal)
    lower = u >= v
    if lower:
        on_triangle = h[i, j] + u * (h[i, j + 1] - h[i, j]) + v * (h[i + 1, j + 1] - h[i, j + 1])
    else:
        on_triangle = h[i, j] + v * (h[i + 1, j] - h[i, j]) + u * (h[i + 1, j + 1] - h[i + 1, j])
    assert frame.ball[2] == pytest.approx(on_triangle, abs=1e-5)
    # at a state the ball is that state's ball
    f2 = fs.frame_at(state_time(fs, 2))
    np.testing.assert_allclose(f2.ball[:2], seq.ball[2], atol=1e-6)
    # the trajectory grows and ends at the ball
    early, late = fs.frame_at(0.5).trajectory, frame.trajectory
    assert 1 <= len(early) < len(late)
    np.testing.assert_allclose(late[-1], frame.ball, atol=1e-5)
    np.testing.assert_allclose(late[0, :2], seq.ball[0], atol=1e-6)


def test_moving_plane_has_no_trajectory_and_ball_at_origin():
    fs = FilmSurface(make_sequence(fixed_plane=False), MeshConfig(resolution=21), 2.0, 5)
    frame = fs.frame_at(1.0)
    assert frame.trajectory.shape == (0, 3)
    assert frame.ball[:2].tolist() == [0.0, 0.0]
    assert fs.frame_at(1.0).ball is not None


def test_values_label_and_loss_at_ball():
    seq = make_sequence(n_states=5)
    fs = FilmSurface(seq, MeshConfig(resolution=21, height=HeightConfig(scale="linear")), 4.0, 10)
    frame = fs.frame_at(1.25)  # position 1.25
    assert frame.values["epoch"] == pytest.approx(2.5)
    assert frame.values["step"] == pytest.approx(125.0)
    assert frame.values["lr"] == pytest.approx(0.1 / 2 * 0.75 + 0.1 / 3 * 0.25)
    assert frame.label == "epoch 2"
    at_state = fs.frame_at(state_time(fs, 3))
    assert at_state.label == "epoch 6"
    # The loss at the ball, expected from the stored grid, not through the film's own code:
    # (1) off the grid nodes: a cubic spline through state 3's grid (scipy's, not the film's
    # upsampler), on a fine render grid. Tolerance 1e-3: the drawn surface is flat triangles
    # of side 0.0125 on a bowl of curvature <= 9 (error <= h^2/8 * 9 * 2 ~ 4e-4), and the two
    # splines differ only in their edge conditions, far from this point.
    fine = FilmSurface(seq, MeshConfig(resolution=161, height=HeightConfig(scale="linear")), 4.0, 10)
    spline = RectBivariateSpline(seq.b, seq.a, seq.loss[3], kx=3, ky=3, s=0)
    bx, by = seq.ball[3]
    assert fine.frame_at(state_time(fine, 3)).values["loss"] == pytest.approx(
        float(spline(by, bx)[0, 0]), abs=1e-3)
    # (2) at a grid node the expectation is exact: the stored number (float32 heights: 1e-5)
    seq.ball[3] = (seq.a[7], seq.b[10])
    on_node = FilmSurface(seq, MeshConfig(resolution=21, height=HeightConfig(scale="linear")), 4.0, 10)
    assert np.array_equal(on_node.topology.x, seq.a.astype(np.float32))  # render grid == stored grid
    assert on_node.frame_at(state_time(on_node, 3)).values["loss"] == pytest.approx(
        float(seq.loss[3, 10, 7]), rel=1e-5, abs=1e-6)


def test_color_channels():
    seq = make_sequence()
    for color in ("height", "loss", "accuracy"):
        fs = FilmSurface(seq, MeshConfig(resolution=21, color=color), 1.0, 4)
        s = fs.frame_at(0.5).scalar
        assert s.dtype == np.float32 and s.min() >= 0.0 and s.max() <= 1.0
    acc = FilmSurface(seq, MeshConfig(resolution=21, color="accuracy"), 1.0, 4).frame_at(0.0).scalar
    h = FilmSurface(seq, MeshConfig(resolution=21, color="height"), 1.0, 4).frame_at(0.0).scalar
    assert np.corrcoef(acc.ravel(), h.ravel())[0, 1] < -0.5  # accuracy is high where loss is low
    inverted = MeshConfig(resolution=21, color="loss", height=HeightConfig(invert=True))
    inv = FilmSurface(seq, inverted, 1.0, 4).frame_at(0.0).scalar
    np.testing.assert_allclose(inv, h, atol=1e-5)  # loss colour ignores the inversion
    with pytest.raises(ValueError, match="mesh.color 'gradnorm'"):
        FilmSurface(seq, MeshConfig(color="gradnorm"), 1.0, 4)


def test_landmarks_are_cheap_and_consistent():
    seq = make_sequence()
    fs = FilmSurface(seq, MeshConfig(resolution=81), 4.0, 10)
    marks = fs.landmarks_at(0.0)
    assert set(marks) == {"ball", "minimum", "center"}
    # state 0: bowl centred at a = 0.4 (coarse step 0.1), plus a small sine tilt
    x0, y0, z = fs.coarse_at(0.0)
    i, j = np.unravel_index(np.argmin(z), z.shape)
    assert marks["minimum"].tolist() == pytest.approx([x0[j], y0[i], z[i, j]], abs=1e-6)
    frame_min = fs.frame_at(0.0).minimum
    assert np.abs(frame_min[:2] - marks["minimum"][:2]).max() <= 0.1 + 1e-6
    np.testing.assert_allclose(marks["center"], [0.0, 0.0, fs.top / 2])
    np.testing.assert_allclose(marks["ball"], fs.frame_at(0.0).ball, atol=1e-6)


def test_inverted_minimum_is_on_top():
    cfg = MeshConfig(resolution=21, height=HeightConfig(invert=True))
    fs = FilmSurface(make_sequence(), cfg, 1.0, 4)
    frame = fs.frame_at(0.0)
    assert frame.minimum[2] == pytest.approx(frame.heights.max())


def test_pchip_film_has_no_new_minima_between_states():
    seq = make_sequence(n_states=6)
    fs = FilmSurface(seq, MeshConfig(resolution=21), 5.0, 20)
    z_states = np.clip(fs.transform(seq.loss), 0, fs.top)
    for t in np.linspace(0.0, 5.0, 41):
        p = fs.position_at(t)
        k = min(int(np.floor(p)), 4)
        _, _, zc = fs.coarse_at(t)
        lo = np.minimum(z_states[k], z_states[k + 1]) - 1e-5
        hi = np.maximum(z_states[k], z_states[k + 1]) + 1e-5
        assert np.all((zc >= lo) & (zc <= hi))


def test_keyframed_film_through_filmsurface():
    time = TimeConfig(mapping="keyframes", keyframes=(0, 0, 0.5, 4, 1, 4), interpolation="linear")
    cfg = MeshConfig(resolution=16, time=time)
    fs = FilmSurface(make_sequence(), cfg, 2.0, 10)
    assert fs.position_at(1.0) == 4.0 and fs.position_at(1.7) == 4.0
    with pytest.raises(ValueError, match="fps"):
        FilmSurface(make_sequence(), cfg, 2.0, 0)


def test_mesh_config_loads_from_yaml():
    from lossfilm.render.scene.loader import compose_text
    from lossfilm.render.scene.build import build

    node = compose_text(
        "height: {scale: linear, ceiling_percentile: 99}\n"
        "crop: [-0.5, 0.5, -0.25, 0.25]\n"
        "time: {mapping: keyframes, keyframes: [0, 0, 0.5, 3, 1, 4], hold_end: 1}\n",
        "scene.yaml",
    )
    cfg = build(MeshConfig, node, "scene.yaml")
    assert cfg.crop == (-0.5, 0.5, -0.25, 0.25)
    assert cfg.time.keyframes == (0.0, 0.0, 0.5, 3.0, 1.0, 4.0)
    assert cfg.height.ceiling_percentile == 99.0
    fs = FilmSurface(make_sequence(), cfg, 3.0, 10)
    assert fs.position_at(2.5) == 4.0  # inside hold_end
    with pytest.raises(ValueError, match="keyframes"):
        build(MeshConfig, compose_text("time: {keyframes: [0, 1, 2]}", "bad.yaml"), "bad.yaml")


def test_resolution_override_hold_interpolation_and_height_at_vertices():
    seq = make_sequence()
    cfg = MeshConfig(resolution=256, time=TimeConfig(interpolation="hold"))
    fs = FilmSurface(seq, cfg, 4.0, 10, resolution=33)
    assert fs.topology.shape == (33, 33)
    held = fs.frame_at(2.7)  # position 2.7 holds state 2
    # exact: the hold shows state 2's own array, through the same path as at state 2
    assert np.array_equal(held.heights, fs.frame_at(state_time(fs, 2)).heights)
    assert held.label == "epoch 6"  # the label is still the nearest state
    x, y = fs.topology.x, fs.topology.y
    for i, j in [(0, 0), (5, 17), (32, 32), (20, 3)]:
        assert fs.height_at(2.7, x[j], y[i]) == pytest.approx(held.heights[i, j], abs=1e-6)


def test_non_finite_channel_values_stay_in_range():
    seq = make_sequence()
    seq.channels["accuracy"][1, 3:6, 3:6] = np.nan
    fs = FilmSurface(seq, MeshConfig(resolution=21, color="accuracy"), 4.0, 10)
    s = fs.frame_at(state_time(fs, 1)).scalar
    assert np.isfinite(s).all() and s.min() >= 0.0 and s.max() <= 1.0


def test_one_diverged_state_is_a_flat_plane_at_the_ceiling():
    seq = make_sequence(n_states=4)
    seq.loss[3] = np.inf  # the run blew up at the last capture
    fs = FilmSurface(seq, MeshConfig(resolution=17), 3.0, 10)
    last = fs.frame_at(3.0)
    assert last.invalid.all()
    np.testing.assert_allclose(last.heights, fs.top, atol=1e-5)
    assert np.isfinite(fs.frame_at(2.5).heights).all()
    assert fs.frame_at(1.0).invalid is None
