"""Training stages shared by the dropout_ramp, prune and variants experiments.

Each of these experiments trains the network in *stages* (one per rate, pruning round or
variant) with ``compute.train``'s own loop, and numbers the states of all stages on one
clock: epochs and steps continue from stage to stage, so the film's counter never runs back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from lossfilm.compute.training.train import CapturedState, batch_starts, capture_steps, train_states

from lossfilm.compute.config.train import CaptureConfig, TrainConfig

__all__ = ["Stage", "stage_train_config", "states_per_stage", "train_stage", "STAGE_GAP_EPOCHS"]

#: a later stage that shows its own starting weights starts this many epochs after the last
#: one ended, so that state epochs strictly increase (the film's epoch mapping needs it).
STAGE_GAP_EPOCHS = 1


@dataclasses.dataclass
class Stage:
    """Where the shared clock stands when a stage starts."""

    epoch: float = 0.0
    step: int = 0


def stage_train_config(train: TrainConfig, states: str, *, initial: bool, seed_offset: int = 0) -> TrainConfig:
    """The ``train`` section of one stage.

    Parameters
    ----------
    train : TrainConfig
        The scene's training (epochs, optimizer, schedule are per stage).
    states : {'final', 'captures'}
        ``final``: capture only the end of the stage; ``captures``: ``train.capture``.
    initial : bool
        Whether the stage's starting weights are a state of their own (``captures`` only).
    seed_offset : int
        Added to ``train.seed`` (shuffling, dropout), so continued stages see fresh batches.
    """
    if states == "final":
        capture = CaptureConfig(every=train.epochs, unit="epoch", include_initial=False, include_final=True)
    else:
        capture = dataclasses.replace(train.capture, include_initial=initial and train.capture.include_initial)
    return dataclasses.replace(train, capture=capture, seed=train.seed + seed_offset)


def states_per_stage(train: TrainConfig, n_samples: int, states: str, *, initial: bool) -> int:
    """How many states one stage yields (for the ``max_points`` guard)."""
    cfg = stage_train_config(train, states, initial=initial)
    per_epoch = len(batch_starts(n_samples, cfg.batch_size))
    return len(capture_steps(cfg.capture, cfg.epochs, per_epoch))


def train_stage(
    model, dataset, train: TrainConfig, clock: Stage, *, loss_fn, device, progress
) -> Iterator[tuple[float, int, CapturedState]]:
    """Train ``model`` in place for one stage; yield ``(epoch, step, captured)`` on the shared clock.

    The clock is advanced to the end of the stage once it is exhausted.
    """
    per_epoch = len(batch_starts(len(dataset), train.batch_size))
    if train.capture.include_initial and (clock.epoch > 0 or clock.step > 0):
        clock.epoch += float(STAGE_GAP_EPOCHS)
        clock.step += STAGE_GAP_EPOCHS * per_epoch
    for cs in train_states(model, dataset, train, loss_fn=loss_fn, device=device, progress=progress):
        yield clock.epoch + cs.epoch, clock.step + cs.step, cs
    clock.epoch += float(train.epochs)
    clock.step += train.epochs * per_epoch
