"""Foreign surface files: what other tools wrote, read as plain arrays.

The heart is pure functions from files (or names) to arrays; :mod:`compute.foreign_store`
writes what they return as a store that the mesh stage films like any other.

Formats
-------
Li et al. 2018 ``.h5`` (github.com/tomgoldstein/loss-landscape, ``plot_surface.py``)
    ``xcoordinates (nx,)``, optional ``ycoordinates (ny,)``, ``train_loss``, ``train_acc``
    and optionally ``test_loss``, ``test_acc``. The reference code declares a 2-D value
    array as ``(nx, ny)`` but fills it through ``ravel()`` in the order of
    ``np.meshgrid(x, y)``, so its flat values are row-major ``(ny, nx)``: value ``k`` sits
    at ``x[k % nx], y[k // nx]``. Accuracies are in percent; the store keeps fractions.
    Points the reference code never reached hold ``-1``: they are imported as NaN.
    A file with only ``xcoordinates`` is a 1-D curve, filmed as a narrow strip.
``.npz``
    ``loss`` (or ``train_loss``) ``(ny, nx)``, ``(nx,)`` or a sequence ``(S, ny, nx)``;
    coordinates ``a``/``b``, ``x``/``y`` or ``xcoordinates``/``ycoordinates`` (1-D, or 2-D
    meshgrids); optional ``epochs (S,)``; every other array of the grid's shape is kept as
    a channel (``accuracy``...).
``.npy``
    A bare ``(ny, nx)`` or ``(nx,)`` loss array on ``grid_range`` (default ``[-1, 1]``
    both ways), or ``(3, ny, nx)``: ``X, Y, Z`` meshgrids stacked.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = [
    "ForeignSurface",
    "read_surface_file",
    "read_li_h5",
    "read_numpy",
    "li_values_to_grid",
    "grid_to_li_values",
    "strip_from_curve",
    "training_order",
    "FORMATS",
    "NOT_COMPUTED",
    "write_li_h5",
]

#: file endings :func:`read_surface_file` understands.
FORMATS = (".h5", ".hdf5", ".npz", ".npy")
#: the reference code's fill value for points not computed yet.
NOT_COMPUTED = -1.0
#: a 1-D curve becomes a strip this many rows deep ...
STRIP_ROWS = 5
#: ... and this fraction of the curve's length wide (narrow: it reads as a ridge line).
STRIP_WIDTH_FRACTION = 0.15
#: coordinates assumed for arrays that carry none.
DEFAULT_RANGE = (-1.0, 1.0, -1.0, 1.0)

_LI_CHANNELS = {"train_acc": "accuracy", "test_loss": "test_loss", "test_acc": "test_accuracy"}
_LOSS_KEYS = ("loss", "train_loss")
_A_KEYS = ("a", "x", "xcoordinates", "X")
_B_KEYS = ("b", "y", "ycoordinates", "Y")


@dataclasses.dataclass
class ForeignSurface:
    """What one foreign file holds, on the store's axes.

    Attributes
    ----------
    a : (nx,) float64 ; b : (ny,) float64
        Increasing coordinates of the columns and rows.
    loss : (S, ny, nx) float
        The file's dtype is kept, so imported values equal the file's exactly.
    channels : dict of str -> (S, ny, nx)
        Further per-point metrics (``accuracy`` as a fraction, ``test_loss``...).
    epochs : (S,) float64 or None
        Positions the file states itself (an ``.npz`` sequence), else None.
    strip : bool
        True when the file held a 1-D curve, widened to :data:`STRIP_ROWS` rows.
    notes : list of str
        What was assumed or converted, for the manifest and the user.
    """

    a: np.ndarray
    b: np.ndarray
    loss: np.ndarray
    channels: dict = dataclasses.field(default_factory=dict)
    epochs: np.ndarray | None = None
    strip: bool = False
    notes: list = dataclasses.field(default_factory=list)
    format: str = ""


# --------------------------------------------------------------------------- pure parts


def li_values_to_grid(values: np.ndarray, nx: int, ny: int) -> np.ndarray:
    """The reference code's value array (declared ``(nx, ny)``) as ``(ny, nx)`` rows of y."""
    values = np.asarray(values)
    if values.size != nx * ny:
        raise ValueError(f"holds {values.size} values for a {nx}×{ny} grid")
    return values.reshape(ny, nx)


