"""Where the files the renderer loads (colormap tables, fonts) are.

In a checkout, and in the editable install ``make setup`` makes, they are the
repository's top-level ``assets/`` folder, as the design card lays it out. A wheel
ships the same folder inside the package, as ``render/_assets`` (``pyproject.toml``
maps it there), so an installed lossfilm needs no checkout beside it.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["ASSETS", "asset_path"]

_HERE = Path(__file__).resolve().parent
#: the assets folder: inside the package when installed from a wheel, else the checkout's.
ASSETS = next((p for p in (_HERE / "_assets", _HERE.parent / "assets") if p.is_dir()), _HERE.parent / "assets")


def asset_path(*parts: str) -> Path:
    """A path under :data:`ASSETS`, e.g. ``asset_path("fonts", "DejaVuSans.ttf")``."""
    return ASSETS.joinpath(*parts)
