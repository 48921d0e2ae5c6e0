"""Render docs/looks/<look>.png: every named look on the same frame of the quickstart.

    .venv/bin/lossfilm compute scenes/quickstart.yaml      # once: the stored surfaces
    .venv/bin/python docs/looks/render_looks.py [--time 9.0] [--size 960x540] [--extras]

Each image is the quickstart's film at one time, drawn with ``--set render.look=NAME``
(the scene's own render keys, its title, still override the look; its colormap gives way
to a look's own), written as an
optimized 8-bit PNG, then listed with its render time in docs/looks.md by hand.
``--extras`` adds ``floor.png`` (the exhibit look low across its floor) and
``focus_pull.png`` (two frames of a dive that pulls focus from the edge to the ball).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from lossfilm.render.gl.context import create_context  # noqa: E402
from lossfilm.render.scene.looks import LOOKS  # noqa: E402
from lossfilm.render.pipeline import open_film  # noqa: E402
from lossfilm.render.scene.scene import load_scene  # noqa: E402
from lossfilm.render.gl.stills import render_still  # noqa: E402


#: docs/looks/<name>.png beyond the looks: (scene overrides, film times, size of each frame)
EXTRAS = {
    # the exhibit look seen low across its floor: shadow and reflection
    "floor": (["render.look=exhibit", "render.colormap=viridis",
               "camera.shots=[{orbit: {duration: 10, elevation: 16, turns: 0.5, target: ball}}]"], [4.0], (960, 540)),
    # a dive's focus pull: on the far edge while high above it, then on the ball
    "focus_pull": (["render.colormap=viridis", "render.dof={enabled: true, samples: 12, fstop: 2}",
                    "render.contours={enabled: true, count: 24}",
                    "camera.shots=[{dive: {duration: 8, angle: -120, focus: [[0, edge], [1.5, edge], [4.5, ball]]}}]"],
                   [0.5, 4.0], (480, 270)),
}


def stored_film(scene_path: str, overrides: list[str]):
    scene = load_scene(scene_path, overrides)
    folders = sorted((ROOT / "outputs" / scene.name / "surfaces").glob("*/manifest.json"))
    if not folders:
        raise SystemExit(f"no stored surfaces: run `lossfilm compute {scene_path}` first")
    return scene, open_film(scene, folders[-1].parent)


def render_extras(ctx, scene_path: str) -> None:
    for name, (overrides, times, size) in EXTRAS.items():
        scene, film = stored_film(scene_path, overrides)
        started = time.perf_counter()
        frames = [render_still(ctx, film.surface.topology, film.surface.frame_at(t, int(round(t * film.fps))),
                               film.camera.pose_at(t), scene.render, size) for t in times]
        took = time.perf_counter() - started
        path = ROOT / "docs" / "looks" / f"{name}.png"
        Image.fromarray(np.concatenate(frames, axis=1)).save(path, optimize=True)
        print(f"{name:<10} {took:5.2f} s  {path.stat().st_size / 1e3:6.0f} kB  {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time", type=float, default=9.0)
    parser.add_argument("--size", default="960x540")
    parser.add_argument("--scene", default=str(ROOT / "scenes" / "quickstart.yaml"))
    parser.add_argument("--extras", action="store_true", help="also the floor and focus-pull images")
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
    if args.extras:
        render_extras(ctx, args.scene)


if __name__ == "__main__":
    main()
