"""The ``lossfilm`` command line.

Exit codes: 0 success, 2 bad input (a scene error, a bad option, a missing file), 1 any
other failure. Paths written go to stdout, one per line; progress and status go to
stderr. ``LOSSFILM_DEBUG=1`` shows tracebacks.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

__all__ = ["main"]

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2


class BadInput(Exception):
    """A user error with a message fit to print as it is."""


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WxH like 1920x1080, got {text!r}") from None
    if w < 2 or h < 2:
        raise argparse.ArgumentTypeError(f"size must be at least 2x2, got {text!r}")
    return w, h


def _common(p: argparse.ArgumentParser, *, preview: bool = True) -> None:
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
    _common(p, preview=False)
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


# ----------------------------------------------------------------------------- commands


def _load(args):
    from lossfilm.render.scene.scene import load_scene

    from lossfilm.render.pipeline import draft_scene

    scene = load_scene(args.scene, args.overrides)  # a missing file, a folder...: FILE: message
    # --preview changes only the film, never the surfaces: it is applied when frames are drawn.
    return draft_scene(scene, tiny=args.tiny)


def _out(args, scene) -> Path:
    return (args.out or Path("outputs") / scene.name).resolve()


def _surfaces(args, scene, out: Path, *, compute_if_missing: bool = True) -> Path:
    from lossfilm.render.pipeline import compute_stage, surfaces_folder

    if compute_if_missing:
        return compute_stage(scene, out, force=args.force, executor=args.executor)
    from lossfilm.compute.store import folder as store

    folder = surfaces_folder(scene, out)
    if not store.is_complete(folder):
        raise BadInput(
            f"no stored surfaces for this compute section in {out}; run `lossfilm compute {args.scene}` first"
        )
    return folder


def _job(args, folder: Path):
    from lossfilm.render.pipeline import RenderJob

    return RenderJob(
        str(args.scene.resolve()), tuple(args.overrides), bool(getattr(args, "preview", False)),
        str(folder), tiny=args.tiny,
    )


def _writing(args, out: Path):
    """Hold ``out``'s write lock (render.folder_lock): one writer per output folder."""
    from lossfilm.render.output.folder_lock import hold_output_folder

    return hold_output_folder(out, args.command)


def _read_surfaces(args, scene, out: Path) -> Path:
    """Stored surfaces for a reader (still, sheet, mesh); computing them first is writing."""
    import contextlib

    from lossfilm.compute.store import folder as store
    from lossfilm.render.pipeline import surfaces_folder

    complete = store.is_complete(surfaces_folder(scene, out))
    with contextlib.nullcontext() if complete else _writing(args, out):
        return _surfaces(args, scene, out)


def cmd_run(args, *, compute: bool = True) -> list[Path]:
    from lossfilm.render.pipeline import run_film

    scene = _load(args)
    out = _out(args, scene)
    with _writing(args, out):
        folder = _surfaces(args, scene, out, compute_if_missing=compute)
        return [run_film(scene, out, _job(args, folder), force=args.force, executor=args.executor)]


def cmd_compute(args) -> list[Path]:
    scene = _load(args)
    out = _out(args, scene)
    with _writing(args, out):
        return [_surfaces(args, scene, out) / "manifest.json"]


def _time_of(args, film) -> float:
    if args.frame is not None:
        if not 0 <= args.frame < film.n_frames:
            raise BadInput(f"--frame {args.frame}: the film has frames 0..{film.n_frames - 1}")
        return args.frame / film.fps
    if args.state is not None:
        n = film.surface.n_states
        if not 0 <= args.state < n:
            raise BadInput(f"--state {args.state}: the sequence has states 0..{n - 1}")
        return film.surface.time_of_state(args.state)
    if args.time is not None:
        if not 0 <= args.time <= film.duration:
            raise BadInput(f"--time {args.time}: the film runs 0..{film.duration:g} s")
        return args.time
    return film.duration  # the end: the trained landscape


