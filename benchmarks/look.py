"""Benchmark: what the cinematic look costs (workload 5 of BENCHMARKS.md, its cost).

The 4K frame of workload 2 (512x512 vertices, 3840x2160, 4x MSAA, read back) drawn in
the new default look (``cinematic``: AgX, ambient occlusion, plinth, the sky reflected)
and in the look that was the default before it (ACES filmic, no occlusion, no plinth, no
environment reflection: the same keys otherwise), same process, alternating, medians
and the ratio; then each part on its own (occlusion off, plinth off, filmic instead of
AgX), the cost of the default occlusion (:func:`render.mesh.occlusion.horizon_occlusion`)
and bounce light (:func:`render.mesh.bounce.key_bounce`) alone at 256^2 and 512^2 vertices, and the cost per sample of depth of field and of motion blur (each sample is a
whole frame; ``render.per_sample_costs``), and the exhibit look with its floor (shadow
catcher and reflection), without it, and with a floor that does not reflect.

    python benchmarks/look.py [--reps 5] [--size 3840 2160] [--only floor]

The rest of workload 5 lives beside it: the path-traced reference (Mitsuba 3, luminance
SSIM of the clay look, new and old) in ``benchmarks/pathtrace.py``, and PyVista's nearest
equivalent of the look (PBR with an environment texture, SSAO, shadows, depth of field)
in ``benchmarks/render.py``, in the same run as workload 2.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "benchmarks"))  # for _machine; after ROOT: benchmarks/render.py is no package

from _machine import append_result, cpu_model  # noqa: E402

from lossfilm.render.gl.context import create_context  # noqa: E402
from lossfilm.render.scene.scene import look_config
from lossfilm.render.gl.frusta import light_direction  # noqa: E402
from lossfilm.render.mesh.bounce import key_bounce  # noqa: E402
from lossfilm.render.mesh.occlusion import horizon_occlusion  # noqa: E402
from lossfilm.render.scene.look import LightConfig  # noqa: E402
from lossfilm.render.scene.looks import OcclusionConfig  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_render", ROOT / "benchmarks" / "render.py")
bench_render = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_render)

TEXT, PREVIOUS = bench_render.TEXT, bench_render.PREVIOUS
SIDES = {
    "cinematic (new default)": {},
    "previous default": PREVIOUS,
    "cinematic, occlusion off": {"occlusion": {"enabled": False}},
    "cinematic, plinth off": {"base": {"enabled": False}},
    "cinematic, filmic not agx": {"tonemap": "filmic"},
}


def occlusion_cost(n: int, reps: int) -> tuple[float, float]:
    """Median seconds of the default look's occlusion and of its bounce light on an n^2 grid."""
    x, y, z = bench_render.loss_like(n)
    normals = bench_render.normals_of(z, x, y)
    occlusion = OcclusionConfig()
    key = light_direction(LightConfig().azimuth, LightConfig().elevation)
    plane = float(x[-1] - x[0])
    ao, bounce = [], []
    for _ in range(reps):
        t = time.perf_counter()
        horizon_occlusion(z, x, y, radius=occlusion.radius * plane, strength=occlusion.strength)
        ao.append(time.perf_counter() - t)
        t = time.perf_counter()
        key_bounce(z, normals, None, key, x, y, plane)
        bounce.append(time.perf_counter() - t)
    return statistics.median(ao), statistics.median(bounce)


FLOOR_SIDES = {
    "exhibit (floor)": {},
    "exhibit, floor off": {"floor": {"enabled": False}},
    "exhibit, floor not reflecting": {"floor": {"reflect": 0.0}},
}


