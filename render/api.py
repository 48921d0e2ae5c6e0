"""lossfilm from Python: notebooks and scripts.

Each function does what the command of the same name does and returns the paths written;
a scene is a file path or a dict (the YAML as Python data)::

    import lossfilm.render.api as lf
    store = lf.compute("scenes/quickstart.yaml", tiny=True)
    png = lf.still({"name": "mine", "compute": {"store": "runs/imported"}}, size=(640, 360))
    film = lf.run("scenes/quickstart.yaml", preview=True)

In Jupyter a still (and a film with ``show=True``) appears inline below the cell.
Errors are raised, not printed: :class:`render.config.ConfigErrors` for a bad scene
(``file:line:col: key: message``), ``ValueError`` for input a stage cannot use.

A dict scene is written to ``<out>/<name>.scene.yaml`` first: workers that render film
chunks rebuild the scene from a file, and the file shows what was filmed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["run", "compute", "still", "import_surfaces", "show"]


class _Failed(ValueError):
    """A command refused its input (the CLI's exit 2)."""


def _scene_file(scene: str | os.PathLike | dict, out: str | os.PathLike | None) -> Path:
    if isinstance(scene, dict):
        import yaml

        name = str(scene.get("name", "scene"))
        folder = Path(out) if out is not None else Path("outputs") / name
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.scene.yaml"
        path.write_text(yaml.safe_dump(scene, sort_keys=False))
        return path
    path = Path(scene)
    if not path.is_file():
        raise ValueError(f"{path}: no such scene file")
    return path


def _argv(
    command: str, scene, out, *, overrides: Iterable[str] = (), tiny: bool = False,
    force: bool = False, executor: str | None = None, extra: Sequence[str] = (),
) -> list[str]:
    argv = [command, str(_scene_file(scene, out))]
    if out is not None:
        argv += ["--out", str(out)]
    for assignment in overrides:
        argv += ["--set", assignment]
    if tiny:
        argv.append("--tiny")
    if force:
        argv.append("--force")
    if executor:
        argv += ["--executor", executor]
    return argv + list(extra)


def _call(argv: list[str]) -> list[Path]:
    """Run a CLI command in this process; its errors are raised to the caller."""
    from lossfilm.render.commands import COMMANDS, BadInput
    from lossfilm.render.parser import build_parser

    try:
        args = build_parser().parse_args(argv)
    except SystemExit:  # argparse printed why; a notebook must not exit
        raise _Failed(f"lossfilm {' '.join(argv)}: bad arguments (see above)") from None
    try:
        return [Path(p) for p in COMMANDS[args.command](args)]
    except BadInput as exc:
        raise _Failed(str(exc)) from None


def compute(scene, *, out=None, overrides: Iterable[str] = (), tiny: bool = False,
            force: bool = False, executor: str | None = None) -> Path:
    """Train/load and evaluate the surfaces (or reuse them); returns the store folder."""
    manifest = _call(_argv("compute", scene, out, overrides=overrides, tiny=tiny, force=force,
                           executor=executor))[0]
    return manifest.parent


def run(scene, *, out=None, overrides: Iterable[str] = (), preview: bool = False,
        tiny: bool = False, force: bool = False, executor: str | None = None,
        show: bool | None = False) -> Path:
    """All stages; returns the film's path (shown inline in Jupyter with ``show=True``)."""
    extra = ["--preview"] if preview else []
    path = _call(_argv("run", scene, out, overrides=overrides, tiny=tiny, force=force,
                       executor=executor, extra=extra))[0]
    _maybe_show(path, show)
    return path


def still(scene, *, out=None, overrides: Iterable[str] = (), time: float | None = None,
          frame: int | None = None, state: int | None = None,
          size: tuple[int, int] | None = None, output=None, tiny: bool = False,
          bits: int = 8, transparent: bool = False, colorbar: bool = False,
          axes: bool = False, show: bool | None = None) -> Path:
    """One frame as a PNG (default: the end of the film); shown inline in Jupyter.

    ``show``: None shows it when running in a notebook, True always tries, False never.
    """
    extra: list[str] = []
    for flag, value in (("--time", time), ("--frame", frame), ("--state", state)):
        if value is not None:
            extra += [flag, str(value)]
    if size is not None:
        extra += ["--size", f"{int(size[0])}x{int(size[1])}"]
    if output is not None:
        extra += ["-o", str(output)]
    extra += ["--bits", str(bits)]
    extra += [f for f, on in (("--transparent", transparent), ("--colorbar", colorbar),
                              ("--axes", axes)) if on]
    path = _call(_argv("still", scene, out, overrides=overrides, tiny=tiny, extra=extra))[0]
    _maybe_show(path, show)
    return path


def import_surfaces(files: str | os.PathLike | Sequence[str | os.PathLike], out, *,
                    loss_key: str = "train_loss", grid_range: Sequence[float] | None = None,
                    keep_order: bool = False, force: bool = False) -> Path:
    """Foreign surface files (.h5, .npz, .npy) -> a store; returns its folder.

    Film it with the scene ``{"compute": {"store": str(folder)}}``.
    """
    from lossfilm.compute.store.foreign_store import import_surfaces as _import

    if isinstance(files, (str, os.PathLike)):
        files = [files]
    missing = [str(f) for f in files if not Path(f).is_file()]
    if missing:
        raise ValueError(f"import: no such file: {', '.join(missing)}")
    return _import(files, out, loss_key=loss_key, grid_range=grid_range,
                   keep_order=keep_order, force=force)


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def _maybe_show(path: Path, show: bool | None) -> None:
    if show or (show is None and _in_notebook()):
        show_file(path)


def show_file(path: str | os.PathLike) -> Any:
    """Display a PNG or a film through IPython.display; returns the display object."""
    try:
        from IPython.display import Image, Video, display
    except ImportError:
        return None  # not in IPython: the path returned is the result
    path = Path(path)
    obj = Image(filename=str(path)) if path.suffix.lower() == ".png" else Video(str(path), embed=True)
    display(obj)
    return obj


show = show_file
