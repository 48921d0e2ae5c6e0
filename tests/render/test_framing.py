"""Automatic framing of orbits: the closed-form fit, and coverage on rendered stills."""

from __future__ import annotations

import numpy as np

from lossfilm.render.camera.framing import FRAME_ASPECT, fit_camera, fit_distances


def _project(points, target, toward_eye, d, fov_deg, aspect=FRAME_ASPECT):
    """Normalized image coordinates (x, y in [-1, 1] inside the frame) of points (k, 3)."""
    u = toward_eye / np.linalg.norm(toward_eye)
    eye = target + d * u
    f = -u
    r = np.cross(f, [0, 0, 1.0])
    r /= np.linalg.norm(r)
    up = np.cross(r, f)
    q = points - eye
    depth = q @ f
    t = np.tan(np.radians(fov_deg) / 2)
    return (q @ r) / depth / (t * aspect), (q @ up) / depth / t


def test_fit_keeps_every_point_inside_the_margin_and_touches_it():
    rng = np.random.default_rng(0)
    pts = [rng.uniform(-1, 1, (200, 3)) * [1, 1, 0.3] for _ in range(3)]
    targets = np.array([[0.0, 0.0, 0.0], [0.5, -0.3, 0.1], [-0.7, 0.2, 0.0]])
    dirs = np.array([[0.8, -0.2, 0.5], [-0.3, -0.9, 0.6], [0.0, 0.6, 0.9]])
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    d = fit_distances(pts, targets, dirs, 35.0, margin=0.1)
    for i in range(3):
        x, y = _project(pts[i], targets[i], dirs[i], d[i], 35.0)
        worst = max(np.abs(x).max(), np.abs(y).max())
        assert worst <= 0.9 + 1e-9 and worst > 0.9 - 1e-6  # inside the margin, and tight


def test_centering_moves_an_off_centre_target_and_brings_the_camera_closer():
    x = np.linspace(-1, 1, 15)
    X, Y = np.meshgrid(x, x)
    pts = [np.column_stack([X.ravel(), Y.ravel(), 0.1 * X.ravel() ** 2])]
    target = np.array([[0.8, 0.7, 0.0]])  # near a corner
    u = np.array([[0.0, -0.8660254, 0.5]])
    d0 = fit_distances(pts, target, u, 35.0, 0.02)
    moved, d1 = fit_camera(pts, target, u, 35.0, 0.02)
    assert d1[0] < 0.8 * d0[0]
    xs, ys = _project(pts[0], moved[0], u[0], d1[0], 35.0)
    assert abs(xs.max() + xs.min()) < 0.05 and max(np.abs(xs).max(), np.abs(ys).max()) <= 0.98 + 1e-6



def _miniature(duration: float, fps: float):
    """The quickstart's landscape in miniature (see :func:`_coverages`) for a film of ``duration`` s."""
    from lossfilm.compute.store.sequence import SurfaceSequence
    from lossfilm.render.mesh.film_surface import FilmSurface
    from lossfilm.render.mesh.heights import HeightConfig
    from lossfilm.render.scene.mesh import MeshConfig

    a = b = np.linspace(-1.0, 1.0, 21)
    A, B = np.meshgrid(a, b)
    s = np.arange(5.0)
    cx = 0.15 - 0.04 * s
    loss = np.stack([0.05 + (0.3 + k) * ((A - cx[k]) ** 2 + 0.6 * (B + 0.2) ** 2) + 0.05 * np.sin(4 * A)
                     for k in range(5)])
    seq = SurfaceSequence(a=a, b=b, loss=loss, epochs=s, steps=s.astype(int), labels=[f"e{k}" for k in range(5)],
                          ball=np.stack([cx, np.full(5, -0.2)], axis=1))
    return FilmSurface(seq, MeshConfig(resolution=48, height=HeightConfig(scale="log", relief=0.35)), duration, fps)