def floor_costs(ctx, topo, frames, size, reps: int) -> dict[str, float]:
    """Seconds per frame of the exhibit look with its floor, without it, and without its reflection."""
    sides = {name: bench_render.Ours(ctx, topo, frames, look_config("exhibit", msaa=bench_render.MSAA,
                                                                    overlays=TEXT, **keys), size)
             for name, keys in FLOOR_SIDES.items()}
    for side in sides.values():
        side.frame()
    times = {name: [] for name in sides}
    for _ in range(reps):
        for name, side in sides.items():
            t = time.perf_counter()
            side.frame()
            times[name].append(time.perf_counter() - t)
    for side in sides.values():
        side.close()
    return {name: statistics.median(v) for name, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--size", type=int, nargs=2, default=list(bench_render.SIZE))
    parser.add_argument("--only", choices=("floor",), help="measure only this part")
    args = parser.parse_args()
    size = tuple(args.size)
    ctx = create_context()
    gl_renderer = ctx.info.get("GL_RENDERER", "?")
    topo, frames = bench_render.make_scene(bench_render.N, 2)
    floor = floor_costs(ctx, topo, frames, size, args.reps)
    off = floor["exhibit, floor off"]
    print(f"{'exhibit look':30s} {'s/frame':>9s} {'x no floor':>11s}")
    for name, t in floor.items():
        print(f"{name:30s} {t:9.3f} {t / off:11.2f}")
    floor_row = ", ".join(f"{name} {t:.3f}" for name, t in floor.items())
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    if args.only == "floor":
        append_result(
            f"- {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC | look (floor) | {cpu_model()}, "
            f"{os.cpu_count()} cores, {gl_renderer} | {bench_render.N}x{bench_render.N} vertices {size[0]}x{size[1]} "
            f"MSAA {bench_render.MSAA} readback, median of {args.reps}, alternating | {floor_row} s/frame; "
            f"floor/no floor {floor['exhibit (floor)'] / off:.2f}x | load {load:.1f}")
        ctx.release()
        return
    sides = {name: bench_render.Ours(ctx, topo, frames, look_config(msaa=bench_render.MSAA, overlays=TEXT, **keys),
                                     size) for name, keys in SIDES.items()}
    for side in sides.values():
        side.frame()  # compile, first upload
    times = {name: [] for name in sides}
    for _ in range(args.reps):
        for name, side in sides.items():  # alternating: drift hits every side alike
            t = time.perf_counter()
            side.frame()
            times[name].append(time.perf_counter() - t)
    med = {name: statistics.median(v) for name, v in times.items()}
    ao = {n: occlusion_cost(n, args.reps) for n in (256, 512)}
    ratio = med["cinematic (new default)"] / med["previous default"]
    print(f"{'side':30s} {'s/frame':>9s} {'x previous':>11s}")
    for name in sides:
        print(f"{name:30s} {med[name]:9.3f} {med[name] / med['previous default']:11.2f}")
    print("occlusion, bounce light alone: " + ", ".join(f"{n}^2 {1e3 * a:.0f} + {1e3 * b:.0f} ms"
                                                      for n, (a, b) in ao.items()))
    for side in sides.values():
        side.close()
    per_sample = bench_render.per_sample_costs(ctx, topo, frames, size, max(2, args.reps // 2))
    print("per sample (4 samples a frame): " + ", ".join(f"{k} {v:.3f} s" for k, v in per_sample.items()))
    ctx.release()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    parts = ", ".join(f"{name} {med[name]:.3f}" for name in sides)
    append_result(
        f"- {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC | look | {cpu_model()}, "
        f"{os.cpu_count()} cores, {gl_renderer} | {bench_render.N}x{bench_render.N} vertices {size[0]}x{size[1]} "
        f"MSAA {bench_render.MSAA} readback, median of {args.reps}, alternating | {parts} s/frame; "
        f"new/previous {ratio:.2f}x (budget 2x) | occlusion + bounce light 256^2 {1e3 * ao[256][0]:.0f} + "
        f"{1e3 * ao[256][1]:.0f} ms, 512^2 {1e3 * ao[512][0]:.0f} + {1e3 * ao[512][1]:.0f} ms | one 4K frame {per_sample['frame']:.3f} s, depth of field "
        f"{per_sample['dof per sample']:.3f} s and motion blur {per_sample['motion blur per sample']:.3f} s "
        f"per sample | {floor_row} s/frame | load {load:.1f}")


if __name__ == "__main__":
    main()
