"""Motion blur: a film camera's shutter, as the mean of sub-frames in film time.

A shutter open for ``shutter / 360`` of a frame interval (180 degrees: half of it, the
film default) sees the camera move and the surface morph while it is open. Each film
frame is the mean of ``samples`` frames at evenly spaced times over that opening,
centred on the frame's time, each with its own camera pose and its own surface (the
mesh stage interpolates the sequence at any time), so both motions blur. The cost is
one whole frame per sample (``benchmarks/look.py`` reports it); ``--preview`` turns
it off. Stills (``lossfilm still``) open the same shutter around their time.
"""

from __future__ import annotations


import numpy as np

from lossfilm.render.mesh.frame import CameraPose, Frame
from lossfilm.render.scene.looks import MotionBlurConfig

__all__ = ["MotionBlurConfig", "shutter_times", "shutter_moments", "render_moments", "render_blurred"]


def shutter_times(time: float, fps: float, shutter: float, samples: int, duration: float | None = None) -> np.ndarray:
    """(samples,) film times a frame at ``time`` is made of: centred, evenly spread, clipped.

    With ``samples`` sub-frames each stands for an equal slice of the opening, and sits in
    the middle of its slice (no sub-frame on the opening's edges).
    """
    open_s = shutter / 360.0 / fps
    offsets = ((np.arange(samples) + 0.5) / samples - 0.5) * open_s
    times = time + offsets
    if duration is not None:
        times = np.clip(times, 0.0, duration)
    return times


def shutter_moments(surface, camera, time: float, fps: float, cfg: MotionBlurConfig,
                    index: int = 0) -> list[tuple[Frame, CameraPose]]:
    """The ``(frame, pose)`` of each sub-frame of a frame at film ``time`` (see :func:`shutter_times`).

    Parameters
    ----------
    surface
        Has ``frame_at(time, index)`` (the mesh stage's FilmSurface).
    camera
        Has ``pose_at(time)`` and ``duration`` (render.camera_path.CameraPath).
    index : int
        The film frame number the sub-frames belong to.
    """
    times = shutter_times(time, fps, cfg.shutter, cfg.samples, getattr(camera, "duration", None))
    return [(surface.frame_at(float(t), index), camera.pose_at(float(t))) for t in times]


def render_moments(renderer, moments: list[tuple[Frame, CameraPose]], out: np.ndarray, *,
                   image_size: tuple[int, int] | None = None, tile: tuple[int, int, int, int] | None = None) -> None:
    """The mean of ``render_into`` over ``moments`` into ``out`` (a lens, when on, in each).

    ``image_size`` and ``tile`` are passed on: each sub-frame is a mean of whole pictures,
    per pixel, so the tiles of a still join as in one pass.
    """
    acc = np.zeros(out.shape, np.float32)
    sub = np.empty_like(out)
    for frame, pose in moments:
        renderer.render_into(frame, pose, sub, image_size=image_size, tile=tile)
        acc += sub
    np.rint(acc / len(moments), out=acc)
    out[...] = acc


def render_blurred(renderer, surface, camera, index: int, fps: float, cfg: MotionBlurConfig,
                   out: np.ndarray) -> None:
    """Render film frame ``index`` with motion blur into ``out`` (as ``render_into`` does).

    Parameters
    ----------
    renderer : render.renderer.SurfaceRenderer
    surface, camera
        As :func:`shutter_moments` reads them.
    out : (H, W, C) uint8 or uint16
    """
    render_moments(renderer, shutter_moments(surface, camera, index / fps, fps, cfg, index), out)
