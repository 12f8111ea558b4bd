"""Alembic environment: migrations run on the connection RunStore hands in (see runs/_schema.py).

No alembic.ini and no URL here: the store decides where the database is, holds the lock that keeps
two processes from migrating at once, and passes its open connection through `config.attributes`.
"""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import runs._tables  # noqa: F401 - registers the tables on SQLModel.metadata for comparisons

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("labgate migrations run through runs.upgrade_schema(), which passes a connection")
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
