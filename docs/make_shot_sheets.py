"""Contact sheets of every camera shot preset, so authors can pick shots by eye.

For each preset in :data:`lossfilm.render.scene.camera.SHOTS` this renders six evenly spaced frames of a
6-second shot over the quickstart landscape (computed once at a modest grid, then
reused) into ``docs/shots/<preset>.png``, and writes ``docs/shots.md`` with each sheet,
the preset's one-line description and the YAML that made it.

Run: ``.venv/bin/python docs/make_shot_sheets.py`` (a few minutes on 2 CPU cores; the
surfaces are cached in ``outputs/shot_sheets``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lossfilm.render.pipeline import compute_stage, open_film  # noqa: E402
from lossfilm.render.scene.scene import load_scene  # noqa: E402
from lossfilm.render.sheet import contact_sheet  # noqa: E402
from lossfilm.render.scene.camera import SHOTS  # noqa: E402

SCENE = ROOT / "scenes" / "quickstart.yaml"
DOCS = ROOT / "docs"
#: a modest grid and evaluation subset: the shots, not the landscape, are the subject
COMPUTE = (
    "compute.landscape.grid.points=25",
    "compute.landscape.eval.samples=1000",
    "mesh.resolution=160",
    "render.msaa=2",
)
FRAME_SIZE = (320, 180)
FRAMES = 6
DURATION = 6.0
#: each preset with parameters that show what it does over the quickstart plane [-1, 1]^2
EXAMPLES: dict[str, dict] = {
    "orbit": {"duration": DURATION, "elevation": 30, "turns": 0.5, "target": "ball"},
    "flyby": {"duration": DURATION, "waypoints": [-0.9, -0.9, -0.2, -0.5, 0.4, 0.1, 0.8, 0.8],
              "clearance": 0.1},
    "dive": {"duration": DURATION, "angle": -120},
    "top": {"duration": DURATION, "turns": 0.25, "target": "center"},
    "track": {"duration": DURATION, "elevation": 35, "turns": 0.25},
    "dolly": {"duration": DURATION, "start_distance": 3.5, "end_distance": 1.2, "target": "ball"},
    "still": {"duration": DURATION, "position": [2.2, -2.0, 1.4], "target": "center"},
    "keyframes": {"duration": DURATION, "times": [0, 3, 6],
                  "positions": [-2.2, -2.0, 1.2, 0.0, -2.6, 0.6, 2.2, -2.0, 1.2],
                  "target": "center"},
}


def describe(name: str) -> str:
    """The preset's one-line description (first docstring line)."""
    return (SHOTS[name].__doc__ or name).strip().splitlines()[0]


def snippet(name: str) -> str:
    """The YAML that makes the example shot."""
    return yaml.safe_dump({"camera": {"shots": [{name: EXAMPLES[name]}]}},
                          default_flow_style=None, sort_keys=False).strip()


def make_sheet(name: str, folder: Path) -> Path:
    """Render the preset's contact sheet into ``docs/shots/<name>.png``."""
    shot = json.dumps([{name: EXAMPLES[name]}])
    scene = load_scene(SCENE, [*COMPUTE, f"camera.shots={shot}"])
    film = open_film(scene, folder, size=FRAME_SIZE)
    path = DOCS / "shots" / f"{name}.png"
    return contact_sheet(film, path, count=FRAMES, title=f"{name}: {describe(name)}")


def write_markdown(names: list[str]) -> Path:
    lines = [
        "# Camera shot presets",
        "",
        "Each sheet shows six evenly spaced frames of a 6-second shot over the quickstart",
        "landscape (`scenes/quickstart.yaml`, 25×25 grid), drawn with the YAML below it.",
        "A film is a list of shots played in sequence (`camera.shots`); every key is listed",
        "in [scenes.md](scenes.md). Regenerate with `.venv/bin/python docs/make_shot_sheets.py`.",
        "",
    ]
    for name in names:
        lines += [f"## `{name}`", "", describe(name), "", f"![{name}](shots/{name}.png)", "",
                  "```yaml", snippet(name), "```", ""]
    path = DOCS / "shots.md"
    path.write_text("\n".join(lines))
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("presets", nargs="*", help="only these presets (default: all)")
    ap.add_argument("--out", type=Path, default=ROOT / "outputs" / "shot_sheets",
                    help="where the surfaces are cached")
    args = ap.parse_args(argv)
    missing = set(EXAMPLES) ^ set(SHOTS)
    if missing:
        raise SystemExit(f"EXAMPLES and render.shots.SHOTS differ: {sorted(missing)}")
    names = args.presets or list(SHOTS)
    base = load_scene(SCENE, list(COMPUTE))
    folder = compute_stage(base, args.out)
    for name in names:
        print(make_sheet(name, folder), flush=True)
    print(write_markdown(list(SHOTS)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
