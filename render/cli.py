"""The ``lossfilm`` command line: parse (:mod:`lossfilm.render.parser`), run the command
(:mod:`lossfilm.render.commands`), turn what went wrong into an exit code and one message.

Exit codes: 0 success, 2 bad input (a scene error, a bad option, a missing file), 1 any
other failure. Paths written go to stdout, one per line; progress and status go to
stderr. ``LOSSFILM_DEBUG=1`` shows tracebacks.
"""

from __future__ import annotations

import os
import sys

from lossfilm.render.commands import COMMANDS, BadInput
from lossfilm.render.parser import build_parser

__all__ = ["main"]

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2


def main(argv: list[str] | None = None) -> int:
    from lossfilm.render.output.stop_signals import stopping_on_signals

    with stopping_on_signals():  # SIGTERM unwinds like Ctrl-C: stages clean up, one line
        code = _main(argv)
    if code in (130, 143) and argv is None:
        # Stopped by a signal, as a program: every stage has already cleaned up while the
        # interrupt unwound. Skip the interpreter's teardown, which garbage-collects torch
        # for seconds, so the command stops within the second it was asked to.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _main(argv: list[str] | None = None) -> int:
    # The mesh stage's matrix products are small: BLAS threads only contend with the
    # renderer and ffmpeg for the cores (20× slower per call on a loaded 2-core machine).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from lossfilm.render.scene.errors import ConfigErrors
    from lossfilm.render.output.folder_lock import FolderBusy
    from lossfilm.render.scene.errors import MAX_MESSAGE_CHARS
    from lossfilm.render.scene.errors import bounded_report

    parser = build_parser()
    args = parser.parse_args(argv)
    debug = os.environ.get("LOSSFILM_DEBUG") == "1"
    try:
        paths = COMMANDS[args.command](args)
    except FolderBusy as exc:  # another lossfilm writes this folder: refuse, touch nothing
        print(f"lossfilm: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except (ConfigErrors, BadInput) as exc:
        print(bounded_report(str(exc), chars=2 * MAX_MESSAGE_CHARS), file=sys.stderr)
        return EXIT_BAD_INPUT
    except ValueError as exc:  # stages raise ValueError for input they cannot use
        if debug:
            raise
        print(bounded_report(f"lossfilm: {exc}", lines=5, chars=2 * MAX_MESSAGE_CHARS), file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:  # disk full, permissions, I/O: name the path, keep what is done
        if debug:
            raise
        named = str(exc) if getattr(exc, "path", None) else (
            f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc))  # WriteFailed names its path
        print(f"lossfilm: {named}; finished work is kept, a rerun resumes", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt as exc:
        from lossfilm.render.output.stop_signals import Terminated

        terminated = isinstance(exc, Terminated)
        print(f"lossfilm: {'terminated (SIGTERM)' if terminated else 'interrupted'};"
              " finished work is kept and a rerun resumes", file=sys.stderr)
        return 143 if terminated else 130
    except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence
        if debug:
            raise
        print(f"lossfilm: error: {type(exc).__name__}: {exc} (LOSSFILM_DEBUG=1 shows the traceback)", file=sys.stderr)
        return EXIT_FAILURE
    for path in paths:
        print(path)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
