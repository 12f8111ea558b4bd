"""The `agent` program: the command, then an exit that skips tearing the interpreter down.

A command that imported LangGraph, SQLAlchemy and pydantic's models spent about half a second after its
last line of output freeing them one by one (measured on the 2-core machine), time nobody waits for usefully:
the process is ending. Here the exit handlers run as at any exit (renderers, prover sessions, log handlers,
temporary folders: this module registers its own first, so it runs after all of them), the standard
streams are flushed, and the process ends with its exit status without the teardown. Nothing is lost by
it: every store write is committed when made, and files are closed by the code that wrote them.

Only the installed `agent` command and `python -m api.cli` come here; code that calls `api.cli.main` in a
process of its own (tests, benches) keeps an ordinary exit.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
from dataclasses import dataclass

BLAS_THREADS = {"OPENBLAS_NUM_THREADS": "1"}
"""One OpenBLAS thread for the command and what it starts, unless the environment says otherwise. The
command's own numpy work is small (fields, figure checks, metrics); a BLAS call on 65536 numbers (the figure
check's histogram) woke OpenBLAS's second thread, which then spun waiting for more work: 0.6 s of CPU in an
8-case sweep, taken from the solvers on a 2-core machine. Set before numpy is first imported."""

EXIT_UNCAUGHT = 1
"""What Python reports for an exception nobody caught (its traceback is printed before the exit handlers)."""

EXIT_INTERRUPTED = 130
"""A Ctrl-C that reached the top, as a shell reports it (128 + SIGINT)."""


@dataclass
class _ExitStatus:
    code: int = EXIT_UNCAUGHT


def main() -> None:
    status = _ExitStatus()
    atexit.register(_leave, status)  # first registered, last run
    for name, value in BLAS_THREADS.items():
        os.environ.setdefault(name, value)
    from api.cli._main import main as command

    try:
        command()
    except SystemExit as exit_:
        status.code = exit_status(exit_.code)
        raise
    except KeyboardInterrupt:
        status.code = EXIT_INTERRUPTED
        raise
    status.code = 0


def exit_status(code: object) -> int:
    """The status a `SystemExit(code)` ends a process with: None is 0, an int itself, anything else 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    return EXIT_UNCAUGHT


def _leave(status: _ExitStatus) -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):  # closed, or a broken pipe
            stream.flush()
    os._exit(status.code)
