"""Undersides: lit by the mirrored lights seen from below, as they are seen from above."""

from __future__ import annotations

import numpy as np
from golden import grid_indices, height_normals

from lossfilm.render.mesh.frame import Bounds, CameraPose, Frame, Topology



def test_an_underside_seen_through_the_cut_edge_stays_in_the_shade_and_from_below_reads(ctx):
    """A sheet whose near half curls up into a lip higher than the eye: from above the
    lowest point the eye sees the lip's underside, which no light of the scene reaches (the
    path tracer leaves it dark, benchmarks/pathtrace.py); from under the sheet the same
    underside is lit by the lights mirrored through the plane, so a view from below reads."""
    from lossfilm.render.gl.renderer import SurfaceRenderer
    from lossfilm.render.scene.scene import look_config

    n = 65
    x = np.linspace(-1.0, 1.0, n, dtype=np.float32)
    _, Y = np.meshgrid(x, x)
    z = np.where(Y < 0.0, 0.9 * Y ** 2, 0.0).astype(np.float32)  # the lip rises toward -y
    topo = Topology(x=x, y=x, indices=grid_indices(n, n), bounds=Bounds((-1, -1, 0.0), (1, 1, 0.9)))
    frame = Frame(index=0, time=0.0, position=0.0, heights=z, normals=height_normals(z, x, x),
                  scalar=np.full_like(z, 0.5), minimum=np.zeros(3, np.float32))
    cfg = look_config("clay", overlays={"counter": "none", "loss": False}, floor={"enabled": False},
                      base={"enabled": False}, background={"kind": "transparent"})
    r = SurfaceRenderer(ctx, topo, cfg, (160, 120), transparent=True)
    above = r.render(frame, CameraPose(eye=(0.0, -3.0, 0.5), target=(0.0, 0.0, 0.3), fov_deg=40.0))
    below = r.render(frame, CameraPose(eye=(0.0, -3.0, -1.0), target=(0.0, 0.0, 0.3), fov_deg=40.0))
    r.release()
    assert ctx.error == "GL_NO_ERROR"
    # the lip's underside fills the middle of the frame from both eyes (the eye at 0.5 is below its rim at 0.9)
    window = (slice(45, 75), slice(60, 100))
    assert above[window][..., 3].min() > 250 and below[window][..., 3].min() > 250
    dark, lit = above[window][..., :3].mean(), below[window][..., :3].mean()
    assert dark < 0.6 * lit, f"from above the underside is {dark:.0f}, from below {lit:.0f}"



def test_crests_seen_from_above_on_a_dense_grid_are_lit_as_tops(ctx, monkeypatch):
    """Dense grids light each vertex (surface.vert); which side a pixel shows is its
    triangle's facing. Deciding it per vertex, by the vertex normal facing away from the
    eye, lit front-facing triangles where creases cross as undersides: dark dots that the
    same grid lit per pixel does not have."""
    from scipy.ndimage import minimum_filter

    from lossfilm.render.gl import shading
    from lossfilm.render.gl.renderer import SurfaceRenderer
    from lossfilm.render.scene.scene import look_config

    n = 513  # dense: lit per vertex
    x = np.linspace(-1.0, 1.0, n, dtype=np.float32)
    X, Y = np.meshgrid(x, x)
    # a bowl cut by three families of V-shaped creases (|sin|), log-scaled as a loss
    loss = (0.2 + 0.8 * (X ** 2 + 0.6 * Y ** 2) + 0.30 * np.abs(np.sin(8 * X + 4 * Y))
            + 0.22 * np.abs(np.sin(9 * Y - 3 * X + 1.0)) + 0.12 * np.abs(np.sin(11 * X - 7 * Y + 2.0)))
    z = 0.5 * np.log(loss)
    z = (z - z.min()).astype(np.float32)
    topo = Topology(x=x, y=x, indices=grid_indices(n, n), bounds=Bounds((-1, -1, 0.0), (1, 1, 1.2)))
    frame = Frame(index=0, time=0.0, position=0.0, heights=z, normals=height_normals(z, x, x),
                  scalar=np.full_like(z, 0.5), minimum=np.zeros(3, np.float32))
    cfg = look_config("clay", overlays={"counter": "none", "loss": False}, floor={"enabled": False},
                      base={"enabled": False}, background={"kind": "transparent"}, msaa=1,
                      light={"shadows": False}, occlusion={"enabled": False})
    pose = CameraPose(eye=(1.9, -1.75, 2.3), target=(0.0, 0.0, 0.3), fov_deg=40.0)
    images = []
    for dense in (shading.DENSE_GRID, n + 1):  # the same triangles, lit per vertex, then per pixel
        monkeypatch.setattr(shading, "DENSE_GRID", dense)
        r = SurfaceRenderer(ctx, topo, cfg, (1280, 720), transparent=True)
        images.append(r.render(frame, pose).astype(np.float64))
        r.release()
    assert ctx.error == "GL_NO_ERROR"
    vertex, pixel = images
    inside = (minimum_filter(vertex[..., 3], 3) == 255) & (minimum_filter(pixel[..., 3], 3) == 255)
    lum_v, lum_p = vertex[..., :3].mean(axis=-1), pixel[..., :3].mean(axis=-1)
    dots = inside & (lum_v < 0.8 * lum_p)  # per pixel and per vertex agree within a few %
    assert inside.mean() > 0.25
    assert dots.sum() <= 3, f"{int(dots.sum())} dark dots lit per vertex, at {np.argwhere(dots)[:4].tolist()}"
