"""Encoding benchmark: libx264 speed presets at CRF 18 on a 4K rendered-like sequence.

Side by side in one process, alternating: ``slow`` (the web profile's default),
``medium`` and ``fast`` on the same frames (smooth moving colour gradients with soft
ripples, like a shaded landscape), streamed through :class:`lossfilm.render.output.encode.VideoWriter`
exactly as a film is. Reports the median seconds per frame, frames per second, the ratio
to ``slow`` and the file size (same CRF: the size says what the speed costs). Also times
the ``--preview`` path (960x540, ``veryfast`` and ``ultrafast``).

Prints a table and appends a dated row to ``benchmarks/RESULTS.md``.

Run: ``.venv/bin/python benchmarks/encode.py [--frames 8] [--repeats 2] [--size 3840x2160]``
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lossfilm.render.output.encode import VideoWriter, encode_spec  # noqa: E402
from lossfilm.render.scene.output import OutputConfig  # noqa: E402
from _machine import append_result, cpu_model  # noqa: E402 - benchmarks run as scripts

PRESETS = ("slow", "medium", "fast")
PREVIEW_PRESETS = ("veryfast", "ultrafast")


def landscape_frames(n: int, width: int, height: int) -> list[np.ndarray]:
    """(n,) list of (height, width, 3) uint8: smooth gradients that move a little per frame."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    u, v = x / width, y / height
    frames = []
    for i in range(n):
        phase = 0.15 * i
        h = 0.5 + 0.25 * np.sin(6 * u + phase) * np.cos(5 * v - phase) + 0.25 * (u - 0.5) ** 2
        f = np.empty((height, width, 3), np.uint8)
        f[..., 0] = np.clip(255 * (0.27 + 0.7 * h), 0, 255)
        f[..., 1] = np.clip(255 * (0.1 + 0.8 * h * (1 - 0.3 * v)), 0, 255)
        f[..., 2] = np.clip(255 * (0.35 + 0.4 * (1 - h)), 0, 255)
        frames.append(f)
    return frames


def encode_once(frames: list[np.ndarray], size: tuple[int, int], preset: str, out: Path) -> tuple[float, int]:
    cfg = OutputConfig(size=size, profile="web", preset=preset, crf=18, nvenc="off")
    spec = encode_spec(cfg, out)
    t0 = time.perf_counter()
    with VideoWriter(spec) as writer:
        for f in frames:
            writer.write(f)
    seconds = time.perf_counter() - t0
    size_bytes = out.stat().st_size
    out.unlink()
    return seconds, size_bytes


def measure(frames, size, presets, repeats, folder) -> dict[str, tuple[float, int]]:
    times: dict[str, list[float]] = {p: [] for p in presets}
    sizes: dict[str, int] = {}
    for r in range(repeats):
        order = presets if r % 2 == 0 else tuple(reversed(presets))  # alternate against drift
        for p in order:
            sec, nbytes = encode_once(frames, size, p, folder / f"{p}.mp4")
            times[p].append(sec / len(frames))
            sizes[p] = nbytes
    return {p: (statistics.median(times[p]), sizes[p]) for p in presets}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--size", default="3840x2160")
    parser.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        full = measure(landscape_frames(args.frames, width, height), (width, height), PRESETS,
                       args.repeats, folder)
        preview = measure(landscape_frames(args.frames, 960, 540), (960, 540), PREVIEW_PRESETS,
                          args.repeats, folder)

    base = full["slow"][0]
    print(f"libx264 CRF 18, {width}x{height}, {args.frames} frames, median of {args.repeats}")
    print(f"{'preset':<10} {'s/frame':>8} {'fps':>7} {'x slow':>7} {'KiB/frame':>10}")
    for p, (spf, nbytes) in full.items():
        print(f"{p:<10} {spf:8.3f} {1 / spf:7.2f} {base / spf:7.2f} {nbytes / 1024 / args.frames:10.1f}")
    print("preview 960x540:")
    for p, (spf, nbytes) in preview.items():
        print(f"{p:<10} {spf:8.3f} {1 / spf:7.2f} {'':>7} {nbytes / 1024 / args.frames:10.1f}")

    if not args.no_record:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        cells = ", ".join(f"{p} {s:.2f} s/frame" for p, (s, _) in full.items())
        prev = ", ".join(f"{p} {s * 1e3:.0f} ms/frame" for p, (s, _) in preview.items())
        row = (f"- {stamp} | encode | {cpu_model()}, {os.cpu_count()} cores | libx264 CRF 18 "
               f"{width}x{height} x{args.frames}: {cells}; medium {base / full['medium'][0]:.2f}x, "
               f"fast {base / full['fast'][0]:.2f}x faster than slow | preview 960x540: {prev}\n")
        print(f"appended to {append_result(row)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
