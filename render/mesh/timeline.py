"""Film time -> sequence position, and values interpolated between captured states.

A *position* is a fractional state index: 0 is the first captured state, ``S - 1`` the
last, 2.5 halfway between the third and the fourth. :class:`Timeline` maps film seconds
to positions (uniform, by epoch value or by keyframes, with holds at both ends);
:class:`StateInterpolator` turns a position into values (PCHIP by default: monotone data
stays monotone, so interpolation invents no minima). At an integer position every
interpolator returns that state's values exactly.
"""

from __future__ import annotations


import numpy as np
from scipy.interpolate import PchipInterpolator

from lossfilm.render.scene.mesh import INTERPOLATIONS, MAPPINGS, TimeConfig

__all__ = [
    "TimeConfig", "Timeline", "StateInterpolator", "pchip_slopes", "INTERPOLATIONS", "MAPPINGS",
]

#: A position this close to an integer is that state (so frame times that land on a state
#: through float arithmetic still show the state exactly).
KNOT_SNAP = 1e-9
#: Grid points per block when computing PCHIP slopes (bounds the float64 scratch memory).
SLOPE_BLOCK = 1 << 16


class Timeline:
    """Film seconds -> fractional state position.

    The film is ``hold_start`` seconds on the first state, a moving part, then ``hold_end``
    seconds on the last state. In the moving part, ``uniform`` gives every state interval
    the same time, ``epoch`` makes time proportional to the epoch value (so a 1-epoch gap
    and a 10-epoch gap take different times) and ``keyframes`` passes through the given
    ``(time, state)`` pairs with a monotone cubic (PCHIP) between them: equal consecutive
    states are holds, differing slopes are speed ramps, and it never overshoots a state.
    Keyframe times count from the end of ``hold_start``; before the first and after the
    last keyframe the position holds. Times outside ``[0, duration]`` clamp.

    Parameters
    ----------
    cfg : TimeConfig
    duration : float
        Film length in seconds (> 0).
    epochs : (S,) float
        Epoch of each state (used by ``epoch`` mapping and ``keyframe_state: epoch``).
    """

    def __init__(self, cfg: TimeConfig, duration: float, epochs: np.ndarray) -> None:
        self.cfg = cfg
        self.duration = float(duration)
        self.epochs = np.asarray(epochs, dtype=np.float64)
        self.n_states = int(self.epochs.size)
        if not self.duration > 0:
            raise ValueError(f"film duration must be > 0 seconds, got {duration}")
        self.moving = self.duration - cfg.hold_start - cfg.hold_end
        if self.moving <= 0 and self.n_states > 1:
            raise ValueError(
                f"mesh.time.hold_start + hold_end ({cfg.hold_start + cfg.hold_end} s) leave no time"
                f" for the film of {self.duration} s"
            )
        self._map = self._build_map()

    def _build_map(self):
        cfg, last = self.cfg, self.n_states - 1
        if last == 0:
            return lambda u: 0.0
        if cfg.mapping == "epoch" or (cfg.mapping == "keyframes" and cfg.keyframe_state == "epoch"):
            if not np.all(np.diff(self.epochs) > 0):
                raise ValueError(
                    "mesh.time: epoch mapping needs strictly increasing state epochs,"
                    f" got {self.epochs.tolist()}"
                )
        index = np.arange(self.n_states, dtype=np.float64)
        if cfg.mapping == "uniform":
            return lambda u: u * last
        if cfg.mapping == "epoch":
            e0, e1 = self.epochs[0], self.epochs[-1]
            return lambda u: float(np.interp(e0 + u * (e1 - e0), self.epochs, index))
        times = np.asarray(cfg.keyframes[0::2], dtype=np.float64)
        states = np.asarray(cfg.keyframes[1::2], dtype=np.float64)
        if cfg.keyframe_time == "seconds":
            times = times / self.moving
        if cfg.keyframe_state == "epoch":
            lo, hi = self.epochs[0], self.epochs[-1]
            if states.min() < lo or states.max() > hi:
                raise ValueError(
                    f"mesh.time.keyframes epochs {states.tolist()} leave the captured range"
                    f" [{lo}, {hi}]"
                )
            states = np.interp(states, self.epochs, index)
        elif states.min() < 0 or states.max() > last:
            raise ValueError(
                f"mesh.time.keyframes states {states.tolist()} leave the state range [0, {last}]"
            )
        curve = PchipInterpolator(times, states, extrapolate=False)
        t0, t1 = times[0], times[-1]
        return lambda u: float(curve(min(max(u, t0), t1)))

    def position_at(self, time: float) -> float:
        """Fractional state position at film ``time`` seconds, in ``[0, S - 1]``."""
        t = min(max(float(time), 0.0), self.duration) - self.cfg.hold_start
        if self.n_states == 1:
            return 0.0
        u = min(max(t / self.moving, 0.0), 1.0)
        p = min(max(self._map(u), 0.0), float(self.n_states - 1))
        nearest = round(p)
        return float(nearest) if abs(p - nearest) < KNOT_SNAP else p


