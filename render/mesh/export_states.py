"""Export the captured states for other tools: VTK for ParaView, ``.h5`` for Li et al.'s code.

``vts``: one VTK XML StructuredGrid per state on the stored grid (no upsampling: the
values are the computed ones), points ``(a, b, height)`` with the film's height transform,
and point data ``loss`` (as stored), ``height`` and every channel (``accuracy``...); a
``.pvd`` collection lists them with the epoch as the time, so ParaView opens the folder
as an animation. Arrays are written base64-encoded (``format="binary"``), so NaN survives
and nothing beyond numpy is needed.

``h5``: one file per state in the reference code's layout
(:func:`compute.foreign.write_li_h5`).
"""

from __future__ import annotations

import base64
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np

from lossfilm.compute.store.sequence import SurfaceSequence

__all__ = ["export_states", "structured_grid_xml", "pvd_xml", "STATE_FORMATS"]

#: formats that write one file per captured state.
STATE_FORMATS = ("vts", "h5")

_VTK_TYPES = {np.dtype(np.float32): "Float32", np.dtype(np.float64): "Float64"}


def _data_array(name: str | None, values: np.ndarray, components: int = 1) -> str:
    """One ``<DataArray>``: a UInt64 byte count then the little-endian values, base64."""
    values = np.ascontiguousarray(values)
    if values.dtype not in _VTK_TYPES:
        values = values.astype(np.float64)
    raw = values.astype(values.dtype.newbyteorder("<"), copy=False).tobytes()
    payload = base64.b64encode(np.uint64(len(raw)).astype("<u8").tobytes() + raw).decode("ascii")
    named = f" Name={quoteattr(name)}" if name else ""
    return (
        f'<DataArray type="{_VTK_TYPES[values.dtype]}"{named} NumberOfComponents="{components}"'
        f' format="binary">{payload}</DataArray>'
    )


def structured_grid_xml(
    a: np.ndarray, b: np.ndarray, heights: np.ndarray, point_data: dict[str, np.ndarray]
) -> str:
    """A VTK XML StructuredGrid of one surface.

    Parameters
    ----------
    a : (nx,) ; b : (ny,)
        Plane coordinates (world x, y).
    heights : (ny, nx)
        World z of every point.
    point_data : dict of str -> (ny, nx)
        Scalars per point; the first is the active one.

    Returns
    -------
    str
        The file's text. Point order is VTK's: x fastest, then y (our row-major ravel).
    """
    ny, nx = np.shape(heights)
    xx, yy = np.meshgrid(np.asarray(a, np.float64), np.asarray(b, np.float64))
    points = np.column_stack([xx.ravel(), yy.ravel(), np.asarray(heights, np.float64).ravel()])
    extent = f"0 {nx - 1} 0 {ny - 1} 0 0"
    first = next(iter(point_data), "")
    arrays = "\n".join(f"        {_data_array(k, np.asarray(v).reshape(-1))}" for k, v in point_data.items())
    return (
        '<?xml version="1.0"?>\n'
        '<VTKFile type="StructuredGrid" version="1.0" byte_order="LittleEndian" header_type="UInt64">\n'
        f'  <StructuredGrid WholeExtent="{extent}">\n'
        f'    <Piece Extent="{extent}">\n'
        f"      <PointData Scalars={quoteattr(first)}>\n{arrays}\n      </PointData>\n"
        f"      <Points>\n        {_data_array('Points', points.ravel(), 3)}\n      </Points>\n"
        "    </Piece>\n  </StructuredGrid>\n</VTKFile>\n"
    )


def pvd_xml(entries: list[tuple[float, str]]) -> str:
    """A ParaView collection: ``(time, relative file name)`` per state."""
    rows = "\n".join(
        f'    <DataSet timestep="{t!r}" group="" part="0" file={quoteattr(name)}/>' for t, name in entries
    )
    return (
        '<?xml version="1.0"?>\n<VTKFile type="Collection" version="0.1" byte_order="LittleEndian">\n'
        f"  <Collection>\n{rows}\n  </Collection>\n</VTKFile>\n"
    )


def _write_text(path: Path, text: str) -> None:
    from lossfilm.compute.store.folder import atomic_write

    atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def _stored(store, seq: SurfaceSequence, i: int) -> tuple[np.ndarray, dict]:
    """State ``i``'s loss and channels as stored (an import keeps its file's dtype)."""
    channels = {}
    for name, grids in seq.channels.items():
        try:
            channels[name] = store.channel(name, i)
        except KeyError:  # kept beside the surfaces (curvature): the sequence has it
            channels[name] = grids[i]
    return store.loss(i), channels


def export_states(
    surface, store, base: str | Path, fmt: str, *, state: int | None = None
) -> list[Path]:
    """Write every captured state (or one) of a film's surface.

    Parameters
    ----------
    surface : render.mesh.FilmSurface
        Its ``sequence`` and its height ``transform`` (the film's heights).
    store : compute.store.Store
        Where the values come from as stored (float64 stays float64).
    base : path
        ``vts``: the ``.pvd`` file (a ``.pvd`` suffix is added) with the grids in a folder
        of the same name beside it; ``h5``: the folder of the ``.h5`` files.
    fmt : {"vts", "h5"}
    state : int, optional
        Only this state.

    Returns
    -------
    list of Path
        Every file written (for ``vts`` the ``.pvd`` first).
    """
    if fmt not in STATE_FORMATS:
        raise ValueError(f"state export format must be one of {STATE_FORMATS}, got {fmt!r}")
    seq: SurfaceSequence = surface.sequence
    indices = range(seq.n_states) if state is None else [state]
    base = Path(base)
    written: list[Path] = []
    if fmt == "h5":
        from lossfilm.compute.store.foreign import write_li_h5

        # an imported 1-D curve was widened to a strip of equal rows: write the curve back
        strip = bool((store.manifest.get("imported") or {}).get("strip"))
        for i in indices:
            loss, channels = _stored(store, seq, i)
            path = base / f"state_{i:04d}.h5"
            if strip:
                mid = seq.b.size // 2
                written.append(write_li_h5(path, seq.a, None, loss[mid], {k: v[mid] for k, v in channels.items()}))
            else:
                written.append(write_li_h5(path, seq.a, seq.b, loss, channels))
        return written
    pvd = base if base.suffix == ".pvd" else base.with_name(base.name + ".pvd")
    folder = pvd.with_suffix("")
    heights = surface.transform(seq.loss)  # one transform for the film: the ParaView heights match
    entries = []
    for i in indices:
        loss, channels = _stored(store, seq, i)
        point_data = {"loss": loss, "height": heights[i], **channels}
        path = folder / f"state_{i:04d}.vts"
        _write_text(path, structured_grid_xml(seq.a, seq.b, heights[i], point_data))
        entries.append((float(seq.epochs[i]), f"{folder.name}/{path.name}"))
        written.append(path)
    _write_text(pvd, pvd_xml(entries))
    return [pvd, *written]
