"""Databases for the store and API tests: SQLite always, PostgreSQL when CI provides one.

`.ci/run` starts Debian's PostgreSQL on loopback and exports LABGATE_TEST_POSTGRES_URL (a role
allowed to create databases); every test gets a database of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from runs import RunStore
from tests.conftest import require_tool

POSTGRES_ENV = "LABGATE_TEST_POSTGRES_URL"

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]
"""Parametrise a fixture with these to run its tests on both databases."""


def _postgres_admin_url() -> str | None:
    url = os.environ.get(POSTGRES_ENV, "").strip()
    if not url:
        return None
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return None
    return url


@contextmanager
def database_url(backend: str) -> Iterator[str | None]:
    """None for SQLite (the store's default file in its home), else the URL of a fresh PostgreSQL database."""
    if backend == "sqlite":
        yield None
        return
    admin = _postgres_admin_url()
    require_tool(admin is not None, f"PostgreSQL ({POSTGRES_ENV} and psycopg)")
    assert admin is not None
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"labgate_test_{secrets.token_hex(6)}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - an unreachable server is a missing tool
        engine.dispose()
        require_tool(False, f"a reachable PostgreSQL at {POSTGRES_ENV} ({type(error).__name__})")
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        _drop(engine, name)
        engine.dispose()


def _drop(engine: Any, name: str) -> None:
    """Drop a test database, retrying for a few seconds: `WITH (FORCE)` must end every session on it, and
    an autovacuum worker that just started on the fresh database belongs to a role the test user may not
    signal (the drop then fails with "must be a member of the role whose process is being terminated")."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    for attempt in range(10):
        try:
            with engine.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except DBAPIError:
            if attempt == 9:
                raise
            time.sleep(0.5)


@contextmanager
def store_on(backend: str, home: Path) -> Iterator[RunStore]:
    """A run store under `home` on `backend` (SQLite, or a fresh PostgreSQL database), disposed afterwards."""
    with database_url(backend) as url:
        store = RunStore(home, url)
        try:
            yield store
        finally:
            store.engine.dispose()
