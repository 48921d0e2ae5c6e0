"""The surface sequence: the in-memory form of what the compute stage stores.

The mesh stage reads a :class:`SurfaceSequence` (``compute.store.open(folder).sequence()``)
and nothing else from the compute side. Arrays are small (states × grid), so holding the
whole sequence is fine; frames are what must stream.
"""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["SurfaceSequence", "stack_ragged"]


@dataclasses.dataclass
class SurfaceSequence:
    """Loss over a 2-D slice of weight space, for each captured state.

    Attributes
    ----------
    a : (nx,) float64
        Coordinates along direction 1 (columns of every grid), increasing.
    b : (ny,) float64
        Coordinates along direction 2 (rows of every grid), increasing.
    loss : (S, ny, nx) float32
        Mean loss at ``origin_s + a[j]·d1_s + b[i]·d2_s``; non-finite values are kept.
    epochs : (S,) float64
        Epoch of each state (fractional when captured by step); a swept value otherwise.
    steps : (S,) int64
        Optimizer step of each state (0 when not applicable).
    labels : list of str, length S
        Human label of each state (``"epoch 3"``, ``"prune 40%"``).
    ball : (S, 2) float64
        Plane coordinates ``(a, b)`` of the minimizer (the trained weights) in each state's
        slice: ``(0, 0)`` when the plane moves with the weights, the projected trajectory
        when the plane is fixed.
    values : dict of str -> (S,) float64
        Per-state numbers for overlays: ``train_loss``, ``lr``, ``accuracy``...
    channels : dict of str -> (S, ny, nx) float32
        Further per-point metrics on the grid (``accuracy``), same layout as ``loss``.
    paths : dict of str -> (S, k, 2) float64
        Named polylines in plane coordinates per state, drawn on the surface (mode
        connectivity: ``segment``, ``curve``); rows of NaN pad states with fewer points.
    markers : dict of str -> (S, k, 2) float64
        Named point sets in plane coordinates per state, drawn as dots on the surface (SWAG:
        ``iterates``, ``samples``); rows of NaN are absent points.
    """

    a: np.ndarray
    b: np.ndarray
    loss: np.ndarray
    epochs: np.ndarray
    steps: np.ndarray
    labels: list
    ball: np.ndarray
    values: dict = dataclasses.field(default_factory=dict)
    channels: dict = dataclasses.field(default_factory=dict)
    paths: dict = dataclasses.field(default_factory=dict)
    markers: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        self.a = np.asarray(self.a, dtype=np.float64)
        self.b = np.asarray(self.b, dtype=np.float64)
        self.loss = np.asarray(self.loss, dtype=np.float32)
        if self.loss.ndim != 3 or self.loss.shape[1:] != (self.b.size, self.a.size):
            raise ValueError(
                f"loss must be (S, ny, nx) = (S, {self.b.size}, {self.a.size}),"
                f" got {self.loss.shape}"
            )
        n = self.loss.shape[0]
        self.epochs = np.asarray(self.epochs, dtype=np.float64).reshape(n)
        self.steps = np.asarray(self.steps, dtype=np.int64).reshape(n)
        self.ball = np.asarray(self.ball, dtype=np.float64).reshape(n, 2)
        if len(self.labels) != n:
            raise ValueError(f"labels has {len(self.labels)} entries for {n} states")
        self.values = {k: np.asarray(v, dtype=np.float64).reshape(n) for k, v in self.values.items()}
        self.channels = {
            k: np.asarray(v, dtype=np.float32).reshape(self.loss.shape)
            for k, v in self.channels.items()
        }
        for name in ("paths", "markers"):
            sets = {k: np.asarray(v, dtype=np.float64) for k, v in getattr(self, name).items()}
            for k, v in sets.items():
                if v.ndim != 3 or v.shape[0] != n or v.shape[2] != 2:
                    raise ValueError(f"{name}[{k!r}] must be (S, k, 2) with S = {n}, got {v.shape}")
            setattr(self, name, sets)

    @property
    def n_states(self) -> int:
        return int(self.loss.shape[0])

    @property
    def shape(self) -> tuple[int, int]:
        """Grid shape ``(ny, nx)``."""
        return int(self.b.size), int(self.a.size)


def stack_ragged(per_state: list) -> np.ndarray:
    """Stack per-state point lists of different lengths into ``(S, k_max, 2)``, NaN-padded.

    Parameters
    ----------
    per_state : list of S array-likes, each (k_i, 2) (empty allowed)
    """
    arrays = [np.asarray(p, dtype=np.float64).reshape(-1, 2) for p in per_state]
    out = np.full((len(arrays), max([a.shape[0] for a in arrays] + [0]), 2), np.nan)
    for i, a in enumerate(arrays):
        out[i, : a.shape[0]] = a
    return out
