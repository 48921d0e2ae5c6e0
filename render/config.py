"""Typed configuration from YAML, with every error pointing at ``FILE:LINE:COL``.

The scene file is nothing more than frozen dataclasses (declared with
:func:`compute.options.option`) written in YAML. This module turns a YAML node tree into
those dataclasses, checking types, choices and ranges, suggesting the key that was meant
for an unknown one, and keeping the node marks so every message names where the
problem is. YAML is read with ``yaml.SafeLoader`` machinery only: no Python objects are
ever built from a scene.

The same introspection drives ``lossfilm keys`` and ``lossfilm schema``
(:mod:`render.keys`).
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import types
import typing
from pathlib import Path
from typing import Any

import yaml

from compute.options import OptionRule, rule_of

__all__ = [
    "ConfigError",
    "ConfigErrors",
    "compose_file",
    "apply_override",
    "build",
    "field_kind",
    "type_name",
]


class ConfigError(ValueError):
    """One problem in a scene, with where it is."""

    def __init__(self, where: str, path: str, message: str) -> None:
        self.where, self.path, self.message = where, path, message
        super().__init__(self.format())

    def format(self) -> str:
        from render.scene_input import MAX_MESSAGE_CHARS, MAX_QUOTED_CHARS, shorten

        # Bounded: a key path or a value pasted from a 3 MB line must not come back whole.
        key = f" {shorten(self.path, MAX_QUOTED_CHARS)}:" if self.path else ""
        return f"{self.where}:{key} {shorten(self.message, MAX_MESSAGE_CHARS)}"


class ConfigErrors(ValueError):
    """Every problem found in a scene, reported together."""

    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = errors
        super().__init__("\n".join(e.format() for e in errors))


# ---------------------------------------------------------------------------- YAML nodes


def _where(node: yaml.Node | None, source: str) -> str:
    if node is None or node.start_mark is None:
        return source
    mark = node.start_mark
    name = mark.name if mark.name not in (None, "<unicode string>", "<file>") else source
    return f"{name}:{mark.line + 1}:{mark.column + 1}"


def compose_file(path: Path) -> yaml.Node:
    """Parse a YAML file into a node tree (marks kept); malformed YAML is a ConfigError."""
    from render.scene_input import read_scene_text

    path = Path(path)
    text = read_scene_text(path)  # size, encoding, NUL bytes, blank files: FILE[:L:C]: message
    node = compose_text(text, str(path))
    if isinstance(node, yaml.MappingNode) and not node.value and node.start_mark is None:
        raise ConfigError(str(path), "", "the scene has only comments; a scene needs at least `name: ...`")
    return node


def compose_text(text: str, name: str) -> yaml.Node:
    """Parse YAML text named ``name`` (a file name or ``--set ...``) into a node tree."""
    from render.scene_input import SceneRefused, scene_loader

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
    from render.scene_input import shorten

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


# ---------------------------------------------------------------------------- types


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        optional = len(args) < len(typing.get_args(tp))
        if len(args) == 1:
            return args[0], optional
        return typing.Union[tuple(args)], optional  # noqa: UP007
    return tp, False


def field_kind(tp: Any) -> str:
    """A coarse kind for a field type: bool, int, float, str, tuple, dataclass, union, any."""
    tp, _ = _unwrap_optional(tp)
    if tp is bool:
        return "bool"
    if tp is int:
        return "int"
    if tp is float:
        return "float"
    if tp is str or typing.get_origin(tp) is typing.Literal:
        return "str"
    if typing.get_origin(tp) is tuple or tp is tuple:
        return "tuple"
    if dataclasses.is_dataclass(tp):
        return "dataclass"
    return "any"


def type_name(tp: Any, rule: OptionRule | None = None) -> str:
    """Human name of a field type, as ``lossfilm keys`` prints it."""
    inner, optional = _unwrap_optional(tp)
    suffix = " or null" if optional else ""
    if rule is not None and rule.registry:
        return "list of {" + " | ".join(rule.registry) + "}" + suffix
    if rule is not None and rule.choices:
        return " | ".join(str(c) for c in rule.choices) + suffix
    if typing.get_origin(inner) is typing.Literal:
        return " | ".join(str(c) for c in typing.get_args(inner)) + suffix
    if typing.get_origin(inner) is tuple:
        args = typing.get_args(inner)
        if len(args) == 2 and args[1] is Ellipsis:
            return f"list of {type_name(args[0])}" + suffix
        return "[" + ", ".join(type_name(a) for a in args) + "]" + suffix
    if dataclasses.is_dataclass(inner):
        return "mapping" + suffix
    if inner in (bool, int, float, str):
        return {"bool": "boolean", "int": "integer", "float": "number", "str": "string"}[
            inner.__name__
        ] + suffix
    return str(inner) + suffix


def _describe(value: Any) -> str:
    from render.scene_input import shorten

    if isinstance(value, str):
        return repr(shorten(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return shorten(repr(value))


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


# ---------------------------------------------------------------------------- build


class _Builder:
    def __init__(self, source: str) -> None:
        self.source = source
        self.errors: list[ConfigError] = []

    def error(self, node: yaml.Node | None, path: str, message: str) -> None:
        self.errors.append(ConfigError(_where(node, self.source), path, message))

    def dataclass(self, cls: type, node: yaml.Node, path: str) -> Any:
        if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
            return cls()
        if not isinstance(node, yaml.MappingNode):
            self.error(node, path, f"expected a mapping of {cls.__name__} keys, got {_node_desc(node)}")
            return cls()
        fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
        hints = _hints(cls)
        values: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            sub = f"{path}.{key}" if path else str(key)
            if key not in fields:
                close = difflib.get_close_matches(str(key), list(fields), n=1, cutoff=0.6)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                known = ", ".join(fields)
                self.error(key_node, sub, f"unknown key{hint}; known keys: {known}")
                continue
            if key in values:
                self.error(key_node, sub, "key given twice")
            before = len(self.errors)
            value = self.value(hints[key], rule_of(fields[key]), value_node, sub)
            if len(self.errors) == before:  # a refused value is reported; the default stands in
                values[key] = value
        try:
            obj = cls(**values)
        except (TypeError, ValueError) as exc:
            self.error(node, path, str(exc))
            return cls()
        check = getattr(obj, "check", None)
        if callable(check):
            try:
                check()
            except (TypeError, ValueError) as exc:
                self.error(node, path, str(exc))
        return obj

    def value(self, tp: Any, rule: OptionRule, node: yaml.Node, path: str) -> Any:
        inner, optional = _unwrap_optional(tp)
        if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
            if optional:
                return None
            self.error(node, path, f"expected {type_name(tp, rule)}, got null")
            return None
        if rule.registry:
            return self.tagged_list(rule.registry, node, path)
        kind = field_kind(inner)
        if kind == "dataclass":
            return self.dataclass(inner, node, path)
        if kind == "tuple":
            return self.tuple(inner, rule, node, path)
        if not isinstance(node, yaml.ScalarNode):
            self.error(node, path, f"expected {type_name(tp, rule)}, got {_node_desc(node)}")
            return None
        raw = _scalar(node)
        return self.scalar(inner, rule, raw, node, path)

    def scalar(self, tp: Any, rule: OptionRule, raw: Any, node: yaml.Node, path: str) -> Any:
        kind = field_kind(tp)
        value = raw
        if kind == "bool":
            if not isinstance(raw, bool):
                self.error(node, path, f"expected true or false, got {_describe(raw)}")
                return None
        elif kind == "int":
            if isinstance(raw, bool) or not isinstance(raw, int):
                if isinstance(raw, float) and raw.is_integer():
                    value = int(raw)
                else:
                    self.error(node, path, f"expected an integer, got {_describe(raw)}")
                    return None
        elif kind == "float":
            if isinstance(raw, bool):
                self.error(node, path, f"expected a number, got {_describe(raw)}")
                return None
            if isinstance(raw, str):
                try:  # YAML 1.1 reads 1e-3 as a string; a user means a number
                    value = float(raw)
                except ValueError:
                    self.error(node, path, f"expected a number, got {_describe(raw)}")
                    return None
            elif not isinstance(raw, (int, float)):
                self.error(node, path, f"expected a number, got {_describe(raw)}")
                return None
            value = float(value)
        elif kind == "str":
            if isinstance(raw, (bool, list, dict)) or raw is None:
                self.error(node, path, f"expected a string, got {_describe(raw)}")
                return None
            value = str(raw)
            choices = rule.choices
            if typing.get_origin(tp) is typing.Literal:
                choices = typing.get_args(tp)
            if choices and value not in choices:
                close = difflib.get_close_matches(value, [str(c) for c in choices], n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                options = ", ".join(str(c) for c in choices)
                self.error(node, path, f"unknown value {value!r}{hint}; choose one of: {options}")
                return None
        if kind in ("int", "float") and not self.in_range(rule, value, node, path):
            return None
        if kind != "str" and rule.choices and value not in rule.choices:
            options = ", ".join(str(c) for c in rule.choices)
            self.error(node, path, f"expected one of {options}, got {_describe(value)}")
            return None
        return value

    def in_range(self, rule: OptionRule, value: float, node: yaml.Node, path: str) -> bool:
        problem = rule.range_error(value)
        if problem is not None:
            self.error(node, path, problem)
        return problem is None

    def tuple(self, tp: Any, rule: OptionRule, node: yaml.Node, path: str) -> Any:
        args = typing.get_args(tp) or (Any, Ellipsis)
        if isinstance(node, yaml.ScalarNode) and args[-1] is Ellipsis:
            items = [node]  # a single value where a list is expected: a list of one
        elif not isinstance(node, yaml.SequenceNode):
            self.error(node, path, f"expected {type_name(tp, rule)}, got {_node_desc(node)}")
            return None
        else:
            items = node.value
        if args[-1] is Ellipsis:
            item_types = [args[0]] * len(items)
        else:
            if len(items) != len(args):
                self.error(node, path, f"expected {len(args)} values, got {len(items)}")
                return None
            item_types = list(args)
        out = []
        for i, (item_tp, item) in enumerate(zip(item_types, items)):
            out.append(self.value(item_tp, _item_rule(rule), item, f"{path}[{i}]"))
        return tuple(out)

    def tagged_list(self, registry: dict, node: yaml.Node, path: str) -> Any:
        if isinstance(node, yaml.MappingNode):
            items = [node]
        elif isinstance(node, yaml.SequenceNode):
            items = node.value
        else:
            self.error(node, path, f"expected a list of {{{' | '.join(registry)}}}, got {_node_desc(node)}")
            return ()
        out = []
        for i, item in enumerate(items):
            sub = f"{path}[{i}]"
            if not isinstance(item, yaml.MappingNode) or len(item.value) != 1:
                self.error(item, sub, f"expected one of {{{' | '.join(registry)}}} with its settings, e.g. '{next(iter(registry))}: {{...}}'")
                continue
            key_node, value_node = item.value[0]
            tag = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if tag not in registry:
                close = difflib.get_close_matches(str(tag), list(registry), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.error(key_node, sub, f"unknown kind {tag!r}{hint}; choose one of: {', '.join(registry)}")
                continue
            out.append(self.dataclass(registry[tag], value_node, f"{sub}.{tag}"))
        return tuple(out)


def _item_rule(rule: OptionRule) -> OptionRule:
    """Range and choice rules of a tuple field apply to each of its items."""
    return dataclasses.replace(rule, registry=None)


def _node_desc(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return _describe(_scalar(node))


def build(cls: type, node: yaml.Node, source: str, path: str = "") -> Any:
    """Build dataclass ``cls`` from ``node``; raise :class:`ConfigErrors` listing every problem."""
    builder = _Builder(source)
    obj = builder.dataclass(cls, node, path)
    if builder.errors:
        raise ConfigErrors(builder.errors)
    return obj
