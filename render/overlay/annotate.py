"""Figure annotations for stills: a loss colorbar and labelled plane axes.

Drawn on the *final* image (after tiling and supersampling), so text and lines are
rasterized at their final pixel size and stay crisp at any resolution, 16384 wide
included. Every primitive is rasterized by Pillow as an 8-bit coverage mask over its own
bounding box only, then blended into the image at the image's own depth: a 16-bit still
gets a 16-bit colorbar gradient and 16-bit blending, never a round trip through 8 bits.

Sizes are fractions of the image height (:data:`FONT_FRACTION`...), like the film's
overlays, so a 320×180 thumbnail and an 8192×4608 print look the same.

Pure parts (ticks, colour scales, projection) are in :mod:`lossfilm.render.overlay.scales`.
Drawing: :func:`draw_colorbar`, :func:`draw_axes`. Wrapper: :func:`annotate_still`.
"""

from __future__ import annotations


import numpy as np
from PIL import Image, ImageDraw

from lossfilm.render.color.colormaps import load_colormap
from lossfilm.render.mesh.frame import CameraPose
from lossfilm.render.overlay.text import BOLD_FONT_PATH, FONT_PATH, font
from lossfilm.render.overlay.scales import nice_ticks, format_tick, ColorScale, colorbar_scale, project_points

__all__ = [
    "draw_colorbar",
    "draw_axes",
    "annotate_still",
    "AXIS_LABELS",
]

#: tick label font size, as a fraction of the image height
FONT_FRACTION = 0.026
#: colorbar: height, width and distance from the right edge, fractions of the image height
BAR_HEIGHT = 0.6
BAR_WIDTH = 0.028
MARGIN = 0.035
#: tick length and line width, fractions of the image height (lines never thinner than 1 px)
TICK_LENGTH = 0.012
LINE_WIDTH = 0.0022
#: text and line color, and the dark outline that keeps them legible on a bright surface
INK = (1.0, 1.0, 1.0, 1.0)
OUTLINE = (0.0, 0.0, 0.0, 0.6)
OUTLINE_FRACTION = 0.1
#: edge sample count for projected plane axes (a polyline on the surface edge)
EDGE_SAMPLES = 64
#: polyline points rasterized per mask (keeps each mask's box small on huge images)
LINE_CHUNK = 8
#: a camera looking down within this cosine is a top view: axes become a flat frame
TOP_VIEW_COS = 0.999
AXIS_LABELS = ("direction 1 (a)", "direction 2 (b)")


# ----------------------------------------------------------------------------- pure parts


# ----------------------------------------------------------------------------- blending


