"""Benchmark: workload 2 of BENCHMARKS.md, a 4K frame of a 512x512-vertex height field.

lossfilm's renderer against PyVista's offscreen plotter (VTK on EGL), same process,
alternating, same surface, 3840x2160, 4x MSAA, one directional light, colormapped, read
back to host memory; every frame first replaces the heights and colors (a film changes
the surface every frame). Reports median seconds per frame without and with H.264
encoding (imageio-ffmpeg, same settings for both), the fps ratio, and lossfilm's full
look (the default, ``cinematic``: shadows, occlusion, plinth, sky reflection, AgX, fog,
fill and rim lights, ball, trajectory, text) for reference.

In the same run, workload 5's second half: the full look against the previous default
(the frame-time budget is 2x) and against PyVista's nearest equivalents of it, at the
same size and MSAA: a PBR material (the look's roughness and metalness) lit by the key
light and by lossfilm's sky dome as a float environment texture (benchmarks/_sky.py),
with SSAO (kernel 64, the look's occlusion reach), shadows and depth of field. PyVista
(0.49) refuses depth of field together with SSAO ("Depth of field pass is incompatible
with the SSAO pass"): the whole set is tried and reported, then each half of it is
measured (SSAO + shadows, shadows + depth of field). Under its SSAO pass VTK (9.7) draws
single-sampled: MSAA 4 is asked for but the image is the same as without it (measured
here), so that peer does less anti-aliasing than lossfilm. Then the cost per sample of
motion blur and of depth of field (render.per_sample_costs, as in look.py), and from it
lossfilm's frame with its default depth of field next to PyVista's.

    python benchmarks/render.py [--reps 5] [--size 3840 2160] [--no-encode]
    python benchmarks/render.py --docs-stills      # writes docs/still_{top,flyby,below}.png
    python benchmarks/render.py --vertices 1025    # a refined 1025² grid, next to 512²

PyVista lives in the benchmark environment only (``pip install .[bench]``, or a venv
such as ``build/venv-bench`` that sees the project's packages); without it the peer is
skipped with a message.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lossfilm.render.mesh.frame import Bounds, CameraPose, Frame, Topology  # noqa: E402
from lossfilm.render.gl.context import create_context  # noqa: E402
from lossfilm.render.scene.look import (BackgroundConfig, BallConfig, LightConfig, OverlayConfig, RenderConfig,  # noqa: E402
                         TrajectoryConfig)
from lossfilm.render.gl.renderer import SurfaceRenderer  # noqa: E402
from lossfilm.render.scene.scene import look_config  # noqa: E402
from lossfilm.render.color.srgb import linear_rgb  # noqa: E402
from lossfilm.render.gl.frusta import light_direction  # noqa: E402
from _machine import cpu_model, load_average  # noqa: E402 - benchmarks run as scripts

N = 512
SIZE = (3840, 2160)
MSAA = 4
EYE, TARGET = (2.3, -2.1, 1.5), (0.0, 0.0, 0.05)
#: the benchmark's camera (also the path-traced reference's, benchmarks/pathtrace.py)
POSE = CameraPose(eye=EYE, target=TARGET, fov_deg=40.0)
RESULTS = ROOT / "benchmarks" / "RESULTS.md"


def loss_like(n: int, phase: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A synthetic loss landscape: two basins in a bowl, ripples, log-scaled heights.

    Returns x (n,), y (n,), z (n, n) float32 in world units (plane [-1, 1]^2).
    """
    x = np.linspace(-1.0, 1.0, n)
    X, Y = np.meshgrid(x, x)
    loss = (0.14 + 0.9 * (X**2 + 0.6 * Y**2)
            - 0.07 * np.exp(-((X - 0.35) ** 2 + (Y + 0.2) ** 2) / 0.04)
            - 0.05 * np.exp(-((X + 0.45) ** 2 + (Y - 0.35) ** 2) / 0.06)
            + 0.05 * (np.sin(7 * X + phase) * np.cos(6 * Y)) ** 2
            + 0.015 * np.sin(9 * X + 4 * Y + phase))
    z = 0.28 * np.log(loss)
    return x.astype(np.float32), x.astype(np.float32), (z - z.min()).astype(np.float32)


