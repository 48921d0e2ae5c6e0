"""Training with captures: the states whose landscapes become the film's frames.

:func:`train_states` trains a model in place and yields a :class:`CapturedState` at
every capture point (and the initial weights if asked), one at a time, so the caller
writes each to disk and memory never holds the whole trajectory. On CPU the same seeds
give bit-identical states, so an interrupted run can simply retrain from scratch.

The learning-rate schedule is a pure function of the (fractional) epoch,
:func:`lr_at`, applied before every optimizer step.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections.abc import Callable, Iterator

import torch
from torch import nn

from lossfilm.compute.training.capture import load_checkpoints, snapshot_state
from lossfilm.compute.data.datasets import Dataset
from lossfilm.compute.model.zoo import build_loss
from lossfilm.compute.execution.progress import Progress
from lossfilm.compute.config.train import CaptureConfig, TrainConfig
from lossfilm.compute.config.train import SCHEDULES

__all__ = [
    "SCHEDULES",
    "CaptureConfig",
    "CapturedState",
    "TrainConfig",
    "batch_starts",
    "capture_steps",
    "load_checkpoints",
    "lr_at",
    "train_states",
]


#: samples per forward pass when measuring loss and accuracy over the whole data set.
METRIC_BATCH = 4096


@dataclasses.dataclass
class CapturedState:
    """One captured training state.

    Attributes
    ----------
    index : int
        Position in the capture sequence, from 0.
    epoch : float
        Epochs done (fractional when captured by step).
    step : int
        Optimizer steps done.
    label : str
        ``"epoch 3"`` or ``"step 1200"``.
    state : dict of str -> tensor
        CPU clones of ``model.state_dict()`` (parameters and buffers).
    values : dict of str -> float
        ``train_loss``, ``train_accuracy`` (whole data set, eval mode), ``lr`` (the rate
        of the schedule at this epoch), ``weight_norm`` (L2 norm of all parameters), and
        ``test_loss``, ``test_accuracy`` on the held-out samples when the data has them.
    """

    index: int
    epoch: float
    step: int
    label: str
    state: dict
    values: dict


# ---------------------------------------------------------------- pure schedule functions


def lr_at(cfg: TrainConfig, epoch: float) -> float:
    """Learning rate of the schedule at a (fractional) epoch."""
    if cfg.schedule == "constant":
        return cfg.lr
    if cfg.schedule == "step":
        return cfg.lr * cfg.gamma ** math.floor(epoch / cfg.step_size + 1e-9)
    if cfg.schedule == "cosine":
        frac = min(max(epoch / cfg.epochs, 0.0), 1.0)
        return cfg.lr_min + (cfg.lr - cfg.lr_min) * 0.5 * (1.0 + math.cos(math.pi * frac))
    if cfg.schedule == "cyclic":
        phase = (epoch / cfg.period) % 1.0
        return cfg.lr_min + (cfg.lr - cfg.lr_min) * (1.0 - abs(2.0 * phase - 1.0))
    if cfg.schedule == "piecewise":
        xs, ys = list(cfg.piecewise[0::2]), list(cfg.piecewise[1::2])
        if epoch <= xs[0]:
            return float(ys[0])
        if epoch >= xs[-1]:
            return float(ys[-1])
        i = bisect.bisect_right(xs, epoch)
        t = (epoch - xs[i - 1]) / (xs[i] - xs[i - 1])
        return float(ys[i - 1] + t * (ys[i] - ys[i - 1]))
    raise ValueError(f"train.schedule: unknown schedule {cfg.schedule!r}")


def capture_steps(capture: CaptureConfig, epochs: int, steps_per_epoch: int) -> list[int]:
    """Optimizer steps after which a state is captured, increasing, without repeats.

    Step 0 is the untrained state. With ``unit='epoch'`` a capture falls at the end of
    every ``every``-th epoch.
    """
    total = epochs * steps_per_epoch
    stride = capture.every * (steps_per_epoch if capture.unit == "epoch" else 1)
    steps = list(range(stride, total + 1, stride))
    if capture.include_initial:
        steps.insert(0, 0)
    if capture.include_final and (not steps or steps[-1] != total):
        steps.append(total)
    return steps


# ---------------------------------------------------------------- training


def batch_starts(n: int, batch_size: int) -> list[int]:
    """First index of each minibatch of an epoch over ``n`` samples.

    A last batch of a single sample is dropped: batch norm cannot train on one sample,
    and shuffling makes a different sample sit out each epoch.
    """
    starts = list(range(0, n, batch_size))
    if len(starts) > 1 and n - starts[-1] == 1:
        starts.pop()
    return starts


def _metrics(
    model: nn.Module, loss_fn: Callable, x: torch.Tensor, y: torch.Tensor
) -> tuple[float, float]:
    """Mean loss and accuracy over all of ``x`` in eval mode (BN uses running stats)."""
    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(y), METRIC_BATCH):
            xb, yb = x[i : i + METRIC_BATCH], y[i : i + METRIC_BATCH]
            logits = model(xb)
            total_loss += float(loss_fn(logits, yb)) * len(yb)
            correct += int((logits.argmax(dim=-1) == yb).sum())
    model.train(was_training)
    return total_loss / len(y), correct / len(y)


def _optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(
            params,
            lr=cfg.lr,
            momentum=cfg.momentum,
            nesterov=cfg.nesterov and cfg.momentum > 0,
            weight_decay=cfg.weight_decay,
        )
    betas = (cfg.momentum, 0.999)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, betas=betas, weight_decay=cfg.weight_decay)
    return torch.optim.AdamW(params, lr=cfg.lr, betas=betas, weight_decay=cfg.weight_decay)


def train_states(
    model: nn.Module,
    dataset: Dataset,
    cfg: TrainConfig,
    *,
    loss_fn: Callable | None = None,
    device: str | torch.device | None = None,
    progress: bool = True,
) -> Iterator[CapturedState]:
    """Train ``model`` in place; yield a :class:`CapturedState` at each capture point.

    Parameters
    ----------
    model : nn.Module
        Freshly built (and seeded) network; it is trained in place.
    dataset : Dataset
        ``x (N, ...)``, ``y (N,)``; shuffled every epoch with a generator seeded by ``cfg.seed``.
    cfg : TrainConfig
    loss_fn : callable, optional
        ``fn(logits, y) -> scalar``; default ``build_loss(cfg.loss)``.
    device : optional
        Where to train (default CPU); captured states are always CPU copies.
    progress : bool
        Show a progress line per optimizer step.

    Yields
    ------
    CapturedState
        In increasing step order; see :func:`capture_steps` for which steps.
    """
    loss_fn = loss_fn or build_loss(cfg.loss)
    device = torch.device(device or "cpu")
    model.to(device).train()
    x, y = dataset.x.to(device), dataset.y.to(device)
    held_out = dataset.test_x is not None and len(dataset.test_y) > 0
    if held_out:
        test_x, test_y = dataset.test_x.to(device), dataset.test_y.to(device)
    n = len(y)
    starts = batch_starts(n, cfg.batch_size)
    steps_per_epoch = len(starts)
    total = cfg.epochs * steps_per_epoch
    wanted = capture_steps(cfg.capture, cfg.epochs, steps_per_epoch)
    by_step = cfg.capture.unit == "step"
    shuffle = torch.Generator().manual_seed(cfg.seed)
    torch.manual_seed(cfg.seed)  # dropout draws from the global generator
    optimizer = _optimizer(model, cfg)

    def capture(index: int, step: int) -> CapturedState:
        epoch = step / steps_per_epoch
        train_loss, accuracy = _metrics(model, loss_fn, x, y)
        with torch.no_grad():
            norm = math.sqrt(
                sum(float(p.detach().double().pow(2).sum()) for p in model.parameters())
            )
        label = f"step {step}" if by_step else f"epoch {epoch:g}"
        values = {
            "train_loss": train_loss,
            "train_accuracy": accuracy,
            "lr": lr_at(cfg, epoch),
            "weight_norm": norm,
        }
        if held_out:
            values["test_loss"], values["test_accuracy"] = _metrics(model, loss_fn, test_x, test_y)
        return CapturedState(
            index=index,
            epoch=float(epoch),
            step=int(step),
            label=label,
            state=snapshot_state(model),
            values=values,
        )

    index = 0
    if wanted and wanted[0] == 0:
        yield capture(index, 0)
        index += 1
    next_capture = index
    step = 0
    with Progress("training", total, unit="steps", enabled=progress) as bar:
        for _epoch in range(cfg.epochs):
            order = torch.randperm(n, generator=shuffle).to(device)
            for start in starts:
                rate = lr_at(cfg, step / steps_per_epoch)
                for group in optimizer.param_groups:
                    group["lr"] = rate
                batch = order[start : start + cfg.batch_size]
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(model(x[batch]), y[batch])
                loss.backward()
                optimizer.step()
                step += 1
                bar.advance()
                if next_capture < len(wanted) and step == wanted[next_capture]:
                    yield capture(index, step)
                    index += 1
                    next_capture += 1
