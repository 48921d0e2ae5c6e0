"""Every overlay of a frame: the text lines in their corners and the value plot."""

from __future__ import annotations

from lossfilm.render.overlay.plot import plot_items
from lossfilm.render.overlay.text import TextItem, layout_text
from lossfilm.render.scene.look import OverlayConfig

__all__ = ["layout_overlays"]


def layout_overlays(cfg: OverlayConfig, values: dict, label: str,
                    size: tuple[int, int], *, series: dict | None = None,
                    position: float = 0.0) -> list[TextItem]:
    """Place every overlay line and the value plot for a final image of ``size = (W, H)``.

    ``series`` (per-state values of the whole sequence) and ``position`` (the frame's place
    in it) feed ``cfg.plot``; see :mod:`lossfilm.render.overlay.plot`.
    """
    return layout_text(cfg, values, label, size) + plot_items(cfg, series or {}, position, size)
