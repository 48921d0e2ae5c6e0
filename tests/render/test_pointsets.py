"""Experiment paths and markers: positions per film time, draped on the surface, drawn by GL."""

from __future__ import annotations

import dataclasses

import numpy as np
from golden import POSES, synthetic_scene

from lossfilm.compute.store.sequence import SurfaceSequence, stack_ragged
from lossfilm.render.scene.look import OverlayConfig, RenderConfig
from lossfilm.render.mesh.film_surface import FilmSurface
from lossfilm.render.scene.mesh import MeshConfig
from lossfilm.render.mesh.pointsets import densify, drape, points_at
from lossfilm.render.gl.renderer import SurfaceRenderer

NO_TEXT = OverlayConfig(counter="none", loss=False)


def test_stack_ragged_pads_with_nan():
    out = stack_ragged([[], [[1, 2]], [[3, 4], [5, 6]]])
    assert out.shape == (3, 2, 2)
    assert np.isnan(out[0]).all() and np.isnan(out[1, 1]).all()
    assert out[2].tolist() == [[3, 4], [5, 6]]


def test_points_between_states_are_linear_and_collected_points_pop_in():
    sets = stack_ragged([[[0.0, 0.0]], [[1.0, 2.0], [5.0, 5.0]]])
    assert np.allclose(points_at(sets, 0.25), [[0.25, 0.5]])  # a path: only points in both
    assert np.allclose(points_at(sets, 0.25, appear=True), [[0.25, 0.5]])
    assert np.allclose(points_at(sets, 0.5, appear=True), [[0.5, 1.0], [5.0, 5.0]])
    assert np.allclose(points_at(sets, 7.0, appear=True), [[1.0, 2.0], [5.0, 5.0]])  # clamped


def test_densify_keeps_the_vertices_and_drape_keeps_the_window():
    xy = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
    d = densify(xy, 4)
    assert d.shape == (9, 2) and np.allclose(d[::4], xy)
    w = drape(d, lambda px, py: px + 10 * py, (-1.0, 1.0, -1.0, 0.5))
    assert w.dtype == np.float32 and w.shape == (7, 3)
    assert np.allclose(w[:, 2], w[:, 0] + 10 * w[:, 1])


def test_film_frames_carry_paths_and_markers_on_the_surface():
    a = b = np.linspace(-1.0, 1.0, 21)
    aa, bb = np.meshgrid(a, b)
    loss = np.stack([0.1 + aa**2 + bb**2, 0.1 + 2 * aa**2 + bb**2])
    seq = SurfaceSequence(
        a=a, b=b, loss=loss, epochs=[0, 1], steps=[0, 1], labels=["s0", "s1"], ball=np.zeros((2, 2)),
        paths={"curve": np.array([[[-0.5, 0.0], [0.0, 0.3], [0.5, 0.0]]] * 2)},
        markers={"iterates": stack_ragged([[[0.2, 0.2]], [[0.2, 0.2], [-0.3, 0.1]]])},
    )
    fs = FilmSurface(seq, MeshConfig(resolution=41), duration=1.0, fps=4)
    first, last = fs.frame_at(0.0), fs.frame_at(fs.n_frames / fs.fps)
    assert first.markers["iterates"].shape == (1, 3) and last.markers["iterates"].shape == (2, 3)
    curve = last.paths["curve"]
    assert curve.shape[0] > 3 and np.allclose(curve[[0, -1], :2], [[-0.5, 0.0], [0.5, 0.0]])
    # draped: each point sits on the drawn mesh (bilinear on the render grid, within a cell)
    x, y = fs.topology.x, fs.topology.y
    for p in np.vstack([curve, last.markers["iterates"]]):
        j, i = np.searchsorted(x, p[0]) - 1, np.searchsorted(y, p[1]) - 1
        cell = last.heights[i : i + 2, j : j + 2]
        assert cell.min() - 1e-5 <= p[2] <= cell.max() + 1e-5



def _render(ctx, topo, frame):
    r = SurfaceRenderer(ctx, topo, RenderConfig(overlays=NO_TEXT, fog=0.0), (320, 180))
    try:
        img = r.render(frame, POSES["top"])
    finally:
        r.release()
    assert ctx.error == "GL_NO_ERROR"
    return img.astype(int)


def test_markers_and_paths_are_drawn_in_their_colours(ctx):
    topo, frame = synthetic_scene(48)
    frame = dataclasses.replace(frame, trajectory=np.zeros((0, 3), np.float32), ball=None)

    def on_surface(xy):
        xy = np.asarray(xy, np.float64)
        z = 0.35 * (xy[:, 0] ** 2 + 0.6 * xy[:, 1] ** 2) + 0.04 * np.sin(6 * xy[:, 0]) * np.cos(5 * xy[:, 1])
        return np.column_stack([xy, z]).astype(np.float32)

    plain = _render(ctx, topo, frame)
    dots = _render(ctx, topo, dataclasses.replace(
        frame, markers={"samples": on_surface([[-0.5, -0.4], [0.0, 0.3], [0.5, -0.2]])}))
    line = _render(ctx, topo, dataclasses.replace(
        frame, paths={"segment": on_surface(densify(np.array([[-0.8, 0.0], [0.8, 0.0]]), 16))}))
    from scipy import ndimage

    blobs, count = ndimage.label(np.abs(dots - plain).max(axis=-1) > 40)
    sizes = np.bincount(blobs.ravel())[1:]
    assert count == 3 and sizes.min() >= 4, sizes  # three separate dots of a few pixels each
    assert (np.abs(line - plain).max(axis=-1) > 40).sum() >= 100  # a ribbon across the valley
    changed = np.abs(dots - plain).max(axis=-1) > 40
    pink = dots[changed]
    assert pink[:, 0].mean() > pink[:, 1].mean() + 40  # #ff4fa3: red over green
    changed = np.abs(line - plain).max(axis=-1) > 40
    assert line[changed].mean() > plain[changed].mean() + 30  # the segment is near white
