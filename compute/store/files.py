"""Files of a store, written atomically: a temporary next to the target, then a rename.

A reader never sees a half-written file, and a failed write names its path
(:class:`~lossfilm.compute.store.integrity.WriteFailed`) and leaves the old file as it was.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from lossfilm.compute.store.integrity import WriteFailed


def atomic_write(path: str | os.PathLike, write: Callable[[io.BufferedWriter], None]) -> None:
    """Call ``write(f)`` on a temporary file next to ``path``, then rename it over ``path``.

    Raises
    ------
    compute.integrity.WriteFailed
        The disk is full or the write failed otherwise; names ``path``. The old file (if
        any) and the temporary are left as they were / removed: nothing half-written stays.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix="." + path.name + ".", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise WriteFailed(path, exc) from exc
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, WriteFailed):
            raise WriteFailed(path, exc) from exc
        raise


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Atomically write ``obj`` as indented JSON (non-finite floats become ``null``)."""
    text = json.dumps(_jsonable(obj), indent=1, allow_nan=False)
    atomic_write(path, lambda f: f.write(text.encode()))


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return v if np.isfinite(v) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def save_tensors(path: str | os.PathLike, obj: Any) -> None:
    """Atomically ``torch.save`` a (nested) dict of tensors."""
    # Serialized in memory first: torch turns a failed write (disk full) into a RuntimeError
    # that names nothing; a plain write of the bytes fails as an OSError we can name.
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write(path, lambda f: f.write(buffer.getbuffer()))


def load_tensors(path: str | os.PathLike) -> Any:
    """Load a file written by :func:`save_tensors` (tensors only: ``weights_only=True``)."""
    return torch.load(path, map_location="cpu", weights_only=True)