def grid_to_li_values(grid: np.ndarray) -> np.ndarray:
    """Inverse of :func:`li_values_to_grid`: ``(ny, nx)`` -> the reference's ``(nx, ny)``."""
    ny, nx = np.asarray(grid).shape
    return np.asarray(grid).reshape(nx, ny)


def strip_from_curve(a: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A 1-D loss curve as a narrow strip the 3-D film can draw.

    Parameters
    ----------
    a : (nx,) increasing ; values : (..., nx)

    Returns
    -------
    b : (STRIP_ROWS,) float64, centred on 0
    grid : (..., STRIP_ROWS, nx): the curve repeated along b
    """
    a = np.asarray(a, dtype=np.float64)
    half = 0.5 * STRIP_WIDTH_FRACTION * float(a[-1] - a[0])
    b = np.linspace(-half, half, STRIP_ROWS)
    values = np.asarray(values)
    grid = np.repeat(values[..., None, :], STRIP_ROWS, axis=-2)
    return b, grid


def _axis(coords: np.ndarray, name: str, along: int | None = None) -> np.ndarray:
    """1-D coordinates from a 1-D array or a meshgrid (constant along the other axis)."""
    c = np.asarray(coords, dtype=np.float64)
    if c.ndim == 2 and along is not None:
        line = c[0, :] if along == 1 else c[:, 0]
        if not np.allclose(c, line[None, :] if along == 1 else line[:, None], rtol=0, atol=0):
            raise ValueError(f"{name} is 2-D but not a meshgrid of one coordinate")
        c = line
    if c.ndim != 1 or c.size < 2:
        raise ValueError(f"{name} must hold at least 2 coordinates, got shape {c.shape}")
    if not np.all(np.isfinite(c)):
        raise ValueError(f"{name} holds non-finite coordinates")
    return c


def _increasing(a, b, loss, channels):
    """Reorder the grid so both coordinate axes increase (duplicates are an error)."""
    ia, ib = np.argsort(a, kind="stable"), np.argsort(b, kind="stable")
    a, b = a[ia], b[ib]
    if np.any(np.diff(a) <= 0) or np.any(np.diff(b) <= 0):
        raise ValueError("coordinates repeat a value; each grid line needs its own")
    def take(v):
        return np.asarray(v)[..., ib, :][..., ia]
    return a, b, take(loss), {k: take(v) for k, v in channels.items()}


def _not_computed_to_nan(loss: np.ndarray, notes: list) -> np.ndarray:
    marks = loss == NOT_COMPUTED
    if marks.any():
        loss = np.where(marks, np.nan, loss).astype(loss.dtype)
        notes.append(
            f"{int(marks.sum())} points hold -1, the reference code's mark for 'not computed':"
            " imported as NaN (drawn at the ceiling)"
        )
    return loss


# --------------------------------------------------------------------------- readers


def read_li_h5(path: str | Path, loss_key: str = "train_loss") -> ForeignSurface:
    """Read a surface file of the reference code (see the module docstring)."""
    try:
        import h5py
    except ImportError:
        raise ValueError(
            f"{path}: reading .h5 files needs h5py: pip install 'lossfilm[io]'"
        ) from None
    notes: list[str] = []
    with h5py.File(path, "r") as f:
        if "xcoordinates" not in f:
            raise ValueError(f"{path}: no 'xcoordinates': not a surface file of the reference code")
        if loss_key not in f:
            have = sorted(k for k in f if isinstance(f[k], h5py.Dataset))
            raise ValueError(f"{path}: no {loss_key!r} dataset (found {have})")
        a = _axis(f["xcoordinates"][()], f"{path}: xcoordinates")
        two_d = "ycoordinates" in f
        b = _axis(f["ycoordinates"][()], f"{path}: ycoordinates") if two_d else None
        raw = {loss_key: f[loss_key][()]}
        for key in _LI_CHANNELS:
            if key in f and key != loss_key:
                raw[key] = f[key][()]
    ny = b.size if two_d else 1
    grids = {}
    for key, values in raw.items():
        try:
            grids[key] = li_values_to_grid(values, a.size, ny)
        except ValueError as exc:
            raise ValueError(f"{path}: {key} {exc}") from None
    loss = _not_computed_to_nan(grids.pop(loss_key), notes)
    channels = {}
    for key, grid in grids.items():
        name = _LI_CHANNELS[key]
        channels[name] = grid / 100.0 if key.endswith("_acc") else grid
    if any(k.endswith("_acc") for k in grids):
        notes.append("accuracies: the reference code's percent divided by 100")
    if loss_key != "train_loss":
        notes.append(f"loss: the file's {loss_key!r}")
    strip = not two_d
    if strip:
        b, loss = strip_from_curve(a, loss[0])
        channels = {k: strip_from_curve(a, v[0])[1] for k, v in channels.items()}
        notes.append(f"1-D curve (no ycoordinates): drawn as a strip {STRIP_ROWS} rows deep")
    a, b, loss, channels = _increasing(a, b, loss, channels)
    return ForeignSurface(a, b, loss[None], {k: v[None] for k, v in channels.items()},
                          strip=strip, notes=notes, format="li2018-h5")


def read_numpy(
    path: str | Path, grid_range: Sequence[float] | None = None
) -> ForeignSurface:
    """Read an ``.npz`` or ``.npy`` grid (see the module docstring)."""
    path = Path(path)
    notes: list[str] = []
    if path.suffix.lower() == ".npz":
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        key = next((k for k in _LOSS_KEYS if k in arrays), None)
        if key is None:
            raise ValueError(f"{path}: no 'loss' array (found {sorted(arrays)})")
        loss = arrays.pop(key)
        a_key = next((k for k in _A_KEYS if k in arrays), None)
        b_key = next((k for k in _B_KEYS if k in arrays), None)
        a = _axis(arrays.pop(a_key), f"{path}: {a_key}", along=1) if a_key else None
        b = _axis(arrays.pop(b_key), f"{path}: {b_key}", along=0) if b_key else None
        epochs = arrays.pop("epochs", None)
        others = arrays
    else:
        loss = np.load(path, allow_pickle=False)
        a = b = epochs = None
        others = {}
        if loss.ndim == 3 and loss.shape[0] == 3:  # X, Y, Z meshgrids
            a = _axis(loss[0], f"{path}: X", along=1)
            b = _axis(loss[1], f"{path}: Y", along=0)
            loss = loss[2]
    if loss.ndim not in (1, 2, 3):
        raise ValueError(f"{path}: loss must be (nx,), (ny, nx) or (S, ny, nx), got {loss.shape}")
    # (nx,) is one curve; (S, nx) with epochs and no b is a sequence of curves
    strip = loss.ndim == 1 or (loss.ndim == 2 and b is None and epochs is not None
                               and len(epochs) == loss.shape[0])
    nx = loss.shape[-1]
    ny = 1 if strip else loss.shape[-2]
    lo_a, hi_a, lo_b, hi_b = tuple(grid_range) if grid_range is not None else DEFAULT_RANGE
    if a is None:
        a = np.linspace(lo_a, hi_a, nx)
        notes.append(f"a: the file has no coordinates; assumed [{lo_a:g}, {hi_a:g}]")
    if b is None and not strip:
        b = np.linspace(lo_b, hi_b, ny)
        notes.append(f"b: the file has no coordinates; assumed [{lo_b:g}, {hi_b:g}]")
    if a.size != nx or (not strip and b.size != ny):
        raise ValueError(
            f"{path}: loss {loss.shape} does not match the coordinates ({b.size if b is not None else 1}, {a.size})"
        )
    channels = {k: v for k, v in others.items() if v.shape == loss.shape}
    skipped = sorted(k for k in others if k not in channels)
    if skipped:
        notes.append(f"arrays not of the grid's shape, not imported: {skipped}")
    if strip:
        b, loss = strip_from_curve(a, loss)
        channels = {k: strip_from_curve(a, v)[1] for k, v in channels.items()}
        notes.append(f"1-D curve: drawn as a strip {STRIP_ROWS} rows deep")
    a, b, loss, channels = _increasing(a, b, loss, channels)
    if loss.ndim == 2:
        loss, channels = loss[None], {k: v[None] for k, v in channels.items()}
    if epochs is not None:
        epochs = np.asarray(epochs, dtype=np.float64).reshape(-1)
        if epochs.size != loss.shape[0]:
            raise ValueError(f"{path}: {epochs.size} epochs for {loss.shape[0]} states")
    return ForeignSurface(a, b, loss, channels, epochs, strip, notes, format="numpy")


def read_surface_file(
    path: str | Path, *, loss_key: str = "train_loss", grid_range: Sequence[float] | None = None
) -> ForeignSurface:
    """Read any supported file by its ending (:data:`FORMATS`)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".h5", ".hdf5"):
        return read_li_h5(path, loss_key)
    if suffix in (".npz", ".npy"):
        return read_numpy(path, grid_range)
    raise ValueError(f"{path}: unknown surface file type {suffix!r}; lossfilm reads {list(FORMATS)}")