def cmd_mesh(args) -> list[Path]:
    from lossfilm.render.color.colormaps import colormap_colors
    from lossfilm.render.mesh.export import export_mesh
    from lossfilm.render.pipeline import open_film

    scene = _load(args)
    out = _out(args, scene)
    folder = _read_surfaces(args, scene, out)
    film = open_film(scene, folder)
    if args.export in ("vts", "h5"):
        from lossfilm.compute.store import folder as store
        from lossfilm.render.mesh.export_states import export_states

        if args.time is not None or args.frame is not None:
            raise BadInput(f"--export {args.export} writes captured states (all, or --state N), not film times")
        if args.state is not None and not 0 <= args.state < film.surface.sequence.n_states:
            raise BadInput(f"--state {args.state}: the sequence has states 0..{film.surface.sequence.n_states - 1}")
        return export_states(film.surface, store.open(folder), args.output or out / f"{scene.name}-{args.export}",
                             args.export, state=args.state)
    t = _time_of(args, film)
    frame = film.surface.frame_at(t, int(round(t * film.fps)))
    path = args.output or out / f"{scene.name}-t{t:06.2f}.{args.export}"
    colors = colormap_colors(scene.render.colormap, frame.scalar)
    return [export_mesh(frame, film.surface.topology, path, args.export, colors)]


def cmd_still(args) -> list[Path]:
    from lossfilm.render.gl.context import create_context
    from lossfilm.render.pipeline import open_film, still_metadata
    from lossfilm.render.output.png import write_png
    from lossfilm.render.gl.stills import render_still

    scene = _load(args)
    out = _out(args, scene)
    film = open_film(scene, _read_surfaces(args, scene, out))
    t = _time_of(args, film)
    size = args.size or tuple(scene.output.size)
    frame = film.surface.frame_at(t, int(round(t * film.fps)))
    pose = film.camera.pose_at(t)
    ctx = create_context()
    started = time.perf_counter()
    image = render_still(
        ctx, film.surface.topology, frame, pose, scene.render, size,
        transparent=args.transparent, bits=args.bits, supersample=args.supersample,
    )
    from lossfilm.compute.execution.progress import say

    if args.colorbar or args.axes:
        from lossfilm.render.overlay.annotate import annotate_still

        annotate_still(image, film.surface, frame, pose, scene.render.colormap,
                       colorbar=args.colorbar, axes=args.axes)
    say(True, "lossfilm", f"still {size[0]}×{size[1]} rendered in {time.perf_counter() - started:.1f} s")
    path = args.output or out / f"{scene.name}-t{t:06.2f}.png"
    write_png(path, image, still_metadata(scene, time=f"{t:.4f}", state_position=f"{frame.position:.4f}"))
    return [path]


def cmd_sheet(args) -> list[Path]:
    from lossfilm.render.pipeline import open_film, preview_scene
    from lossfilm.render.sheet import contact_sheet

    scene = _load(args)
    out = _out(args, scene)
    folder = _read_surfaces(args, scene, out)
    film = open_film(preview_scene(scene) if args.preview else scene, folder, size=(480, 270))
    path = args.output or out / f"{scene.name}-sheet.png"
    return [contact_sheet(film, path, count=args.count)]


def cmd_explore(args) -> list[Path]:
    from lossfilm.render.explore.app import PortBusy, check_port_free, serve
    from lossfilm.render.explore.session import ExploreSession, explore_scene

    if not 0 < args.port < 65536:
        raise BadInput(f"--port {args.port}: expected 1..65535")
    try:  # before computing anything: a busy port is known at once
        check_port_free(args.host, args.port)
    except PortBusy as exc:
        raise BadInput(f"lossfilm explore: {exc}") from None
    tiny, args.tiny = args.tiny, False  # explore's --tiny: tiny surfaces, the scene's own timeline
    scene = explore_scene(_load(args), tiny=tiny)
    out = _out(args, scene)
    folder = _surfaces(args, scene, out)
    try:
        serve(ExploreSession(scene, folder, args.scene, args.overrides, out), args.host, args.port)
    except PortBusy as exc:
        raise BadInput(f"lossfilm explore: {exc}") from None
    except KeyboardInterrupt:
        return []
    return []


def cmd_validate(args) -> list[Path]:
    from lossfilm.render.scene.errors import ConfigErrors
    from lossfilm.render.scene.scene import load_scene

    bad = []
    for path in args.scenes:
        try:
            load_scene(path, args.overrides)
            print(f"{path}: ok")
        except ConfigErrors as exc:
            bad.extend(e.format() for e in exc.errors)
    if bad:
        raise BadInput("\n".join(bad))
    return []


