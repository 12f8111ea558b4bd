"""The run store's tables: one row per run, step, experiment, artifact, verdict and event.

JSON columns hold the parts whose shape belongs to a workload (parameters, metrics); everything
the dashboard filters or sorts on is a plain column.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Dialect, Integer, Text, UniqueConstraint, text
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from runs._clock import utcnow
from runs._errors import DamagedRecordError


class StoredTime(TypeDecorator[datetime]):
    """A time column whose stored text must read as a time, or the record is named damaged.

    SQLite keeps times as text and parses them as rows are read: one row whose time another program
    set to `garbage` made every listing end in a traceback. The column is DateTime (with time zone) as before.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        parse = super().result_processor(dialect, coltype)
        if parse is None:
            return None

        def checked(value: Any) -> Any:
            try:
                return parse(value)
            except (ValueError, TypeError) as error:
                raise DamagedRecordError(
                    f"a record in the run store is damaged (a time column reads {str(value)[:60]!r}: {error}); "
                    "labgate never writes that, so the database was changed by something else"
                ) from None

        return checked


class Run(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=40)
    task_id: str = Field(index=True, max_length=200)
    workload: str = Field(default="", index=True, max_length=20)
    status: str = Field(default="queued", index=True, max_length=20)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    spec: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    options: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    environment: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    seed: int = 0
    accepted: int = 0
    rejected: int = 0
    llm_tokens: int = 0
    llm_cost: float = 0.0
    report_sha256: str | None = Field(default=None, max_length=64)
    tags: list[str] = Field(
        default_factory=list,
        sa_column=Column(JSON, nullable=False, server_default=text("'[]'")),
        description="short labels a reviewer gave the run",
    )
    notes: str = Field(
        default="",
        sa_column=Column(Text, nullable=False, default="", server_default=text("''")),
        description="a reviewer's notes on the run",
    )
    worker: str = Field(default="", max_length=200, description="host:pid of the process executing the run")
    created_at: datetime = Field(default_factory=utcnow, index=True, sa_type=StoredTime)
    started_at: datetime | None = Field(default=None, sa_type=StoredTime)
    finished_at: datetime | None = Field(default=None, sa_type=StoredTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=StoredTime)


class Step(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(foreign_key="run.id", index=True, max_length=40)
    name: str = Field(max_length=100)
    status: str = Field(default="running", max_length=20)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    started_at: datetime = Field(default_factory=utcnow, sa_type=StoredTime)
    finished_at: datetime | None = Field(default=None, sa_type=StoredTime)


class Experiment(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("run_id", "key", name="uq_experiment_run_key"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(foreign_key="run.id", index=True, max_length=40)
    key: str = Field(max_length=200)
    attempt: int = 1
    parent_key: str | None = Field(default=None, max_length=200)
    rationale: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=20)
    decision: str | None = Field(default=None, max_length=20)
    metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    error: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    outcome: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    evidence: dict[str, str] = Field(
        default_factory=dict,
        sa_column=Column(JSON, nullable=False, server_default=text("'{}'")),
        description="each stored output file of the experiment: relative path -> artifact sha256 (what gates read)",
    )
    workdir: str = Field(default="", max_length=1000)
    started_at: datetime | None = Field(default=None, sa_type=StoredTime)
    finished_at: datetime | None = Field(default=None, sa_type=StoredTime)


MAX_ARTIFACT_NAME = 500
"""Characters of an artifact's name: PostgreSQL enforces the column's length, SQLite does not (`stored_name`)."""


class Artifact(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(foreign_key="run.id", index=True, max_length=40)
    experiment_id: int | None = Field(default=None, foreign_key="experiment.id", index=True)
    kind: str = Field(max_length=40)
    name: str = Field(max_length=MAX_ARTIFACT_NAME)
    sha256: str = Field(index=True, max_length=64)
    size: int = 0
    media_type: str = Field(default="application/octet-stream", max_length=100)
    produced_by: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=StoredTime)


class Verdict(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(foreign_key="run.id", index=True, max_length=40)
    experiment_id: int | None = Field(default=None, foreign_key="experiment.id", index=True)
    gate: str = Field(max_length=100)
    decision: str = Field(max_length=20)
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    evidence: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    confidence: float = 1.0
    created_at: datetime = Field(default_factory=utcnow, sa_type=StoredTime)


class Event(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(foreign_key="run.id", index=True, max_length=40)
    kind: str = Field(max_length=40)
    message: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=StoredTime)


class StoreRevision(SQLModel, table=True):
    """One row (id 1): advanced with every committed write (see runs._revision), read by caches."""

    __tablename__ = "store_revision"
    id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    value: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
