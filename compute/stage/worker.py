"""What a worker process keeps between tasks: the store, model and data of one folder.

Tasks carry references (folder, state index, rows or points); each worker opens the store
once and keeps it for the next task, for both uniform tiles and refinement parts.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from lossfilm.compute.store import folder as st

__all__ = ["loaded", "loaded_state", "eval_options", "forget"]

_CACHE: dict = {}


def loaded(folder: str, device: str) -> dict:
    """The worker's cache for ``folder``: ``store``, ``model``, ``x``, ``y``, ``loss_fn``, ``state``."""
    # The manifest's stamp is in the key: a long-lived (Dask) worker must not keep serving
    # a store that a later run at the same path rewrote with another configuration.
    stamp = os.stat(Path(folder) / st.MANIFEST)
    key = (folder, device, stamp.st_mtime_ns, stamp.st_size)
    if _CACHE.get("key") != key:
        s = st.open(folder)
        x, y = s.eval_data()
        _CACHE.clear()
        _CACHE.update(key=key, store=s, model=s.model(), x=x, y=y, loss_fn=s.loss_fn, state=None)
    return _CACHE


def loaded_state(folder: str, device: str, index: int) -> tuple[dict, "st.Store", int]:
    """The cache with state ``index``'s origin and directions in it, its store, and the
    state's position in the store's list (kept while tasks stay on one state)."""
    c = loaded(folder, device)
    s = c["store"]
    i = next(j for j, e in enumerate(s.states) if e["index"] == index)
    if c["state"] != index:
        d1, d2 = s.directions(i)
        c.update(state=index, origin=s.origin(i), d1=d1, d2=d2)
    return c, s, i


def eval_options(ev: dict, device: str) -> dict:
    """:func:`~lossfilm.compute.landscape.surface.evaluate_tile` keywords from the manifest's
    ``eval`` section."""
    return dict(accuracy=ev["accuracy"], bn_mode=ev["bn_mode"], method=ev["method"],
                batch_size=ev["batch_size"], dtype=getattr(torch, ev["dtype"]), device=device)


def forget() -> None:
    """Drop the cache: this process may have cached an older store at the same path."""
    _CACHE.clear()
