"""Benchmark: the clay look against a path-traced reference (workload 5 of BENCHMARKS.md).

Three surfaces (``--surface``): the workload-2 surface (the smooth analytic landscape of
``render.py``, 512x512 vertices, its normals), the same bowl cut by shallow V-shaped
creases (``render.creased_like``), and a rugged one cut by three families of deep creases
(``render.rugged_like``, pits and crests everywhere: on a smooth surface almost no sky is
hidden anywhere, so no occlusion can move the score). The smooth one is seen from
workload 2's camera (``render.POSE``: eye, target, up, vertical field of view; the same
aspect), the others from higher up (:data:`SURFACES`: no ray enters under a raised rim);
each in the clay look's lights, drawn three times at 640x360:

- **reference**: Mitsuba 3 (``scalar_rgb``), a path tracer (8 bounces, low-discrepancy
  samples), the surface a triangle mesh exported with trimesh (PLY with lossfilm's
  vertex normals), a two-sided diffuse BSDF of the clay colormap's albedo; lit by the
  look's own sky dome baked into an equirectangular float image (``envmap``,
  benchmarks/_sky.py; checked against lossfilm's formula along test directions) and by
  the key and fill lights as ``directional`` emitters of the same directions (lossfilm's
  Lambert term has no 1/pi, so a light of intensity I is an irradiance of pi I);
- **new**: lossfilm's ``clay`` look as shipped (cosine-weighted horizon occlusion, one
  bounce of the key light, the height field's exact shadow, matte);
- **old**: the same keys in the look before the cinematic work (``render.PREVIOUS``: no
  occlusion, no environment reflection; its Blinn-Phong highlight has no key left).

The plinth, ball and trajectory are off (the reference has only the surface), and
lossfilm draws with ``tonemap: none`` into a 16-bit transparent still: its tone curve is a
display transform, so the comparison is of linear light. The two clay sides differ from
their shipped frames only by that curve (AgX new, ACES filmic old), which all three
images then share: for each lossfilm image one exposure scale is fitted by least squares
to the reference's luminance over the pixels both cover (reported: 1 means the same
brightness), then all three go through one display transform (divided by the
reference's 99.5th percentile, clipped, sRGB), over black outside the surface. SSIM
(Wang et al. 2004: Gaussian window sigma 1.5, K1 0.01, K2 0.03, as scikit-image) of
that luminance is averaged over the pixels either image covers, and so is the absolute
difference of the two luminances (display values in [0, 1]: the error). The reference is the mean
of two independent half-sample renders; SSIM between the two halves is the ceiling its
noise sets. The IoU of the coverage masks (alpha > 0.5) checks the camera convention.
Where the surface's near edge shows its underside, lossfilm (as the reference) lights it
only by the ground's light: the mirrored lights are for views from under the surface.

``--parts`` adds each light alone with direct light only (Mitsuba ``max_depth`` 2: exact
shadows and sky occlusion, no bounce light, which lossfilm does not model either), at a
quarter of the samples: the sky alone is where the occlusion shows.

Times: Mitsuba's scene load (mesh, BVH) and render; lossfilm's first frame (renderer
built, shaders compiled) and its median frame afterwards, same size, 4x MSAA, read back.

    python benchmarks/pathtrace.py [--spp 2048] [--size 640 360] [--surface smooth|creased|rugged|all]
                                   [--parts] [--images] [--no-record]

2048 samples take a few minutes a surface on 2 cores. ``--images`` writes
docs/looks/pathtrace_{reference,clay_new,clay_old}.png, pathtrace_creased_*.png and
pathtrace_rugged_*.png (what
SSIM compares, in RGB).
Needs ``pip install '.[bench]'`` (Mitsuba 3).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "benchmarks"))  # for _machine, _sky; after ROOT: render.py is no package

from _machine import append_result, cpu_model, load_average  # noqa: E402
from _sky import environment_image, environment_radiance  # noqa: E402

from lossfilm.render.color.colormaps import load_colormap  # noqa: E402
from lossfilm.render.color.srgb import linear_rgb, linear_to_srgb, srgb_to_linear  # noqa: E402
from lossfilm.render.gl.context import create_context  # noqa: E402
from lossfilm.render.gl.frusta import fill_direction, light_direction  # noqa: E402
from lossfilm.render.gl.renderer import SurfaceRenderer  # noqa: E402
from lossfilm.render.scene.scene import look_config  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_render", ROOT / "benchmarks" / "render.py")
bench_render = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_render)

SIZE = (640, 360)
SPP = 2048
MAX_DEPTH = 8
#: lossfilm draws linear light (no tone curve) scaled by this, so nothing reaches 1.0
EXPOSURE = 0.25
#: what both clay sides leave out: the reference has only the surface
SURFACE_ONLY = {"msaa": bench_render.MSAA, "tonemap": "none", "exposure": EXPOSURE,
                "base": {"enabled": False}, "floor": {"enabled": False}, "ball": {"enabled": False}, "trajectory": {"enabled": False},
                "overlays": {"counter": "none", "loss": False}, "background": {"kind": "transparent"}}
SIDES = {"new": SURFACE_ONLY, "old": {**bench_render.PREVIOUS, **SURFACE_ONLY}}
#: --parts: each light alone (lossfilm's light keys, the Mitsuba emitters left out); direct
#: light only, so lossfilm's bounce light is off too
PARTS = {"sky alone": ({"intensity": 0.0, "fill": 0.0}, ("key", "fill")),
         "key alone": ({"ambient": 0.0, "fill": 0.0}, ("sky", "fill"))}
LUMA = np.array([0.2126, 0.7152, 0.0722])
#: references already rendered (outputs/ is not tracked), keyed by reference_key
CACHE = ROOT / "outputs" / "bench" / "pathtrace"
IMAGES = {"reference": "pathtrace_reference.png", "new": "pathtrace_clay_new.png", "old": "pathtrace_clay_old.png"}
#: the surfaces compared, each with its camera: workload 2's smooth landscape, and one cut by
#: creases (where the sky is hidden, so where occlusion can matter at all), seen from higher
#: up so that no ray enters under its raised rim and sees the underside
SURFACES = {"smooth": (bench_render.loss_like, bench_render.POSE),
            "creased": (bench_render.creased_like,
                        bench_render.CameraPose(eye=(1.7, -1.55, 2.5), target=(0.0, 0.0, 0.15), fov_deg=40.0)),
            "rugged": (bench_render.rugged_like,
                       bench_render.CameraPose(eye=(1.9, -1.75, 2.3), target=(0.0, 0.0, 0.3), fov_deg=40.0))}


# ---------------------------------------------------------------------------- lossfilm
def lossfilm_render(ctx, topo, frame, cfg, size, pose, reps: int = 0) -> dict:
    """lossfilm's still: premultiplied linear ``rgb`` (H, W, 3), ``alpha`` (H, W), the seconds
    of the ``first`` frame (renderer built) and the median ``frame`` of ``reps`` more (or None),
    and the fraction of covered pixels ``clipped`` at 1.0."""
    t = time.perf_counter()
    r = SurfaceRenderer(ctx, topo, cfg, size, transparent=True, bits=16)
    out = np.empty((size[1], size[0], 4), np.uint16)
    r.render_into(frame, pose, out)
    first = time.perf_counter() - t
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        r.render_into(frame, pose, out)
        times.append(time.perf_counter() - t)
    r.release()
    alpha = out[..., 3] / 65535.0
    return {"rgb": srgb_to_linear(out[..., :3] / 65535.0) / EXPOSURE * alpha[..., None], "alpha": alpha,
            "first": first, "frame": statistics.median(times) if times else None,
            "clipped": float((out[..., :3].max(axis=-1)[alpha > 0] == 65535).mean())}


def side_config(side: str, light: dict, direct_only: bool = False):
    """The clay look of ``side`` (new, old) with ``light`` keys on top (and no bounce light
    with ``direct_only``)."""
    keys = dict(SIDES[side])
    keys["light"] = {**keys.get("light", {}), **light}
    if direct_only:
        keys["occlusion"] = {**keys.get("occlusion", {}), "bounce": 0.0}
    return look_config("clay", **keys)


# ---------------------------------------------------------------------------- Mitsuba
def mitsuba_scene(mi, topo, frame, cfg, size, pose, ply: Path) -> dict:
    """The scene dict: same mesh, camera, environment, key and fill lights as ``cfg``."""
    import trimesh

    X, Y = np.meshgrid(topo.x, topo.y)
    vertices = np.column_stack([X.ravel(), Y.ravel(), frame.heights.ravel()])
    mesh = trimesh.Trimesh(vertices, topo.indices, vertex_normals=frame.normals.reshape(-1, 3), process=False)
    ply.write_bytes(trimesh.exchange.ply.export_ply(mesh, vertex_normal=True))
    light = cfg.light
    if light.rim > 0:
        raise ValueError("the rim light has no physical counterpart: compare a look without one")
    key = light_direction(light.azimuth, light.elevation)
    albedo = srgb_to_linear(load_colormap(cfg.colormap)[0])  # clay: one color
    T = mi.ScalarTransform4f()
    scene = {
        "type": "scene",
        "integrator": {"type": "path", "max_depth": MAX_DEPTH, "hide_emitters": True},
        "sensor": {"type": "perspective", "fov": pose.fov_deg, "fov_axis": "y",
                   "near_clip": pose.near, "far_clip": pose.far,
                   "to_world": T.look_at(origin=list(pose.eye), target=list(pose.target), up=list(pose.up)),
                   "sampler": {"type": "ldsampler"},  # 4x less noise than independent, measured
                   "film": {"type": "hdrfilm", "width": size[0], "height": size[1], "pixel_format": "rgba",
                            "rfilter": {"type": "box"}}},
        "surface": {"type": "ply", "filename": str(ply), "face_normals": False,  # lossfilm's normals
                    "bsdf": {"type": "twosided", "bsdf": {"type": "diffuse", "reflectance": {
                        "type": "rgb", "value": albedo.tolist()}}}},  # lit from below too, as in lossfilm
        # envmap's own frame has +y up: turned so the image's top row is the world's +z
        "sky": {"type": "envmap", "bitmap": mi.Bitmap(environment_image(cfg)),
                "to_world": T.rotate(axis=[1, 0, 0], angle=90)},
        "key": {"type": "directional", "direction": (-key).tolist(),
                "irradiance": {"type": "rgb", "value": (np.pi * linear_rgb(light.color)[:3]
                                                        * light.intensity).tolist()}},
    }
    if light.fill > 0:
        scene["fill"] = {"type": "directional", "direction": (-fill_direction(key)).tolist(),
                         "irradiance": {"type": "rgb", "value": (np.pi * light.fill
                                                                 * linear_rgb(light.sky_color)[:3]).tolist()}}
    return scene


def check_environment(mi, scene, cfg) -> float:
    """Largest relative error of Mitsuba's environment against lossfilm's, over test directions."""
    import drjit as dr

    emitter = next(e for e in scene.emitters() if e.is_environment())
    dirs = [(0, 0, 1), (0, 0, -1), (1, 0, 0), (0, -1, 0), (0.6, 0.3, 0.2), (-0.2, 0.5, -0.1),
            (0.3, -0.4, 0.45), tuple(light_direction(cfg.light.azimuth, cfg.light.elevation))]
    worst = 0.0
    for d in dirs:
        d = np.asarray(d, np.float64) / np.linalg.norm(d)
        si = dr.zeros(mi.SurfaceInteraction3f)
        si.wi = mi.Vector3f(*(-d))  # eval looks along -wi
        got = np.array(emitter.eval(si), np.float64)
        want = environment_radiance(d, cfg)
        worst = max(worst, float(np.abs(got - want).max() / max(want.max(), 1e-6)))
    return worst


def mitsuba_render(topo, frame, cfg, size, pose, spp: int, leave_out: tuple[str, ...] = (),
                   max_depth: int = MAX_DEPTH) -> dict:
    """The reference: premultiplied linear ``rgb``, ``alpha``, the two half-sample ``halves``,
    seconds to ``load`` (mesh, BVH) and ``render``, and the environment's ``env_error``.

    ``leave_out`` names emitters (sky, key, fill) to drop; ``max_depth`` 2 is direct light only.
    """
    import mitsuba as mi

    half = spp // 2
    if half < 1 or half & (half - 1) or half.bit_length() % 2 == 0:
        raise ValueError(f"spp: two halves of a power of 4 each (the low-discrepancy sampler's), got {spp}")
    mi.set_variant("scalar_rgb")
    with tempfile.TemporaryDirectory(prefix="lossfilm-pathtrace-") as tmp:
        t = time.perf_counter()
        scene = mitsuba_scene(mi, topo, frame, cfg, size, pose, Path(tmp) / "surface.ply")
        for name in leave_out:
            scene.pop(name, None)
        scene["integrator"]["max_depth"] = max_depth
        cached = CACHE / f"{reference_key(scene, Path(tmp) / 'surface.ply', cfg, spp)}.npz"
        if cached.exists():  # the same mesh, camera, lights and samples: the same reference
            with np.load(cached) as z:
                return {"rgb": z["rgb"], "alpha": z["alpha"], "halves": list(z["halves"]),
                        "load": float(z["load"]), "render": float(z["render"]),
                        "env_error": float(z["env_error"]), "cached": str(cached)}
        scene = mi.load_dict(scene)
        load = time.perf_counter() - t
    env_error = check_environment(mi, scene, cfg) if "sky" not in leave_out else 0.0
    t = time.perf_counter()
    halves = [np.array(mi.render(scene, spp=half, seed=seed), np.float64) for seed in (0, 1)]
    render = time.perf_counter() - t
    img = 0.5 * (halves[0] + halves[1])
    out = {"rgb": img[..., :3], "alpha": img[..., 3], "halves": [h[..., :3] for h in halves],
           "load": load, "render": render, "env_error": env_error}
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(cached, **{k: (np.stack(v) if k == "halves" else v) for k, v in out.items()})
    return out


def reference_key(scene: dict, ply: Path, cfg, spp: int) -> str:
    """What the reference depends on: the scene's settings, the mesh's bytes, the sky's image."""
    import hashlib

    settings = {k: v for k, v in scene.items() if k not in ("surface", "sky")}
    h = hashlib.sha256(repr((sorted(settings.items()), spp, "sky" in scene,
                             scene["surface"]["bsdf"])).encode())
    h.update(ply.read_bytes())
    h.update(np.ascontiguousarray(environment_image(cfg), np.float32).tobytes())
    return h.hexdigest()[:20]


