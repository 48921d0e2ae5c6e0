"""Motion blur: a film camera's shutter, as the mean of sub-frames in film time.

A shutter open for ``shutter / 360`` of a frame interval (180 degrees: half of it, the
film default) sees the camera move and the surface morph while it is open. Each film
frame is the mean of ``samples`` frames at evenly spaced times over that opening,
centred on the frame's time, each with its own camera pose and its own surface (the
mesh stage interpolates the sequence at any time), so both motions blur. The cost is
one whole frame per sample (``benchmarks/look.py`` reports it); ``--preview`` turns
it off.
"""

from __future__ import annotations


import numpy as np

from lossfilm.render.scene.looks import MotionBlurConfig

__all__ = ["MotionBlurConfig", "shutter_times", "render_blurred"]


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


def render_blurred(renderer, surface, camera, index: int, fps: float, cfg: MotionBlurConfig,
                   out: np.ndarray) -> None:
    """Render film frame ``index`` with motion blur into ``out`` (as ``render_into`` does).

    Parameters
    ----------
    renderer : render.renderer.SurfaceRenderer
    surface
        Has ``frame_at(time, index)`` (the mesh stage's FilmSurface).
    camera
        Has ``pose_at(time)`` and ``duration`` (render.camera_path.CameraPath).
    out : (H, W, C) uint8 or uint16
    """
    times = shutter_times(index / fps, fps, cfg.shutter, cfg.samples, getattr(camera, "duration", None))
    acc = np.zeros(out.shape, np.float32)
    sub = np.empty_like(out)
    for t in times:
        renderer.render_into(surface.frame_at(float(t), index), camera.pose_at(float(t)), sub)
        acc += sub
    np.rint(acc / len(times), out=acc)
    out[...] = acc
