"""Standard streams the command line can always write to, whatever the shell handed over.

A run outlives its output: `agent run` may be started with a descriptor closed (`2>&-`, a cron job),
in a locale whose encoding cannot spell an em dash or a Greek delta (`LANG=de_DE` is Latin-1), or
piped into `head`, which closes the pipe after one line. None of these may end the run half-way
(left "queued" or "running" in the store) or print a traceback, so before any command runs:

- a closed descriptor 0, 1 or 2 is opened on /dev/null. Otherwise the next file labgate opens (the
  database, an artifact) would get that number, and anything writing to "stderr" would write into it;
- characters the terminal's encoding cannot hold are written escaped (`\\u2014`), never refused;
- a stream whose reader went away (EPIPE), or that cannot be written at all (a full disk), is
  switched to /dev/null: its output is dropped and the run goes on to its verdicts;
- files are read and written as UTF-8 even where the locale's encoding is another (Latin-1 under
  `LANG=de_DE`): reports, logs and task files are UTF-8 wherever they are opened later, and a report
  holding an arrow must not fail a finished run.
"""

from __future__ import annotations

import io
import locale
import os
import sys
from typing import TextIO

_STANDARD_FDS = (0, 1, 2)


def _open_closed_descriptors() -> None:
    """Point each closed standard descriptor at /dev/null, so no file labgate opens can take its number."""
    for fd in _STANDARD_FDS:
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)


class DroppingStream(io.TextIOWrapper):
    """A text stream that drops its output, instead of raising, once its descriptor cannot be written.

    `lost` holds why (None while it writes); the first failure switches the descriptor to /dev/null,
    so what is still buffered, and every later write, is discarded without another error.
    """

    lost: OSError | None = None

    def write(self, text: str) -> int:
        try:
            return super().write(text)
        except OSError as error:
            self._drop(error)
            return len(text)

    def flush(self) -> None:
        try:
            super().flush()
        except OSError as error:
            self._drop(error)
            super().flush()

    def _drop(self, error: OSError) -> None:
        if self.lost is None:
            self.lost = error
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, self.fileno())
        finally:
            os.close(null)


def dropping_stream(stream: TextIO | None, fd: int) -> TextIO:
    """A `DroppingStream` on `fd` with `stream`'s encoding and buffering, escaping what it cannot encode."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    line_buffering = bool(getattr(stream, "line_buffering", True))
    write_through = bool(getattr(stream, "write_through", False))
    if stream is not None:
        stream.flush()
    raw = open(fd, "wb", closefd=False)  # noqa: SIM115 - the stream lives as long as the process
    return DroppingStream(
        raw, encoding=encoding, errors="backslashreplace", line_buffering=line_buffering, write_through=write_through
    )


def utf8_text_files() -> None:
    """Make `open()` without an encoding mean UTF-8 when the locale's character set is another one.

    Python takes a text file's default encoding from LC_CTYPE when the file is opened, so LC_CTYPE
    alone moves to C.UTF-8; numbers, dates and messages keep the user's locale, and the terminal's
    streams keep its encoding (they escape what it cannot show). Python processes started from here
    (the server's run workers) get UTF-8 mode (`PYTHONUTF8=1`). Where C.UTF-8 does not exist the
    locale is left as it is.
    """
    if sys.flags.utf8_mode or locale.getpreferredencoding(False).lower().replace("-", "") == "utf8":
        return
    try:
        locale.setlocale(locale.LC_CTYPE, "C.UTF-8")
    except locale.Error:
        return
    os.environ.setdefault("PYTHONUTF8", "1")


def prepare_standard_streams() -> None:
    """Make fds 0-2 open and the process's own stdout/stderr unable to end the command (see the module doc).

    Streams someone else installed (a test's capture, an embedding program's) are left alone: only
    Python's own standard streams, or missing ones, are replaced.
    """
    _open_closed_descriptors()
    if sys.stdin is None:
        sys.stdin = open(0, encoding="utf-8", errors="surrogateescape", closefd=False)  # noqa: SIM115
    if sys.stdout is None or sys.stdout is sys.__stdout__:
        sys.stdout = dropping_stream(sys.stdout, 1)
    if sys.stderr is None or sys.stderr is sys.__stderr__:
        sys.stderr = dropping_stream(sys.stderr, 2)


def lost_output() -> str | None:
    """Why stdout or stderr stopped taking output other than its reader leaving (a full disk), else None."""
    for name, stream in (("stdout", sys.stdout), ("stderr", sys.stderr)):
        error = getattr(stream, "lost", None)
        if isinstance(error, OSError) and not isinstance(error, BrokenPipeError):
            return f"{name} could not be written ({error.strerror or error}); its output was dropped"
    return None