# --------------------------------------------------------------------------- order


_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def training_order(paths: Sequence[str | Path]) -> list[tuple[Path, float, str]]:
    """Put surface files in training order by the number in their names.

    The number is the one that differs between the names (reference-code names also
    carry their grid, ``..._[-1.0,1.0,51]x[-1.0,1.0,51].h5``, which is the same in all);
    failing that, an ``epoch``/``step`` number (:func:`compute.capture.parse_position`).

    Returns
    -------
    list of ``(path, position, unit)`` sorted by position; ``unit`` is ``epoch``,
    ``step`` or ``index`` (a single file).

    Raises
    ------
    ValueError
        When no number tells the files apart, or two files share one.
    """
    paths = [Path(p) for p in paths]
    if len(paths) == 1:
        return [(paths[0], 0.0, "index")]
    names = [str(p) for p in paths]
    found = [_NUMBER.findall(n) for n in names]
    positions: list[float] | None = None
    unit = "epoch"
    if len({len(f) for f in found}) == 1:
        differing = [i for i in range(len(found[0])) if len({f[i] for f in found}) > 1]
        if len(differing) == 1:
            positions = [float(f[differing[0]]) for f in found]
            if re.search(r"(?:step|iter)[_\-=]?$", _prefix(names[0], differing[0]), re.IGNORECASE):
                unit = "step"
    if positions is None:
        from lossfilm.compute.training.capture import parse_position

        parsed = [parse_position(p.name) for p in paths]
        if all(parsed) and len({u for _, u in parsed}) == 1:
            positions, unit = [p for p, _ in parsed], parsed[0][1]
    if positions is None:
        raise ValueError(
            "import: no number in the file names tells the states apart; name them like"
            " 'epoch_003.h5', or pass --keep-order to take them in the order given"
        )
    if len(set(positions)) != len(positions):
        raise ValueError(f"import: two files share {unit} {sorted(positions)}; pass --keep-order")
    return sorted(zip(paths, positions, [unit] * len(paths)), key=lambda t: t[1])


