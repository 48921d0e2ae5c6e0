"""User code named in a scene: ``package.module:function`` or ``path/to/file.py:function``.

Scenes name user factories (models, data sets, losses) as text so the scene stays plain
YAML. This module turns such a reference into the object and calls it with only the
keyword arguments it accepts, so a user's ``def make(): ...`` and
``def make(in_shape, n_classes): ...`` both work.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["call_with_accepted", "load_object"]


def _import_file(path: Path, key: str) -> Any:
    """Import a Python file as a module named after its resolved path."""
    if not path.is_file():
        raise ValueError(f"{key}: file {str(path)!r} does not exist")
    name = "lossfilm_user_" + hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ValueError(f"{key}: cannot import {str(path)!r} as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception:
        del sys.modules[name]
        raise
    return module


def load_object(spec: str, *, key: str = "factory", base: str | Path | None = None) -> Any:
    """Resolve ``"package.module:attr"`` or ``"file.py:attr"`` to the object it names.

    Parameters
    ----------
    spec : str
        ``module:attribute``; the attribute may be dotted (``module:Class.make``). A
        module part ending in ``.py`` is a file, relative to ``base`` (default: the
        current directory).
    key : str
        Scene key the reference came from, named in every error message.
    base : path, optional
        Folder that relative ``.py`` paths are taken from (the scene file's folder).

    Raises
    ------
    ValueError
        When the text is malformed, the module cannot be imported or has no such name.
    """
    if (
        not isinstance(spec, str)
        or spec.count(":") != 1
        or spec.startswith(":")
        or spec.endswith(":")
    ):
        raise ValueError(
            f"{key}: expected 'package.module:function' or 'file.py:function', got {spec!r}"
        )
    module_part, attr = spec.split(":")
    if module_part.endswith(".py"):
        path = Path(module_part)
        if not path.is_absolute() and base is not None:
            path = Path(base) / path
        module = _import_file(path, key)
    else:
        try:
            module = importlib.import_module(module_part)
        except ImportError as exc:
            raise ValueError(f"{key}: cannot import module {module_part!r} ({exc})") from exc
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"{key}: {module_part!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    return obj


def call_with_accepted(fn: Callable, **kwargs: Any) -> Any:
    """Call ``fn`` with the subset of ``kwargs`` its signature accepts.

    A function taking ``**kwargs`` receives all of them; one that takes none of them is
    called without arguments.
    """
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # builtins without a signature: pass nothing
        return fn()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return fn(**kwargs)
    accepted = {
        k: v
        for k, v in kwargs.items()
        if k in params
        and params[k].kind
        in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    }
    return fn(**accepted)
