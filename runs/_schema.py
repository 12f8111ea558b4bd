"""Schema migrations: every store, SQLite or PostgreSQL, is brought to the newest revision on open.

The migrations live in `runs/migrations/` beside the tables they describe, because the store is
the only code that opens the database and every front door (CLI, API, workers) goes through it.
Two processes opening a fresh store at once must not both migrate: SQLite takes a lock file
beside the database, PostgreSQL an advisory lock held by the migrating transaction.
"""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from runs._errors import StoreUnavailableError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
HEAD_REVISION = "0004"
"""The newest revision under runs/migrations/versions (a test checks that the two agree)."""

FIRST_REVISION = "0001"
"""The schema that `create_all` produced before migrations existed: such databases are stamped with it."""

_PG_LOCK_KEY = 0x1AB6A7E
"""Advisory lock id for schema changes on PostgreSQL (any constant shared by every labgate process)."""


def _alembic_config(connection: Connection) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _current_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return None if revision is None else str(revision)


_ALEMBIC_VERSION_TABLE = (
    "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
    "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
)
"""The table Alembic keeps its revision in, as Alembic itself creates it."""


def _create_at_head(connection: Connection) -> None:
    """Make an empty database's tables from the models and stamp it HEAD_REVISION in one transaction.

    Alembic's own advice for a database made from scratch: replaying every migration builds the
    same schema (a test compares the two), but importing Alembic and running its scripts cost a new
    store about 0.2 s, paid by every first run and every fresh `LABGATE_HOME`.
    """
    from sqlmodel import SQLModel

    import runs._tables  # noqa: F401 - registers the tables on SQLModel.metadata

    SQLModel.metadata.create_all(connection)
    connection.execute(text("INSERT INTO store_revision (id, value) VALUES (1, 0)"))
    connection.execute(text(_ALEMBIC_VERSION_TABLE))
    connection.execute(text("INSERT INTO alembic_version (version_num) VALUES (:head)"), {"head": HEAD_REVISION})


def _migrate(connection: Connection) -> None:
    current = _current_revision(connection)
    if current == HEAD_REVISION:
        return
    tables = inspect(connection).get_table_names()
    if current is None and not tables:
        _create_at_head(connection)
        return
    from alembic import command

    config = _alembic_config(connection)
    if current is None and "run" in tables:
        command.stamp(config, FIRST_REVISION)
    command.upgrade(config, "head")


def known_revisions() -> frozenset[str]:
    """Every schema revision this labgate has a migration for (`0003` of `0003_run_tags_notes.py`)."""
    return frozenset(path.name.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))


def upgrade_schema(engine: Engine, lock_dir: Path | None) -> None:
    """Bring the database to HEAD_REVISION; cheap (one query) when it is already there.

    A database at a revision this labgate does not know was written by a newer one: it is refused
    untouched (StoreUnavailableError), never "upgraded" by migrations that do not describe it.

    SQLite: the whole check runs under a file lock beside the database, the first connection included.
    Two processes opening a new store at once (two `agent run`s) otherwise raced: the first connection
    turns the file to WAL mode, which needs it to itself, and SQLite answers "database is locked" at
    once, without waiting, to a reader caught in the middle of another's migration.
    """
    if engine.dialect.name != "sqlite":
        _upgrade(engine)
        return
    assert lock_dir is not None
    try:
        lock = (lock_dir / ".schema.lock").open("w")
    except OSError:
        # A folder that refuses the lock file: nothing in it races to migrate. On read-only media the
        # probe below fails too (WAL needs its `-shm` file), and the store opens the file read-only
        # instead (`check_schema`).
        _upgrade(engine)
        return
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            _upgrade(engine)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def check_schema(engine: Engine) -> None:
    """Refuse a database opened read-only that this labgate cannot read as it is: nothing can migrate it.

    Raises:
        StoreUnavailableError: the database holds no run store, or is at another schema revision than
            HEAD_REVISION (an older one needs one write to upgrade it, a newer one the newer labgate).
    """
    current = _known_revision(engine)
    if current == HEAD_REVISION:
        return
    held = "holds no labgate run store" if current is None else f"is at the older schema revision {current!r}"
    raise StoreUnavailableError(
        f"the database {held} and cannot be written to bring it to revision {HEAD_REVISION}: "
        "open it once with labgate where it can be written"
    )


def _written_by_newer(current: str) -> StoreUnavailableError:
    return StoreUnavailableError(
        f"the database is at schema revision {current!r}, which this labgate does not know "
        f"(it knows up to {HEAD_REVISION}): it was written by a newer labgate; open it with that version"
    )


def _known_revision(engine: Engine) -> str | None:
    """The database's schema revision (None: no run store); raises StoreUnavailableError for one it does not know."""
    with engine.connect() as probe:
        current = _current_revision(probe)
    if current is not None and current != HEAD_REVISION and current not in known_revisions():
        raise _written_by_newer(current)
    return current


def _upgrade(engine: Engine) -> None:
    current = _known_revision(engine)
    if current == HEAD_REVISION:
        return
    if engine.dialect.name == "sqlite":
        _upgrade_sqlite(engine)
        return
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        _migrate(connection)


def _upgrade_sqlite(engine: Engine) -> None:
    """Migrate a SQLite store in one transaction, with foreign keys unenforced while tables are rebuilt.

    A batch migration copies a table, drops the old one and renames the copy. Every connection enforces
    foreign keys, so dropping `experiment` failed as soon as a verdict or an artifact pointed at one, and
    the Python driver runs DDL outside any transaction: the copy was left behind, and every later open
    failed on it ("table _alembic_tmp_experiment already exists"), a store no command could open again.
    Now the pragma is off for the migration (SQLite ignores it inside a transaction, so it is set first),
    the transaction is opened explicitly so the DDL rolls back with the rest, the references are checked
    before the commit, and a copy an earlier labgate left behind is put right first.
    """
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                _put_back_batch_copies(connection)
                _migrate(connection)
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise StoreUnavailableError(
                        f"migrating the run store would leave {len(broken)} row(s) pointing at nothing "
                        f"(first: table {broken[0][0]}); the store is left as it was"
                    )
            except BaseException:
                connection.exec_driver_sql("ROLLBACK")
                raise
            connection.exec_driver_sql("COMMIT")
        finally:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")


_BATCH_COPY = "_alembic_tmp_"


def _put_back_batch_copies(connection: Connection) -> None:
    """A table copy an interrupted batch migration left (`_alembic_tmp_<table>`): dropped where the table
    is still there (the copy is the partial one), renamed back where the table is gone (it holds the rows)."""
    tables = set(inspect(connection).get_table_names())
    for copy in sorted(name for name in tables if name.startswith(_BATCH_COPY)):
        table = copy.removeprefix(_BATCH_COPY)
        if table in tables:
            connection.exec_driver_sql(f'DROP TABLE "{copy}"')
        else:
            connection.exec_driver_sql(f'ALTER TABLE "{copy}" RENAME TO "{table}"')
