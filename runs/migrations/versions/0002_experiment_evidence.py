"""an experiment's evidence (stored file -> artifact digest) in its own column, out of its outcome

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30

Until now the evidence map was packed into the stored outcome as `outcome["evidence"]`. Each row
that has one gets it moved to the new column (and removed from the outcome), so that a run recorded
before the upgrade is judged, resumed and shown exactly as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BATCH = 500
"""Rows read per query while moving data: a large store is never held in memory at once."""

_experiment = sa.table(
    "experiment",
    sa.column("id", sa.Integer()),
    sa.column("outcome", sa.JSON()),
    sa.column("evidence", sa.JSON()),
)


def _rows(connection: sa.Connection, *columns: sa.ColumnClause[Any]) -> Iterator[Any]:
    """(id, *columns) of every experiment, in id order, a batch at a time."""
    last = -1
    while True:
        query = (
            sa.select(_experiment.c.id, *columns).where(_experiment.c.id > last).order_by(_experiment.c.id).limit(BATCH)
        )
        batch = connection.execute(query).all()
        if not batch:
            return
        yield from batch
        last = batch[-1][0]


def upgrade() -> None:
    connection = op.get_bind()
    # A store made with `create_all` before migrations existed may already have the column.
    if "evidence" not in {column["name"] for column in sa.inspect(connection).get_columns("experiment")}:
        with op.batch_alter_table("experiment", schema=None) as batch_op:
            batch_op.add_column(sa.Column("evidence", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
    for experiment_id, packed in _rows(connection, _experiment.c.outcome):
        if not isinstance(packed, dict) or "evidence" not in packed:
            continue
        outcome = {key: value for key, value in packed.items() if key != "evidence"}
        evidence = packed["evidence"]
        values = {"outcome": outcome, "evidence": evidence if isinstance(evidence, dict) else {}}
        connection.execute(sa.update(_experiment).where(_experiment.c.id == experiment_id).values(**values))


def downgrade() -> None:
    connection = op.get_bind()
    for experiment_id, outcome, evidence in _rows(connection, _experiment.c.outcome, _experiment.c.evidence):
        if outcome:  # a finished experiment: its outcome carried the evidence before this revision
            packed = {**outcome, "evidence": evidence or {}}
            connection.execute(sa.update(_experiment).where(_experiment.c.id == experiment_id).values(outcome=packed))
    with op.batch_alter_table("experiment", schema=None) as batch_op:
        batch_op.drop_column("evidence")
