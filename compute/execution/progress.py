"""Progress for long stages: what is running, how far it is, how long is left.

One line on stderr, rewritten in place on a terminal. Elsewhere (CI logs, cluster job
logs, pipes) a new line every :data:`LOG_STEP_PERCENT` of the work or every
:data:`LOG_INTERVAL_S` seconds, whichever comes first: a log shows that work moves
without a line per frame.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress", "format_seconds", "say", "LOG_STEP_PERCENT", "LOG_INTERVAL_S"]

#: not on a terminal: a line each time this much more of the work is done ...
LOG_STEP_PERCENT = 10
#: ... or when this many seconds passed since the last line.
LOG_INTERVAL_S = 30.0
#: on a terminal: the line is rewritten at most this often.
TTY_INTERVAL_S = 0.2


def format_seconds(seconds: float) -> str:
    """``75.2`` -> ``'1:15'``; ``3725`` -> ``'1:02:05'``."""
    if seconds != seconds or seconds == float("inf"):
        return "?"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def say(enabled: bool, stage: str, msg: str) -> None:
    """One line ``stage: msg`` on stderr (where progress goes), when ``enabled``."""
    if enabled:
        print(f"{stage}: {msg}", file=sys.stderr, flush=True)


class Progress:
    """Report progress of ``total`` units of work named ``what``.

    Use as a context manager; call :meth:`advance` as units finish. ``done`` may start
    above zero when a resumed run skips work already on disk. ``interval``: at most this
    many seconds between lines in a log (not a terminal).
    """

    def __init__(
        self,
        what: str,
        total: int,
        *,
        unit: str = "",
        done: int = 0,
        stream: TextIO | None = None,
        interval: float = LOG_INTERVAL_S,
        enabled: bool = True,
    ) -> None:
        self.what = what
        self.total = max(int(total), 0)
        self.unit = unit
        self.done = int(done)
        self._skipped = int(done)
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval
        self.enabled = enabled
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._start = time.perf_counter()
        self._last = 0.0
        self._logged_step = -1  # the last LOG_STEP_PERCENT step a log line was printed at
        self._logged_done = -1  # units done at the last log line (no repeated closing line)

    def __enter__(self) -> "Progress":
        self._start = time.perf_counter()
        self._emit(force=True)
        return self

    def __exit__(self, *exc) -> None:
        self._emit(force=True, final=True)

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self._start

    def eta(self) -> float:
        """Seconds left, from the rate of the work done in this run."""
        worked = self.done - self._skipped
        if worked <= 0:
            return float("nan")
        return self.elapsed / worked * (self.total - self.done)

    def advance(self, n: int = 1) -> None:
        self.done = min(self.done + n, self.total)
        self._emit()

    def _step(self) -> int:
        """How many whole :data:`LOG_STEP_PERCENT` steps of the work are done."""
        if not self.total:
            return 100 // LOG_STEP_PERCENT
        return int(100 * self.done // self.total) // LOG_STEP_PERCENT

    def line(self) -> str:
        pct = 100.0 * self.done / self.total if self.total else 100.0
        unit = f" {self.unit}" if self.unit else ""
        left = "" if self.done >= self.total else f", {format_seconds(self.eta())} left"
        return (
            f"{self.what}: {self.done}/{self.total}{unit} ({pct:3.0f}%)"
            f" {format_seconds(self.elapsed)} elapsed{left}"
        )

    def _emit(self, force: bool = False, final: bool = False) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        step = self._step()
        if not force:
            if self._tty and now - self._last < TTY_INTERVAL_S:
                return
            if not self._tty and step <= self._logged_step and now - self._last < self.interval:
                return
        if final and not self._tty and self._logged_done == self.done:
            return  # the last line already says where it ended
        self._last = now
        self._logged_step = max(self._logged_step, step)
        self._logged_done = self.done
        if self._tty:
            self.stream.write("\r\033[K" + self.line() + ("\n" if final else ""))
        else:
            self.stream.write(self.line() + "\n")
        self.stream.flush()
