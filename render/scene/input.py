"""The scene file's front door: what is read before YAML is parsed, and how it is parsed.

A scene comes from a person, an editor, a script or a careless copy. Before any YAML is
parsed the raw file is checked: it exists, is a regular file, is at most
:data:`MAX_SCENE_BYTES`, is UTF-8, holds no NUL byte and is not blank. Parsing then uses a
``yaml.SafeLoader`` that refuses every explicit tag (``!!python/...``, ``!!str``, ``!foo``:
a scene is plain data, and a tag is either a mistake or an attack), nesting deeper than
:data:`MAX_DEPTH` and documents that expand (through aliases) past :data:`MAX_NODES`.

Every refusal is a :class:`render.config.ConfigError` naming ``FILE:LINE:COL`` where there
is a position, and every value quoted back is cut by :func:`shorten`, so a 3 MB line never
comes back in a message.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import yaml
from lossfilm.render.scene.errors import MAX_QUOTED_CHARS, MAX_MESSAGE_CHARS, shorten, bounded_report

__all__ = [
    "MAX_SCENE_BYTES",
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_QUOTED_CHARS",
    "MAX_MESSAGE_CHARS",
    "SceneLoader",
    "SceneRefused",
    "scene_loader",
    "read_scene_text",
    "shorten",
    "bounded_report",
]

#: a scene is a page of YAML; anything larger is a wrong file (a checkpoint, a log).
MAX_SCENE_BYTES = 1 << 20
#: mapping/list nesting a scene may use (the schema itself is less than 10 deep).
MAX_DEPTH = 64
#: nodes after alias expansion: stops a "billion laughs" document from being walked.
MAX_NODES = 100_000


def _position(data: bytes, offset: int) -> tuple[int, int]:
    """1-based ``(line, column)`` of byte ``offset`` (column counted in bytes)."""
    line = data.count(b"\n", 0, offset) + 1
    column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    return line, column


def read_scene_text(path: Path) -> str:
    """The text of scene file ``path``, or a ConfigError saying what is wrong with it.

    Raises
    ------
    render.config.ConfigError
        ``FILE: no such scene file``, ``FILE: is a directory, not a scene file``,
        ``FILE: ... larger than 1 MiB``, ``FILE:L:C: not UTF-8 ...``, ``FILE:L:C: NUL byte``,
        ``FILE: the scene is empty``.
    """
    from lossfilm.render.scene.errors import ConfigError

    name = str(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ConfigError(name, "", "no such scene file") from None
    except OSError as exc:
        raise ConfigError(name, "", f"cannot read the scene: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise ConfigError(name, "", "is a directory, not a scene file")
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(name, "", "is not a regular file (a pipe or a device?); give a YAML file")
    if info.st_size > MAX_SCENE_BYTES:
        raise ConfigError(
            name, "", f"is {info.st_size:,} bytes; a scene file is at most {MAX_SCENE_BYTES:,} bytes"
            " (is this the right file?)"
        )
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_SCENE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(name, "", f"cannot read the scene: {exc.strerror}") from None
    if len(data) > MAX_SCENE_BYTES:  # grew since stat, or a file system that lies about sizes
        raise ConfigError(name, "", f"is larger than {MAX_SCENE_BYTES:,} bytes; a scene file is not")
    nul = data.find(b"\0")
    if nul >= 0:
        line, col = _position(data, nul)
        raise ConfigError(f"{name}:{line}:{col}", "", "NUL byte: this is a binary file, not a YAML scene")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _position(data, exc.start)
        raise ConfigError(
            f"{name}:{line}:{col}", "",
            f"not UTF-8 (byte 0x{data[exc.start]:02x}); save the scene as UTF-8",
        ) from None
    if text.startswith("\ufeff"):  # a BOM some editors write: harmless, YAML allows it
        text = text[1:]
    if not text.strip():
        raise ConfigError(name, "", "the scene is empty; a scene needs at least `name: ...`")
    return text


class SceneRefused(yaml.composer.ComposerError):
    """YAML that parses but is not plain scene data (a tag, too deep, too many values)."""


class SceneLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that composes plain data only.

    Refuses explicit tags of any kind, nesting deeper than :data:`MAX_DEPTH` and more
    than :data:`MAX_NODES` nodes counted through aliases. Refusals are
    ``yaml.MarkedYAMLError`` with the offending node's mark, so the caller reports them
    like any malformed YAML.
    """

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0
        self._open_anchors: set[str] = set()

    def compose_node(self, parent, index):  # noqa: D102 - PyYAML's hook
        event = self.peek_event()
        tag = getattr(event, "tag", None)
        if tag is not None and not isinstance(event, yaml.AliasEvent):
            raise SceneRefused(
                None, None,
                f"YAML tags are not allowed in a scene (found {_written(tag)}); write plain values",
                event.start_mark,
            )
        if isinstance(event, yaml.AliasEvent):
            anchor = event.anchor
            if anchor in self._open_anchors:  # a value that contains itself: walking it never ends
                raise SceneRefused(
                    None, None, f"alias *{shorten(anchor, 40)} refers to a value that contains it",
                    event.start_mark,
                )
            if anchor in self.anchors:
                self._count(_size(self.anchors[anchor]), event)
        else:
            self._count(1, event)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise SceneRefused(
                None, None, f"nested deeper than {MAX_DEPTH} levels; a scene is not that deep",
                event.start_mark,
            )
        anchor = getattr(event, "anchor", None) if not isinstance(event, yaml.AliasEvent) else None
        if anchor is not None:
            self._open_anchors.add(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1
            self._open_anchors.discard(anchor)

    def _count(self, n: int, event) -> None:
        self._nodes += n
        if self._nodes > MAX_NODES:
            raise SceneRefused(
                None, None, f"more than {MAX_NODES:,} values (aliases counted as what they repeat)",
                event.start_mark,
            )


def scene_loader(text: str, name: str) -> SceneLoader:
    """A :class:`SceneLoader` over ``text``; a control character is a ConfigError at its place."""
    from lossfilm.render.scene.errors import ConfigError

    try:
        loader = SceneLoader(text)
    except yaml.reader.ReaderError as exc:  # PyYAML checks characters on construction
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise ConfigError(f"{name}:{line}:{column}", "",
                          f"character U+{exc.character:04X} is not allowed in YAML") from None
    loader.name = name
    return loader


def _written(tag: str) -> str:
    """A tag as the user wrote it: ``tag:yaml.org,2002:python/...`` -> ``!!python/...``."""
    if tag.startswith("tag:yaml.org,2002:"):
        tag = "!!" + tag[len("tag:yaml.org,2002:"):]
    return shorten(tag, 60)


def _size(node: yaml.Node, cap: int = MAX_NODES + 1) -> int:
    """Nodes under ``node`` counted through shared (aliased) children, stopping past ``cap``."""
    total, stack = 0, [node]
    while stack and total <= cap:
        n = stack.pop()
        total += 1
        if isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)
        elif isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                stack.extend((k, v))
    return total
