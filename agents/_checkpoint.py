"""The orchestrator's checkpoints: one SQLite file beside the run store, one thread per run."""

from __future__ import annotations

import contextlib
import fcntl
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHECKPOINTS = "checkpoints.sqlite"
LOCK = ".checkpoints.lock"


@contextmanager
def _exclusive(home: Path) -> Iterator[None]:
    """Hold the checkpoint file's lock beside it; where no lock file can be made (read-only media), none."""
    try:
        handle = (home / LOCK).open("a")
    except OSError:
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def open_checkpointer(home: Path) -> Iterator[Any]:
    """A LangGraph SqliteSaver on `home/checkpoints.sqlite`, safe for several processes at once.

    Opening and closing happen under a file lock. Two `agent run`s starting together on a new home
    otherwise raced: switching the new file to WAL mode needs it to itself, and SQLite answers
    "database is locked" at once, without waiting out the busy timeout, to the other connection (the
    second run failed before its first experiment). The last connection to close checkpoints the WAL
    into the file and removes it, which races with an opening one the same way.
    """
    from langgraph.checkpoint.sqlite import SqliteSaver

    with _exclusive(home):
        connection = sqlite3.connect(str(home / CHECKPOINTS), check_same_thread=False, timeout=60)
        try:
            connection.execute("PRAGMA busy_timeout=60000")
            connection.execute("PRAGMA journal_mode=WAL")
            saver = SqliteSaver(connection)
            saver.setup()
        except BaseException:
            connection.close()
            raise
    try:
        yield saver
    finally:
        with _exclusive(home), contextlib.suppress(sqlite3.Error):
            connection.close()


def thread_config(run_id: str, recursion_limit: int) -> dict[str, Any]:
    return {"configurable": {"thread_id": run_id}, "recursion_limit": recursion_limit}
