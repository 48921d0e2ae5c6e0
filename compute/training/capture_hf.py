"""A Hugging Face ``TrainerCallback`` that records states for lossfilm.

::

    from lossfilm.compute.training.capture_hf import LossfilmTrainerCallback
    trainer = Trainer(model=model, args=args, train_dataset=ds,
                      callbacks=[LossfilmTrainerCallback("runs/mine")])
    trainer.train()

``runs/mine`` then holds one file per epoch (or per N steps) with the last logged numbers
(``loss``, ``learning_rate``, ``grad_norm``...) beside each, and a scene films it with
``compute.checkpoints: runs/mine``. Needs ``pip install 'lossfilm[hf]'``.
"""

from __future__ import annotations

import os

from lossfilm.compute.training.capture_common import CaptureSchedule, scalar_values

__all__ = ["LossfilmTrainerCallback"]

try:
    from transformers import TrainerCallback as _TrainerCallback
except ImportError:  # the optional extra is not installed: fail where it is used
    _TrainerCallback = None

#: log entries that say where training is, not how it is doing.
_POSITION_KEYS = ("epoch", "step", "total_flos")


if _TrainerCallback is None:

    class LossfilmTrainerCallback:  # type: ignore[no-redef]
        """Placeholder: transformers is not installed."""

        def __init__(self, *args, **kwargs) -> None:
            raise ImportError(
                "LossfilmTrainerCallback needs transformers: pip install 'lossfilm[hf]'"
            )

else:

    class LossfilmTrainerCallback(_TrainerCallback):  # type: ignore[no-redef]
        """Save the model's weights every N epochs (or steps) into a lossfilm checkpoint folder.

        Parameters are those of :class:`compute.capture_common.CaptureSchedule`: ``folder``,
        ``every_n_epochs`` / ``every_n_steps``, ``module`` (a sub-module's dotted name, e.g.
        the backbone), ``initial``. Only the main process writes.
        """

        def __init__(self, folder: str | os.PathLike, *, every_n_epochs: int | None = None,
                     every_n_steps: int | None = None, module: str | None = None,
                     initial: bool = True) -> None:
            self.schedule = CaptureSchedule(folder, every_n_epochs, every_n_steps, module, initial)
            self.last_logs: dict[str, float] = {}

        @property
        def saved(self) -> list:
            """Paths written so far."""
            return list(self.schedule.recorder.saved) if self.schedule.recorder else []

        def on_train_begin(self, args, state, control, model=None, **kwargs):
            if state.is_world_process_zero and model is not None:
                self.schedule.start(model, state.epoch or 0.0, state.global_step)

        def on_log(self, args, state, control, logs=None, **kwargs):
            values = scalar_values({k: v for k, v in (logs or {}).items() if k not in _POSITION_KEYS})
            self.last_logs.update(values)

        def on_epoch_end(self, args, state, control, model=None, **kwargs):
            if state.is_world_process_zero and model is not None:
                # state.epoch is fractional inside an epoch; at its end it is the count done
                self.schedule.epoch_end(model, round(state.epoch), state.global_step, dict(self.last_logs))

        def on_step_end(self, args, state, control, model=None, **kwargs):
            if state.is_world_process_zero and model is not None and self.schedule.by_step:
                self.schedule.step_end(model, state.global_step, dict(self.last_logs))
