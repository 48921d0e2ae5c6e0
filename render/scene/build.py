"""YAML node trees -> frozen scene dataclasses: types, choices and ranges checked.

Every problem becomes a :class:`~lossfilm.render.scene.loader.ConfigError` that names
``FILE:LINE:COL`` and the dotted key, with a suggestion for a mistyped key. The same type
introspection drives ``lossfilm keys`` and ``lossfilm schema``
(:mod:`lossfilm.render.scene.keys`).
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import types
import typing
from typing import Any

import yaml

from lossfilm.compute.config.options import OptionRule, rule_of
from lossfilm.render.scene.loader import _scalar, _where
from lossfilm.render.scene.errors import ConfigErrors
from lossfilm.render.scene.errors import ConfigError

__all__ = ["build", "field_kind", "type_name"]


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
    if typing.get_origin(inner) in (typing.Union, types.UnionType):
        return " or ".join(type_name(a) for a in typing.get_args(inner)) + suffix
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
    from lossfilm.render.scene.errors import shorten

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
            self.error(*_located(node, path, str(exc)))
            return cls()
        check = getattr(obj, "check", None)
        if callable(check):
            try:
                check()
            except (TypeError, ValueError) as exc:
                self.error(*_located(node, path, str(exc)))
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


#: a check's message that names one of its own keys first: ``times: ...``, ``focus[1]: ...``
_KEY_MESSAGE = re.compile(r"([A-Za-z_]\w*)((?:\[\d+\])*): (.+)", re.S)


def _located(node: yaml.Node, path: str, message: str) -> tuple[yaml.Node, str, str]:
    """Point an error a dataclass raised about one of its keys at that key's node.

    ``check`` and ``__post_init__`` know only values; their message names the key
    (``focus[1]: unknown target``). When the mapping gives that key, the error points
    at its line and column and the key joins the path; otherwise it stays on the mapping.
    """
    m = _KEY_MESSAGE.fullmatch(message)
    if m is None or not isinstance(node, yaml.MappingNode):
        return node, path, message
    key, index, rest = m.groups()
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            target = value_node
            for i in map(int, re.findall(r"\[(\d+)\]", index)):
                if not (isinstance(target, yaml.SequenceNode) and i < len(target.value)):
                    break
                target = target.value[i]
            return target, f"{path}.{key}{index}" if path else f"{key}{index}", rest
    return node, path, message


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
