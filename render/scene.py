"""The scene: five sections of typed configuration, read from a YAML file.

``compute``, ``mesh``, ``camera``, ``render`` and ``output`` are the contract (see
ARCHITECTURE.md); the keys inside each are the frozen dataclasses of the stage that owns
them. ``load_scene`` reads a file, applies ``--set`` overrides and validates everything,
raising :class:`render.config.ConfigErrors` whose lines read ``FILE:LINE:COL: key: message``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path
from typing import Any, Iterable

from compute.config import ComputeConfig
from compute.options import option
from render.config import ConfigError, ConfigErrors, apply_override, build, compose_file
from render.look import RenderConfig
from render.mesh import MeshConfig
from render.output import OutputConfig
from render.shots import CameraConfig, validate_camera

__all__ = ["Scene", "load_scene", "stage_hash", "SECTIONS"]

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
    scene = build(Scene, root, str(path))
    try:
        validate_camera(scene.camera)
    except ValueError as exc:
        raise ConfigErrors([ConfigError(str(path), "camera", str(exc))]) from None
    from render.scene_paths import check_scene_paths

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
