"""Depth of field: a thin lens by accumulating pinhole views from points of the aperture.

Each sub-frame moves the eye to a point of the lens disk and aims it at the same point
of the focal plane, so whatever lies at the focus distance stays put and everything
nearer or farther smears over a disk that grows with its distance from that plane (the
accumulation-buffer method of Haeberli & Akeley 1990). The cost is one frame per lens
sample: meant for stills and final films, not for previews.

The aperture follows the f-stop of a 24 mm-tall sensor behind the pose's vertical field
of view, with the landscape treated as a table-top model ``MODEL_PLANE_M`` metres across:
diameter = focal length / f-stop, focal length = 12 mm / tan(fov / 2).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from lossfilm.render.camera.focus import edge_depth, view_depth
from lossfilm.render.mesh.frame import CameraPose
from lossfilm.render.scene.looks import DepthOfFieldConfig

__all__ = ["DepthOfFieldConfig", "lens_offsets", "aperture_radius", "lens_poses", "focus_distance", "render_lens",
           "MODEL_PLANE_M", "SENSOR_HEIGHT_M"]

#: the physical size the landscape is treated as (its plane size), for the f-stop.
MODEL_PLANE_M = 0.5
SENSOR_HEIGHT_M = 0.024
#: golden angle: lens samples on a Vogel spiral cover the disk evenly for any count.
_GOLDEN = np.pi * (3.0 - np.sqrt(5.0))


def aperture_radius(fov_deg: float, fstop: float, plane_size: float) -> float:
    """Lens radius in world units for a vertical field of view and an f-stop."""
    focal_m = 0.5 * SENSOR_HEIGHT_M / np.tan(np.radians(fov_deg) / 2.0)
    return 0.5 * focal_m / fstop * plane_size / MODEL_PLANE_M


def lens_offsets(samples: int) -> np.ndarray:
    """(samples, 2) points of the unit disk, evenly spread (Vogel spiral), centred on 0."""
    k = np.arange(samples, dtype=np.float64)
    r = np.sqrt((k + 0.5) / samples)
    a = k * _GOLDEN
    pts = np.stack([r * np.cos(a), r * np.sin(a)], axis=1)
    return pts - pts.mean(axis=0) if samples > 1 else np.zeros((1, 2))


def focus_distance(cfg: DepthOfFieldConfig, pose: CameraPose, ball, minimum, surface=None,
                   aspect: float = 16 / 9) -> float:
    """Distance along the view axis to the focal plane: the pose's own (a shot's focus
    keys) or the look's ``cfg.focus``.

    Parameters
    ----------
    surface : (x (nx,), y (ny,), heights (ny, nx)), optional
        The frame's surface, for ``focus: edge``.
    aspect : float
        Width over height of the image (what of the edge is in view).
    """
    if pose.focus is not None:
        return float(pose.focus)
    eye = np.asarray(pose.eye, np.float64)
    forward = np.asarray(pose.target, np.float64) - eye
    forward /= max(np.linalg.norm(forward), 1e-12)
    if cfg.focus == "edge" and surface is not None:
        depth = edge_depth(eye, forward, pose.up, pose.fov_deg, *surface, aspect=aspect)
        return depth if depth is not None else float(cfg.distance)
    point = {"ball": ball if ball is not None else minimum, "minimum": minimum,
             "target": pose.target}.get(cfg.focus)
    if point is None:
        return float(cfg.distance)
    return view_depth(point, eye, forward)


def lens_poses(pose: CameraPose, focus: float, radius: float, samples: int) -> list[CameraPose]:
    """Pinhole poses from points of the lens disk, all aimed at the focal plane's centre.

    Parameters
    ----------
    pose : CameraPose
        The camera (the lens centre).
    focus : float
        Distance to the focal plane along the view axis, world units.
    radius : float
        Lens radius in world units.
    samples : int
    """
    eye = np.asarray(pose.eye, np.float64)
    forward = np.asarray(pose.target, np.float64) - eye
    forward /= max(np.linalg.norm(forward), 1e-12)
    right = np.cross(forward, np.asarray(pose.up, np.float64))
    right /= max(np.linalg.norm(right), 1e-12)
    up = np.cross(right, forward)
    focal_point = eye + focus * forward
    out = []
    for dx, dy in lens_offsets(samples) * radius:
        moved = eye + dx * right + dy * up
        out.append(dataclasses.replace(pose, eye=tuple(moved), target=tuple(focal_point), up=tuple(up)))
    return out


def render_lens(renderer, frame, pose: CameraPose, out: np.ndarray, *, image_size: tuple[int, int] | None = None,
                tile: tuple[int, int, int, int] | None = None) -> None:
    """Depth of field into ``out``: the mean of pinhole frames from points of the lens.

    Each pixel is the mean of that pixel over the pinhole frames, so a tile of a larger
    image (``image_size``, ``tile`` as :meth:`~render.renderer.SurfaceRenderer.draw`
    takes them) is exactly that part of the whole: tiled stills join without seams, with
    the focus and aperture worked out for the whole image.

    Parameters
    ----------
    renderer : render.renderer.SurfaceRenderer
        Its ``cfg.dof`` sets focus, f-stop and samples.
    frame : render.frame.Frame
    pose : CameraPose
        The lens centre; its ``focus`` and ``fstop``, when set (a shot's keys), win over the look's.
    out : (H, W, C) uint8 or uint16
        As :meth:`~render.renderer.SurfaceRenderer.render_into` fills it.
    """
    dof = renderer.cfg.dof
    topo = renderer.topology
    W, H = image_size or renderer.size
    focus = focus_distance(dof, pose, frame.ball, frame.minimum, (topo.x, topo.y, frame.heights), aspect=W / H)
    fstop = pose.fstop if pose.fstop is not None else dof.fstop
    radius = aperture_radius(pose.fov_deg, fstop, topo.bounds.size)
    acc = np.zeros(out.shape, np.float32)
    sub = np.empty_like(out)
    for k, lens_pose in enumerate(lens_poses(pose, focus, radius, dof.samples)):
        # heights and occlusion once a frame (or a tile)
        renderer.draw(frame, lens_pose, image_size=image_size, tile=tile, upload=k == 0)
        renderer.read_into(sub)
        acc += sub
    np.rint(acc / dof.samples, out=acc)
    out[...] = acc