def creased_like(n: int, phase: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A rougher landscape: the same bowl cut by two families of V-shaped valleys (creases,
    as on the chaotic surfaces of deep nets without skip connections), log-scaled heights.

    Returns x (n,), y (n,), z (n, n) float32 in world units (plane [-1, 1]^2).
    """
    x = np.linspace(-1.0, 1.0, n)
    X, Y = np.meshgrid(x, x)
    loss = (0.2 + 0.8 * (X**2 + 0.6 * Y**2)
            + 0.12 * np.abs(np.sin(6 * X + 3 * Y + phase))
            + 0.09 * np.abs(np.sin(7 * Y - 2 * X + 1.0)))
    z = 0.45 * np.log(loss)
    return x.astype(np.float32), x.astype(np.float32), (z - z.min()).astype(np.float32)


def rugged_like(n: int, phase: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A rugged landscape: the bowl cut by three families of deep V-shaped creases crossing
    each other (pits and crests everywhere, as where a net without skip connections turns
    chaotic), log-scaled heights. Much of each vertex's sky is hidden here.

    Returns x (n,), y (n,), z (n, n) float32 in world units (plane [-1, 1]^2).
    """
    x = np.linspace(-1.0, 1.0, n)
    X, Y = np.meshgrid(x, x)
    loss = (0.2 + 0.8 * (X**2 + 0.6 * Y**2)
            + 0.30 * np.abs(np.sin(8 * X + 4 * Y + phase))
            + 0.22 * np.abs(np.sin(9 * Y - 3 * X + 1.0))
            + 0.12 * np.abs(np.sin(11 * X - 7 * Y + 2.0)))
    z = 0.5 * np.log(loss)
    return x.astype(np.float32), x.astype(np.float32), (z - z.min()).astype(np.float32)


def normals_of(z: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    gy, gx = np.gradient(z, y, x)
    n = np.stack([-gx, -gy, np.ones_like(z)], axis=-1)
    return (n / np.linalg.norm(n, axis=-1, keepdims=True)).astype(np.float32)


def make_scene(n: int = N, frames: int = 2, surface=loss_like):
    """Topology and ``frames`` different frames of the synthetic landscape (``surface``:
    :func:`loss_like`, :func:`creased_like` or :func:`rugged_like`)."""
    x, y, z0 = surface(n)
    zmax = float(z0.max()) * 1.1
    i = np.arange(n * n, dtype=np.uint32).reshape(n, n)
    a, b, c, d = i[:-1, :-1].ravel(), i[:-1, 1:].ravel(), i[1:, :-1].ravel(), i[1:, 1:].ravel()
    indices = np.concatenate([np.stack([a, b, d], 1), np.stack([a, d, c], 1)]).astype(np.uint32)
    topo = Topology(x=x, y=y, indices=indices, bounds=Bounds((-1.0, -1.0, 0.0), (1.0, 1.0, zmax)))
    out = []
    for k in range(frames):
        _, _, z = surface(n, phase=0.4 * k)
        t = np.linspace(0.0, 1.0, 80)
        px, py = 0.85 * np.cos(2.5 * t) * (1 - t) + 0.35 * t, 0.85 * np.sin(2.5 * t) * (1 - t) - 0.2 * t
        jx = np.clip(((px + 1) / 2 * (n - 1)).round().astype(int), 0, n - 1)
        jy = np.clip(((py + 1) / 2 * (n - 1)).round().astype(int), 0, n - 1)
        traj = np.stack([px, py, z[jy, jx]], axis=1).astype(np.float32)
        out.append(Frame(index=k, time=k / 30.0, position=float(k), heights=z, normals=normals_of(z, x, y),
                         scalar=np.clip(z / zmax, 0, 1).astype(np.float32),
                         minimum=np.array([0.35, -0.2, float(z.min())], np.float32), ball=traj[-1].copy(),
                         trajectory=traj, values={"epoch": 12 + k, "loss": 0.0423}, label=f"epoch {12 + k}"))
    return topo, out


TEXT = {"title": "Loss landscape", "caption": "lossfilm"}
#: the default before the cinematic work, as keys of today's renderer (its Blinn-Phong highlight
#: has no key: the GGX one stays, a small difference at the default gloss)
PREVIOUS = {"tonemap": "filmic", "occlusion": {"enabled": False}, "base": {"enabled": False},
            "light": {"environment": "none"}}


def matched_look() -> RenderConfig:
    """What PyVista draws: one directional light + ambient, colormap, MSAA, white background."""
    return RenderConfig(
        msaa=MSAA, fog=0.0, tonemap="none", background=BackgroundConfig(kind="solid", top="#ffffff"),
        light=LightConfig(shadows=False, fill=0.0, rim=0.0, ambient=0.2, intensity=1.0, color="#ffffff"),
        ball=BallConfig(enabled=False), trajectory=TrajectoryConfig(enabled=False),
        overlays=OverlayConfig(counter="none", loss=False),
    )


def full_look() -> RenderConfig:
    return RenderConfig(msaa=MSAA, overlays=OverlayConfig(title="Loss landscape", caption="lossfilm"))


class Encoder:
    """H.264 through imageio-ffmpeg into a temporary file (same settings for both sides)."""

    def __init__(self, size: tuple[int, int], path: Path) -> None:
        import imageio_ffmpeg

        self.gen = imageio_ffmpeg.write_frames(str(path), size, fps=30, codec="libx264", pix_fmt_in="rgb24",
                                               macro_block_size=1, output_params=["-preset", "veryfast", "-crf", "20"])
        self.gen.send(None)

    def __call__(self, image: np.ndarray) -> None:
        self.gen.send(np.ascontiguousarray(image))

    def close(self) -> None:
        self.gen.close()


class Ours:
    def __init__(self, ctx, topo, frames, cfg, size):
        self.ctx = ctx
        self.r = SurfaceRenderer(ctx, topo, cfg, size)
        self.frames = frames
        self.out = np.empty((size[1], size[0], 3), np.uint8)
        self.pose = POSE
        self.k = 0

    def frame(self) -> np.ndarray:
        self.r.render_into(self.frames[self.k % len(self.frames)], self.pose, self.out)
        self.k += 1
        return self.out

    def close(self):
        self.r.release()


class _Static:
    """The benchmark's frame at every time, and its camera at every time (per-sample cost only)."""

    def __init__(self, frame, pose):
        self.frame, self.pose, self.duration = frame, pose, 1e9

    def frame_at(self, time, index=0):
        return self.frame

    def pose_at(self, time):
        return self.pose


def per_sample_costs(ctx, topo, frames, size, reps: int, samples: int = 4) -> dict[str, float]:
    """Seconds per extra sample of depth of field and of motion blur (cinematic, 4K)."""
    from lossfilm.render.gl.shutter import render_blurred
    from lossfilm.render.scene.looks import MotionBlurConfig

    base = Ours(ctx, topo, frames, look_config(msaa=MSAA, overlays=TEXT), size)
    dof = Ours(ctx, topo, frames, look_config(msaa=MSAA, overlays=TEXT, dof={"enabled": True, "samples": samples}),
               size)
    still = _Static(frames[0], base.pose)
    blur = MotionBlurConfig(enabled=True, samples=samples)
    t_base, t_dof, t_blur = [], [], []
    for _ in range(reps):
        for out, fn in ((t_base, base.frame), (t_dof, dof.frame),
                        (t_blur, lambda: render_blurred(base.r, still, still, 0, 30.0, blur, base.out))):
            t = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t)
    b = statistics.median(t_base)
    costs = {"frame": b, "dof per sample": statistics.median(t_dof) / samples,
             "motion blur per sample": statistics.median(t_blur) / samples}
    base.close()
    dof.close()
    return costs


#: PyVista's nearest equivalents of the cinematic look (effects: ssao, shadows, dof on top of a
#: PBR material lit by lossfilm's sky dome as an environment texture). PyVista refuses depth
#: of field together with SSAO, so the whole set is tried and reported, then each without one.
PEERS = {"pyvista offscreen": (),
         "pyvista pbr+sky+ssao+shadows+dof": ("ssao", "shadows", "dof"),
         "pyvista pbr+sky+ssao+shadows": ("ssao", "shadows"),
         "pyvista pbr+sky+shadows+dof": ("shadows", "dof")}
#: SSAO samples: a quarter of PyVista's default (256), about the samples of lossfilm's
#: occlusion (8 directions x 10 steps); the cheaper setting favours PyVista
SSAO_KERNEL = 64


def cinematic_peer(p, poly, effects: tuple[str, ...]) -> None:
    """Set up plotter ``p`` for the cinematic look's nearest PyVista equivalent.

    The default look's material (roughness, metalness), key light (direction, color,
    intensity; VTK's PBR divides the diffuse part by pi, lossfilm does not), its sky dome
    as a float equirectangular texture with +z up, and the ``effects``: ``ssao`` (reach =
    lossfilm's occlusion radius), ``shadows``, ``dof``. Raises RuntimeError where PyVista
    refuses a combination.
    """
    import pyvista as pv

    from _sky import environment_image  # noqa: E402 - benchmarks/ is on the path

    cfg = RenderConfig()
    p.add_mesh(poly, scalars="s", cmap="viridis", clim=(0, 1), show_scalar_bar=False, pbr=True,
               metallic=cfg.material.metalness, roughness=cfg.material.roughness)
    key = light_direction(cfg.light.azimuth, cfg.light.elevation)
    p.add_light(pv.Light(position=tuple(key), focal_point=(0, 0, 0), light_type="scene light", positional=False,
                         color=tuple(float(c) for c in linear_rgb(cfg.light.color)[:3]),
                         intensity=np.pi * cfg.light.intensity))
    sky = pv.Texture(environment_image(cfg))
    sky.SetMipmap(True)
    sky.SetInterpolate(True)
    p.set_environment_texture(sky, is_srgb=False)
    p.renderer.SetEnvironmentUp(0.0, 0.0, 1.0)
    p.renderer.SetEnvironmentRight(1.0, 0.0, 0.0)
    if "ssao" in effects:
        p.enable_ssao(radius=cfg.occlusion.radius * 2.0, kernel_size=SSAO_KERNEL)
    if "shadows" in effects:
        p.enable_shadows()
    if "dof" in effects:
        p.enable_depth_of_field()


class PyVistaPeer:
    """PyVista/VTK drawing the same triangles with the same normals and colors per frame.

    The PolyData is built from lossfilm's own topology (not a StructuredGrid that
    ``smooth_shading`` would copy), so replacing its points, normals and scalars each
    frame really re-uploads them, as lossfilm does.
    """

    def __init__(self, topo, frames, size, effects: tuple[str, ...] = ()):
        os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
        import pyvista as pv

        X, Y = np.meshgrid(topo.x, topo.y)
        self.xy = np.column_stack([X.ravel(), Y.ravel()]).astype(np.float32)
        m = topo.indices.shape[0]
        faces = np.hstack([np.full((m, 1), 3, np.int64), topo.indices.astype(np.int64)]).ravel()
        self.frames = frames
        self.poly = pv.PolyData(self._points(frames[0]), faces)
        self.poly.point_data["s"] = frames[0].scalar.ravel()
        self.poly.point_data.active_normals = frames[0].normals.reshape(-1, 3)
        p = pv.Plotter(off_screen=True, window_size=size, lighting="none")
        if effects:
            cinematic_peer(p, self.poly, effects)
        else:
            actor = p.add_mesh(self.poly, scalars="s", cmap="viridis", clim=(0, 1), show_scalar_bar=False,
                               ambient=0.2, diffuse=1.0, specular=0.12)
            actor.prop.interpolation = "phong"  # per-pixel lighting from the given normals
            p.add_light(pv.Light(position=(-1.0, -1.0, 1.2), focal_point=(0, 0, 0), light_type="scene light",
                                 positional=False))
        p.enable_anti_aliasing("msaa", multi_samples=MSAA)
        p.camera_position = [EYE, TARGET, (0, 0, 1)]
        p.camera.view_angle = 40.0
        p.render()
        self.p = p
        caps = p.render_window.ReportCapabilities()
        self.renderer_name = next((line.split(":", 1)[1] for line in caps.splitlines()
                                   if "renderer string" in line), "VTK (EGL)")
        self.k = 0

    def _points(self, frame) -> np.ndarray:
        return np.column_stack([self.xy, frame.heights.ravel()])

    def frame(self) -> np.ndarray:
        f = self.frames[self.k % len(self.frames)]
        self.k += 1
        self.poly.points = self._points(f)
        self.poly.point_data.active_normals = f.normals.reshape(-1, 3)
        self.poly.point_data["s"] = f.scalar.ravel()
        self.p.render()
        return self.p.screenshot(return_img=True)

    def close(self):
        self.p.close()


def _peer_process(conn, size, encode_path, effects=()) -> None:
    """Child process: PyVista in its own process, so VTK's EGL context never meets ours."""
    try:
        topo, frames = make_scene(N, frames=2)
        peer = PyVistaPeer(topo, frames, size, effects)
    except ImportError as exc:
        conn.send(("missing", str(exc)))
        return
    except RuntimeError as exc:  # a combination of render passes PyVista refuses
        conn.send(("failed", str(exc)))
        return
    conn.send(("ready", peer.renderer_name.strip()))
    while True:
        cmd = conn.recv()
        if cmd == "stop":
            break
        if isinstance(cmd, tuple):  # ("encode", n): seconds per frame, encoder flushed
            conn.send(encoded_seconds_per_frame(peer, size, Path(encode_path), cmd[1]))
            continue
        t = time.perf_counter()
        peer.frame()
        conn.send(time.perf_counter() - t)
    peer.close()
    conn.send("stopped")


class RemotePeer:
    """Drives :func:`_peer_process`; ``frame`` returns the seconds measured in the child."""

    def __init__(self, size, encode_path, effects=()):
        import multiprocessing as mp

        spawn = mp.get_context("spawn")
        self.conn, child = spawn.Pipe()
        self.proc = spawn.Process(target=_peer_process, args=(child, size, encode_path, effects), daemon=True)
        self.proc.start()
        status, info = self.conn.recv()
        if status in ("missing", "failed"):
            self.proc.join()
            raise (ImportError if status == "missing" else RuntimeError)(info)
        self.renderer_name = info

    def frame(self) -> float:
        self.conn.send("frame")
        return self.conn.recv()

    def encoded(self, n: int) -> float:
        self.conn.send(("encode", n))
        return self.conn.recv()

    def close(self):
        self.conn.send("stop")
        self.conn.recv()
        self.proc.join()


def encoded_seconds_per_frame(side, size, path: Path, n: int) -> float:
    """Render ``n`` frames into H.264 and wait for the encoder to finish: wall s/frame."""
    t = time.perf_counter()
    encoder = Encoder(size, path)
    for _ in range(n):
        encoder(side.frame())
    encoder.close()
    return (time.perf_counter() - t) / n


def timed(fn, reps: int) -> list[float]:
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def start_peers(size, encode_path: str) -> tuple[dict, dict]:
    """The PyVista peers of :data:`PEERS` that start (name: RemotePeer), and those VTK refused
    (name: its message); none without PyVista."""
    peers, refused = {}, {}
    for name, effects in PEERS.items():
        try:
            peers[name] = RemotePeer(size, "" if effects else encode_path, effects)
        except ImportError:
            print("PyVista not installed in this environment: peers skipped "
                  "(pip install '.[bench]', or run with build/venv-bench/bin/python)")
            break
        except RuntimeError as exc:
            refused[name] = str(exc)
            print(f"{name}: refused by PyVista: {exc}")
    return peers, refused


def cinematic_row(med: dict, refused: dict, per_sample: dict) -> str:
    """The row's part on the cinematic look: PyVista's equivalents, the previous look, per sample."""
    cine = med["lossfilm (full look)"]
    parts = [f"{name.split(' ', 1)[1]} refused ({msg.rstrip('.')})" for name, msg in refused.items()]
    for name in PEERS:
        if PEERS[name] and name in med:
            parts.append(f"{name.split(' ', 1)[1]} {med[name]:.3f} s/frame, lossfilm cinematic fps "
                         f"{med[name] / cine:.2f}x")
    peers = ("; ".join(parts) + " (goal 1.5x; MSAA 4 asked everywhere, but VTK's SSAO pass draws single-sampled)"
             if parts else "pyvista skipped")
    # lossfilm's depth of field is a mean of pinhole frames: its cost is the look's lens samples
    samples = RenderConfig().dof.samples
    dof_frame = samples * per_sample["dof per sample"]
    dof_peer = med.get("pyvista pbr+sky+shadows+dof")
    dof_part = (f"; lossfilm cinematic with depth of field ({samples} lens samples) ~{dof_frame:.2f} s/frame, "
                f"fps {dof_peer / dof_frame:.2f}x pbr+sky+shadows+dof" if dof_peer else "")
    return (f" | cinematic vs previous default {cine / med['lossfilm (previous default)']:.2f}x frame time "
            f"(budget 2x) | pyvista cinematic equivalents: {peers} | per sample: motion blur "
            f"{per_sample['motion blur per sample']:.3f} s, depth of field {per_sample['dof per sample']:.3f} s"
            f"{dof_part}")


def run(reps: int, size: tuple[int, int], encode: bool) -> None:
    ctx = create_context()
    gl_renderer = ctx.info["GL_RENDERER"]
    topo, frames = make_scene(N, frames=2)
    sides = {"lossfilm (matched look)": Ours(ctx, topo, frames, matched_look(), size),
             "lossfilm (full look)": Ours(ctx, topo, frames, full_look(), size),
             "lossfilm (previous default)": Ours(ctx, topo, frames, look_config(msaa=MSAA, overlays=TEXT,
                                                                                 **PREVIOUS), size)}
    tmp = Path(tempfile.mkdtemp(prefix="lossfilm-bench-"))
    peers, refused = start_peers(size, str(tmp / "peer.mp4") if encode else "")
    sides.update(peers)
    peer = peers.get("pyvista offscreen")
    for side in sides.values():  # warm up: shader compilation, first uploads
        side.frame()
    times = {name: [] for name in sides}
    for _ in range(reps):  # alternate sides so machine load drifts hit all of them alike
        for name, side in sides.items():
            times[name].append(side.frame() if name in peers else timed(side.frame, 1)[0])
    # with encoding: workload 2's sides, each alone (an encoder left running would slow the others)
    enc_times = {}
    if encode:
        for i, name in enumerate(("lossfilm (matched look)", "lossfilm (full look)", "pyvista offscreen")):
            if name in sides:
                enc_times[name] = [peer.encoded(reps) if name in peers
                                   else encoded_seconds_per_frame(sides[name], size, tmp / f"{i}.mp4", reps)]
    med = {name: statistics.median(v) for name, v in times.items()}
    med_enc = {name: statistics.median(v) for name, v in enc_times.items()}
    for side in sides.values():
        side.close()
    per_sample = per_sample_costs(ctx, topo, frames, size, max(2, reps // 2))
    print(f"\nworkload 2: {N}x{N} vertices, {size[0]}x{size[1]}, MSAA {MSAA}, readback; "
          f"median of {reps}; GL: {gl_renderer}")
    print(f"{'side':34s} {'s/frame':>9s} {'fps':>7s} {'s/frame+enc':>12s}")
    for name in sides:
        enc = f"{med_enc[name]:12.3f}" if name in med_enc else f"{'-':>12s}"
        print(f"{name:34s} {med[name]:9.3f} {1 / med[name]:7.2f} {enc}")
    ratio = med["pyvista offscreen"] / med["lossfilm (matched look)"] if peer else float("nan")
    ratio_full = med["pyvista offscreen"] / med["lossfilm (full look)"] if peer else float("nan")
    if peer:
        print(f"fps ratio lossfilm/pyvista: matched look {ratio:.2f}x, full look {ratio_full:.2f}x "
              f"(pyvista GL: {peer.renderer_name.strip()})")
    cine = cinematic_row(med, refused, per_sample)
    print(cine.replace(" | ", "\n").strip())
    ctx.release()
    if not RESULTS.exists():
        RESULTS.write_text("# Benchmark results\n")
    peer_part = (f"pyvista {med['pyvista offscreen']:.3f} s/frame; lossfilm/pyvista fps {ratio:.2f}x "
                 f"(full look {ratio_full:.2f}x)" if peer else "pyvista skipped (not installed)")
    enc_part = ""
    if encode:
        enc_part = " | with H.264 (veryfast, flushed): " + ", ".join(f"{k.split(' (')[0] + (' ' + k.split('(')[1][:-1] if '(' in k else '')} {v:.3f}" for k, v in med_enc.items()) + " s/frame"
    row = (f"- {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC | render | {cpu_model()}, "
           f"{os.cpu_count()} cores, {gl_renderer} | {N}x{N} vertices {size[0]}x{size[1]} MSAA {MSAA} readback, "
           f"median of {reps} | lossfilm matched look {med['lossfilm (matched look)']:.3f} s/frame, full "
           f"(cinematic) look {med['lossfilm (full look)']:.3f}, previous default "
           f"{med['lossfilm (previous default)']:.3f}; {peer_part}{cine}{enc_part} | load {load_average():.1f}")
    with RESULTS.open("a") as fh:
        fh.write(row + "\n")
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"appended to {RESULTS}")


def docs_stills() -> None:
    """Three 1920x1080 stills of the synthetic landscape for the README."""
    from PIL import Image

    from lossfilm.render.scene.look import ContourConfig
    from lossfilm.render.gl.stills import render_still

    ctx = create_context()
    topo, frames = make_scene(384, frames=1)
    frame = frames[0]
    looks = {
        "top": (CameraPose(eye=(0.0, -0.02, 4.3), target=(0.0, 0.0, 0.0), up=(0.0, 1.0, 0.0), fov_deg=38.0),
                RenderConfig(colormap="viridis", contours=ContourConfig(enabled=True, count=24),
                             overlays=OverlayConfig(title="Top view", counter="epoch"))),
        "flyby": (CameraPose(eye=(1.9, -2.0, 1.05), target=(0.0, 0.05, 0.12), fov_deg=40.0),
                  RenderConfig(colormap="magma", overlays=OverlayConfig(title="Flyby", caption="lossfilm"))),
        "below": (CameraPose(eye=(1.6, -1.9, -0.85), target=(0.0, 0.0, 0.2), fov_deg=42.0),
                  RenderConfig(colormap="viridis", overlays=OverlayConfig(title="From below", loss=False))),
    }
    for name, (pose, cfg) in looks.items():
        cfg = dataclasses.replace(cfg, ball=BallConfig(radius=0.012))  # the basin is narrow
        img = render_still(ctx, topo, frame, pose, cfg, (1920, 1080), supersample=1)
        path = ROOT / "docs" / f"still_{name}.png"
        Image.fromarray(img).save(path, optimize=True)
        print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
    ctx.release()


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--size", type=int, nargs=2, default=SIZE)
    ap.add_argument("--no-encode", action="store_true", help="skip the with-encoding measurement")
    ap.add_argument("--docs-stills", action="store_true", help="write docs/still_*.png and exit")
    ap.add_argument("--vertices", type=int, default=N,
                    help="vertices per side (1025: a refined grid drawn at its own resolution)")
    args = ap.parse_args(argv)
    globals()["N"] = args.vertices  # the functions below read the module's N
    if args.docs_stills:
        docs_stills()
        return
    run(args.reps, tuple(args.size), not args.no_encode)


if __name__ == "__main__":
    main()
