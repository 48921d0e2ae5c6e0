"""A shot's lens keys: focus pulls and aperture changes, keyed in the shot's own time.

Every shot may key its lens (``camera.shots[i].<tag>.focus`` and ``.fstop``) as a list
of ``[time, value]`` pairs, times in seconds from the shot's start like every time of a
shot. The look's ``render.dof`` stays the default: a shot without keys uses its focus
and f-stop, and ``render.dof.enabled`` still turns the lens on.

    - dive: {duration: 8, focus: [[0, edge], [3, edge], [6.5, minimum]], fstop: [[0, 4], [6.5, 2]]}

A focus value is what to focus on, resolved at every frame to a distance along the view
axis: ``ball``, ``minimum``, ``target`` (the camera's look-at point), ``edge`` (the far
edge of the surface as the camera sees it: the edge horizon), or a distance in
landscape units. Between two keys the focus moves in diopters (1 / distance, as a lens's
focus ring turns) and the f-stop in stops, both eased by the shot's ``ease``; before the
first key and after the last the value holds. This module is the schema's part (names,
checks); :mod:`lossfilm.render.camera.focus` resolves the keys per frame.
"""

from __future__ import annotations

import difflib
import math

__all__ = ["FOCUS_TARGETS", "FSTOP_RANGE", "check_lens_keys"]

#: what a focus key can name (besides a distance in landscape units).
FOCUS_TARGETS = ("ball", "minimum", "target", "edge")
#: f-numbers a key may give (the range of ``render.dof.fstop``).
FSTOP_RANGE = (0.5, 64.0)


def _check_times(keys: tuple, name: str, duration: float) -> None:
    times = [k[0] for k in keys]
    for i, t in enumerate(times):
        if not math.isfinite(t) or not 0.0 <= t <= duration + 1e-9:
            raise ValueError(f"{name}[{i}]: time {t:g} s is outside the shot (0..{duration:g} s)")
        if i and t <= times[i - 1]:
            raise ValueError(f"{name}[{i}]: key times must increase, got {t:g} after {times[i - 1]:g}")


def check_lens_keys(focus: tuple, fstop: tuple, duration: float) -> None:
    """Raise ValueError naming the key (``focus[1]: ...``) for lens keys that cannot be used.

    Parameters
    ----------
    focus : tuple of (time, str | float)
    fstop : tuple of (time, float)
    duration : float
        The shot's length in seconds: every key time lies in ``[0, duration]``.
    """
    _check_times(focus, "focus", duration)
    for i, (_, what) in enumerate(focus):
        if isinstance(what, bool) or not isinstance(what, (str, int, float)):
            raise ValueError(f"focus[{i}]: expected {', '.join(FOCUS_TARGETS)} or a distance, got {what!r}")
        if isinstance(what, str):
            if what not in FOCUS_TARGETS:
                close = difflib.get_close_matches(what, FOCUS_TARGETS, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ValueError(f"focus[{i}]: unknown focus {what!r}{hint}; choose one of "
                                 f"{', '.join(FOCUS_TARGETS)} or a distance in landscape units")
        elif not (math.isfinite(what) and what > 0):
            raise ValueError(f"focus[{i}]: a focus distance must be > 0 landscape units, got {what:g}")
    _check_times(fstop, "fstop", duration)
    lo, hi = FSTOP_RANGE
    for i, (_, n) in enumerate(fstop):
        if isinstance(n, bool) or not isinstance(n, (int, float)) or not lo <= n <= hi:
            raise ValueError(f"fstop[{i}]: the f-number must be in {lo:g}..{hi:g}, got {n!r}")