def pchip_slopes(values: np.ndarray) -> np.ndarray:
    """PCHIP slopes at every state, along axis 0, for states one unit apart.

    scipy's :class:`PchipInterpolator` picks the slopes (Fritsch-Carlson, monotone); it is
    run on column blocks so its float64 coefficients never exist for the whole grid.

    Parameters
    ----------
    values : (S, ...) float, S >= 2

    Returns
    -------
    (S, ...) same dtype as ``values`` (float32 for float32 input)
    """
    values = np.asarray(values)
    n = values.shape[0]
    flat = values.reshape(n, -1)
    out = np.empty(flat.shape, dtype=np.result_type(values.dtype, np.float32))
    knots = np.arange(n, dtype=np.float64)
    for start in range(0, flat.shape[1], SLOPE_BLOCK):
        block = flat[:, start:start + SLOPE_BLOCK]
        out[:, start:start + SLOPE_BLOCK] = PchipInterpolator(knots, block, axis=0)(knots, 1)
    return out.reshape(values.shape)


class StateInterpolator:
    """Values given per state, read at any fractional position.

    Parameters
    ----------
    values : (S, ...) float
        One array per state (a grid, a point, a number); must be finite.
    method : {"pchip", "linear", "hold"}
        ``hold`` keeps a state until the next one is reached.
    """

    def __init__(self, values: np.ndarray, method: str = "pchip") -> None:
        if method not in INTERPOLATIONS:
            raise ValueError(
                f"mesh.time.interpolation must be one of {INTERPOLATIONS}, got {method!r}"
            )
        self.values = np.asarray(values)
        self.method = method
        self.n_states = int(self.values.shape[0])
        self._slopes = None
        if method == "pchip" and self.n_states > 1:
            self._slopes = pchip_slopes(self.values)

    def _locate(self, position: float) -> tuple[int, float]:
        """State ``k`` and weight ``w`` of state ``k + 1`` at ``position``; ``w = 0`` on a state.

        Positions within ``KNOT_SNAP`` of a state snap to it, so a film that stops on a
        state shows exactly that state's values.
        """
        last = self.n_states - 1
        p = min(max(float(position), 0.0), float(last))
        k = int(np.floor(p))
        w = p - k
        if w <= KNOT_SNAP or k >= last:
            return min(k, last), 0.0
        if 1.0 - w <= KNOT_SNAP:
            return k + 1, 0.0
        return k, w

    def __call__(self, position: float) -> np.ndarray:
        """Values at ``position`` (clamped to ``[0, S - 1]``), shape ``values.shape[1:]``."""
        k, w = self._locate(position)
        if w == 0.0 or self.method == "hold":
            return self.values[k].copy()
        if self.method == "linear":
            out = self.values[k] * (1.0 - w) + self.values[k + 1] * w
        else:
            # cubic Hermite on [k, k+1] with PCHIP's slopes: the same curve as scipy's
            # PchipInterpolator, from 2x the data instead of 8x (its float64 coefficients)
            y0, y1 = self.values[k], self.values[k + 1]
            out = hermite(y0, y1, self._slopes[k], self._slopes[k + 1], w)
        return np.asarray(out, dtype=self.values.dtype)

    def bracket(self, position: float) -> tuple[int, int]:
        """States whose values enter at ``position``: ``(k, k)`` on a state, else ``(k, k+1)``."""
        k, w = self._locate(position)
        if w == 0.0 or self.method == "hold":
            return k, k
        return k, k + 1


def hermite(p0, p1, m0, m1, u):
    """Cubic Hermite from ``p0`` to ``p1`` with end derivatives ``m0``, ``m1``, at ``u``.

    Parameters
    ----------
    p0, p1, m0, m1 : array
        Values and derivatives (per unit of ``u``) at both ends, all of one shape.
    u : float or array
        Parameter in [0, 1], broadcast against the values: a scalar for whole grids, or
        ``(m, 1)`` for rows of ``(m, d)`` keys. A Python float keeps float32 values float32.

    Returns
    -------
    array
        The broadcast shape of the inputs.
    """
    u2, u3 = u * u, u * u * u
    return (
        (2 * u3 - 3 * u2 + 1) * p0
        + (u3 - 2 * u2 + u) * m0
        + (-2 * u3 + 3 * u2) * p1
        + (u3 - u2) * m1
    )