def _blend(image: np.ndarray, x0: int, y0: int, mask: np.ndarray, rgba: tuple) -> None:
    """Blend ``rgba`` (sRGB floats) through coverage ``mask`` (h, w) uint8 at ``(x0, y0)``.

    Works on straight-alpha RGB/RGBA uint8 or uint16 images in place, touching only the
    covered pixels (memory stays small on 16k images).
    """
    H, W = image.shape[:2]
    h, w = mask.shape
    cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x0 + w, W), min(y0 + h, H)
    if cx0 >= cx1 or cy0 >= cy1:
        return
    m = mask[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
    rows, cols = np.nonzero(m)
    if rows.size == 0:
        return
    top = float(np.iinfo(image.dtype).max)
    region = image[cy0:cy1, cx0:cx1]
    a = (m[rows, cols].astype(np.float32) / 255.0 * rgba[3])[:, None]
    dst = region[rows, cols].astype(np.float32) / top
    src = np.asarray(rgba[:3], np.float32)[None, :]
    if image.shape[2] == 4:
        da = dst[:, 3:4]
        oa = a + da * (1.0 - a)
        rgb = (src * a + dst[:, :3] * da * (1.0 - a)) / np.maximum(oa, 1e-6)
        dst = np.c_[rgb, oa]
    else:
        dst = src * a + dst * (1.0 - a)
    region[rows, cols] = np.rint(np.clip(dst, 0.0, 1.0) * top).astype(image.dtype)


def _text_masks(text: str, px: int, bold: bool = False, rotate: bool = False
                ) -> tuple[np.ndarray, np.ndarray]:
    """(h, w) uint8 coverage of the outline and of the ink of one line of text."""
    face = font(str(BOLD_FONT_PATH if bold else FONT_PATH), max(int(px), 4))
    stroke = max(int(round(OUTLINE_FRACTION * px)), 1)
    left, top, right, bottom = face.getbbox(text, stroke_width=stroke)
    size = (right - left + 2, bottom - top + 2)
    masks = []
    for width in (stroke, 0):
        img = Image.new("L", size, 0)
        ImageDraw.Draw(img).text((1 - left, 1 - top), text, font=face, fill=255, stroke_width=width,
                                 stroke_fill=255)
        if rotate:  # reads bottom to top, like a y-axis title
            img = img.transpose(Image.Transpose.ROTATE_90)
        masks.append(np.asarray(img))
    return masks[0], masks[1]


def _draw_text(image: np.ndarray, text: str, x: float, y: float, px: int,
               anchor: tuple[float, float],
               *, bold: bool = False, rotate: bool = False, ink: tuple = INK) -> None:
    """Draw ``text`` so its box point ``anchor`` (fractions, (0, 0) = top-left) is at ``(x, y)``.

    The box is pushed inside the image so labels near an edge stay readable.
    """
    outline, fill = _text_masks(text, px, bold, rotate)
    h, w = fill.shape
    H, W = image.shape[:2]
    x0 = int(round(min(max(x - anchor[0] * w, 0), max(W - w, 0))))
    y0 = int(round(min(max(y - anchor[1] * h, 0), max(H - h, 0))))
    _blend(image, x0, y0, outline, OUTLINE)
    _blend(image, x0, y0, fill, ink)


def _draw_line(image: np.ndarray, pts: np.ndarray, width: int, *, ink: tuple = INK) -> None:
    """A polyline through pixel points ``pts`` (k, 2), with a dark outline."""
    pts = np.asarray(pts, np.float64)
    if len(pts) > LINE_CHUNK + 1:
        # a long diagonal rim in one mask would cover most of a 16k image: draw it in
        # short pieces, each rasterized over its own small box
        for k in range(0, len(pts) - 1, LINE_CHUNK):
            _draw_line(image, pts[k : k + LINE_CHUNK + 1], width, ink=ink)
        return
    H, W = image.shape[:2]
    pad = 2 * width + 2
    lo = np.floor(pts.min(axis=0)).astype(int) - pad
    hi = np.ceil(pts.max(axis=0)).astype(int) + pad
    lo = np.maximum(lo, 0)
    hi = np.minimum(hi, (W, H))
    if np.any(hi <= lo):
        return
    local = [tuple(p) for p in (pts - lo)]
    for w, color in ((width + 2 * max(width // 2, 1), OUTLINE), (width, ink)):
        img = Image.new("L", tuple(int(v) for v in hi - lo), 0)
        ImageDraw.Draw(img).line(local, fill=255, width=int(w), joint="curve")
        _blend(image, int(lo[0]), int(lo[1]), np.asarray(img), color)


def _sizes(H: int) -> tuple[int, int, int]:
    """Font size, tick length and line width in pixels for an image ``H`` pixels high."""
    return (max(int(round(FONT_FRACTION * H)), 6), max(int(round(TICK_LENGTH * H)), 2),
            max(int(round(LINE_WIDTH * H)), 1))


# ----------------------------------------------------------------------------- colorbar


def draw_colorbar(image: np.ndarray, scale: ColorScale, colormap: str) -> tuple[int, int, int, int]:
    """Draw a vertical colorbar with ticks and a title at the right edge, in place.

    Parameters
    ----------
    image : (H, W, 3|4) uint8 or uint16
        sRGB straight alpha, row 0 = top.

    Returns
    -------
    (x0, y0, x1, y1)
        Pixel box of the gradient (bottom = ``scale.lo``, top = ``scale.hi``).
    """
    H, W = image.shape[:2]
    px, tick, line = _sizes(H)
    ticks = scale.ticks()
    label_w = max((_text_masks(format_tick(v), px)[1].shape[1] for v in ticks), default=0)
    bw, bh = max(int(round(BAR_WIDTH * H)), 2), max(int(round(BAR_HEIGHT * H)), 4)
    x1 = W - int(round(MARGIN * H)) - label_w - tick - px // 2
    x0, y0 = x1 - bw, (H - bh) // 2
    y1 = y0 + bh
    # the gradient at the image's own depth, straight from the colormap table
    lut = np.asarray(load_colormap(colormap), np.float64)
    u = 1.0 - (np.arange(bh) + 0.5) / bh  # top row = 1
    pos = u * (lut.shape[0] - 1)
    k = np.minimum(np.floor(pos).astype(int), lut.shape[0] - 2)
    f = (pos - k)[:, None]
    rgb = lut[k] * (1 - f) + lut[k + 1] * f
    top = np.iinfo(image.dtype).max
    cx0, cx1 = max(x0, 0), min(x1, W)
    if cx0 < cx1:
        column = np.rint(rgb * top).astype(image.dtype)
        image[y0:y1, cx0:cx1, :3] = column[:, None, :]
        if image.shape[2] == 4:
            image[y0:y1, cx0:cx1, 3] = top
    frame = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]], np.float64)
    _draw_line(image, frame, line)
    for v in ticks:
        y = y1 - float(scale.unit_of(np.array([v]))[0]) * bh
        _draw_line(image, np.array([[x1, y], [x1 + tick, y]]), line)
        _draw_text(image, format_tick(v), x1 + tick + px // 3, y, px, (0.0, 0.5))
    _draw_text(image, scale.label, (x0 + x1) / 2, y0 - px // 2, px, (0.5, 1.0), bold=True)
    return x0, y0, x1, y1


# ----------------------------------------------------------------------------- axes


def _edges(x: np.ndarray, y: np.ndarray, heights: np.ndarray) -> dict:
    """The plane's four edges as (EDGE_SAMPLES, 3) world polylines on the surface, by axis."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    heights = np.asarray(heights, np.float64)
    sx = np.linspace(x[0], x[-1], EDGE_SAMPLES)
    sy = np.linspace(y[0], y[-1], EDGE_SAMPLES)
    out = {0: [], 1: []}
    for row in (0, -1):  # edges along a (axis 0) at y = y[0] and y = y[-1]
        out[0].append(np.c_[sx, np.full_like(sx, y[row]), np.interp(sx, x, heights[row])])
    for col in (0, -1):
        out[1].append(np.c_[np.full_like(sy, x[col]), sy, np.interp(sy, y, heights[:, col])])
    return out


def draw_axes(image: np.ndarray, pose: CameraPose, x: np.ndarray, y: np.ndarray,
              heights: np.ndarray, labels: tuple[str, str] = AXIS_LABELS) -> dict:
    """Label the plane's two axes along the surface edges seen by ``pose``, in place.

    For each axis, the edge nearer the viewer is used (lower on screen for ``a``, further
    left for ``b``); the edge is projected with the camera, ticks point away from the
    plane's centre and labels sit beyond them. Seen from straight above this is a flat
    frame with a/b ticks; in perspective the labels follow the surface's rim.

    Parameters
    ----------
    image : (H, W, 3|4) uint8 or uint16
    x : (nx,), y : (ny,)
        World coordinates of the render grid (the plane's a and b).
    heights : (ny, nx)
        World heights of the frame, so the axes sit on the drawn rim.

    Returns
    -------
    dict
        ``{0: (k, 2) tick pixel positions of a, 1: ... of b}`` (for tests).
    """
    H, W = image.shape[:2]
    px, tick, line = _sizes(H)
    forward = np.subtract(pose.target, pose.eye)
    if -forward[2] >= TOP_VIEW_COS * np.linalg.norm(forward):
        # seen from above, a flat frame at the top of the surface encloses all of it
        heights = np.full_like(np.asarray(heights, np.float64), float(np.max(heights)))
    edges = _edges(x, y, heights)
    center_xy, _ = project_points(pose, (W, H), np.array([[
        (x[0] + x[-1]) / 2, (y[0] + y[-1]) / 2, float(np.mean(heights))]]))
    center = center_xy[0]
    placed = {}
    for axis in (0, 1):
        projected = [project_points(pose, (W, H), e) for e in edges[axis]]
        mids = [p[0][EDGE_SAMPLES // 2] for p in projected]
        if axis == 0:  # the lower edge on screen
            pick = int(np.argmax([m[1] for m in mids]))
        else:  # the edge further left
            pick = int(np.argmin([m[0] for m in mids]))
        pts, ok = projected[pick]
        if not ok.all():
            continue  # the camera is on or beyond the edge's line: no honest axis to draw
        _draw_line(image, pts, line)
        lo, hi = (x[0], x[-1]) if axis == 0 else (y[0], y[-1])
        values = nice_ticks(float(lo), float(hi))
        world = edges[axis][pick]
        coord = world[:, axis]
        tick_pts = np.c_[[np.interp(values, coord, world[:, k]) for k in range(3)]].T
        tick_xy, _ = project_points(pose, (W, H), tick_pts)
        # outward: perpendicular to the projected edge, away from the plane's centre
        direction = pts[-1] - pts[0]
        normal = np.array([-direction[1], direction[0]]) / max(np.linalg.norm(direction), 1e-9)
        if np.dot(normal, pts[EDGE_SAMPLES // 2] - center) < 0:
            normal = -normal
        anchor = (0.5 - 0.5 * normal[0], 0.5 - 0.5 * normal[1])
        for v, p in zip(values, tick_xy):
            end = p + normal * tick
            _draw_line(image, np.array([p, end]), line)
            _draw_text(image, format_tick(v), *(end + normal * px * 0.25), px, anchor)
        mid = pts[EDGE_SAMPLES // 2] + normal * (tick + px * 1.9)
        vertical_title = abs(normal[0]) > abs(normal[1])
        _draw_text(image, labels[axis], *mid, px, anchor, bold=True, rotate=vertical_title)
        placed[axis] = tick_xy
    return placed


# ----------------------------------------------------------------------------- wrapper


def annotate_still(image: np.ndarray, surface, frame, pose: CameraPose, colormap: str, *,
                   colorbar: bool = False, axes: bool = False) -> np.ndarray:
    """Add a colorbar and/or plane axes to a rendered still, in place; returns ``image``.

    Parameters
    ----------
    image : (H, W, 3|4) uint8 or uint16
        The final still (after tiling and supersampling), row 0 = top.
    surface : render.mesh.FilmSurface
    frame : render.frame.Frame
    pose : CameraPose
        The camera the still was rendered with.
    """
    if axes:
        topo = surface.topology
        draw_axes(image, pose, topo.x, topo.y, frame.heights)
    if colorbar:
        draw_colorbar(image, colorbar_scale(surface), colormap)
    return image
