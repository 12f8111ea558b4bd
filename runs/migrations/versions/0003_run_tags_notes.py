"""a run's tags and notes, written by its reviewers

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30

Both start empty for every existing run; nothing else changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (with a constant default) on both databases: SQLite's batch mode would copy the
    # run table, which every other table references.
    existing = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("run")}
    if "tags" not in existing:
        op.add_column("run", sa.Column("tags", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    if "notes" not in existing:
        op.add_column("run", sa.Column("notes", sa.Text(), nullable=False, server_default=sa.text("''")))


def downgrade() -> None:
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.drop_column("notes")
        batch_op.drop_column("tags")