# ---------------------------------------------------------------------------- comparison
def ssim_map(a: np.ndarray, b: np.ndarray, data_range: float = 1.0, sigma: float = 1.5) -> np.ndarray:
    """(H, W) SSIM of two (H, W) images (Wang et al. 2004, Gaussian window, as scikit-image)."""
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2

    def blur(x):
        return gaussian_filter(x, sigma, truncate=3.5)

    ma, mb = blur(a), blur(b)
    va, vb, cab = blur(a * a) - ma * ma, blur(b * b) - mb * mb, blur(a * b) - ma * mb
    return ((2 * ma * mb + c1) * (2 * cab + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2))


def exposure_fit(y: np.ndarray, ref: np.ndarray, mask: np.ndarray) -> float:
    """The scale s minimising |s y - ref|^2 over ``mask``."""
    return float((y[mask] * ref[mask]).sum() / (y[mask] ** 2).sum())


def display(rgb: np.ndarray, white: float) -> np.ndarray:
    """Linear (..., C) -> display values in [0, 1]: divided by ``white``, clipped, sRGB."""
    return linear_to_srgb(np.clip(rgb / white, 0.0, 1.0))


def compare(ref: dict, sides: dict) -> dict:
    """SSIM, exposure ``scale`` and coverage ``iou`` of each of ``sides`` (name: lossfilm_render's
    dict) against ``ref`` (mitsuba_render's), the reference's own ``noise`` SSIM, and the
    ``display`` images compared."""
    y_ref = ref["rgb"] @ LUMA
    cover_ref = ref["alpha"] > 0.5
    white = float(np.percentile(y_ref[cover_ref], 99.5))
    halves = [display(h @ LUMA, white) for h in ref["halves"]]
    out = {"noise": float(ssim_map(*halves)[cover_ref].mean()), "display": {"reference": display(ref["rgb"], white)}}
    for name, side in sides.items():
        cover = side["alpha"] > 0.5
        scale = exposure_fit(side["rgb"] @ LUMA, y_ref, cover & cover_ref)
        union = cover | cover_ref
        shown, ref_shown = display(scale * side["rgb"] @ LUMA, white), display(y_ref, white)
        s = ssim_map(shown, ref_shown)
        out[name] = {"ssim": float(s[union].mean()), "scale": scale,
                     "iou": float((cover & cover_ref).sum() / union.sum()),
                     "mae": float(np.abs(shown - ref_shown)[union].mean())}
        out["display"][name] = display(scale * side["rgb"], white)
    return out