def cmd_keys(args) -> list[Path]:
    from lossfilm.render.scene.keys import format_keys, scenes_markdown
    from lossfilm.render.scene.scene import SECTIONS, Scene

    if args.markdown:
        print(scenes_markdown(Scene, SECTIONS), end="")
    elif args.section is None:
        print(format_keys(Scene))
    elif args.section not in SECTIONS:
        raise BadInput(f"unknown section {args.section!r}; choose one of: {', '.join(SECTIONS)}")
    else:
        print(format_keys(SECTIONS[args.section], f"{args.section}."))
    return []


def cmd_schema(args) -> list[Path]:
    from lossfilm.render.scene.keys import json_schema
    from lossfilm.render.scene.scene import Scene

    text = json.dumps(json_schema(Scene), indent=2) + "\n"
    if args.output is None:
        print(text, end="")
        return []
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    return [args.output]


def cmd_import(args) -> list[Path]:
    from lossfilm.compute.store.foreign_store import import_surfaces
    from lossfilm.render.pipeline import note

    missing = [str(f) for f in args.files if not f.is_file()]
    if missing:
        raise BadInput(f"import: no such file: {', '.join(missing)}")
    folder = import_surfaces(args.files, args.out, loss_key=args.loss_key, grid_range=args.grid_range,
                             keep_order=args.keep_order, force=args.force, log=note)
    note(f"film it with a scene holding `compute: {{store: {folder}}}`")
    return [folder / "manifest.json"]


COMMANDS = {
    "run": cmd_run,
    "compute": cmd_compute,
    "render": lambda a: cmd_run(a, compute=False),
    "mesh": cmd_mesh,
    "still": cmd_still,
    "sheet": cmd_sheet,
    "explore": cmd_explore,
    "import": cmd_import,
    "validate": cmd_validate,
    "keys": cmd_keys,
    "schema": cmd_schema,
}


def main(argv: list[str] | None = None) -> int:
    from lossfilm.render.output.stop_signals import stopping_on_signals

    with stopping_on_signals():  # SIGTERM unwinds like Ctrl-C: stages clean up, one line
        code = _main(argv)
    if code in (130, 143) and argv is None:
        # Stopped by a signal, as a program: every stage has already cleaned up while the
        # interrupt unwound. Skip the interpreter's teardown, which garbage-collects torch
        # for seconds, so the command stops within the second it was asked to.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _main(argv: list[str] | None = None) -> int:
    # The mesh stage's matrix products are small: BLAS threads only contend with the
    # renderer and ffmpeg for the cores (20× slower per call on a loaded 2-core machine).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from lossfilm.render.scene.errors import ConfigErrors
    from lossfilm.render.output.folder_lock import FolderBusy
    from lossfilm.render.scene.errors import MAX_MESSAGE_CHARS
    from lossfilm.render.scene.errors import bounded_report

    parser = build_parser()
    args = parser.parse_args(argv)
    debug = os.environ.get("LOSSFILM_DEBUG") == "1"
    try:
        paths = COMMANDS[args.command](args)
    except FolderBusy as exc:  # another lossfilm writes this folder: refuse, touch nothing
        print(f"lossfilm: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except (ConfigErrors, BadInput) as exc:
        print(bounded_report(str(exc), chars=2 * MAX_MESSAGE_CHARS), file=sys.stderr)
        return EXIT_BAD_INPUT
    except ValueError as exc:  # stages raise ValueError for input they cannot use
        if debug:
            raise
        print(bounded_report(f"lossfilm: {exc}", lines=5, chars=2 * MAX_MESSAGE_CHARS), file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:  # disk full, permissions, I/O: name the path, keep what is done
        if debug:
            raise
        named = str(exc) if getattr(exc, "path", None) else (
            f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc))  # WriteFailed names its path
        print(f"lossfilm: {named}; finished work is kept, a rerun resumes", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt as exc:
        from lossfilm.render.output.stop_signals import Terminated

        terminated = isinstance(exc, Terminated)
        print(f"lossfilm: {'terminated (SIGTERM)' if terminated else 'interrupted'};"
              " finished work is kept and a rerun resumes", file=sys.stderr)
        return 143 if terminated else 130
    except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence
        if debug:
            raise
        print(f"lossfilm: error: {type(exc).__name__}: {exc} (LOSSFILM_DEBUG=1 shows the traceback)", file=sys.stderr)
        return EXIT_FAILURE
    for path in paths:
        print(path)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
