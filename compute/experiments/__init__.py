"""Experiments: states that come from something other than plain training.

Each kind is a module with three functions, looked up by :func:`get`:

``expected_states(cfg, n_samples) -> int``
    How many states the run will capture (for the ``max_points`` guard).
``states(cfg, model, dataset, loss_fn, device, progress, folder) -> iterator``
    Runs the experiment and yields ``(epoch, step, label, state_dict, values)`` like
    plain training; what the planes need later goes to ``folder / "experiment"``.
``build_planes(cfg, folder, states) -> (fitted, description)`` (optional)
    Writes each state's origin and directions and fills ``origin``, ``directions``,
    ``ball`` (and optionally ``paths`` / ``markers``: name -> list of ``(a, b)``) of each
    state entry, like ``lossfilm.compute.landscape.planes.build_planes``; without it the landscape section's
    directions are used.

The registry holds a one-line description per kind (``lossfilm keys`` lists them).
"""

from __future__ import annotations

import contextlib
import importlib
from types import ModuleType
from lossfilm.compute.config.experiment import EXPERIMENT_KINDS

__all__ = ["EXPERIMENT_KINDS", "get", "experiment_folder", "few_threads", "SMALL_MODEL_PARAMS"]

#: models with fewer parameters than this train on one torch thread. Small matrices gain
#: nothing from more threads, and on a shared 2-core machine (load 8) thread contention made
#: the mode-connectivity experiment 8-15x slower (4.3 s on 1 thread vs 35-65 s on 2).
SMALL_MODEL_PARAMS = 500_000


def get(kind: str) -> ModuleType | None:
    """The module of an experiment kind (None for ``none``)."""
    if kind not in EXPERIMENT_KINDS:
        raise ValueError(f"compute.experiment.kind: unknown {kind!r}; choose one of {sorted(EXPERIMENT_KINDS)}")
    name = EXPERIMENT_KINDS[kind][0]
    return None if name is None else importlib.import_module(f"lossfilm.compute.experiments.{name}")


def experiment_folder(folder) -> "Path":  # noqa: F821 - pathlib imported lazily
    """Where an experiment keeps what its planes need (minima, iterates, critics)."""
    from pathlib import Path

    path = Path(folder) / "experiment"
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def few_threads(model):
    """Run the block on one torch thread when ``model`` is small (see SMALL_MODEL_PARAMS)."""
    import torch

    before = torch.get_num_threads()
    small = sum(p.numel() for p in model.parameters()) < SMALL_MODEL_PARAMS
    if small:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if small:
            torch.set_num_threads(before)