def save_images(shown: dict, surface: str) -> None:
    from PIL import Image

    for name, img in shown.items():
        file = IMAGES[name] if surface == "smooth" else IMAGES[name].replace("pathtrace_", f"pathtrace_{surface}_")
        path = ROOT / "docs" / "looks" / file
        Image.fromarray(np.rint(255 * img).astype(np.uint8)).save(path, optimize=True)
        print(f"wrote {path}")


def parts(ctx, topo, frame, cfg, size, pose, spp: int) -> dict:
    """Each light alone, direct light only (no bounce light): name -> compare()'s result."""
    out = {}
    for name, (light, leave_out) in PARTS.items():
        ref = mitsuba_render(topo, frame, cfg, size, pose, spp, leave_out, max_depth=2)
        sides = {side: lossfilm_render(ctx, topo, frame, side_config(side, light, direct_only=True), size, pose)
                 for side in SIDES}
        out[name] = compare(ref, sides)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spp", type=int, default=SPP, help="Mitsuba samples per pixel (two halves)")
    ap.add_argument("--size", type=int, nargs=2, default=list(SIZE))
    ap.add_argument("--reps", type=int, default=5, help="lossfilm frames timed after the first")
    ap.add_argument("--surface", choices=(*SURFACES, "all"), default="all")
    ap.add_argument("--parts", action="store_true", help="also each light alone, direct light only")
    ap.add_argument("--images", action="store_true", help="write docs/looks/pathtrace_*.png")
    ap.add_argument("--no-record", action="store_true", help="print only, no row in RESULTS.md")
    args = ap.parse_args()
    for surface in (SURFACES if args.surface == "all" else (args.surface,)):
        run(surface, args)


