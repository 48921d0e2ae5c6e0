"""Checks of the scene keys that name files, folders and code, before anything runs.

A scene names things outside itself: a checkpoint folder, a data file, user factories and
losses (``package.module:function`` or ``file.py:function``), an audio track, the film's
file name. Each is checked when the scene is loaded, so a wrong path is reported as
``scene.yaml:7:16: compute.checkpoints: no such folder 'runs/mine'`` with exit 2, not as
a failure minutes into training. Nothing is imported or executed here: a factory's file
is checked to exist, a module's top-level package to be importable.

Output names are checked too: ``output.filename`` is a plain file name, so whatever a
scene says, the film lands inside ``--out``.
"""

from __future__ import annotations

import importlib.util
import os
import stat
from pathlib import Path
from typing import Any

import yaml

from lossfilm.render.scene.errors import ConfigError

__all__ = ["check_scene_paths", "checkpoint_file_problem", "locate"]

#: first bytes of what ``torch.save`` writes: a zip archive (since torch 1.6) or a pickle.
_TORCH_MAGIC = (b"PK\x03\x04", b"\x80")


def locate(root: yaml.Node, dotted: str) -> yaml.Node | None:
    """The value node at ``dotted`` (``compute.data.path``) in a scene's node tree, if written."""
    node = root
    for part in dotted.split("."):
        if not isinstance(node, yaml.MappingNode):
            return None
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == part:
                node = value
                break
        else:
            return None
    return node


def _where(root: yaml.Node, dotted: str, source: str) -> str:
    node = locate(root, dotted)
    if node is None or node.start_mark is None:
        return source
    mark = node.start_mark
    name = mark.name if mark.name and not mark.name.startswith("<") else source
    return f"{name}:{mark.line + 1}:{mark.column + 1}"


def _path_problem(text: str, want: str) -> str | None:
    """Why ``text`` is not a readable ``want`` (``"file"`` or ``"folder"``), or None."""
    from lossfilm.render.scene.errors import shorten

    shown = repr(shorten(text))
    try:
        info = os.stat(text)
    except FileNotFoundError:
        return f"no such {want} {shown}"
    except OSError as exc:
        return f"cannot read {shown}: {exc.strerror}"
    except ValueError:  # a NUL byte in the text: no file system has such a name
        return f"{shown} is not a valid path"
    if want == "folder" and not stat.S_ISDIR(info.st_mode):
        return f"{shown} is not a folder"
    if want == "file" and stat.S_ISDIR(info.st_mode):
        return f"{shown} is a folder, not a file"
    if want == "file" and not stat.S_ISREG(info.st_mode):
        return f"{shown} is not a regular file"
    mode = os.R_OK | (os.X_OK if want == "folder" else 0)
    if not os.access(text, mode):
        return f"{shown} is not readable (permissions)"
    return None


def checkpoint_file_problem(path: Path) -> str | None:
    """Why ``path`` cannot be a ``torch.save`` file, from its first bytes (nothing unpickled)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as exc:
        return f"cannot read: {exc.strerror}"
    if not head:
        return "empty file"
    if not head.startswith(_TORCH_MAGIC):
        return f"not a torch checkpoint (starts with {head!r}; expected a torch.save file)"
    return None


def _code_problem(spec: str) -> str | None:
    """Why ``package.module:function`` / ``file.py:function`` cannot be found (no import)."""
    from lossfilm.render.scene.errors import shorten

    if spec.count(":") != 1 or spec.startswith(":") or spec.endswith(":"):
        return f"expected 'package.module:function' or 'file.py:function', got {shorten(spec)!r}"
    module = spec.split(":")[0]
    if module.endswith(".py"):
        return _path_problem(module, "file")
    top = module.split(".")[0]
    if not top.isidentifier():
        return f"{shorten(module)!r} is not a module name"
    try:
        found = importlib.util.find_spec(top)  # locates the package; runs none of its code
    except (ImportError, ValueError):
        found = None
    if found is None:
        return f"no module named {shorten(top)!r} (is it installed, or on PYTHONPATH?)"
    return None


def _checkpoint_problems(folder: str, pattern: str | None) -> list[str]:
    from lossfilm.compute.training.capture import scan_checkpoints

    try:
        infos = scan_checkpoints(folder, pattern)
    except ValueError as exc:
        return [str(exc).removeprefix("checkpoints: ")]
    problems = []
    for info in infos:
        why = checkpoint_file_problem(info.path)
        if why is not None:
            problems.append(f"{info.path.name}: {why}")
    return problems[:5] + ([f"and {len(problems) - 5} more"] if len(problems) > 5 else [])


def check_scene_paths(scene: Any, root: yaml.Node, source: str) -> list[ConfigError]:
    """Every problem with the paths and code references ``scene`` names.

    Parameters
    ----------
    scene : render.scene.Scene
        The validated scene.
    root : yaml.Node
        Its node tree (overrides applied), for the positions of the keys.
    source : str
        The scene file's name, for keys that are not written in it (defaults, ``--set``).
    """
    errors: list[ConfigError] = []

    def error(dotted: str, message: str) -> None:
        errors.append(ConfigError(_where(root, dotted, source), dotted, message))

    c = scene.compute
    if c.checkpoints is not None:
        why = _path_problem(c.checkpoints, "folder")
        if why is not None:
            error("compute.checkpoints", why)
        else:
            for problem in _checkpoint_problems(c.checkpoints, None):
                error("compute.checkpoints", problem)
    if c.data.kind in ("npz", "pt") and c.data.path:
        why = _path_problem(c.data.path, "file")
        if why is not None:
            error("compute.data.path", why)
    for dotted, spec in (
        ("compute.model.factory", c.model.factory if c.model.kind == "user" else None),
        ("compute.data.factory", c.data.factory if c.data.kind == "user" else None),
        ("compute.train.loss", c.train.loss if ":" in c.train.loss else None),
    ):
        if spec:
            why = _code_problem(spec)
            if why is not None:
                error(dotted, why)
    out = scene.output
    if out.audio is not None:
        why = _path_problem(out.audio, "file")
        if why is not None:
            error("output.audio", why)
    if out.filename is not None:
        name = out.filename
        if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
            error("output.filename", "must be a plain file name (no folders): films are written inside --out")
    return errors
