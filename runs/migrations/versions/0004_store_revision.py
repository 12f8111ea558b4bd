"""a store revision: one counter that every committed write advances

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30

A reader (the API's response cache) compares one number to know whether anything it showed may
have changed, whichever process wrote it. Existing stores start at 0.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    # A store made with `create_all` (before migrations existed) may have the table, empty.
    if not sa.inspect(bind).has_table("store_revision"):
        op.create_table(
            "store_revision",
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
            sa.Column("value", sa.BigInteger(), nullable=False),
        )
    if bind.exec_driver_sql("SELECT count(*) FROM store_revision WHERE id = 1").scalar() == 0:
        bind.exec_driver_sql("INSERT INTO store_revision (id, value) VALUES (1, 0)")


def downgrade() -> None:
    op.drop_table("store_revision")
