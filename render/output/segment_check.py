"""Checksums of rendered segments: a damaged segment is named, set aside and rendered again.

A film's chunks are encoded into segment files that a later run reuses (see
:mod:`render.chunks`). Their frame count is checked on reuse, which catches a truncated
file, but flipped bytes inside a segment keep the frame count and would be copied into
the film as they are. So each finished segment gets a sidecar ``SEGMENT.blake2b`` holding
its digest (:func:`compute.integrity.file_digest`), written after the segment is in place;
a segment whose bytes differ from its sidecar is damaged. Damaged segments are renamed
aside (``.damaged``, never deleted) and reported on stderr, and only they are rendered
again. Frame folders (the ``frames`` profile) are checked by their file names only.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from lossfilm.compute.store.integrity import file_digest, set_aside
from lossfilm.compute.store.folder import atomic_write

__all__ = ["digest_path", "record_segment", "segment_damage", "set_aside_segment", "forget_segment",
           "remove_stale_partials"]


def digest_path(segment: Path) -> Path:
    """The sidecar holding ``segment``'s digest."""
    return segment.with_name(segment.name + ".blake2b")


def record_segment(segment: Path) -> None:
    """Write the digest of a finished segment file (folders of frames have none)."""
    if segment.is_file():
        text = file_digest(segment) + "\n"
        atomic_write(digest_path(segment), lambda f: f.write(text.encode()))


def segment_damage(segment: Path) -> str | None:
    """Why ``segment`` differs from its recorded digest, or None (also when none is recorded)."""
    sidecar = digest_path(segment)
    if not segment.is_file() or not sidecar.is_file():
        return None
    expected = sidecar.read_text().strip()
    actual = file_digest(segment)
    if actual != expected:
        return "its bytes differ from the checksum recorded when it was written"
    return None


def set_aside_segment(segment: Path, reason: str) -> Path:
    """Rename a damaged segment aside, drop its sidecar, say so on stderr; the new path."""
    aside = set_aside(segment)
    forget_segment(segment)
    print(f"lossfilm: segment {segment} is damaged ({reason}); set aside as {aside.name},"
          " rendering its frames again", file=sys.stderr, flush=True)
    return aside


def forget_segment(segment: Path) -> None:
    """Remove ``segment``'s sidecar (the segment itself is the caller's)."""
    digest_path(segment).unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_stale_partials(path: Path) -> list[Path]:
    """Delete ``.NAME.PID.partial`` temporaries of ``path`` left by dead processes; them.

    :func:`render.encode.partial_path` names a film's temporary after the writing process,
    so a join killed with ``kill -9`` leaves one behind; a live writer's is left alone.
    """
    from lossfilm.render.output.encode import remove

    removed = []
    for tmp in path.parent.glob(f".{path.name}.*.partial"):
        pid = tmp.name[len(path.name) + 2: -len(".partial")]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            remove(tmp)
            removed.append(tmp)
    return removed
