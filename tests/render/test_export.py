"""Mesh export: files that trimesh (and so Blender's importers) read back as the same grid."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from lossfilm.compute.store.sequence import SurfaceSequence
from lossfilm.render.mesh.export import export_mesh
from lossfilm.render.mesh.film_surface import FilmSurface
from lossfilm.render.scene.mesh import MeshConfig


@pytest.fixture(scope="module")
def film() -> FilmSurface:
    a, b = np.linspace(-1, 1, 9), np.linspace(-0.5, 0.5, 5)
    aa, bb = np.meshgrid(a, b)
    loss = np.stack([0.1 + aa**2 + bb**2, 0.2 + (aa - 0.3) ** 2 + bb**2])
    seq = SurfaceSequence(a=a, b=b, loss=loss, epochs=[0, 1], steps=[0, 10],
                          labels=["epoch 0", "epoch 1"], ball=np.zeros((2, 2)))
    return FilmSurface(seq, MeshConfig(resolution=25), duration=1.0, fps=4)


def test_ply_reloads_with_the_same_grid(film, tmp_path):
    frame = film.frame_at(0.5)
    ny, nx = film.topology.shape
    path = export_mesh(frame, film.topology, tmp_path / "out" / "frame.ply")
    mesh = trimesh.load(path, process=False)
    assert mesh.vertices.shape == (ny * nx, 3)
    assert mesh.faces.shape == (2 * (ny - 1) * (nx - 1), 3)
    assert np.array_equal(mesh.faces, film.topology.indices.astype(np.int64))
    np.testing.assert_allclose(mesh.vertices[:, 2].reshape(ny, nx), frame.heights, atol=1e-6)
    np.testing.assert_allclose(mesh.vertices[nx + 3, :2], [film.topology.x[3], film.topology.y[1]])


@pytest.mark.parametrize("fmt", ["obj", "glb"])
def test_obj_and_glb_reload(film, tmp_path, fmt):
    frame = film.frame_at(0.0)
    ny, nx = film.topology.shape
    colors = np.zeros((ny, nx, 4), dtype=np.uint8)
    colors[..., 0] = (frame.scalar * 255).astype(np.uint8)
    colors[..., 3] = 255
    path = export_mesh(frame, film.topology, tmp_path / f"frame.{fmt}", colors=colors)
    loaded = trimesh.load(path, process=False, force="mesh")
    assert len(loaded.vertices) == ny * nx
    assert len(loaded.faces) == 2 * (ny - 1) * (nx - 1)
    up = 1 if fmt == "glb" else 2  # glTF is y-up: heights come back as y
    np.testing.assert_allclose(np.sort(loaded.vertices[:, up]), np.sort(frame.heights.ravel()),
                               atol=1e-5)
    if fmt == "glb":
        assert np.all(loaded.face_normals[:, 1] > 0)  # still facing up after the rotation


def test_ply_keeps_vertex_colors(film, tmp_path):
    frame = film.frame_at(0.0)
    ny, nx = film.topology.shape
    colors = np.full((ny, nx, 3), 7, dtype=np.uint8)
    colors[0, 0] = (255, 0, 0)
    path = export_mesh(frame, film.topology, tmp_path / "c.ply", colors=colors)
    mesh = trimesh.load(path, process=False)
    assert mesh.visual.vertex_colors[0, :3].tolist() == [255, 0, 0]
    assert mesh.visual.vertex_colors[1, :3].tolist() == [7, 7, 7]


def test_bad_export_arguments(film, tmp_path):
    frame = film.frame_at(0.0)
    with pytest.raises(ValueError, match="format"):
        export_mesh(frame, film.topology, tmp_path / "x.stl")
    with pytest.raises(ValueError, match="colors"):
        export_mesh(frame, film.topology, tmp_path / "x.ply", colors=np.zeros((2, 2, 3), np.uint8))
