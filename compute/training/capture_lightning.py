"""A PyTorch Lightning callback that records states for lossfilm.

::

    from lossfilm.compute.training.capture_lightning import LossfilmCallback
    trainer = L.Trainer(max_epochs=20, callbacks=[LossfilmCallback("runs/mine")])
    trainer.fit(module, data)

``runs/mine`` then holds ``epoch_0000.pt ... epoch_0020.pt`` (the untrained weights and
each epoch's), with the logged metrics (``trainer.callback_metrics``) beside each, and a
scene films it with ``compute.checkpoints: runs/mine``. Needs ``pip install 'lossfilm[lightning]'``.
"""

from __future__ import annotations

import os

from lossfilm.compute.training.capture_common import CaptureSchedule, scalar_values

__all__ = ["LossfilmCallback"]

try:
    from lightning.pytorch.callbacks import Callback as _Callback
except ImportError:  # the optional extra is not installed: fail where it is used
    _Callback = None


if _Callback is None:

    class LossfilmCallback:  # type: ignore[no-redef]
        """Placeholder: Lightning is not installed."""

        def __init__(self, *args, **kwargs) -> None:
            raise ImportError(
                "LossfilmCallback needs PyTorch Lightning: pip install 'lossfilm[lightning]'"
            )

else:

    class LossfilmCallback(_Callback):  # type: ignore[no-redef]
        """Save the module's weights every N epochs (or steps) into a lossfilm checkpoint folder.

        Parameters are those of :class:`compute.capture_common.CaptureSchedule`: ``folder``,
        ``every_n_epochs`` / ``every_n_steps``, ``module`` (a sub-module's dotted name, when
        the LightningModule wraps the network, e.g. ``"model"``), ``initial``. Only the
        global-zero process writes.
        """

        def __init__(self, folder: str | os.PathLike, *, every_n_epochs: int | None = None,
                     every_n_steps: int | None = None, module: str | None = None,
                     initial: bool = True) -> None:
            super().__init__()
            self.schedule = CaptureSchedule(folder, every_n_epochs, every_n_steps, module, initial)

        @property
        def saved(self) -> list:
            """Paths written so far."""
            return list(self.schedule.recorder.saved) if self.schedule.recorder else []

        def on_train_start(self, trainer, pl_module) -> None:
            if trainer.is_global_zero:
                self.schedule.start(pl_module, trainer.current_epoch, trainer.global_step)

        def on_train_epoch_end(self, trainer, pl_module) -> None:
            if trainer.is_global_zero and not trainer.sanity_checking:
                self.schedule.epoch_end(pl_module, trainer.current_epoch + 1, trainer.global_step,
                                        scalar_values(trainer.callback_metrics))

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
            if trainer.is_global_zero and self.schedule.by_step:
                self.schedule.step_end(pl_module, trainer.global_step,
                                       scalar_values(trainer.callback_metrics))
