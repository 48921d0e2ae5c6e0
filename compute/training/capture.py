"""Checkpoint folders: states captured by your own training loop, or saved by any tool.

A :class:`Recorder` saves ``model.state_dict()`` at the moments you choose, atomically,
into a folder that :func:`load_checkpoints` reads back in training order::

    rec = Recorder("runs/mine", model)
    for epoch in range(10):
        train_one_epoch(model)
        rec.capture(epoch=epoch + 1, train_loss=loss)

:func:`load_checkpoints` also reads folders written by other tools: plain state dicts or
dicts holding one under ``state_dict`` / ``model_state_dict`` / ``model``, ordered by
the epoch or step in their file names (``epoch_003.pt``, ``ckpt-step1200.pth``) or by an
explicit list of names.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

__all__ = [
    "CheckpointInfo",
    "Recorder",
    "load_checkpoints",
    "foreign_values",
    "parse_position",
    "scan_checkpoints",
    "snapshot_state",
]

#: file endings read when no pattern is given.
CHECKPOINT_SUFFIXES = (".pt", ".pth", ".ckpt")

#: tag stored in files written by :class:`Recorder`.
FORMAT = "lossfilm-checkpoint-1"

#: keys under which tools commonly nest the state dict.
NESTED_STATE_KEYS = ("state_dict", "model_state_dict", "model", "net")

_STEP_RE = re.compile(
    r"(?<![A-Za-z])(?:step|iteration|iter|it)[_\-=]?(\d+(?:\.\d+)?)", re.IGNORECASE
)
_EPOCH_RE = re.compile(r"(?<![A-Za-z])(?:epoch|ep)[_\-=]?(\d+(?:\.\d+)?)", re.IGNORECASE)
_NUMBER_RE = re.compile(r"\d+(?:\.\d+)?")


def parse_position(name: str) -> tuple[float, str] | None:
    """The position a checkpoint file name states, or ``None``.

    ``"ckpt-step1200.pth"`` -> ``(1200.0, "step")``; ``"epoch_003.pt"`` -> ``(3.0, "epoch")``;
    ``"model_7.pt"`` -> ``(7.0, "epoch")`` (a bare last number counts as an epoch).
    A name with both an epoch and a step (``epoch=4-step=1000.ckpt``) gives the step.
    """
    stem = Path(name).name
    for suffix in CHECKPOINT_SUFFIXES:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    for regex, unit in ((_STEP_RE, "step"), (_EPOCH_RE, "epoch")):
        found = regex.findall(stem)
        if found:
            return float(found[-1]), unit
    numbers = _NUMBER_RE.findall(stem)
    return (float(numbers[-1]), "epoch") if numbers else None


def snapshot_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """A copy of ``model.state_dict()`` on the CPU that later training cannot change."""
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def _is_state_dict(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and bool(obj)
        and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items())
    )


#: top-level numbers of a foreign checkpoint that say where it is, not how it is doing.
POSITION_KEYS = ("epoch", "step", "global_step", "iteration", "iter")
#: where foreign checkpoints keep their optimizer's state (its first group's lr is read).
OPTIMIZER_KEYS = ("optimizer", "optimizer_state_dict", "optimizer_states")


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, torch.Tensor) and value.numel() == 1 and value.dtype.is_floating_point:
        return float(value)
    return None


def foreign_values(obj: Any) -> dict[str, float]:
    """Per-state numbers a checkpoint written by another tool carries, for overlays.

    The top-level scalars of a checkpoint dict (``loss``, ``train_loss``, ``val_acc``...;
    not the position keys of :data:`POSITION_KEYS`) and the learning rate of the first
    parameter group of a saved optimizer, as ``lr``.
    """
    if not isinstance(obj, dict):
        return {}
    values = {}
    for key, value in obj.items():
        number = _number(value)
        if isinstance(key, str) and key not in POSITION_KEYS and number is not None:
            values[key] = number
    for key in OPTIMIZER_KEYS:
        opt = obj.get(key)
        if isinstance(opt, list) and opt:  # Lightning keeps a list of optimizers
            opt = opt[0]
        groups = opt.get("param_groups") if isinstance(opt, dict) else None
        lr = _number(groups[0].get("lr")) if isinstance(groups, list) and groups and isinstance(groups[0], dict) else None
        if lr is not None:
            values.setdefault("lr", lr)
            break
    return values


def _extract_state(obj: Any, path: Path) -> tuple[dict, dict]:
    """``(state_dict, metadata)`` from whatever a checkpoint file holds."""
    if isinstance(obj, dict) and obj.get("format") == FORMAT:
        meta = {k: obj.get(k) for k in ("epoch", "step", "label", "values")}
        return obj["state_dict"], meta
    if _is_state_dict(obj):
        state = obj
    else:
        nested = [
            obj[k]
            for k in NESTED_STATE_KEYS
            if isinstance(obj, dict) and _is_state_dict(obj.get(k))
        ]
        if not nested:
            keys = sorted(obj)[:8] if isinstance(obj, dict) else type(obj).__name__
            raise ValueError(
                f"checkpoint {str(path)!r}: no state dict found (expected tensors, or one under"
                f" {list(NESTED_STATE_KEYS)}); found {keys}"
            )
        state = nested[0]
    if all(k.startswith("module.") for k in state):  # saved from DataParallel/DDP
        state = {k[len("module.") :]: v for k, v in state.items()}
    values = foreign_values(obj) if state is not obj else {}
    return state, {"values": values} if values else {}


@dataclasses.dataclass(frozen=True)
class CheckpointInfo:
    """One checkpoint file and where it sits in the sequence (nothing loaded yet)."""

    path: Path
    position: float
    unit: str  # "epoch", "step" or "index"

    def load(self) -> tuple[dict, dict]:
        """``(state_dict, metadata)``; metadata holds epoch/step/label/values when recorded."""
        try:
            obj = torch.load(self.path, map_location="cpu", weights_only=True)
        except Exception as exc:  # pickle errors come in many types
            raise ValueError(
                f"checkpoint {str(self.path)!r} cannot be read safely"
                f" ({type(exc).__name__}: {exc});"
                " save plain `model.state_dict()` with torch.save"
            ) from exc
        return _extract_state(obj, self.path)

    @property
    def default_label(self) -> str:
        return self.path.stem if self.unit == "index" else f"{self.unit} {self.position:g}"


def scan_checkpoints(
    folder: str | os.PathLike, pattern: str | None = None, order: Sequence[str] | None = None
) -> list[CheckpointInfo]:
    """Find checkpoint files and put them in training order, without loading them.

    Parameters
    ----------
    folder : path
    pattern : str, optional
        Glob inside ``folder`` (``"epoch_*.pt"``); default all ``.pt``, ``.pth``, ``.ckpt``.
    order : sequence of str, optional
        File names in the wanted order. Positions are the numbers in the names when they
        increase along ``order``, else ``0, 1, 2...`` (unit ``"index"``).

    Raises
    ------
    ValueError
        No such folder, no files, a name without a number, mixed epoch/step names, or two
        files at the same position.
    """
    root = Path(folder)
    if not root.is_dir():
        raise ValueError(f"checkpoints: folder {str(root)!r} does not exist")
    if order is not None:
        paths = [root / name for name in order]
        missing = [str(p.name) for p in paths if not p.is_file()]
        if missing:
            raise ValueError(f"checkpoints.order: files not found in {str(root)!r}: {missing}")
        if len(set(paths)) != len(paths):
            raise ValueError("checkpoints.order: a file is named more than once")
        if not paths:
            raise ValueError("checkpoints.order: the list is empty")
        parsed = [parse_position(p.name) for p in paths]
        if (
            all(parsed)
            and len({u for _, u in parsed}) == 1
            and all(b[0] > a[0] for a, b in itertools.pairwise(parsed))
        ):
            return [CheckpointInfo(p, pos, unit) for p, (pos, unit) in zip(paths, parsed)]
        return [CheckpointInfo(p, float(i), "index") for i, p in enumerate(paths)]

    if pattern:
        paths = sorted(p for p in root.glob(pattern) if p.is_file())
    else:
        paths = sorted(
            p for p in root.iterdir() if p.is_file() and p.suffix.lower() in CHECKPOINT_SUFFIXES
        )
    paths = [p for p in paths if not p.name.startswith(".")]  # Recorder's temp files
    if not paths:
        what = f"matching {pattern!r}" if pattern else f"ending in {list(CHECKPOINT_SUFFIXES)}"
        raise ValueError(f"checkpoints: no files {what} in {str(root)!r}")
    infos, unnamed = [], []
    for p in paths:
        parsed = parse_position(p.name)
        if parsed is None:
            unnamed.append(p.name)
        else:
            infos.append(CheckpointInfo(p, *parsed))
    if unnamed:
        raise ValueError(
            f"checkpoints: no epoch or step number in {unnamed}; name files like"
            " 'epoch_003.pt' / 'step_1200.pt' or give the order explicitly"
        )
    units = sorted({i.unit for i in infos})
    if len(units) > 1:
        raise ValueError(
            f"checkpoints: names mix epochs and steps in {str(root)!r};"
            " use a pattern that selects one kind"
        )
    infos.sort(key=lambda i: i.position)
    clashes = sorted({i.position for i, j in itertools.pairwise(infos) if i.position == j.position})
    if clashes:
        raise ValueError(
            f"checkpoints: several files at {units[0]} {clashes[0]:g} in {str(root)!r};"
            " give the order explicitly"
        )
    return infos


def load_checkpoints(
    folder: str | os.PathLike, pattern: str | None = None, *, order: Sequence[str] | None = None,
    with_values: bool = False,
) -> list[tuple]:
    """Load a checkpoint folder as ``[(epoch_or_step, label, state_dict), ...]`` in order.

    See :func:`scan_checkpoints` for ``pattern`` and ``order``. A recorded label (from
    :class:`Recorder`) wins over the one made from the file name. All states must have
    the same keys and shapes. ``with_values`` adds a fourth item to each entry: the
    state's numbers for overlays (a :class:`Recorder`'s ``values``, or what
    :func:`foreign_values` finds in another tool's checkpoint), ``{}`` when there are none.
    """
    out: list[tuple] = []
    reference: dict[str, tuple] | None = None
    for info in scan_checkpoints(folder, pattern, order):
        state, meta = info.load()
        shapes = {k: tuple(v.shape) for k, v in state.items()}
        if reference is None:
            reference = shapes
        elif shapes != reference:
            extra = sorted(set(shapes) ^ set(reference))[:4]
            differ = [k for k in shapes if k in reference and shapes[k] != reference[k]][:4]
            raise ValueError(
                f"checkpoint {str(info.path)!r} does not match the first one:"
                f" keys only in one {extra}, shapes differ at {differ}"
            )
        entry = (info.position, meta.get("label") or info.default_label, state)
        out.append((*entry, dict(meta.get("values") or {})) if with_values else entry)
    return out


class Recorder:
    """Save a model's states from your own training loop into a checkpoint folder.

    Parameters
    ----------
    folder : path
        Created if missing. Files are ``epoch_0003.pt`` (or ``step_000001200.pt`` when
        captured by step only), each written to a temp file and renamed, so a crash never
        leaves a half-written checkpoint.
    model : nn.Module
        The model whose ``state_dict()`` is saved at each :meth:`capture`.
    """

    def __init__(self, folder: str | os.PathLike, model: nn.Module) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.model = model
        self.saved: list[Path] = []

    def capture(
        self,
        epoch: float | None = None,
        step: int | None = None,
        label: str | None = None,
        **values: float,
    ) -> Path:
        """Save the model's current state; ``values`` (losses, accuracies...) are stored with it.

        Returns the path written.
        """
        if epoch is None and step is None:
            raise ValueError("Recorder.capture: give epoch=... or step=...")
        try:
            numbers = {k: float(v) for k, v in values.items()}
        except (TypeError, ValueError) as exc:
            raise ValueError(f"Recorder.capture: values must be numbers ({exc})") from exc
        if epoch is not None:
            name = (
                f"epoch_{int(epoch):04d}.pt"
                if float(epoch).is_integer()
                else f"epoch_{float(epoch):09.4f}.pt"
            )
        else:
            name = f"step_{int(step):09d}.pt"
        payload = {
            "format": FORMAT,
            "state_dict": snapshot_state(self.model),
            "epoch": None if epoch is None else float(epoch),
            "step": None if step is None else int(step),
            "label": label
            or (f"epoch {float(epoch):g}" if epoch is not None else f"step {int(step)}"),
            "values": numbers,
        }
        final = self.folder / name
        tmp = self.folder / f".{name}.tmp-{os.getpid()}"
        torch.save(payload, tmp)
        os.replace(tmp, final)
        self.saved.append(final)
        return final
