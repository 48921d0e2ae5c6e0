"""Colors in a scene: ``"#rrggbb"`` or ``"#rrggbbaa"`` hex strings (sRGB, straight alpha)."""

from __future__ import annotations

import re

__all__ = ["parse_color"]


_HEX = re.compile(r"^#([0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")


def parse_color(value: str, key: str = "color") -> tuple[float, float, float, float]:
    """``"#rrggbb[aa]"`` -> sRGB ``(r, g, b, a)`` floats in [0, 1].

    Raises
    ------
    ValueError
        Naming ``key`` when ``value`` is not such a string.
    """
    if not isinstance(value, str) or not _HEX.match(value):
        raise ValueError(f"{key}: expected a color like '#1a2b3c' or '#1a2b3c80', got {value!r}")
    h = value[1:]
    rgba = [int(h[i : i + 2], 16) / 255.0 for i in range(0, len(h), 2)]
    if len(rgba) == 3:
        rgba.append(1.0)
    return tuple(rgba)  # type: ignore[return-value]
