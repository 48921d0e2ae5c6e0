"""Render docs/looks/<look>.png: every named look on the same frame of the quickstart.

    .venv/bin/lossfilm compute scenes/quickstart.yaml      # once: the stored surfaces
    .venv/bin/python docs/looks/render_looks.py [--time 9.0] [--size 960x540]

Each image is the quickstart's film at one time, drawn with ``--set render.look=NAME``
(the scene's own render keys, its title, still override the look; its colormap gives way
to a look's own), written as an
optimized 8-bit PNG, then listed with its render time in docs/looks.md by hand.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from lossfilm.render.gl.context import create_context  # noqa: E402
from lossfilm.render.scene.looks import LOOKS  # noqa: E402
from lossfilm.render.pipeline import open_film  # noqa: E402
from lossfilm.render.scene.scene import load_scene  # noqa: E402
from lossfilm.render.gl.stills import render_still  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time", type=float, default=9.0)
    parser.add_argument("--size", default="960x540")
    parser.add_argument("--scene", default=str(ROOT / "scenes" / "quickstart.yaml"))
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    ctx = create_context()
    for name in LOOKS:
        # the scene spells out its colormap; a look that brings its own (clay, neon) shows it
        colormap = LOOKS[name].keys.get("colormap", "viridis")
        scene = load_scene(args.scene, [f"render.look={name}", f"render.colormap={colormap}"])
        folders = sorted((ROOT / "outputs" / scene.name / "surfaces").glob("*/manifest.json"))
        if not folders:
            raise SystemExit(f"no stored surfaces: run `lossfilm compute {args.scene}` first")
        film = open_film(scene, folders[-1].parent)
        frame = film.surface.frame_at(args.time, int(round(args.time * film.fps)))
        started = time.perf_counter()
        image = render_still(ctx, film.surface.topology, frame, film.camera.pose_at(args.time), scene.render, size)
        took = time.perf_counter() - started
        path = ROOT / "docs" / "looks" / f"{name}.png"
        Image.fromarray(image).save(path, optimize=True)
        print(f"{name:<10} {took:5.2f} s  {path.stat().st_size / 1e3:6.0f} kB  {path}")


if __name__ == "__main__":
    main()
