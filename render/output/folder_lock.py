"""One writer per output folder: a lock file that names its holder.

``lossfilm run``, ``compute`` and ``render`` write into ``--out`` (surfaces, chunks, the
film). Two of them on one folder would train and compute everything twice and race on
every file, so a writer holds ``OUT/.lossfilm.lock`` for as long as it runs::

    with hold_output_folder(out, "run"):
        ...

The lock is an ``fcntl.flock`` on that file, which the kernel releases when the holder
exits in any way (``kill -9`` included): a lock file left by a dead process is simply
taken over, and no live holder is ever mistaken for a dead one (a reused pid cannot fool
it). The file's text says who holds it (pid, host, command, since when) so the refusal
reads ``outputs/quickstart is being written by pid 4242 since 12:03; wait (--wait), or use
--out``. With ``--wait`` a writer waits for the holder to finish instead (one line says
whom it waits for), for at most ``--wait-timeout`` seconds if given.

Readers (``still``, ``sheet``, ``mesh --export`` of complete surfaces) take no lock: the
store's files are replaced atomically and readers only read complete states.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

__all__ = ["LOCK_NAME", "FolderBusy", "hold_output_folder", "lock_holder"]

LOCK_NAME = ".lossfilm.lock"
#: seconds between two tries of a busy lock under ``--wait`` (a finished holder is noticed
#: within this; the kernel's blocking flock would not let a timeout or Ctrl-C through as simply).
WAIT_POLL_S = 0.1


class FolderBusy(RuntimeError):
    """Another live process is writing the folder."""


def lock_holder(folder: Path) -> dict:
    """What the lock file of ``folder`` says about its holder (empty when unreadable)."""
    try:
        return json.loads((Path(folder) / LOCK_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _holder_text(holder: dict) -> str:
    """``pid 4242 (lossfilm run) since 12:03``: who holds a lock, from its file."""
    pid = holder.get("pid", "?")
    since = holder.get("since", "")
    try:
        when = dt.datetime.fromisoformat(since).astimezone().strftime("%H:%M")
    except (TypeError, ValueError):
        when = "a moment ago"
    host = holder.get("host")
    where = f" on {host}" if host and host != socket.gethostname() else ""
    command = holder.get("command")
    doing = f" (lossfilm {command})" if command else ""
    return f"pid {pid}{where}{doing} since {when}"


def _busy_message(folder: Path, holder: dict) -> str:
    return f"{_shown(folder)} is being written by {_holder_text(holder)}; wait (--wait), or use --out"


def _waiting_message(folder: Path, holder: dict) -> str:
    return f"waiting for {_shown(folder)}: being written by {_holder_text(holder)}"


def _gave_up_message(folder: Path, holder: dict, timeout: float) -> str:
    return (f"{_shown(folder)} is still being written by {_holder_text(holder)} after waiting"
            f" {timeout:g} s; wait longer (--wait-timeout), or use --out")


def _tell(message: str) -> None:
    print(f"lossfilm: {message}", file=sys.stderr, flush=True)


def _shown(folder: Path) -> str:
    """``folder`` relative to the working directory when it is inside it (as users typed it)."""
    try:
        return str(Path(folder).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(folder)


@contextlib.contextmanager
def hold_output_folder(folder: str | os.PathLike, command: str = "", *, wait: bool = False,
                       timeout: float | None = None,
                       tell: Callable[[str], None] = _tell) -> Iterator[Path]:
    """Hold the write lock of ``folder`` (created if needed) for the ``with`` block.

    Parameters
    ----------
    wait : when another process holds it, wait for it to finish instead of refusing, and
        ``tell`` one line (``waiting for outputs/x: being written by pid 4242 ... since
        12:03``; another line only if another holder follows).
    timeout : with ``wait``, give up after this many seconds (None: as long as it takes).

    Raises
    ------
    FolderBusy
        When a live process holds it (and ``wait`` is off or ran out); the message names
        the pid and since when.
    """
    import fcntl

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    started = time.monotonic()
    told, told_pid = False, None
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = lock_holder(folder)
            if not wait:
                raise FolderBusy(_busy_message(folder, holder)) from None
            waited = time.monotonic() - started
            if timeout is not None and waited >= timeout:
                raise FolderBusy(_gave_up_message(folder, holder, timeout)) from None
            # the holder writes who it is just after it locks: tell once that is readable
            if (not told or holder.get("pid") != told_pid) and (holder or waited > WAIT_POLL_S * 10):
                tell(_waiting_message(folder, holder))
                told, told_pid = True, holder.get("pid")
            time.sleep(WAIT_POLL_S if timeout is None else min(WAIT_POLL_S, max(timeout - waited, 0.0)))
            continue
        # The file may have been removed (by a holder finishing) between open and flock:
        # then this lock guards nothing; start over on the file that is there now.
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        info = {"pid": os.getpid(), "host": socket.gethostname(), "command": command,
                "since": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
        with contextlib.suppress(OSError):  # who holds it is told when it can be: the flock is the lock
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)
        yield folder
    finally:
        # Remove before unlocking: whoever opens the path afterwards gets a fresh file.
        with contextlib.suppress(OSError):
            path.unlink()
        os.close(fd)
