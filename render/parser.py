"""The ``lossfilm`` command line's grammar: every command, its arguments and their help.

Imports nothing heavy, so ``lossfilm --help`` answers at once.
"""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["build_parser"]


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WxH like 1920x1080, got {text!r}") from None
    if w < 2 or h < 2:
        raise argparse.ArgumentTypeError(f"size must be at least 2x2, got {text!r}")
    return w, h


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected seconds >= 0, got {text!r}")
    return value


def _waiting(p: argparse.ArgumentParser) -> None:
    """--wait and --wait-timeout: for commands that hold the output folder's write lock."""
    p.add_argument("--wait", action="store_true",
                   help="if another lossfilm is writing --out, wait for it to finish instead of refusing")
    p.add_argument("--wait-timeout", type=_seconds, default=None, metavar="SECONDS",
                   help="wait (as --wait) at most this long, then refuse (exit 1)")


def _common(p: argparse.ArgumentParser, *, preview: bool = True, lock: bool = True) -> None:
    p.add_argument("scene", type=Path, help="the scene file (YAML)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: outputs/<scene name>/)")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scene key, e.g. --set camera.shots[0].orbit.turns=1 (repeatable)",
    )
    p.add_argument("--force", action="store_true", help="ignore caches: recompute surfaces, rerender chunks")
    if lock:
        _waiting(p)
    if preview:
        p.add_argument("--preview", action="store_true", help="fast draft: 640×360, 15 fps, no MSAA")
    p.add_argument(
        "--tiny", action="store_true", help="smoke run in seconds: 3 epochs, 9×9 grid, 1.5 s at 160×90"
    )
    p.add_argument(
        "--executor",
        default=None,
        help="where surface tiles and film chunks run: serial, local, local:N, dask://HOST:PORT or"
        " slurm (default: the scene's compute.executor and output.executor)",
    )


def build_parser() -> argparse.ArgumentParser:
    from lossfilm.render.scene.looks import looks_help  # imports nothing heavy

    parser = argparse.ArgumentParser(
        prog="lossfilm",
        description="Films and stills of a neural network's loss landscape as it trains.",
        epilog="Scene keys: `lossfilm keys`. Exit codes: 0 ok, 2 bad input, 1 other failure."
        + "\n\nLooks (render.look: NAME, or --set render.look=NAME; scene keys override):\n" + looks_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,  # keeps the looks one per line
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("run", help="all stages: compute, mesh, render, encode")
    _common(p)
    p = sub.add_parser("compute", help="train/load and evaluate the surface sequence only")
    _common(p, preview=False)
    p = sub.add_parser("render", help="render and encode the film from stored surfaces")
    _common(p)
    p = sub.add_parser("mesh", help="export a frame's surface as PLY / OBJ / GLB")
    _common(p, preview=False)
    p.add_argument("--export", choices=("ply", "obj", "glb", "vts", "h5"), default="ply",
                   help="ply/obj/glb: one frame's mesh; vts: a VTK structured grid per state and a .pvd"
                   " time series for ParaView; h5: per state, the layout of Li et al.'s code")
    _when(p)
    p.add_argument("-o", "--output", type=Path, default=None, help="file to write")
    p = sub.add_parser("still", help="one frame as a PNG at any size")
    _common(p, preview=False)
    _when(p)
    p.add_argument("--size", type=_size, default=None, help="WxH (default: output.size); tiled past GL limits")
    p.add_argument("--bits", type=int, choices=(8, 16), default=8, help="bits per channel")
    p.add_argument("--transparent", action="store_true", help="transparent background (RGBA)")
    p.add_argument("--supersample", type=int, default=1, help="render k× larger and downsample")
    p.add_argument("--colorbar", action="store_true", help="add a colorbar with the loss scale (for papers)")
    p.add_argument("--axes", action="store_true", help="label the plane's axes a and b with tick values")
    p.add_argument("-o", "--output", type=Path, default=None, help="PNG file to write")
    p = sub.add_parser("sheet", help="contact sheet: N evenly spaced frames with their times")
    _common(p)
    p.add_argument("--count", type=int, default=12, help="number of frames")
    p.add_argument("-o", "--output", type=Path, default=None, help="PNG file to write")
    p = sub.add_parser("explore", help="explore the surfaces in the browser; capture views and balls")
    _common(p, preview=False, lock=False)
    p.add_argument("--port", type=int, default=8080, help="port to serve on (default 8080)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: this machine only)")
    p = sub.add_parser("import", help="turn surface files made elsewhere (.h5, .npz, .npy) into a store")
    p.add_argument("files", type=Path, nargs="+", help="surface files; several are a sequence in training order")
    p.add_argument("--out", type=Path, required=True, help="the store folder to write")
    p.add_argument("--loss-key", default="train_loss", help=".h5 dataset that is the loss (train_loss, test_loss)")
    p.add_argument("--range", dest="grid_range", type=float, nargs=4, default=None, metavar=("A0", "A1", "B0", "B1"),
                   help="coordinates of arrays that carry none (default -1 1 -1 1)")
    p.add_argument("--keep-order", action="store_true", help="take the files in the order given, not by the numbers in their names")
    p.add_argument("--force", action="store_true", help="replace an earlier import in --out")
    p = sub.add_parser("validate", help="check scene files; exit 2 on any error")
    p.add_argument("scenes", type=Path, nargs="+", help="scene files")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p = sub.add_parser("keys", help="list scene keys with type, default and description")
    p.add_argument("section", nargs="?", default=None, help="compute, mesh, camera, render or output")
    p.add_argument("--markdown", action="store_true", help="print docs/scenes.md")
    p = sub.add_parser("schema", help="write the JSON Schema of scene files (for editors)")
    p.add_argument("-o", "--output", type=Path, default=None, help="file (default: stdout)")
    return parser


def _when(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--time", type=float, default=None, help="film time in seconds")
    g.add_argument("--frame", type=int, default=None, help="film frame number")
    g.add_argument("--state", type=int, default=None, help="captured state index")
