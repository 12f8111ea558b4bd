"""The orchestrator's checkpoints: one SQLite file beside the run store, one thread per run."""

from __future__ import annotations

import contextlib
import fcntl
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from runs import StoreUnavailableError

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
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
    from langgraph.checkpoint.sqlite import SqliteSaver

    # The run's state is plain JSON. LangGraph's default serializer rebuilds any type a row names, calling its
    # constructor: a row naming `os.system` ran a command on `agent approve`. Only its built-in safe types are
    # rebuilt here; anything else comes back as data, and no pickle is ever read.
    serde = JsonPlusSerializer(pickle_fallback=False, allowed_json_modules=None, allowed_msgpack_modules=None)

    with _exclusive(home):
        try:
            connection = sqlite3.connect(str(home / CHECKPOINTS), check_same_thread=False, timeout=60)
        except sqlite3.Error as error:
            raise _unusable(home, error) from None
        try:
            connection.execute("PRAGMA busy_timeout=60000")
            connection.execute("PRAGMA journal_mode=WAL")
            saver = SqliteSaver(connection, serde=serde)
            saver.setup()
        except sqlite3.DatabaseError as error:
            connection.close()
            raise _unusable(home, error) from None
        except BaseException:
            connection.close()
            raise
    try:
        yield saver
    finally:
        with _exclusive(home), contextlib.suppress(sqlite3.Error):
            connection.close()


def check_checkpoints(home: Path) -> None:
    """Raise StoreUnavailableError naming the checkpoint file where it cannot be read as a database.

    Called before a run's record changes: a damaged file once turned a paused run into a failed one for good
    (`approve` recorded the failure). Reads the header only, without LangGraph (imported later, off the
    critical path of a run's start).
    """
    path = home / CHECKPOINTS
    if not path.exists():
        return
    try:
        reader = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=60)
        with contextlib.closing(reader):
            reader.execute("PRAGMA schema_version").fetchone()
    except sqlite3.Error as error:
        raise _unusable(home, error) from None


def awaiting_approval_problem(home: Path, run_id: str) -> str | None:
    """Why a paused run's plan cannot be approved, or None: its checkpoint (the plan and the point where the
    graph stopped for approval) must be in the checkpoint file. Without it LangGraph starts the run's graph
    anew: an approval planned again, possibly another plan, paused again, and said nothing."""
    path = home / CHECKPOINTS
    if not path.is_file():
        return f"the run checkpoints {path} are missing, and with them the plan run {run_id} waits to have approved"
    check_checkpoints(home)
    try:
        reader = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=60)
        with contextlib.closing(reader):
            found = reader.execute("SELECT 1 FROM checkpoints WHERE thread_id = ? LIMIT 1", (run_id,)).fetchone()
    except sqlite3.Error as error:
        raise _unusable(home, error) from None
    if found is None:
        return f"the run checkpoints {path} hold nothing of run {run_id}: the plan it waits to have approved is lost"
    return None


def _unusable(home: Path, error: sqlite3.Error) -> StoreUnavailableError:
    """A damaged checkpoint file is the store's trouble, named with its path; no run's record is touched."""
    return StoreUnavailableError(
        f"cannot use the run checkpoints {home / CHECKPOINTS}: {error}; every run is left as it was "
        "(restore the file from a backup)"
    )


def thread_config(run_id: str, recursion_limit: int) -> dict[str, Any]:
    return {"configurable": {"thread_id": run_id}, "recursion_limit": recursion_limit}
