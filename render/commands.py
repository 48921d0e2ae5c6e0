"""What each ``lossfilm`` command does: the wrappers the command line calls by name.

Each ``cmd_*`` takes the parsed arguments and returns the paths it wrote; a user error is
:class:`BadInput` (exit 2). Heavy modules are imported inside the command that needs them.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

__all__ = ["BadInput", "COMMANDS"]


class BadInput(Exception):
    """A user error with a message fit to print as it is."""


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
    """Hold ``out``'s write lock (render.folder_lock): one writer per output folder.

    A busy folder is refused, or waited for with ``--wait`` / ``--wait-timeout SECONDS``.
    """
    from lossfilm.render.output.folder_lock import hold_output_folder

    timeout = getattr(args, "wait_timeout", None)
    wait = bool(getattr(args, "wait", False)) or timeout is not None
    return hold_output_folder(out, args.command, wait=wait, timeout=timeout)


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
    blur = scene.render.motion_blur
    moments = None
    if blur.enabled and blur.samples > 1:  # the film's shutter, open around the still's time
        from lossfilm.render.gl.shutter import shutter_moments

        moments = shutter_moments(film.surface, film.camera, t, film.fps, blur, frame.index)
    ctx = create_context()
    started = time.perf_counter()
    image = render_still(
        ctx, film.surface.topology, frame, pose, scene.render, size,
        transparent=args.transparent, bits=args.bits, supersample=args.supersample, moments=moments,
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
    folder = _read_surfaces(args, scene, out)  # the lock only while computing missing surfaces
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
    with _writing(args, args.out):  # one writer per store folder, as for films
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
