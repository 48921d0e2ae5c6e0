"""Damaged surface and curvature files found and set aside, so they are recomputed alone."""

from __future__ import annotations

import os
from pathlib import Path

from lossfilm.compute.store.folder import surface_path
from lossfilm.compute.store.integrity import DamagedFile, npz_problem, set_aside, verify

__all__ = ["check_surfaces", "npz_damage"]


def _surface_shape(manifest: dict) -> tuple[int, int]:
    return len(manifest["b"]), len(manifest["a"])


def npz_damage(folder: Path, checksums: dict, relative: str,
               shape: tuple[int, ...] | None = None) -> str | None:
    """Why ``folder/relative`` (an existing ``.npz``) is damaged, or None.

    Checked against its recorded checksum; a file without one (written by a run killed
    before it recorded the checksum) is checked by reading it whole.
    """
    try:
        verify(folder, checksums, relative)
    except DamagedFile as exc:
        return exc.reason
    return None if relative in checksums else npz_problem(Path(folder) / relative, shape)


def check_surfaces(folder: str | os.PathLike, manifest: dict, say=None) -> list[int]:
    """Set aside every damaged surface file of ``manifest``'s states; their indices.

    A file with a recorded checksum is checked against it; one without (written by a run
    that was killed before it recorded the checksum) is checked by reading it whole. Each
    file set aside is reported through ``say(message)`` and loses its checksum entry, so
    the next evaluation recomputes exactly those states.
    """
    folder = Path(folder)
    checksums = manifest.setdefault("checksums", {})
    damaged = []
    for s in manifest["states"]:
        path = surface_path(folder, s["index"])
        relative = str(path.relative_to(folder))
        if not path.exists():  # removed by hand, or set aside: its next digest is recorded anew
            checksums.pop(relative, None)
            continue
        reason = npz_damage(folder, checksums, relative, _surface_shape(manifest))
        if reason is None:
            continue
        aside = set_aside(path)
        checksums.pop(relative, None)
        damaged.append(s["index"])
        if say is not None:
            say(f"{path} is damaged ({reason}); set aside as {aside.name}, recomputing state"
                f" {s['index']} ({s.get('label', '')}) alone")
    return damaged
