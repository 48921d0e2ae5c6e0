"""``lossfilm import``: foreign surface files become a store the mesh stage films.

An imported store has the layout of ``docs/store.md`` without what only a computed one
can have: no weights, no directions, no evaluation data. Its manifest says so under
``imported`` (the source files, what was assumed), so nobody tries to recompute a point
and :class:`compute.store.Store` refuses the methods that would need them.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lossfilm.compute.store import folder as st
from lossfilm.compute.store.foreign import ForeignSurface, read_surface_file, training_order

__all__ = ["import_surfaces", "IMPORTED_NOTE"]

IMPORTED_NOTE = (
    "imported from files made elsewhere: no weights, no directions, no evaluation data;"
    " the surfaces cannot be recomputed, only filmed"
)


def _check_out(out: Path, force: bool) -> None:
    """Never overwrite a computed store or foreign files; an imported store only with force."""
    if not out.exists():
        return
    if not out.is_dir():
        raise ValueError(f"import: --out {out} exists and is not a folder")
    entries = [p for p in out.iterdir() if not p.name.startswith(".")]
    if not entries:
        return
    manifest = out / st.MANIFEST
    if not manifest.exists():
        raise ValueError(f"import: --out {out} is a folder with other files; choose an empty or new one")
    import json

    with open(manifest, encoding="utf-8") as f:
        old = json.load(f)
    if not old.get("imported"):
        raise ValueError(f"import: --out {out} holds computed surfaces; it is never overwritten by an import")
    if not force:
        raise ValueError(f"import: --out {out} already holds an import; pass --force to replace it")
    for path in (out / "surfaces").glob("*.npz"):
        path.unlink()


def _same_grid(first: ForeignSurface, other: ForeignSurface, path: Path, first_path: Path) -> None:
    if first.a.shape != other.a.shape or first.b.shape != other.b.shape or not (
        np.array_equal(first.a, other.a) and np.array_equal(first.b, other.b)
    ):
        raise ValueError(
            f"import: {path} has a {other.b.size}×{other.a.size} grid on"
            f" [{other.a[0]:g}, {other.a[-1]:g}]×[{other.b[0]:g}, {other.b[-1]:g}], {first_path} a"
            f" {first.b.size}×{first.a.size} grid on [{first.a[0]:g}, {first.a[-1]:g}]×"
            f"[{first.b[0]:g}, {first.b[-1]:g}]; a sequence needs one grid"
        )
    if sorted(first.channels) != sorted(other.channels):
        raise ValueError(
            f"import: {path} has the metrics {sorted(other.channels)}, {first_path}"
            f" {sorted(first.channels)}; a sequence needs the same in every state"
        )


def _sha(paths: Sequence[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        with open(p, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:16]


def import_surfaces(
    files: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    *,
    loss_key: str = "train_loss",
    grid_range: Sequence[float] | None = None,
    keep_order: bool = False,
    force: bool = False,
    log=None,
) -> Path:
    """Turn foreign surface files into a store at ``out``.

    Parameters
    ----------
    files : paths
        ``.h5`` (reference code), ``.npz``, ``.npy``. Several files are the states of a
        sequence in training order (the number in their names, see
        :func:`compute.foreign.training_order`); one ``.npz`` may hold a sequence itself.
    out : path
        The store folder. An existing computed store or a folder of other files is never
        touched; an earlier import is replaced only with ``force``.
    loss_key : str
        Which dataset of an ``.h5`` file is the loss (``train_loss``, ``test_loss``).
    grid_range : (a0, a1, b0, b1), optional
        Coordinates of arrays that carry none.
    keep_order : bool
        Take the files in the order given instead of by the numbers in their names.
    log : callable, optional
        ``log(message)`` for notes on what was assumed.

    Returns
    -------
    Path of the store.
    """
    if not files:
        raise ValueError("import: no files given")
    out = Path(out)
    paths = [Path(f) for f in files]
    ordered = (
        [(p, float(i), "index") for i, p in enumerate(paths)] if keep_order or len(paths) == 1
        else training_order(paths)
    )
    _check_out(out, force)
    states, metrics, notes, first, first_path = [], None, [], None, None
    for path, position, unit in ordered:
        surface = read_surface_file(path, loss_key=loss_key, grid_range=grid_range)
        if first is None:
            first, first_path = surface, path
            metrics = ["loss"] + sorted(surface.channels)
        else:
            _same_grid(first, surface, path, first_path)
        for note in surface.notes:
            if note not in notes:
                notes.append(note)
                if log:
                    log(f"{path.name}: {note}")
        for s in range(surface.loss.shape[0]):
            index = len(states)
            if surface.epochs is not None:
                epoch, label = float(surface.epochs[s]), f"epoch {surface.epochs[s]:g}"
            elif surface.loss.shape[0] > 1:
                epoch, label = float(s), f"state {s}"
            elif unit == "index":
                epoch, label = position, path.stem if len(ordered) > 1 else "imported"
            else:
                epoch, label = position, f"{unit} {position:g}"
            arrays = {"loss": surface.loss[s]}
            arrays.update({k: v[s] for k, v in surface.channels.items()})
            target = st.surface_path(out, index)
            st.atomic_write(target, lambda f, arrays=arrays: np.savez(f, **arrays))
            nonfinite = int(np.count_nonzero(~np.isfinite(surface.loss[s])))
            states.append(dict(
                index=index, epoch=epoch, step=int(position) if unit == "step" else 0,
                label=label, file=str(target.relative_to(out)), ball=[0.0, 0.0],
                values={}, complete=True, nonfinite=nonfinite, source=str(path),
            ))
    manifest = {
        "schema_version": st.SCHEMA_VERSION,
        "axes": list(st.AXES),
        "a": first.a, "b": first.b,
        "metrics": metrics,
        "loss": loss_key if first.format == "li2018-h5" else "loss",
        "imported": {
            "note": IMPORTED_NOTE,
            "format": sorted({read_format(p) for p, _, _ in ordered}),
            "files": [str(p) for p, _, _ in ordered],
            "sha256": _sha([p for p, _, _ in ordered]),
            "strip": first.strip,
            "notes": notes,
        },
        "model": None,
        "directions": None,
        "around": "current",
        "states": states,
        "states_complete": True,
        "config_hash": "imported-" + _sha([p for p, _, _ in ordered]),
        "timings": {},
        "complete": True,
        "nonfinite": int(sum(s["nonfinite"] for s in states)),
    }
    st.write_json(out / st.MANIFEST, manifest)
    return out


def read_format(path: Path) -> str:
    return "li2018-h5" if path.suffix.lower() in (".h5", ".hdf5") else "numpy"
