"""Depth of field: the lens geometry, then on real pixels (far detail blurs, the focal plane does not)."""

from __future__ import annotations

import numpy as np
import pytest
from golden import flat_plane

from lossfilm.render.mesh.frame import CameraPose
from lossfilm.render.gl.lens import aperture_radius, lens_offsets, lens_poses


def test_lens_samples_cover_the_disk_centred():
    pts = lens_offsets(16)
    assert pts.shape == (16, 2)
    np.testing.assert_allclose(pts.mean(axis=0), 0.0, atol=1e-12)
    assert np.linalg.norm(pts, axis=1).max() <= 1.0 + 1e-9
    assert aperture_radius(35.0, 1.4, 2.0) == pytest.approx(2 * aperture_radius(35.0, 2.8, 2.0))


def test_every_lens_pose_sees_the_focal_point_at_the_centre():
    pose = CameraPose(eye=(2.0, -2.0, 1.0), target=(0.0, 0.0, 0.0))
    focus = 1.5
    poses = lens_poses(pose, focus, 0.1, 8)
    forward = -np.asarray(pose.eye) / np.linalg.norm(pose.eye)
    focal = np.asarray(pose.eye) + focus * forward
    eyes = np.array([p.eye for p in poses])
    assert np.ptp(eyes, axis=0).max() > 0.05  # the eyes are spread over the lens
    for p in poses:
        clip = p.projection_matrix(16 / 9) @ p.view_matrix() @ np.append(focal, 1.0)
        np.testing.assert_allclose(clip[:2] / clip[3], 0.0, atol=1e-9)



def _sharpness(gray: np.ndarray) -> float:
    return float(np.abs(np.diff(gray, axis=1)).mean() + np.abs(np.diff(gray, axis=0)).mean())


def test_depth_of_field_blurs_far_detail_more_than_the_focal_plane(ctx):
    from lossfilm.render.scene.scene import look_config
    from lossfilm.render.gl.renderer import SurfaceRenderer

    n = 64
    topo, frame = flat_plane(n)
    # a flat plane with grid lines seen at a grazing angle: detail at every depth
    pose = CameraPose(eye=(0.0, -1.9, 0.55), target=(0.0, 0.0, 0.0), up=(0.0, 0.0, 1.0), fov_deg=40.0)
    common = dict(overlays={"counter": "none", "loss": False}, grid={"enabled": True, "count": 24, "opacity": 0.8},
                  base={"enabled": False}, occlusion={"enabled": False}, fog=0.0)
    images = {}
    for on in (False, True):
        cfg = look_config(dof={"enabled": on, "focus": "target", "fstop": 1.4, "samples": 16}, **common)
        r = SurfaceRenderer(ctx, topo, cfg, (240, 180))
        images[on] = r.render(frame, pose).astype(np.float32).mean(axis=2)
        r.release()
        assert ctx.error == "GL_NO_ERROR"
    rows = np.flatnonzero(images[False].std(axis=1) > 5)   # rows where the plane is drawn
    far = (slice(rows.min() + 2, rows.min() + 12), slice(60, 180))   # the horizon side
    focal = (slice(85, 95), slice(60, 180))                          # around the target
    kept = {name: _sharpness(images[True][r]) / _sharpness(images[False][r]) for name, r in
            (("far", far), ("focal", focal))}
    assert kept["focal"] > 0.75, kept         # the focal plane keeps most of its detail
    assert kept["far"] < kept["focal"] - 0.2, kept  # far detail loses clearly more


def test_depth_of_field_golden(ctx):
    from golden import GOLDEN_SIZE, POSES, assert_matches_golden, synthetic_scene

    from lossfilm.render.scene.scene import look_config
    from lossfilm.render.gl.renderer import SurfaceRenderer

    topo, frame = synthetic_scene(48)
    cfg = look_config(overlays={"counter": "none", "loss": False}, contours={"enabled": True},
                      dof={"enabled": True, "focus": "ball", "fstop": 1.4, "samples": 8})
    r = SurfaceRenderer(ctx, topo, cfg, GOLDEN_SIZE)
    img = r.render(frame, POSES["default"])
    r.release()
    assert_matches_golden("dof", img)


def test_tiled_stills_keep_the_depth_of_field_without_seams(ctx):
    from golden import POSES, compare, synthetic_scene

    from lossfilm.render.gl.stills import render_still
    from lossfilm.render.scene.scene import look_config

    topo, frame = synthetic_scene(48)
    common = dict(overlays={"counter": "none", "loss": False}, contours={"enabled": True, "count": 24})
    lens = look_config(dof={"enabled": True, "focus": "ball", "fstop": 1.4, "samples": 8}, **common)
    size = (320, 180)
    whole = render_still(ctx, topo, frame, POSES["default"], lens, size)
    tiled = render_still(ctx, topo, frame, POSES["default"], lens, size, tile=64)  # 5 x 3 tiles
    pinhole = render_still(ctx, topo, frame, POSES["default"], look_config(**common), size, tile=64)
    assert ctx.error == "GL_NO_ERROR"
    ratio, worst = compare(whole, tiled, pixel_tolerance=6)
    assert ratio < 0.002, (ratio, worst)          # the same picture, tile joins included
    seams = np.abs(whole.astype(int) - tiled.astype(int)).max(axis=2)[:, 62:67]
    assert seams.max() <= 24, seams.max()
    far = (slice(28, 60), slice(60, 280))             # the far rim, behind the ball in focus
    assert _laplacian_variance(tiled[far]) < 0.5 * _laplacian_variance(pinhole[far])  # blurred there


def _laplacian_variance(rgb: np.ndarray) -> float:
    g = rgb.astype(np.float32).mean(axis=2)
    return float((g[1:-1, :-2] + g[1:-1, 2:] + g[:-2, 1:-1] + g[2:, 1:-1] - 4 * g[1:-1, 1:-1]).var())