def run(surface: str, args) -> None:
    """Compare new, old and the reference on one of :data:`SURFACES`; print, record."""
    size = tuple(args.size)
    heights, pose = SURFACES[surface]
    topo, frames = bench_render.make_scene(bench_render.N, frames=1, surface=heights)
    frame = frames[0]
    ctx = create_context()
    gl_renderer = ctx.info.get("GL_RENDERER", "?")
    ours = {side: lossfilm_render(ctx, topo, frame, side_config(side, {}), size, pose, args.reps) for side in SIDES}
    cfg = side_config("new", {})
    ref = mitsuba_render(topo, frame, cfg, size, pose, args.spp)
    res = compare(ref, ours)
    split = parts(ctx, topo, frame, cfg, size, pose, args.spp // 4) if args.parts else {}
    ctx.release()
    if "cached" in ref:
        print(f"reference from {ref['cached']} (its times are those of the run that rendered it)")
    print(f"{surface} surface, {size[0]}x{size[1]}, {bench_render.N}x{bench_render.N} vertices; Mitsuba "
          f"{args.spp} spp, {MAX_DEPTH} bounces: load {ref['load']:.2f} s, render {ref['render']:.1f} s; environment "
          f"checked to {100 * ref['env_error']:.2f}%; SSIM of the two half-sample references {res['noise']:.3f}")
    print(f"{'side':6s} {'SSIM':>6s} {'error':>6s} {'IoU':>6s} {'exposure':>9s} {'first s':>8s} {'s/frame':>8s} "
          f"{'clipped':>8s}")
    for side, o in ours.items():
        r = res[side]
        print(f"{side:6s} {r['ssim']:6.3f} {r['mae']:6.4f} {r['iou']:6.4f} {r['scale']:9.3f} {o['first']:8.3f} "
              f"{o['frame']:8.3f} {100 * o['clipped']:7.2f}%")
    for name, r in split.items():
        print(f"{name}, direct light only ({args.spp // 4} spp, noise {r['noise']:.3f}): "
              + ", ".join(f"{side} SSIM {r[side]['ssim']:.3f} (x{r[side]['scale']:.2f})" for side in SIDES))
    if args.images:
        save_images(res["display"], surface)
    if args.no_record:
        return
    new, old = res["new"], res["old"]
    split_part = "".join(f" | {name}, direct light only: new {r['new']['ssim']:.3f}, old {r['old']['ssim']:.3f} "
                         f"(noise {r['noise']:.3f})" for name, r in split.items())
    append_result(
        f"- {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC | pathtrace | {cpu_model()}, "
        f"{os.cpu_count()} cores, {gl_renderer} | workload 5, {surface} analytic surface {bench_render.N}x"
        f"{bench_render.N} vertices, {size[0]}x{size[1]}, clay look vs Mitsuba 3 scalar_rgb path tracer ({args.spp} spp, "
        f"{MAX_DEPTH} bounces; sky envmap, key, fill), luminance SSIM over the surface after a fitted exposure "
        f"| new (clay as shipped: occlusion, bounce light, matte) SSIM {new['ssim']:.3f}, mean abs. luminance error "
        f"{new['mae']:.4f} (exposure x{new['scale']:.2f}); old (no occlusion) SSIM {old['ssim']:.3f}, error "
        f"{old['mae']:.4f} (x{old['scale']:.2f}); reference noise ceiling {res['noise']:.3f}; coverage IoU "
        f"{new['iou']:.4f}{split_part} | Mitsuba load {ref['load']:.1f} s, render {ref['render']:.1f} s; "
        f"lossfilm new {ours['new']['frame']:.3f} s/frame (first {ours['new']['first']:.2f} s), old "
        f"{ours['old']['frame']:.3f}; Mitsuba render / lossfilm frame {ref['render'] / ours['new']['frame']:.0f}x "
        f"| load {load_average():.1f}")


if __name__ == "__main__":
    main()
