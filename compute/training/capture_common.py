"""What the training-loop callbacks share: when to capture, which module, which numbers.

:mod:`compute.capture_lightning` and :mod:`compute.capture_hf` wrap a
:class:`compute.capture.Recorder`; the folder they write is a checkpoint folder that a
scene reads with ``compute.checkpoints`` (plus a ``model``/``data`` factory that builds
the same architecture and the evaluation data).
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any

from torch import nn

from lossfilm.compute.training.capture import Recorder

__all__ = ["CaptureSchedule", "pick_module", "scalar_values"]

_UNSAFE = re.compile(r"[^A-Za-z0-9_]+")


def pick_module(model: nn.Module, module: str | None) -> nn.Module:
    """``model`` itself, or its sub-module at the dotted path ``module`` (``"net"``)."""
    while isinstance(model, (nn.DataParallel, nn.parallel.DistributedDataParallel)):
        model = model.module  # the weights are inside the wrapper, without its prefix
    if not module:
        return model
    try:
        sub = model.get_submodule(module)
    except AttributeError:
        raise ValueError(f"lossfilm callback: the model has no sub-module {module!r}") from None
    return sub


def scalar_values(metrics: dict[str, Any]) -> dict[str, float]:
    """Finite scalar numbers of a metrics dict, with names fit for overlays (``val/acc`` -> ``val_acc``)."""
    out = {}
    for key, value in (metrics or {}).items():
        try:
            if hasattr(value, "numel"):  # a tensor (Lightning's callback_metrics)
                if value.numel() != 1:
                    continue
                value = value.item()
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number):
            out[_UNSAFE.sub("_", str(key)).strip("_")] = number
    return out


class CaptureSchedule:
    """Capture every ``every_n_epochs`` epochs or every ``every_n_steps`` optimizer steps.

    Parameters
    ----------
    folder : path
        The checkpoint folder (created).
    every_n_epochs, every_n_steps : int, optional
        Exactly one of them (default: every epoch). Files are named by epoch or by step
        accordingly, so the folder reads back in training order.
    module : str, optional
        Save this sub-module's weights (``"net"``) instead of the whole model: what your
        scene's ``model.factory`` builds must have the same state-dict keys.
    initial : bool
        Also capture the untrained weights at the start (epoch 0 / step 0).
    """

    def __init__(self, folder: str | os.PathLike, every_n_epochs: int | None = None,
                 every_n_steps: int | None = None, module: str | None = None,
                 initial: bool = True) -> None:
        if every_n_epochs is not None and every_n_steps is not None:
            raise ValueError("lossfilm callback: give every_n_epochs or every_n_steps, not both")
        if every_n_epochs is None and every_n_steps is None:
            every_n_epochs = 1
        for name, n in (("every_n_epochs", every_n_epochs), ("every_n_steps", every_n_steps)):
            if n is not None and int(n) < 1:
                raise ValueError(f"lossfilm callback: {name} must be >= 1, got {n}")
        self.folder = Path(folder)
        self.every_n_epochs, self.every_n_steps = every_n_epochs, every_n_steps
        self.module, self.initial = module, initial
        self.recorder: Recorder | None = None

    @property
    def by_step(self) -> bool:
        return self.every_n_steps is not None

    def _recorder(self, model: nn.Module) -> Recorder:
        target = pick_module(model, self.module)
        if self.recorder is None or self.recorder.model is not target:
            self.recorder = Recorder(self.folder, target)
        return self.recorder

    def start(self, model: nn.Module, epoch: float, step: int) -> Path | None:
        """At the start of training: the untrained state (skipped when resuming)."""
        if not self.initial or (step > 0 if self.by_step else epoch > 0):
            return None
        return self.capture(model, epoch=0, step=0, values={})

    def epoch_end(self, model: nn.Module, epoch: float, step: int, values: dict) -> Path | None:
        """``epoch``: epochs completed."""
        if self.by_step or round(epoch) % self.every_n_epochs:
            return None
        return self.capture(model, epoch=epoch, step=step, values=values)

    def step_end(self, model: nn.Module, step: int, values: dict) -> Path | None:
        """``step``: optimizer steps completed."""
        if not self.by_step or step % self.every_n_steps:
            return None
        return self.capture(model, epoch=None, step=step, values=values)

    def capture(self, model, *, epoch, step, values) -> Path:
        rec = self._recorder(model)
        if self.by_step:
            return rec.capture(step=int(step), **values)
        return rec.capture(epoch=float(epoch), label=f"epoch {float(epoch):g}", **values)
