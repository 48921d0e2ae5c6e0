"""A real small file system to fill up: what a full disk does to a run, without mocks."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from pathlib import Path

import pytest

#: size of the file system (tmpfs) the tests fill.
SIZE = "2m"


@contextlib.contextmanager
def mounted_small_disk(folder: Path):
    """Mount a real tmpfs of :data:`SIZE` on ``folder`` (created) for the block; skips the
    test where mounting is not allowed."""
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(folder)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def fill(disk: Path, spare: int = 0) -> Path:
    """Fill ``disk`` to the last byte, then give back ``spare`` bytes; the filler's path."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as f:  # unbuffered: nothing left to flush at close
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    if spare:
        os.truncate(filler, max(filler.stat().st_size - spare, 0))
    return filler