def test_a_dive_ends_under_the_minimum_with_the_surface_framed(ctx):
    """The end of a dive is framed as an orbit is: from below the minimum, the whole surface in
    view, centred, covering at least 40% of a transparent still without overlays."""
    from lossfilm.render.camera.path import CameraPath
    from lossfilm.render.gl.stills import render_still
    from lossfilm.render.scene.camera import CameraConfig, DiveShot
    from lossfilm.render.scene.scene import look_config

    fps, duration = 6.0, 4.0
    surface = _miniature(duration, fps)
    look = look_config(overlays={"counter": "none", "loss": False}, base={"enabled": False}, msaa=0)
    cover = {}
    for framing in ("fit", "fixed"):
        path = CameraPath(CameraConfig(shots=(DiveShot(duration=duration, framing=framing),)), surface, fps)
        pose = path.pose_at(duration)
        minimum = surface.landmarks_at(duration)["minimum"]
        assert pose.eye[2] < minimum[2] and pose.target[2] > pose.eye[2]  # under the minimum, looking up
        img = render_still(ctx, surface.topology, surface.frame_at(duration, 0), pose, look, (192, 108),
                           transparent=True)
        alpha = img[..., 3] > 0
        cover[framing] = float(alpha.mean())
        if framing == "fit":  # all of it in view, nothing touches the frame's edge
            assert not (alpha[0].any() or alpha[-1].any() or alpha[:, 0].any() or alpha[:, -1].any())
            rows, cols = np.nonzero(alpha)
            assert abs((cols.min() + cols.max()) / 2 - 96) < 8 and abs((rows.min() + rows.max()) / 2 - 54) < 8
    assert ctx.error == "GL_NO_ERROR"
    assert cover["fit"] >= 0.40, cover


def _coverages(ctx, framing: str) -> list[float]:
    """Opaque fraction of transparent 192x108 stills (no overlays, no plinth) of a default orbit.

    The landscape is the quickstart's in miniature: a basin near the middle that deepens
    over five states, log heights with relief 0.35, the ball in the basin, the
    quickstart's orbit (elevation 30, half a turn, target ball).
    """
    from lossfilm.compute.store.sequence import SurfaceSequence
    from lossfilm.render.scene.scene import look_config
    from lossfilm.render.mesh.heights import HeightConfig
    from lossfilm.render.mesh.film_surface import FilmSurface
    from lossfilm.render.scene.mesh import MeshConfig
    from lossfilm.render.scene.camera import CameraConfig, OrbitShot, camera_duration
    from lossfilm.render.camera.path import CameraPath
    from lossfilm.render.gl.stills import render_still

    a = b = np.linspace(-1.0, 1.0, 21)
    A, B = np.meshgrid(a, b)
    s = np.arange(5.0)
    cx = 0.15 - 0.04 * s  # the minimum and the ball near the middle (around: current keeps it there)
    loss = np.stack([0.05 + (0.3 + k) * ((A - cx[k]) ** 2 + 0.6 * (B + 0.2) ** 2) + 0.05 * np.sin(4 * A)
                     for k in range(5)])
    seq = SurfaceSequence(a=a, b=b, loss=loss, epochs=s, steps=s.astype(int), labels=[f"e{k}" for k in range(5)],
                          ball=np.stack([cx, np.full(5, -0.2)], axis=1))
    cfg = CameraConfig(shots=(OrbitShot(duration=4.0, elevation=30.0, turns=0.5, target="ball", framing=framing),))
    fps = 6.0
    surface = FilmSurface(seq, MeshConfig(resolution=48, height=HeightConfig(scale="log", relief=0.35)), camera_duration(cfg), fps)
    path = CameraPath(cfg, surface, fps)
    look = look_config(overlays={"counter": "none", "loss": False}, base={"enabled": False}, msaa=0)
    out = []
    for t in np.linspace(0.0, 4.0, 7):
        img = render_still(ctx, surface.topology, surface.frame_at(t, 0), path.pose_at(t), look, (192, 108),
                           transparent=True)
        alpha = img[..., 3] > 0
        if framing == "fit":  # all of it in view: nothing touches the frame's edge
            assert not (alpha[0].any() or alpha[-1].any() or alpha[:, 0].any() or alpha[:, -1].any())
        out.append(float(alpha.mean()))
    assert ctx.error == "GL_NO_ERROR"
    return out


def test_default_orbit_covers_40_percent_of_every_frame(ctx):
    fit = _coverages(ctx, "fit")
    old = _coverages(ctx, "sphere")
    assert min(fit) >= 0.40, fit
    assert min(fit) > min(old) + 0.05, (fit, old)   # the older fixed distance left the frame emptier
    fill = _coverages(ctx, "fill")
    assert min(fill) > max(fit)                      # fill runs off the frame
