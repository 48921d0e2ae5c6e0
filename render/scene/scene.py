"""The scene: five sections of typed configuration, read from a YAML file.

``compute``, ``mesh``, ``camera``, ``render`` and ``output`` are the contract (see
ARCHITECTURE.md); the keys inside each are the frozen dataclasses of the stage that owns
them. ``load_scene`` reads a file, applies ``--set`` overrides and validates everything,
raising :class:`lossfilm.render.scene.loader.ConfigErrors` whose lines read ``FILE:LINE:COL: key: message``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path
from typing import Any, Iterable

from lossfilm.compute.config.compute import ComputeConfig
from lossfilm.compute.config.options import option
from lossfilm.render.scene.loader import apply_override, compose_file, compose_text
from lossfilm.render.scene.errors import ConfigErrors
from lossfilm.render.scene.errors import ConfigError
from lossfilm.render.scene.build import build
from lossfilm.render.scene.look import RenderConfig
from lossfilm.render.scene.looks import DEFAULT_LOOK, apply_look_node
from lossfilm.render.scene.mesh import MeshConfig
from lossfilm.render.scene.output import OutputConfig
from lossfilm.render.scene.camera import CameraConfig, validate_camera

__all__ = ["Scene", "load_scene", "look_config", "stage_hash", "SECTIONS"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclasses.dataclass(frozen=True)
class Scene:
    """A film: what to train, how to slice, how to shape, where to fly, what to deliver."""

    name: str = option("scene", "Name of the film; outputs go to outputs/<name>/ by default.")
    description: str = option("", "Free text about what the scene shows (not rendered).")
    compute: ComputeConfig = option(ComputeConfig(), "What to train or load and how to slice its weight space.")
    mesh: MeshConfig = option(MeshConfig(), "How loss values become a surface over time.")
    camera: CameraConfig = option(CameraConfig(), "Where the camera flies: a list of shots.")
    render: RenderConfig = option(RenderConfig(), "The look: light, colour, contours, actors, text.")
    output: OutputConfig = option(OutputConfig(), "What is delivered: size, frame rate, codec profile.")

    def check(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(
                f"name: {self.name!r} must be letters, digits, '_', '-' or '.', as it names the output folder"
            )


SECTIONS: dict[str, type] = {
    "compute": ComputeConfig,
    "mesh": MeshConfig,
    "camera": CameraConfig,
    "render": RenderConfig,
    "output": OutputConfig,
}


def load_scene(path: str | Path, overrides: Iterable[str] = ()) -> Scene:
    """Read, override and validate a scene file.

    Parameters
    ----------
    path
        The YAML scene file.
    overrides
        ``key.path=value`` strings applied in order, as ``--set`` does.

    Raises
    ------
    render.config.ConfigErrors
        Every problem found, each as ``FILE:LINE:COL: dotted.key: message``.
    """
    path = Path(path)
    try:
        root = compose_file(path)
        for assignment in overrides:
            apply_override(root, assignment)
    except ConfigError as exc:
        raise ConfigErrors([exc]) from None
    apply_look_node(root)  # the named look's keys, under the scene's own
    scene = build(Scene, root, str(path))
    try:
        validate_camera(scene.camera)
    except ValueError as exc:
        raise ConfigErrors([ConfigError(str(path), "camera", str(exc))]) from None
    from lossfilm.render.scene.paths import check_scene_paths

    path_errors = check_scene_paths(scene, root, str(path))  # files, folders, code it names
    if path_errors:
        raise ConfigErrors(path_errors)
    return scene


def _plain(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj):
        out = {"__kind__": type(obj).__name__}
        out.update({f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)})
        return out
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def stage_hash(*parts: Any) -> str:
    """Stable hash of configuration values (dataclasses, tuples, scalars), 16 hex digits.

    Defaults are included, so two scenes that mean the same thing hash the same whether
    or not they spell the defaults out.
    """
    text = json.dumps([_plain(p) for p in parts], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def as_dict(obj: Any) -> Any:
    """A dataclass tree as plain JSON-able data (for manifests and PNG metadata)."""
    if dataclasses.is_dataclass(obj):
        return {f.name: as_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [as_dict(v) for v in obj]
    return obj


def look_config(name: str = DEFAULT_LOOK, **render_keys: Any):
    """The :class:`~lossfilm.render.scene.look.RenderConfig` of look ``name`` with ``render_keys`` on top.

    Goes through the same merge and validation as a scene file (for tests, docs, code).
    """
    import yaml

    root = compose_text(yaml.safe_dump({"render": {"look": name, **render_keys}}), f"<look {name}>")
    apply_look_node(root)
    render = next(v for k, v in root.value if k.value == "render")
    return build(RenderConfig, render, f"<look {name}>", "render")
