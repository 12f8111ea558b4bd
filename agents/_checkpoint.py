"""The orchestrator's checkpoints: one SQLite file beside the run store, one thread per run."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def open_checkpointer(home: Path) -> Iterator[Any]:
    """A LangGraph SqliteSaver on `home/checkpoints.sqlite`, safe for several processes at once."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    connection = sqlite3.connect(str(home / "checkpoints.sqlite"), check_same_thread=False, timeout=60)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA busy_timeout=60000")
    try:
        saver = SqliteSaver(connection)
        saver.setup()
        yield saver
    finally:
        connection.close()


def thread_config(run_id: str, recursion_limit: int) -> dict[str, Any]:
    return {"configurable": {"thread_id": run_id}, "recursion_limit": recursion_limit}
