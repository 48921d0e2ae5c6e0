"""Stills of any size: tiled rendering past the GL limits, supersampling, 8 or 16 bit.

A still larger than one framebuffer is cut into tiles; each tile is drawn with the
same camera through an off-center sub-frustum (:func:`lossfilm.render.gl.renderer.tile_matrix`), so
the tiles join without seams: shading, line widths and text are computed in pixels of
the *whole* image, and depth of field (a mean of whole pinhole frames, per pixel) is the
same in a tile as in the whole. Supersampling renders ``supersample`` times larger and box-filters
down, on top of MSAA.
"""

from __future__ import annotations


import moderngl
import numpy as np

from lossfilm.compute.execution.progress import Progress
from lossfilm.render.mesh.frame import CameraPose, Frame, Topology
from lossfilm.render.gl.context import max_size
from lossfilm.render.scene.look import RenderConfig
from lossfilm.render.gl.renderer import SurfaceRenderer
from lossfilm.render.gl.shutter import render_moments

__all__ = ["render_still", "tile_rects", "downsample", "MAX_SINGLE_PASS", "MAX_SUPERSAMPLE"]

#: largest side drawn in one pass when no tile size is given: an MSAA 4x RGBA8 + depth
#: framebuffer of 8192^2 is ~2 GiB on llvmpipe; tiles keep memory bounded beyond that.
MAX_SINGLE_PASS = 8192
MAX_SUPERSAMPLE = 8
MAX_STILL_SIDE = 65536


def tile_rects(size: tuple[int, int], tile: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """Cover an image of ``size = (W, H)`` with tiles of ``tile = (tw, th)`` pixels.

    Returns
    -------
    list of (x, y, w, h)
        Row-major from the top-left; edge tiles are cut to the image.
    """
    W, H = size
    tw, th = tile
    return [(x, y, min(tw, W - x), min(th, H - y)) for y in range(0, H, th) for x in range(0, W, tw)]


def downsample(image: np.ndarray, factor: int) -> np.ndarray:
    """Box-filter an (H*f, W*f, C) image down by ``factor`` (same dtype, rounded)."""
    if factor == 1:
        return image
    Hf, Wf, C = image.shape
    H, W = Hf // factor, Wf // factor
    acc = image.reshape(H, factor, W, factor, C).astype(np.float32).mean(axis=(1, 3))
    return np.rint(acc).astype(image.dtype)


def render_still(ctx: moderngl.Context, topology: Topology, frame: Frame, pose: CameraPose,
                 cfg: RenderConfig, size: tuple[int, int], *, transparent: bool = False,
                 bits: int = 8, tile: int | None = None, supersample: int = 1,
                 moments: list[tuple[Frame, CameraPose]] | None = None) -> np.ndarray:
    """Render one still image of any size.

    Parameters
    ----------
    frame, pose
        What the still shows (ignored when ``moments`` are given).
    size : (W, H)
        Final image size in pixels (up to 65536 per side; memory is the real limit).
    transparent : bool
        RGBA with straight alpha and a transparent background.
    bits : {8, 16}
        ``uint8`` or ``uint16`` output.
    tile : int, optional
        Tile side in pixels; default: one pass up to min(GL limit, 8192) per side.
    supersample : int
        Render this many times larger per side and box-filter down (1..8).
    moments : list of (Frame, CameraPose), optional
        The sub-frames of an open shutter (:func:`lossfilm.render.gl.shutter.shutter_moments`):
        the still is their mean, motion-blurred as the film's frame at that time is.

    Returns
    -------
    (H, W, 3|4) uint8 or uint16
        sRGB, row 0 = top.
    """
    W, H = int(size[0]), int(size[1])
    if not (0 < W <= MAX_STILL_SIDE and 0 < H <= MAX_STILL_SIDE):
        raise ValueError(f"size: each side must be in 1..{MAX_STILL_SIDE}, got {size}")
    if bits not in (8, 16):
        raise ValueError(f"bits: expected 8 or 16, got {bits!r}")
    ss = int(supersample)
    if not 1 <= ss <= MAX_SUPERSAMPLE:
        raise ValueError(f"supersample: expected 1..{MAX_SUPERSAMPLE}, got {supersample!r}")
    RW, RH = W * ss, H * ss
    limit = max_size(ctx)
    side = min(limit, MAX_SINGLE_PASS) if tile is None else int(tile)
    if not 16 <= side <= limit:
        raise ValueError(f"tile: expected 16..{limit} pixels (the GL limit), got {tile!r}")
    tw, th = min(side, RW), min(side, RH)
    renderer = SurfaceRenderer(ctx, topology, cfg, (tw, th), transparent=transparent, bits=bits)
    try:
        dtype = np.uint8 if bits == 8 else np.uint16
        C = renderer.components
        out = np.empty((RH, RW, C), dtype)
        rects = tile_rects((RW, RH), (tw, th))
        moments = list(moments) if moments else [(frame, pose)]

        def draw(into: np.ndarray, **where) -> None:
            if len(moments) == 1:
                renderer.render_into(*moments[0], into, **where)
            else:
                render_moments(renderer, moments, into, **where)

        if len(rects) == 1:
            draw(out)
        else:
            buf = np.empty((th, tw, C), dtype)
            with Progress("still tiles", len(rects), unit="tiles", enabled=len(rects) > 4) as bar:
                for x, y, w, h in rects:
                    # every tile keeps the full tile size so its sub-frustum has the right
                    # aspect; what falls outside the image is drawn and dropped
                    draw(buf, image_size=(RW, RH), tile=(x, y, tw, th))
                    out[y : y + h, x : x + w] = buf[:h, :w]
                    bar.advance(1)
    finally:
        renderer.release()
    return downsample(out, ss)


