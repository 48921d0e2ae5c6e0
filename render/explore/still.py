"""Stills of the explorer's current view, drawn by the offline renderer.

The browser shows a light preview; "still" renders the same view (eye, target, up, field
of view at a film time) with :func:`render.tiles.render_still` on the film's full mesh
resolution and look, into the scene's output folder, never over an existing file.
"""

from __future__ import annotations

import time as _time
from pathlib import Path

import numpy as np

from lossfilm.render.mesh.frame import CameraPose

__all__ = ["next_still_path", "render_explored_still", "still_pose"]


def still_pose(session, time: float, eye, target, up, fov: float) -> CameraPose:
    """A :class:`CameraPose` for a browser view, with clip planes fitted to the surface."""
    from lossfilm.render.camera.terrain import clip_planes

    b = session.surface.topology.bounds
    x0, y0, z = session.surface.coarse_at(time)
    eye = np.asarray(eye, float)
    near, far = clip_planes(eye, b.lo, b.hi, np.asarray(x0), np.asarray(y0), np.asarray(z))
    dist = float(np.linalg.norm(np.asarray(target, float) - eye))
    return CameraPose(eye=tuple(map(float, eye)), target=tuple(map(float, target)),
                      up=tuple(map(float, up)), fov_deg=float(fov), near=float(near),
                      far=float(max(far, dist * 1.01 + near)))


def next_still_path(out: Path, name: str, time: float) -> Path:
    """``out/<name>-explore-t<time>.png``, numbered ``-2``, ``-3``... past existing files."""
    base = f"{name}-explore-t{time:06.2f}"
    path = out / f"{base}.png"
    n = 2
    while path.exists():
        path = out / f"{base}-{n}.png"
        n += 1
    return path


def render_explored_still(session, time: float, pose: CameraPose, size: tuple[int, int]) -> Path:
    """Render ``pose`` at film ``time`` at ``size`` (W, H) into the session's output folder."""
    from lossfilm.render.gl.context import create_context
    from lossfilm.render.pipeline import note, open_film, still_metadata, transparent
    from lossfilm.render.output.png import write_png
    from lossfilm.render.gl.stills import render_still

    if session._full_film is None:  # the film at its own mesh resolution, built once
        session._full_film = open_film(session.scene, session.folder)
    film = session._full_film
    frame = film.surface.frame_at(time, round(time * film.fps))
    ball = session.ball_at(time)
    if ball is not None:  # the released ball is part of the view: draw it on the full mesh
        x, y = float(ball[0]), float(ball[1])
        frame.actors = np.array([[x, y, film.surface.height_at(time, x, y)]], np.float32)
        frame.actor_colors = (session.scene.mesh.descent.color,)
    started = _time.perf_counter()
    ctx = create_context()
    try:
        image = render_still(ctx, film.surface.topology, frame, pose, session.scene.render,
                             tuple(size), transparent=transparent(session.scene))
    finally:
        ctx.release()
    session.out.mkdir(parents=True, exist_ok=True)
    path = next_still_path(session.out, session.scene.name, time)
    write_png(path, image, still_metadata(session.scene, time=f"{time:.4f}", view="explore",
                                          eye=list(pose.eye), target=list(pose.target)))
    note(f"still {size[0]}×{size[1]} rendered in {_time.perf_counter() - started:.1f} s: {path}")
    return path
