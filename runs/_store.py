"""The run store: every run's record, written as it happens, readable by the CLI, API and dashboard.

SQLite is the default and PostgreSQL the shared deployment; both go through the same SQLModel
code. Writers update single rows with targeted UPDATE statements (never read-modify-write of a
whole row), so two processes recording into one store do not lose each other's changes.
"""

from __future__ import annotations

import fcntl
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlmodel import Session, SQLModel, col, create_engine, select

from runs._artifacts import ArtifactStore, media_type_for
from runs._records import ExperimentSpec, GateResult, RunStatus, TaskSpec
from runs._tables import Artifact, Event, Experiment, Run, Step, Verdict, utcnow


class RunNotFoundError(LookupError):
    """No run has that id."""


def _configure_sqlite(engine: Engine) -> None:
    @sa_event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def new_run_id() -> str:
    """Sortable by creation time, unique without coordination between processes."""
    return f"{utcnow().strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


class RunStore:
    """Records runs under one home folder: database, artifacts and each run's working files."""

    def __init__(self, home: Path, database_url: str | None = None) -> None:
        self.home = home
        self.home.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url or f"sqlite:///{self.home / 'labgate.db'}"
        self.is_sqlite = self.database_url.startswith("sqlite")
        connect_args: dict[str, Any] = {"timeout": 60, "check_same_thread": False} if self.is_sqlite else {}
        self.engine = create_engine(self.database_url, connect_args=connect_args, pool_pre_ping=True)
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        self._create_schema()
        self.artifacts = ArtifactStore(self.home / "artifacts")

    # -- plumbing -------------------------------------------------------------------------------

    def _create_schema(self) -> None:
        """Create missing tables; two processes opening a fresh store at once must not both try.

        SQLite gets a lock file beside the database; a server database may still race, and a
        table that appeared in between is simply there, so the creation is retried once.
        """
        if self.is_sqlite:
            with (self.home / ".schema.lock").open("w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                try:
                    SQLModel.metadata.create_all(self.engine)
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)
            return
        try:
            SQLModel.metadata.create_all(self.engine)
        except (OperationalError, ProgrammingError, IntegrityError):
            SQLModel.metadata.create_all(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    def run_dir(self, run_id: str) -> Path:
        path = self.home / "runs" / run_id
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _add(self, row: Any) -> Any:
        with self.session() as session:
            session.add(row)
            session.commit()
            session.refresh(row)
            return row

    # -- runs -----------------------------------------------------------------------------------

    def create_run(
        self,
        spec: TaskSpec | None,
        *,
        task_id: str | None = None,
        options: dict[str, Any] | None = None,
        environment: dict[str, Any] | None = None,
        status: RunStatus = "queued",
    ) -> Run:
        """Record a run; `spec` is None when the task could not even be loaded (the run then fails)."""
        run = Run(
            id=new_run_id(),
            task_id=spec.id if spec else (task_id or "?"),
            workload=spec.workload if spec else "",
            status=status,
            spec=spec.model_dump(mode="json") if spec else {},
            options=options or {},
            environment=environment or {},
            seed=spec.seed if spec else 0,
        )
        return self._add(run)  # type: ignore[no-any-return]

    def get_run(self, run_id: str) -> Run:
        with self.session() as session:
            run = session.get(Run, run_id)
            if run is None:
                raise RunNotFoundError(f"no run with id {run_id!r}")
            return run

    def list_runs(
        self,
        *,
        status: str | None = None,
        task_id: str | None = None,
        workload: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Run]:
        """Newest first."""
        query = select(Run)
        if status:
            query = query.where(Run.status == status)
        if task_id:
            query = query.where(Run.task_id == task_id)
        if workload:
            query = query.where(Run.workload == workload)
        if since:
            query = query.where(col(Run.created_at) >= since)
        query = query.order_by(col(Run.created_at).desc(), col(Run.id).desc()).offset(offset).limit(limit)
        with self.session() as session:
            return list(session.exec(query).all())

    def update_run(self, run_id: str, **values: Any) -> None:
        values["updated_at"] = utcnow()
        with self.session() as session:
            result = session.execute(update(Run).where(col(Run.id) == run_id).values(**values))
            session.commit()
            if result.rowcount == 0:  # type: ignore[attr-defined]
                raise RunNotFoundError(f"no run with id {run_id!r}")

    def set_status(self, run_id: str, status: RunStatus, reason: str = "") -> None:
        values: dict[str, Any] = {"status": status}
        if reason or status in ("finished", "running"):
            values["reason"] = reason
        now = utcnow()
        if status == "running":
            values["started_at"] = now
        if status in ("finished", "failed", "cancelled"):
            values["finished_at"] = now
        self.update_run(run_id, **values)
        self.emit(run_id, "status", f"run {status}" + (f": {reason}" if reason else ""), {"status": status})

    def add_llm_usage(self, run_id: str, tokens: int, cost: float) -> None:
        with self.session() as session:
            session.execute(
                update(Run)
                .where(col(Run.id) == run_id)
                .values(llm_tokens=Run.llm_tokens + tokens, llm_cost=Run.llm_cost + cost)
            )
            session.commit()

    # -- steps ----------------------------------------------------------------------------------

    def start_step(self, run_id: str, name: str, detail: str = "") -> Step:
        step = self._add(Step(run_id=run_id, name=name, detail=detail))
        self.emit(run_id, "step", f"{name} started", {"step": name, "step_id": step.id})
        return step  # type: ignore[no-any-return]

    def finish_step(self, step_id: int, status: str = "done", detail: str | None = None) -> None:
        values: dict[str, Any] = {"status": status, "finished_at": utcnow()}
        if detail is not None:
            values["detail"] = detail
        with self.session() as session:
            session.execute(update(Step).where(col(Step.id) == step_id).values(**values))
            session.commit()

    def steps(self, run_id: str) -> list[Step]:
        with self.session() as session:
            return list(session.exec(select(Step).where(Step.run_id == run_id).order_by(col(Step.id))).all())

    # -- experiments ----------------------------------------------------------------------------

    def add_experiment(self, run_id: str, spec: ExperimentSpec) -> Experiment:
        """Record an experiment once per key: asking again returns the existing row (idempotent)."""
        existing = self.find_experiment(run_id, spec.key)
        if existing is not None:
            return existing
        row = Experiment(
            run_id=run_id,
            key=spec.key,
            attempt=spec.attempt,
            parent_key=spec.parent_key,
            rationale=spec.rationale,
            params=spec.params,
        )
        return self._add(row)  # type: ignore[no-any-return]

    def find_experiment(self, run_id: str, key: str) -> Experiment | None:
        with self.session() as session:
            query = select(Experiment).where(Experiment.run_id == run_id, Experiment.key == key)
            return session.exec(query).first()

    def update_experiment(self, experiment_id: int, **values: Any) -> None:
        with self.session() as session:
            session.execute(update(Experiment).where(col(Experiment.id) == experiment_id).values(**values))
            session.commit()

    def experiments(self, run_id: str) -> list[Experiment]:
        with self.session() as session:
            query = select(Experiment).where(Experiment.run_id == run_id).order_by(col(Experiment.id))
            return list(session.exec(query).all())

    # -- artifacts ------------------------------------------------------------------------------

    def add_artifact(
        self,
        run_id: str,
        source: Path,
        *,
        kind: str,
        name: str | None = None,
        experiment_id: int | None = None,
        produced_by: str = "",
    ) -> Artifact:
        sha, size = self.artifacts.put_file(source)
        row = Artifact(
            run_id=run_id,
            experiment_id=experiment_id,
            kind=kind,
            name=name or source.name,
            sha256=sha,
            size=size,
            media_type=media_type_for(name or source.name),
            produced_by=produced_by,
        )
        return self._add(row)  # type: ignore[no-any-return]

    def add_artifact_bytes(
        self,
        run_id: str,
        data: bytes,
        *,
        kind: str,
        name: str,
        experiment_id: int | None = None,
        produced_by: str = "",
    ) -> Artifact:
        sha, size = self.artifacts.put_bytes(data)
        row = Artifact(
            run_id=run_id,
            experiment_id=experiment_id,
            kind=kind,
            name=name,
            sha256=sha,
            size=size,
            media_type=media_type_for(name),
            produced_by=produced_by,
        )
        return self._add(row)  # type: ignore[no-any-return]

    def artifacts_of(self, run_id: str, experiment_id: int | None = None) -> list[Artifact]:
        query = select(Artifact).where(Artifact.run_id == run_id)
        if experiment_id is not None:
            query = query.where(Artifact.experiment_id == experiment_id)
        with self.session() as session:
            return list(session.exec(query.order_by(col(Artifact.id))).all())

    def artifact_by_sha(self, sha256: str) -> Artifact | None:
        with self.session() as session:
            return session.exec(select(Artifact).where(Artifact.sha256 == sha256)).first()

    # -- verdicts -------------------------------------------------------------------------------

    def add_verdict(self, run_id: str, experiment_id: int | None, result: GateResult) -> Verdict:
        row = Verdict(
            run_id=run_id,
            experiment_id=experiment_id,
            gate=result.gate,
            decision=result.decision,
            reasons=list(result.reasons),
            evidence=list(result.evidence),
            metrics=dict(result.metrics),
            confidence=result.confidence,
        )
        verdict: Verdict = self._add(row)
        self.emit(
            run_id,
            "verdict",
            f"{result.gate}: {result.decision}",
            {"gate": result.gate, "decision": result.decision, "experiment_id": experiment_id},
        )
        return verdict

    def verdicts(self, run_id: str, experiment_id: int | None = None) -> list[Verdict]:
        query = select(Verdict).where(Verdict.run_id == run_id)
        if experiment_id is not None:
            query = query.where(Verdict.experiment_id == experiment_id)
        with self.session() as session:
            return list(session.exec(query.order_by(col(Verdict.id))).all())

    # -- events ---------------------------------------------------------------------------------

    def emit(self, run_id: str, kind: str, message: str, data: dict[str, Any] | None = None) -> Event:
        return self._add(Event(run_id=run_id, kind=kind, message=message, data=data or {}))  # type: ignore[no-any-return]

    def events(self, run_id: str, after_id: int = 0, limit: int = 1000) -> Sequence[Event]:
        query = (
            select(Event).where(Event.run_id == run_id, col(Event.id) > after_id).order_by(col(Event.id)).limit(limit)
        )
        with self.session() as session:
            return list(session.exec(query).all())
