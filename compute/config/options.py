"""Typed, documented scene options.

Every configurable part of lossfilm is a frozen dataclass whose fields are declared with
:func:`option`. The scene loader (``render.scene``) reads these fields to validate YAML,
``lossfilm keys`` prints them and ``lossfilm schema`` turns them into a JSON Schema, so the
default, the one-line description and the validation rule of every key live in one place.
"""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["option", "rule_of", "OptionRule"]


@dataclasses.dataclass(frozen=True)
class OptionRule:
    """What a value of one option must satisfy besides its type."""

    doc: str
    choices: tuple | None = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False
    #: for a ``tuple`` of a nested tagged union: maps a tag (``orbit``) to its dataclass.
    registry: dict | None = None

    def range_error(self, value: float) -> str | None:
        """What is wrong with a number under this rule's bounds (``None`` when it fits)."""
        if value != value:
            return "expected a number, got NaN"
        lo, hi = self.minimum, self.maximum
        if lo is not None and (value <= lo if self.exclusive_minimum else value < lo):
            return f"must be {'>' if self.exclusive_minimum else '>='} {lo:g}, got {value:g}"
        if hi is not None and (value >= hi if self.exclusive_maximum else value > hi):
            return f"must be {'<' if self.exclusive_maximum else '<='} {hi:g}, got {value:g}"
        return None


def option(
    default: Any,
    doc: str,
    *,
    choices: tuple | list | None = None,
    min: float | None = None,  # noqa: A002 - reads naturally at the call site
    max: float | None = None,  # noqa: A002
    exclusive_min: bool = False,
    exclusive_max: bool = False,
    registry: dict | None = None,
) -> Any:
    """Declare one scene key: its default, a one-line description and its rule.

    Mutable defaults (dataclass instances, lists) are wrapped in a factory so frozen
    dataclasses stay hashable and defaults are never shared.
    """
    rule = OptionRule(
        doc=doc,
        choices=tuple(choices) if choices is not None else None,
        minimum=min,
        maximum=max,
        exclusive_minimum=exclusive_min,
        exclusive_maximum=exclusive_max,
        registry=registry,
    )
    meta = {"rule": rule}
    if dataclasses.is_dataclass(default) and not isinstance(default, type):
        return dataclasses.field(default_factory=lambda d=default: d, metadata=meta)
    if isinstance(default, (list, dict, set)):
        return dataclasses.field(default_factory=lambda d=default: type(d)(d), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def rule_of(field: dataclasses.Field) -> OptionRule:
    """The rule of a dataclass field declared with :func:`option` (an empty rule otherwise)."""
    return field.metadata.get("rule") or OptionRule(doc="")


