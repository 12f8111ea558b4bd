"""Times and run ids as the store writes them, without the database layer: a Ray worker and a sandboxed
tool name runs and stamp times without importing SQLAlchemy."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def stored_utc(value: datetime) -> datetime:
    """A time read back from the store, aware: SQLite hands back naive datetimes that were written as UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def new_run_id() -> str:
    """Sortable by creation time, unique without coordination between processes."""
    return f"{utcnow().strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
