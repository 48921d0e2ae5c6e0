"""Surfaces made elsewhere, filmed and exported: import -> compute.store -> film, .vts, .h5.

In-process (``render.cli.main`` and ``render.api``) so the suite pays for torch's import once.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
import yaml

import lossfilm.render.api as lf
from lossfilm.compute.store import folder as store
from lossfilm.render.cli import main
from lossfilm.render.pipeline import open_film
from lossfilm.render.output.probe import probe, read_frames
from lossfilm.render.scene.scene import load_scene

# whole films, wheels, clusters or browsers: the full suite (make test), not the fast lane
pytestmark = pytest.mark.slow

h5py = pytest.importorskip("h5py", reason="h5py is in the dev extra: pip install -e '.[dev]'")


def write_reference_h5(path, x, y, z):
    """Li et al.'s layout: (nx, ny) declared, values in np.meshgrid(x, y) ravel order."""
    with h5py.File(path, "w") as f:
        f["xcoordinates"], f["ycoordinates"] = x, y
        losses = -np.ones((len(x), len(y)))
        losses.ravel()[:] = z.ravel()
        f["train_loss"], f["train_acc"] = losses, 100.0 - 10.0 * losses
    return path


def read_vts_strictly(path):
    """Decode a .vts as the VTK XML format defines it, checking every count on the way.

    Returns ``points (n, 3)``, ``{name: (n,)}`` and the point extent ``(nx, ny, nz)``.
    """
    import base64

    root = ET.parse(path).getroot()
    assert root.tag == "VTKFile" and root.get("type") == "StructuredGrid"
    assert root.get("byte_order") == "LittleEndian" and root.get("header_type") == "UInt64"
    grid = root.find("StructuredGrid")
    piece = grid.find("Piece")
    lo_hi = [int(v) for v in grid.get("WholeExtent").split()]
    assert piece.get("Extent") == grid.get("WholeExtent")
    dims = tuple(lo_hi[2 * k + 1] - lo_hi[2 * k] + 1 for k in range(3))
    n = dims[0] * dims[1] * dims[2]
    dtypes = {"Float32": "<f4", "Float64": "<f8"}

    def decode(array):
        assert array.get("format") == "binary"
        raw = base64.b64decode(array.text.strip(), validate=True)
        nbytes = int(np.frombuffer(raw[:8], "<u8")[0])
        assert nbytes == len(raw) - 8
        values = np.frombuffer(raw[8:], dtypes[array.get("type")])
        comps = int(array.get("NumberOfComponents", "1"))
        assert values.size == n * comps
        return values.reshape(n, comps) if comps > 1 else values

    points = decode(piece.find("Points/DataArray"))
    data = {a.get("Name"): decode(a) for a in piece.findall("PointData/DataArray")}
    assert piece.find("PointData").get("Scalars") in data
    return points, data, dims


def check_with_vtk(path, z):
    """VTK's own reader, where it is installed (140 MB: not in the dev extra)."""
    try:
        from vtkmodules.util.numpy_support import vtk_to_numpy
        from vtkmodules.vtkIOXML import vtkXMLStructuredGridReader
    except ImportError:
        return
    reader = vtkXMLStructuredGridReader()
    reader.SetFileName(str(path))
    reader.Update()
    out = reader.GetOutput()
    dims = [0, 0, 0]
    out.GetDimensions(dims)
    assert dims == [z.shape[1], z.shape[0], 1] and out.GetNumberOfPoints() == z.size
    assert np.array_equal(vtk_to_numpy(out.GetPointData().GetArray("loss")).reshape(z.shape), z)


def scene_file(tmp_path, folder, name="imported", **output):
    scene = {
        "name": name,
        "compute": {"store": str(folder)},
        "camera": {"shots": [{"orbit": {"duration": 3, "elevation": 35, "turns": 0.2}}]},
        "mesh": {"resolution": 48, "time": {"interpolation": "pchip"}},
        "output": {"size": [160, 90], "fps": 8, **output},
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(scene))
    return path


def bowl_grid(scale=1.0, nx=13, ny=11):
    x, y = np.linspace(-1, 1, nx), np.linspace(-1, 1, ny)
    xx, yy = np.meshgrid(x, y)
    return x, y, 0.05 + scale * (xx**2 + 0.5 * yy**2 + 0.3 * xx)


