"""The store revision: a counter advanced in the same transaction as every write to the store.

Readers that keep something derived from the store (the API's response cache) compare one number
instead of re-reading everything: equal revision, nothing committed since. Workers write from their
own processes, and several servers may share one PostgreSQL database, so the counter lives in the
database (table `store_revision`, one row), not in any process's memory.

The hook watches the statements a connection executes; when a transaction that wrote anything
commits, the increment runs on the same connection just before the commit, so the write and the new
revision become visible together. On PostgreSQL the row lock also orders concurrent writers.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
_WROTE = "labgate_wrote"
BUMP = "UPDATE store_revision SET value = value + 1 WHERE id = 1"
READ = "SELECT value FROM store_revision WHERE id = 1"


def track_revision(engine: Engine) -> None:
    """Advance the store revision with every committed transaction of `engine` that wrote."""

    @event.listens_for(engine, "before_cursor_execute")
    def _note_write(
        connection: Connection, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
    ) -> None:
        if statement.lstrip()[:7].upper().startswith(_WRITES):
            connection.info[_WROTE] = True

    @event.listens_for(engine, "commit")
    def _bump(connection: Connection) -> None:
        if connection.info.pop(_WROTE, False):
            # On the DBAPI connection, inside the transaction about to commit (no event recursion).
            cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.execute(BUMP)
            finally:
                cursor.close()

    @event.listens_for(engine, "rollback")
    def _forget(connection: Connection) -> None:
        if connection.invalidated:  # a lost connection: reading its info would replace the real error
            return
        connection.info.pop(_WROTE, None)


class RevisionReader:
    """Reads the committed revision; from a SQLite file through one connection of its own.

    A server asks on every cached request, so the read must cost far less than the answer it saves:
    checking a connection out of the pool costs twenty times the query itself. A SQLite connection
    in autocommit mode sees every commit, so one kept connection reads the latest revision each
    time. A database server is read through the pool instead (a kept connection there would
    serialise every reader on one socket and outlive a server restart).
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        database = engine.url.database
        self._path = database if engine.dialect.name == "sqlite" and database not in (None, "", ":memory:") else None
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None

    def read(self) -> int:
        """The committed revision now; any write committed later makes it larger."""
        if self._path is None:
            with self._engine.connect() as connection:
                return int(connection.exec_driver_sql(READ).scalar_one())
        with self._lock:
            if self._connection is None:
                # Autocommit (no implicit transaction, so no snapshot held between reads); the
                # store's own connections wait up to a minute for a lock, and so does this one.
                self._connection = sqlite3.connect(
                    self._path, timeout=60, check_same_thread=False, isolation_level=None
                )
                weakref.finalize(self, self._connection.close)
            try:
                rows = self._connection.execute(READ).fetchall()
            except sqlite3.Error:
                self._connection.close()
                self._connection = None
                raise
            return int(rows[0][0])
