"""Ctrl-C and SIGTERM: stop within a second, clean up on the way out, resume on the rerun.

The command line turns SIGTERM (what ``kill``, systemd and SLURM send) into an exception
that unwinds like Ctrl-C's ``KeyboardInterrupt``: every ``finally`` and ``except
BaseException`` of the stages runs (temporaries removed, queued tiles and chunks
cancelled, the folder lock released), then the command prints one line and exits 143
(130 for Ctrl-C). A second signal while unwinding exits at once; the temporaries it may
leave are removed by the next run.
"""

from __future__ import annotations

import contextlib
import os
import signal
from typing import Iterator

__all__ = ["Terminated", "stopping_on_signals"]


class Terminated(KeyboardInterrupt):
    """SIGTERM, unwound like Ctrl-C so every stage cleans up as it does for Ctrl-C."""


@contextlib.contextmanager
def stopping_on_signals() -> Iterator[None]:
    """Within the block, SIGINT raises KeyboardInterrupt and SIGTERM :class:`Terminated`.

    The previous handlers come back afterwards. Outside the main thread (an application
    embedding lossfilm) signals are left alone.
    """
    seen: list[int] = []

    def stop(signum, frame):
        if seen:  # asked twice: stop now
            os._exit(128 + signum)
        seen.append(signum)
        raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()

    old = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            old[signum] = signal.signal(signum, stop)
        except ValueError:  # not the main thread
            break
    try:
        yield
    finally:
        for signum, handler in old.items():
            signal.signal(signum, handler)
