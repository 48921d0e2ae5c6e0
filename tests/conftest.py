"""Fixtures shared across the suite's rooms."""

from __future__ import annotations

import pytest

from tests.disks import mounted_small_disk


@pytest.fixture
def small_disk(tmp_path):
    """A real 2 MiB file system (tmpfs) to fill up (``tests.disks.fill``); skipped where
    mounting is not allowed."""
    with mounted_small_disk(tmp_path / "disk") as disk:
        yield disk