def _prefix(name: str, index: int) -> str:
    """The text of ``name`` before its ``index``-th number."""
    match = list(_NUMBER.finditer(name))[index]
    return name[: match.start()]


# --------------------------------------------------------------------------- writer


def write_li_h5(
    path: str | Path, a: np.ndarray, b: np.ndarray | None, loss: np.ndarray,
    channels: dict | None = None,
) -> Path:
    """Write one state in the reference code's layout (what :func:`read_li_h5` reads back).

    Parameters
    ----------
    a : (nx,) ; b : (ny,) or None for a 1-D curve
    loss : (ny, nx), or (nx,) when ``b`` is None
    channels : ``accuracy``, ``test_loss``, ``test_accuracy`` of the same shape; accuracies
        are written in percent, as the reference code keeps them.
    """
    try:
        import h5py
    except ImportError:
        raise ValueError("writing .h5 files needs h5py: pip install 'lossfilm[io]'") from None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    names = {v: k for k, v in _LI_CHANNELS.items()}
    datasets = {"train_loss": loss}
    for name, grid in (channels or {}).items():
        if name in names:
            datasets[names[name]] = np.asarray(grid) * (100.0 if name.endswith("accuracy") else 1.0)
    tmp = path.with_name(f".{path.name}.tmp")
    with h5py.File(tmp, "w") as f:
        f["xcoordinates"] = np.asarray(a, dtype=np.float64)
        if b is not None:
            f["ycoordinates"] = np.asarray(b, dtype=np.float64)
        for key, grid in datasets.items():
            grid = np.asarray(grid)  # NaN stays NaN (diverged), never the -1 of "not computed"
            f[key] = grid if b is None else grid_to_li_values(grid)
    tmp.replace(path)
    return path
