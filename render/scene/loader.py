"""Typed configuration from YAML, with every error pointing at ``FILE:LINE:COL``.

The scene file is nothing more than frozen dataclasses (declared with
:func:`lossfilm.compute.config.options.option`) written in YAML. This module turns a YAML node tree into
those dataclasses, checking types, choices and ranges, suggesting the key that was meant
for an unknown one, and keeping the node marks so every message names where the
problem is. YAML is read with ``yaml.SafeLoader`` machinery only: no Python objects are
ever built from a scene.

This module reads YAML (files and ``--set`` overrides) into node trees and defines the
errors; :mod:`lossfilm.render.scene.build` turns node trees into dataclasses.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from lossfilm.render.scene.errors import ConfigError, ConfigErrors


__all__ = [
    "ConfigError",
    "ConfigErrors",
    "compose_file",
    "apply_override",
    "compose_text",
]


# ---------------------------------------------------------------------------- YAML nodes


def _where(node: yaml.Node | None, source: str) -> str:
    if node is None or node.start_mark is None:
        return source
    mark = node.start_mark
    name = mark.name if mark.name not in (None, "<unicode string>", "<file>") else source
    return f"{name}:{mark.line + 1}:{mark.column + 1}"


def compose_file(path: Path) -> yaml.Node:
    """Parse a YAML file into a node tree (marks kept); malformed YAML is a ConfigError."""
    from lossfilm.render.scene.input import read_scene_text

    path = Path(path)
    text = read_scene_text(path)  # size, encoding, NUL bytes, blank files: FILE[:L:C]: message
    node = compose_text(text, str(path))
    if isinstance(node, yaml.MappingNode) and not node.value and node.start_mark is None:
        raise ConfigError(str(path), "", "the scene has only comments; a scene needs at least `name: ...`")
    return node


def compose_text(text: str, name: str) -> yaml.Node:
    """Parse YAML text named ``name`` (a file name or ``--set ...``) into a node tree."""
    from lossfilm.render.scene.input import SceneRefused, scene_loader

    loader = scene_loader(text, name)  # SafeLoader without tags, depth or alias bombs
    try:
        node = loader.get_single_node()
    except SceneRefused as exc:
        mark = exc.problem_mark
        raise ConfigError(f"{name}:{mark.line + 1}:{mark.column + 1}", "", exc.problem) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        problem = exc.problem or exc.context or "malformed YAML"
        raise ConfigError(where, "", f"malformed YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(name, "", f"malformed YAML: {exc}") from None
    finally:
        loader.dispose()
    if node is None:
        node = yaml.MappingNode("tag:yaml.org,2002:map", [])
    return node


_SCALARS = yaml.constructor.SafeConstructor()


def _scalar(node: yaml.ScalarNode) -> Any:
    return _SCALARS.construct_object(node, deep=True)


_PATH_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)")


def _split_key_path(key_path: str) -> list[str | int]:
    parts: list[str | int] = []
    for chunk in key_path.split("."):
        m = _PATH_PART.fullmatch(chunk)
        if not m:
            raise ConfigError("--set", key_path, f"not a key path: {chunk!r}")
        parts.append(m.group(1))
        parts.extend(int(i) for i in re.findall(r"\[(\d+)\]", m.group(2)))
    return parts


def apply_override(root: yaml.Node, assignment: str) -> None:
    """Apply ``key.path=value`` (``--set``) to the node tree in place.

    The value is YAML (``--set mesh.time.interpolation=linear``, ``--set output.size=[640,360]``);
    list items are addressed with ``[i]`` (``camera.shots[0].orbit.turns=1``).
    """
    if "=" not in assignment:
        raise ConfigError("--set", assignment, "expected key.path=value")
    key_path, value_text = assignment.split("=", 1)
    key_path = key_path.strip()
    from lossfilm.render.scene.errors import shorten

    label = f"--set {shorten(assignment)}"  # the value may be huge: name it, do not repeat it
    value = compose_text(value_text, label)
    if value.start_mark is not None:
        value.start_mark.name = label
    parts = _split_key_path(key_path)
    node = root
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(part, int):
            if not isinstance(node, yaml.SequenceNode) or part >= len(node.value):
                raise ConfigError(
                    "--set", key_path, f"the scene has no list item [{part}] here; write the list out first"
                )
            if last:
                node.value[part] = value
            else:
                node = node.value[part]
            continue
        if not isinstance(node, yaml.MappingNode):
            raise ConfigError("--set", key_path, f"cannot set {part!r} inside a non-mapping value")
        for pair_index, (k, v) in enumerate(node.value):
            if isinstance(k, yaml.ScalarNode) and k.value == part:
                if last:
                    node.value[pair_index] = (k, value)
                else:
                    node = v
                break
        else:
            key = yaml.ScalarNode("tag:yaml.org,2002:str", part)
            child = value if last else yaml.MappingNode("tag:yaml.org,2002:map", [])
            node.value.append((key, child))
            node = child
