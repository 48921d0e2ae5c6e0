"""Scenes written by the explorer: the user's scene with a captured camera or ball, as a new file.

The explorer never edits a scene file. It writes ``<stem>-explored.yaml`` next to it
(``-explored-2.yaml``, ... when that exists; created exclusively, so nothing is ever
overwritten, not even by a race), with

- the original keys and the ``--set`` overrides applied,
- ``camera.shots`` replaced by one ``keyframes`` shot that spans the whole film,
- and/or ``mesh.descent`` set to the released ball,
- ``output.filename`` set to the new stem, so its film does not overwrite the original's;
  the scene keeps its name, so it reuses the surfaces already stored for it.

The file is validated with :func:`render.scene.load_scene` before it is returned; a file
that would not validate is removed and the error raised.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import yaml

from lossfilm.render.scene.loader import apply_override, compose_file

from lossfilm.render.scene.errors import ConfigErrors

__all__ = ["explored_path", "write_explored_scene"]

#: how many ``-explored-N`` names are tried before giving up.
MAX_VERSIONS = 999


def explored_path(scene_path: Path, version: int = 1) -> Path:
    """``scene.yaml`` -> ``scene-explored.yaml`` (version 1), ``scene-explored-N.yaml``."""
    stem = Path(scene_path).stem
    suffix = "" if version == 1 else f"-{version}"
    return Path(scene_path).with_name(f"{stem}-explored{suffix}.yaml")


def _scene_data(scene_path: Path, overrides) -> dict:
    """The scene file as plain data with ``--set`` overrides applied (safe YAML only)."""
    root = compose_file(scene_path)
    for assignment in overrides:
        apply_override(root, assignment)
    data = yaml.safe_load(yaml.serialize(root))
    return data if isinstance(data, dict) else {}


def _header(scene_path: Path, shot: dict | None, descent: dict | None) -> str:
    what = []
    if shot is not None:
        n = len(shot["keyframes"]["times"])
        what.append(f"a keyframes camera of {n} view{'s' * (n != 1)} captured in the explorer")
    if descent is not None:
        what.append("a descent ball released in the explorer")
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f"# Written by `lossfilm explore {scene_path.name}` on {stamp}:\n"
            f"# {scene_path.name} with {' and '.join(what)}.\n")


def write_explored_scene(scene_path: Path, overrides=(), *, shot: dict | None = None,
                         descent: dict | None = None) -> Path:
    """Write the scene with ``shot`` (a ``keyframes`` shot) and/or ``descent`` to a new file.

    Parameters
    ----------
    scene_path : Path
        The explored scene file (read, never written).
    overrides : sequence of str
        ``--set`` assignments the scene was explored with.
    shot : dict, optional
        ``{"keyframes": {...}}``: replaces ``camera.shots``.
    descent : dict, optional
        Becomes ``mesh.descent``.

    Returns
    -------
    Path
        The new, validated scene file.
    """
    from lossfilm.render.scene.output import profile_extension
    from lossfilm.render.scene.scene import load_scene

    if shot is None and descent is None:
        raise ValueError("nothing to save: capture a keyframe or release a ball first")
    scene_path = Path(scene_path)
    data = _scene_data(scene_path, overrides)
    if shot is not None:
        camera = data.get("camera") or {}
        camera["shots"] = [shot]
        camera.pop("transition", None)  # one shot: nothing to ease out of
        data["camera"] = camera
    if descent is not None:
        mesh = data.get("mesh") or {}
        mesh["descent"] = descent
        data["mesh"] = mesh
    profile = (data.get("output") or {}).get("profile", "web")
    for version in range(1, MAX_VERSIONS + 1):
        path = explored_path(scene_path, version)
        output = data.setdefault("output", {})
        output["filename"] = path.stem + profile_extension(str(profile))
        text = _header(scene_path, shot, descent) + yaml.safe_dump(
            data, sort_keys=False, default_flow_style=None, width=100, allow_unicode=True)
        try:
            with open(path, "x", encoding="utf-8") as f:  # "x": never overwrite
                f.write(text)
        except FileExistsError:
            continue
        try:
            load_scene(path)
        except ConfigErrors:
            path.unlink()
            raise
        return path
    raise ValueError(f"{explored_path(scene_path, MAX_VERSIONS)}: too many explored versions; "
                     "move some away")