def test_reference_h5_imports_renders_and_exports(tmp_path, capsys):
    x, y, z = bowl_grid()
    src = write_reference_h5(tmp_path / "resnet56_model_300.h5", x, y, z)
    folder = tmp_path / "store"
    assert main(["import", str(src), "--out", str(folder)]) == 0
    assert np.array_equal(store.open(folder).loss(0), z)  # the file's values, exactly
    scene = scene_file(tmp_path, folder)
    png = tmp_path / "still.png"
    assert main(["still", str(scene), "--out", str(tmp_path / "o"), "--size", "160x90", "-o", str(png)]) == 0
    from PIL import Image

    image = np.asarray(Image.open(png).convert("RGB")).astype(int)
    assert image.shape == (90, 160, 3) and image.std() > 10  # a drawn surface, not a blank frame

    # ParaView: one StructuredGrid per state and a .pvd time series, loss/accuracy per point
    base = tmp_path / "pv" / "bowl"
    assert main(["mesh", str(scene), "--out", str(tmp_path / "o"), "--export", "vts", "-o", str(base)]) == 0
    printed = capsys.readouterr().out.split()
    pvd = ET.parse(base.with_suffix(".pvd")).getroot()
    datasets = pvd.findall("./Collection/DataSet")
    assert pvd.get("type") == "Collection" and len(datasets) == 1
    vts = base.parent / datasets[0].get("file")
    assert str(vts) in printed
    points, point_data, extent = read_vts_strictly(vts)
    assert extent == (13, 11, 1) and points.shape == (11 * 13, 3)
    assert np.array_equal(points[:, 0].reshape(11, 13)[0], x)  # x runs fastest, as VTK wants
    assert np.array_equal(points[:, 1].reshape(11, 13)[:, 0], y)
    assert np.array_equal(point_data["loss"].reshape(11, 13), z)
    assert np.allclose(point_data["accuracy"].reshape(11, 13), (100 - 10 * z) / 100, rtol=1e-15, atol=0)
    # z is the film's height: higher loss, higher point, in the same order
    order = np.argsort(z.ravel())
    assert np.all(np.diff(points[order, 2]) >= 0)
    check_with_vtk(vts, z)

    # back to the reference layout: reimports to the same numbers
    assert main(["mesh", str(scene), "--out", str(tmp_path / "o"), "--export", "h5", "-o", str(tmp_path / "h5")]) == 0
    again = lf.import_surfaces(tmp_path / "h5" / "state_0000.h5", tmp_path / "again")
    assert np.array_equal(store.open(again).loss(0), z)


def test_one_dimensional_file_films_as_a_strip(tmp_path):
    x = np.linspace(-1, 1, 15)
    with h5py.File(tmp_path / "line.h5", "w") as f:
        f["xcoordinates"], f["train_loss"], f["train_acc"] = x, 0.1 + x**2, 90 - x**2
    folder = lf.import_surfaces(tmp_path / "line.h5", tmp_path / "store")
    png = lf.still(scene_file(tmp_path, folder), out=tmp_path / "o", size=(160, 90), show=False)
    assert png.is_file()
    lf_out = tmp_path / "h5"
    assert main(["mesh", str(scene_file(tmp_path, folder)), "--out", str(tmp_path / "o"),
                 "--export", "h5", "-o", str(lf_out)]) == 0
    with h5py.File(lf_out / "state_0000.h5") as f:  # written back as the 1-D curve it was
        assert "ycoordinates" not in f and np.array_equal(f["train_loss"][()], 0.1 + x**2)


def test_npz_sequence_of_three_states_films_with_interpolation(tmp_path):
    for epoch, scale in ((30, 0.25), (1, 4.0), (10, 1.0)):
        x, y, z = bowl_grid(scale)
        np.savez(tmp_path / f"landscape_epoch{epoch}.npz", loss=z, x=x, y=y)
    folder = tmp_path / "seq"
    files = [str(p) for p in sorted(tmp_path.glob("*.npz"))]
    assert main(["import", *files, "--out", str(folder)]) == 0
    s = store.open(folder)
    assert [st["epoch"] for st in s.states] == [1.0, 10.0, 30.0]
    assert s.manifest["imported"]["files"][0].endswith("landscape_epoch1.npz")

    scene = scene_file(tmp_path, folder, name="seq")
    film = open_film(load_scene(scene), folder)
    t0, t1 = film.surface.time_of_state(0), film.surface.time_of_state(1)
    mid = film.surface.frame_at(0.5 * (t0 + t1))
    first, second = film.surface.frame_at(t0), film.surface.frame_at(t1)
    assert 0.0 < mid.position < 1.0
    # between the two states the surface is in between them, and neither of them
    inside = (mid.heights >= np.minimum(first.heights, second.heights) - 1e-5) & (
        mid.heights <= np.maximum(first.heights, second.heights) + 1e-5)
    assert inside.mean() > 0.99 and not np.allclose(mid.heights, first.heights, atol=1e-3)
    assert not np.allclose(mid.heights, second.heights, atol=1e-3)

    path = lf.run(scene, out=tmp_path / "o")
    info = probe(path)
    assert (info.width, info.height, info.frames) == (160, 90, 24)
    frames = list(read_frames(path, every=11))
    assert len(frames) == 3 and np.abs(frames[0].astype(int) - frames[-1].astype(int)).mean() > 1


def test_store_key_errors_are_clear(tmp_path, capsys):
    scene = scene_file(tmp_path, tmp_path / "nothing-here")
    assert main(["still", str(scene), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "compute.store" in err and "lossfilm import" in err and "Traceback" not in err
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ncompute:\n  store: ''\n")
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{bad}:3:3: compute: compute.store: give the folder")  # the section's node
