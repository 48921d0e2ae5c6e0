"""Checksums of the store's files: damaged files are named, set aside and recomputed alone.

Atomic writes (temp file + rename) guard against a kill mid-write; they cannot guard
against a disk, a copy or a person that changes a file afterwards. So the manifest keeps
``checksums: {relative path: "blake2b-128:<hex>"}`` of every file it lists (surfaces,
weights, origins, directions, evaluation data, curvature), and every read is checked against it.

- A damaged or truncated **surface** file (``surfaces/state_XXXX.npz``) is renamed aside
  (``state_XXXX.npz.damaged``; never deleted, someone may want to look at it) and that
  state alone is recomputed by the next run, from the weights and directions on disk.
- A damaged **tile** of a state in progress is set aside and that tile recomputed.
- A damaged **curvature** file (``curvature/state_XXXX.npz``) is set aside the same way and
  that state's curvature alone is computed again by the next run.
- Any other damaged file (weights, directions, data) is named with what to do: those
  come from training, and recomputing them means recomputing the whole store (``--force``).

BLAKE2b runs at about 1 GB/s on one core: checking a store costs far less than reading it.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
import zlib
from pathlib import Path
from typing import Iterable

import numpy as np

__all__ = [
    "DIGEST",
    "DamagedFile",
    "WriteFailed",
    "file_digest",
    "npz_problem",
    "set_aside",
    "verify",
    "record",
    "listed_files",
    "curvature_files",
    "verify_inputs",
]

#: name of the digest, stored as a prefix so another algorithm can follow.
DIGEST = "blake2b-128"
#: bytes read at a time while hashing.
_CHUNK = 1 << 20
#: suffix of a file set aside as damaged.
DAMAGED_SUFFIX = ".damaged"


class DamagedFile(ValueError):
    """A store file whose bytes are not what the manifest recorded (or cannot be read)."""

    def __init__(self, path: Path, reason: str, advice: str = "") -> None:
        self.path, self.reason = Path(path), reason
        super().__init__(f"{path}: damaged ({reason}){'; ' + advice if advice else ''}")


class WriteFailed(OSError):
    """Writing ``path`` failed (disk full, quota, I/O error); what was there before is kept."""

    def __init__(self, path: str | os.PathLike, cause: OSError) -> None:
        super().__init__(cause.errno, cause.strerror or str(cause), str(path))
        self.path = Path(path)

    def __str__(self) -> str:
        return f"cannot write {self.path}: {self.strerror}"

    def __reduce__(self):  # crosses process pools intact (OSError's own pickling passes errno first)
        return WriteFailed, (self.path, OSError(self.errno, self.strerror))


def file_digest(path: str | os.PathLike) -> str:
    """``"blake2b-128:<32 hex digits>"`` of the file's bytes."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return f"{DIGEST}:{h.hexdigest()}"


def npz_problem(path: str | os.PathLike, shape: tuple[int, ...] | None = None) -> str | None:
    """Why the ``.npz`` at ``path`` cannot be read whole (every array, CRCs checked), or None."""
    try:
        with np.load(path, allow_pickle=False) as z:
            if not z.files:
                return "no arrays in it"
            for name in z.files:
                arr = z[name]  # reads and CRC-checks the member
                if shape is not None and arr.shape != shape:
                    return f"array {name!r} has shape {arr.shape}, expected {shape}"
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def set_aside(path: str | os.PathLike) -> Path:
    """Rename ``path`` to ``path.damaged`` (``.damaged-2``, ... if taken); returns the new path."""
    path = Path(path)
    aside = path.with_name(path.name + DAMAGED_SUFFIX)
    n = 2
    while aside.exists():
        aside = path.with_name(f"{path.name}{DAMAGED_SUFFIX}-{n}")
        n += 1
    os.replace(path, aside)
    return aside


def verify(folder: str | os.PathLike, checksums: dict, relative: str, advice: str = "") -> None:
    """Check ``folder/relative`` against its recorded digest (none recorded: nothing to check).

    Raises
    ------
    DamagedFile
        The digest differs (flipped bytes, truncation, another file copied over it).
    """
    expected = (checksums or {}).get(relative)
    if expected is None:
        return
    path = Path(folder) / relative
    try:
        actual = file_digest(path)
    except FileNotFoundError:
        raise DamagedFile(path, "missing, but listed in the manifest", advice) from None
    if actual != expected:
        raise DamagedFile(path, f"checksum {actual.split(':')[-1][:12]}… differs from the"
                          f" manifest's {expected.split(':')[-1][:12]}…", advice)


def record(folder: str | os.PathLike, manifest: dict, relatives: Iterable[str]) -> None:
    """Record the digests of ``relatives`` that exist and have none yet, in ``manifest``."""
    folder = Path(folder)
    checksums = manifest.setdefault("checksums", {})
    for relative in relatives:
        if relative and relative not in checksums and (folder / relative).is_file():
            checksums[relative] = file_digest(folder / relative)


def verify_inputs(folder: str | os.PathLike, manifest: dict) -> None:
    """Check every listed file but the surfaces (weights, origins, directions, data).

    Raises
    ------
    DamagedFile
        Naming the first damaged file; these come from training, so the way on is
        ``--force`` (recompute the store), said in the message.
    """
    checksums = manifest.get("checksums") or {}
    recomputable = {s.get("file") for s in manifest.get("states", [])} | set(curvature_files(manifest))
    for relative in listed_files(manifest):
        if relative not in recomputable:
            verify(folder, checksums, relative,
                   "it comes from training: `lossfilm compute --force` recomputes the store")


def listed_files(manifest: dict) -> list[str]:
    """Every file a manifest lists: evaluation data, each state's files, curvature files."""
    names = ["data/eval.pt"]
    for s in manifest.get("states", []):
        names += [s.get(k) for k in ("weights", "origin", "directions", "file") if s.get(k)]
    return list(dict.fromkeys(names + curvature_files(manifest)))


def curvature_files(manifest: dict) -> list[str]:
    """The curvature pass's files (``curvature/state_XXXX.npz``), when the manifest has one."""
    if not manifest.get("curvature"):
        return []
    return [f"curvature/state_{int(s['index']):04d}.npz" for s in manifest.get("states", [])]
