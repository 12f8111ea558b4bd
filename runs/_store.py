"""The run store: every run's record, written as it happens, readable by the CLI, API and dashboard.

SQLite is the default and PostgreSQL the shared deployment; both go through the same SQLModel
code. Writers update single rows with targeted UPDATE statements (never read-modify-write of a
whole row), so two processes recording into one store do not lose each other's changes.
"""

from __future__ import annotations

import functools
import hashlib
import os
import sqlite3
import stat
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, ParamSpec, TypedDict, TypeVar, Unpack
from urllib.parse import quote

from sqlalchemy import Text, cast, delete, exists, func, or_, update
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, PendingRollbackError
from sqlalchemy.pool import QueuePool
from sqlmodel import Session, col, create_engine, select

from runs._artifacts import ArtifactStore, media_type_for
from runs._clock import new_run_id, utcnow
from runs._errors import RunNotFoundError, StoreUnavailableError, UnknownStatusError
from runs._json import read_json
from runs._records import (
    RUN_STATUSES,
    TERMINAL_STATUSES,
    ExperimentSpec,
    GateResult,
    RunStatus,
    TaskSpec,
    check_experiment_key,
    is_unicode_text,
)
from runs._revision import RevisionReader, track_revision
from runs._schema import check_schema, upgrade_schema
from runs._tables import MAX_ARTIFACT_NAME, Artifact, Event, Experiment, Run, Step, Verdict
from runs._verdicts import RecordedVerdict

_P = ParamSpec("_P")
_T = TypeVar("_T")


def check_status(status: object) -> None:
    """Refuse a run status that is not one of `RUN_STATUSES` before it reaches the database.

    Raises:
        UnknownStatusError: `status` is not a run status.
    """
    if status not in RUN_STATUSES:
        raise UnknownStatusError(f"{str(status)[:60]!r} is not a run status; a run is one of {', '.join(RUN_STATUSES)}")


class ArtifactFields(TypedDict, total=False):
    """What `add_artifact` passes on to `stage_artifact` besides the run, the file and its kind."""

    name: str | None
    experiment_id: int | None
    produced_by: str
    within: Path | None


class RunFilters(TypedDict, total=False):
    """Which runs `list_runs` and `count_runs` keep; a filter left out or empty keeps every run.

    `text`: a case-insensitive substring of the run's id, task, reason, notes, spec or tags.
    `decision`: runs with an experiment so decided (accept, reject, rerun, revise), or `none` for
    runs with no decided experiment. `tag`: runs carrying that tag. `since`/`until`: created at or
    after / before.
    """

    status: str | None
    task_id: str | None
    workload: str | None
    since: datetime | None
    until: datetime | None
    text: str | None
    decision: str | None
    tag: str | None


def _recorded(row: Verdict, experiment: str) -> RecordedVerdict:
    """The one place a stored verdict row becomes a result again."""
    assert row.id is not None
    return RecordedVerdict(
        id=row.id,
        experiment_id=row.experiment_id,
        experiment=experiment,
        gate=row.gate,
        decision=row.decision,
        reasons=row.reasons,
        evidence=row.evidence,
        metrics=row.metrics,
        confidence=row.confidence,
    )


def _lost_connection(error: Exception) -> bool:
    """Whether the database connection was lost under a statement (a server restart, an idle
    connection killed by the server or a proxy): its transaction is gone, nothing of it committed."""
    if isinstance(error, PendingRollbackError):
        return True  # raised in place of the lost connection's own error while SQLAlchemy cleans up
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def _reconnecting(method: Callable[_P, _T]) -> Callable[_P, _T]:
    """Run a read, or a write that is the same when done twice, once more on a fresh connection when
    its connection was lost: one dropped connection no longer ends a run that is hours in.

    Only reads and idempotent UPDATEs are wrapped: an INSERT whose commit was lost in transit could
    be recorded twice, so it fails (the run then stops with one clear error, resumable).
    """

    @functools.wraps(method)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return method(*args, **kwargs)
        except (DBAPIError, PendingRollbackError) as error:
            if not _lost_connection(error):
                raise
        return method(*args, **kwargs)

    return wrapper


def _configure_sqlite(engine: Engine, *, read_only: bool = False) -> None:
    """Every new connection: WAL (readers never wait for the writer) and a minute's patience for locks.

    A read-only connection changes no journal mode: switching to WAL (or opening a WAL database's `-shm`
    index) needs a file it cannot create, which made a store on read-only media unreadable.
    """

    @sa_event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if not read_only:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA foreign_keys=ON")
        if not read_only:
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


_READ_ONLY_MODES = ("mode=ro", "immutable=1")
"""How a database that cannot be written is opened, in order. `mode=ro` reads a WAL database whose `-wal` and
`-shm` files exist; a folder where they cannot be created (read-only media, a clean copy) needs `immutable=1`,
which takes the file as it is, with no locks: right for media nothing can write."""


def _cannot_write(error: DBAPIError) -> bool:
    """Whether SQLite failed because the database, its folder or its `-shm` file cannot be written."""
    name = getattr(error.orig, "sqlite_errorname", "") or ""
    return name.startswith(("SQLITE_CANTOPEN", "SQLITE_READONLY"))


def _read_only_engine(path: str, mode: str) -> Engine:
    """An engine on the SQLite file at `path` that only reads (`mode` one of `_READ_ONLY_MODES`).

    Opened through a creator so that the URI stays out of the engine's URL: the revision reader opens a
    file URL's path itself, and reads through the pool when there is none.
    """
    uri = f"file:{quote(path)}?{mode}"

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(uri, uri=True, timeout=60, check_same_thread=False)

    engine = create_engine("sqlite://", creator=connect, poolclass=QueuePool, **_ENGINE_OPTIONS)
    _configure_sqlite(engine, read_only=True)
    return engine


RUN_SORT_KEYS: tuple[str, ...] = (
    "created",
    "started",
    "finished",
    "status",
    "task",
    "workload",
    "accepted",
    "rejected",
    "cost",
)
"""What `list_runs(sort=...)` accepts, each optionally prefixed with '-' for descending."""

_SORT_COLUMNS: dict[str, Any] = {
    "created": Run.created_at,
    "started": Run.started_at,
    "finished": Run.finished_at,
    "status": Run.status,
    "task": Run.task_id,
    "workload": Run.workload,
    "accepted": Run.accepted,
    "rejected": Run.rejected,
    "cost": Run.llm_cost,
}


def _database_problem(error: DBAPIError) -> str:
    """The driver's own words for why the database failed (`file is not a database`), without the SQL."""
    return str(error.orig).strip().splitlines()[0] if error.orig is not None else type(error).__name__


_ENGINE_OPTIONS: dict[str, Any] = {
    "pool_pre_ping": True,
    "pool_size": 10,
    "max_overflow": 30,
    "json_deserializer": read_json,
}
"""Every engine's pool and JSON reading, the read-only one's included."""


def stored_name(name: str) -> str:
    """`name`, or for one longer than the column holds its start and end around a digest of the whole.

    A deep output path (a user's case nested many folders down) failed the run on PostgreSQL alone; the
    same name is now stored, and found again, on every backend. The end is kept whole (the file's own
    name and suffix, which the dashboard shows and downloads by), and the digest keeps two long names that
    differ only in the middle apart.
    """
    name = _printable_name(name)
    if len(name) <= MAX_ARTIFACT_NAME:
        return name
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    middle = f"...{digest}..."
    head = 120
    return name[:head] + middle + name[-(MAX_ARTIFACT_NAME - head - len(middle)) :]


def _printable_name(name: str) -> str:
    """`name` with what UTF-8 cannot hold written out: a file name's undecodable byte (kept by Python as a
    lone surrogate) as `\\xff`, any other lone surrogate as `\\ud800`. A sandbox chooses its files' names;
    one such name made the database refuse the artifact's row and the experiment's intake fail."""
    if is_unicode_text(name):
        return name
    return "".join(_escaped(char) for char in name)


def _escaped(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    if 0xD800 <= code <= 0xDFFF:
        return f"\\u{code:04x}"
    return char


STORE_FOLDERS = ("artifacts", "runs", "checks")
"""The folders the store keeps under its home (artifacts, each run's files, `agent check`'s work): one that is
a file (or a broken link) would fail every command later with an error about some file below it."""


def _foreign_reason(home: Path) -> str:
    """Why a home folder cannot be trusted ("" when it can): another account owns it, or others may write it.

    What a home holds is run as its user: the checkpoints that `agent approve` and `agent resume` load, the
    proof memory, the artifacts judged again. A `labgate-data` another account made (a shared or cloned folder)
    was used as it was.
    """
    try:
        info = home.stat()
    except OSError:
        return ""  # what cannot be read is reported by the first use of it
    if info.st_uid not in (os.geteuid(), 0):
        return f"it belongs to another account (uid {info.st_uid}); labgate keeps its data in a folder of yours"
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return (
            f"others may write to it (mode {stat.S_IMODE(info.st_mode):o}): labgate runs what it stores there "
            "(chmod go-w it, or use a folder of your own)"
        )
    return ""


class RunStore:
    """Records runs under one home folder: database, artifacts and each run's working files."""

    def __init__(self, home: Path, database_url: str | None = None) -> None:
        self.home = home
        try:
            # A home labgate makes is its owner's alone: runs hold documents, proposers' code and results
            # that other accounts on the machine have no business reading. A folder the user made keeps its mode.
            self.home.parent.mkdir(parents=True, exist_ok=True)
            self.home.mkdir(mode=0o700, exist_ok=True)
        except OSError as error:
            reason = error.strerror or str(error)
            if self.home.exists() and not self.home.is_dir():
                reason = "it is a file, not a folder"
            raise StoreUnavailableError(f"cannot use {home} as the run store's folder: {reason}") from None
        foreign = _foreign_reason(self.home)
        if foreign:
            raise StoreUnavailableError(f"cannot use {home} as the run store's folder: {foreign}")
        for folder in STORE_FOLDERS:
            if os.path.lexists(self.home / folder) and not (self.home / folder).is_dir():
                raise StoreUnavailableError(f"cannot use {home} as the run store's folder: {folder} is not a folder")
        self.database_url = database_url or f"sqlite:///{self.home / 'labgate.db'}"
        self.is_sqlite = self.database_url.startswith("sqlite")
        connect_args: dict[str, Any] = {"timeout": 60, "check_same_thread": False} if self.is_sqlite else {}
        # A server process answers many requests at once from a thread pool: room for them all.
        try:
            self.engine = create_engine(self.database_url, connect_args=connect_args, **_ENGINE_OPTIONS)
        except (ArgumentError, ImportError, TypeError) as error:  # unknown dialect, malformed URL, no driver, in-memory
            problem = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise StoreUnavailableError(f"the database URL cannot be used: {problem}") from None
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        self.read_only = False
        """Whether the database could only be opened for reading (read-only media, no permission to write):
        every read works, every write fails with SQLite's "attempt to write a readonly database"."""
        self._open_schema()
        track_revision(self.engine)  # after the migrations: they write before the counter exists
        self._revision = RevisionReader(self.engine)
        self.artifacts = ArtifactStore(self.home / "artifacts")

    def _open_schema(self) -> None:
        """Bring the database to the newest schema; one that cannot be written is opened read-only instead.

        Raises:
            StoreUnavailableError: the database cannot be opened even for reading, is damaged, or is at
                a schema revision this labgate cannot read as it is.
        """
        try:
            upgrade_schema(self.engine, self.home)
            return
        except DBAPIError as error:
            self.engine.dispose()
            failure = error
        except StoreUnavailableError:
            self.engine.dispose()
            raise
        path = self.engine.url.database if self.is_sqlite else None
        if path and path != ":memory:" and os.path.isfile(path) and _cannot_write(failure):
            for mode in _READ_ONLY_MODES:
                if self._open_read_only(path, mode):
                    return
        # Only a file's path is named: a server's URL may hold a password.
        where = f" {self.database_url.removeprefix('sqlite:///')}" if self.is_sqlite else ""
        raise StoreUnavailableError(f"cannot open the run store's database{where}: {_database_problem(failure)}")

    def _open_read_only(self, path: str, mode: str) -> bool:
        """Open the database at `path` read-only in `mode`; False (nothing kept) when SQLite cannot even read it so.

        Raises:
            StoreUnavailableError: the database reads, but at a schema revision that needs a write to use.
        """
        engine = _read_only_engine(path, mode)
        try:
            check_schema(engine)
        except DBAPIError:
            engine.dispose()
            return False
        except StoreUnavailableError:
            engine.dispose()
            raise
        self.engine = engine
        self.read_only = True
        return True

    # -- plumbing -------------------------------------------------------------------------------

    @staticmethod
    def lost_connection(error: BaseException) -> bool:
        """Whether `error` is this store's database connection lost under a statement (a server
        restart, a connection killed by the server or a proxy): nothing of its transaction committed,
        so what was recorded before stands and the work can continue on a new connection."""
        return isinstance(error, Exception) and _lost_connection(error)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    def revision(self) -> int:
        """A number that every committed write to the store advances (in its own transaction), from
        whichever process: equal revisions mean nothing a reader derived from the store has changed."""
        return self._revision.read()

    def run_dir(self, run_id: str) -> Path:
        """The run's working folder, made if missing; on a read-only store only named (readers want its path)."""
        path = self.home / "runs" / run_id
        if not self.read_only:
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

    @_reconnecting
    def get_run(self, run_id: str) -> Run:
        with self.session() as session:
            run = session.get(Run, run_id)
            if run is None:
                raise RunNotFoundError(f"no run with id {run_id!r}")
            return run

    @_reconnecting
    def run_ids_starting(self, prefix: str, limit: int = 10) -> list[str]:
        """Ids of runs that start with `prefix` (the first `limit`, in order): what a shortened id may mean."""
        query = select(Run.id).where(col(Run.id).startswith(prefix, autoescape=True)).order_by(col(Run.id)).limit(limit)
        with self.session() as session:
            return [str(found) for found in session.exec(query).all()]

    @_reconnecting
    def list_runs(
        self, *, limit: int = 100, offset: int = 0, sort: str = "-created", **filters: Unpack[RunFilters]
    ) -> list[Run]:
        """Newest first unless `sort` names a key of RUN_SORT_KEYS ('-' prefix: descending)."""
        name = sort.removeprefix("-")
        if name not in _SORT_COLUMNS:
            raise ValueError(
                f"cannot sort runs by {sort!r}; use one of {', '.join(RUN_SORT_KEYS)} (prefix - to reverse)"
            )
        column = col(_SORT_COLUMNS[name])
        order = column.desc() if sort.startswith("-") else column.asc()
        tie = col(Run.id).desc() if sort.startswith("-") else col(Run.id).asc()
        query = self._filtered(select(Run), **filters)
        query = query.order_by(order.nulls_last(), tie).offset(offset).limit(limit)
        with self.session() as session:
            return list(session.exec(query).all())

    @_reconnecting
    def count_runs(self, **filters: Unpack[RunFilters]) -> int:
        """How many runs `list_runs` would give with the same filters and no page limit."""
        query = self._filtered(select(func.count()).select_from(Run), **filters)
        with self.session() as session:
            return int(session.exec(query).one())

    @staticmethod
    def _filtered(query: Any, **filters: Unpack[RunFilters]) -> Any:
        """The one filter builder behind `list_runs` and `count_runs`, so a page and its total agree."""
        if tag := filters.get("tag"):
            # Tags are plain words (the API refuses quotes and backslashes), so their JSON text is predictable.
            escaped = tag.replace("%", "\\%").replace("_", "\\_")
            query = query.where(cast(col(Run.tags), Text).like(f'%"{escaped}"%', escape="\\"))
        if text := filters.get("text"):
            pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            fields = (
                col(Run.id),
                col(Run.task_id),
                col(Run.reason),
                col(Run.notes),
                cast(col(Run.spec), Text),
                cast(col(Run.tags), Text),
            )
            query = query.where(or_(*(func.lower(field).like(pattern, escape="\\") for field in fields)))
        if decision := filters.get("decision"):
            decided = select(Experiment.id).where(Experiment.run_id == Run.id)
            if decision == "none":
                query = query.where(~exists(decided.where(col(Experiment.decision).is_not(None))))
            else:
                query = query.where(exists(decided.where(Experiment.decision == decision)))
        if status := filters.get("status"):
            query = query.where(Run.status == status)
        if task_id := filters.get("task_id"):
            query = query.where(Run.task_id == task_id)
        if workload := filters.get("workload"):
            query = query.where(Run.workload == workload)
        if since := filters.get("since"):
            query = query.where(col(Run.created_at) >= since)
        if until := filters.get("until"):
            query = query.where(col(Run.created_at) < until)
        return query

    def update_run_if(
        self, run_id: str, *, status_in: Collection[str], expect_worker: str | None = None, **values: Any
    ) -> bool:
        """Compare-and-set: update only while the run's status (and worker, when given) are as expected.

        What makes a claim on a queued run, or a requeue, safe with several servers and workers
        sharing one database: of two racing callers exactly one sees True.

        Raises:
            UnknownStatusError: `status` is given and is not a run status.
        """
        if "status" in values:
            check_status(values["status"])
        values["updated_at"] = utcnow()
        query = update(Run).where(col(Run.id) == run_id, col(Run.status).in_(list(status_in)))
        if expect_worker is not None:
            query = query.where(col(Run.worker) == expect_worker)
        with self.session() as session:
            result = session.execute(query.values(**values))
            session.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]

    @_reconnecting
    def update_run(self, run_id: str, **values: Any) -> None:
        """Set columns of one run.

        Raises:
            UnknownStatusError: `status` is given and is not a run status.
            RunNotFoundError: no run has the id.
        """
        if "status" in values:
            check_status(values["status"])
        values["updated_at"] = utcnow()
        with self.session() as session:
            result = session.execute(update(Run).where(col(Run.id) == run_id).values(**values))
            session.commit()
            if result.rowcount == 0:  # type: ignore[attr-defined]
                raise RunNotFoundError(f"no run with id {run_id!r}")

    @_reconnecting
    def set_status(self, run_id: str, status: RunStatus, reason: str = "") -> bool:
        """Record a new status; a cancelled run stays cancelled (returns False, records nothing).

        Cancellation comes from another process (CLI, API) while the executor is still working;
        the guard is part of the UPDATE, so an executor finishing at the same moment cannot
        overwrite it. Likewise only a run that has not ended can be cancelled: a cancel racing the
        run's end (or another cancel) neither turns a finished result into a cancelled one nor
        records the cancellation twice.

        Raises:
            UnknownStatusError: `status` is not a run status (the type says so; a plugin may not check).
            RunNotFoundError: no run has the id.
        """
        check_status(status)
        values: dict[str, Any] = {"status": status, "updated_at": utcnow()}
        if reason or status in ("finished", "running"):
            values["reason"] = reason
        now = utcnow()
        if status == "running":
            # The first start only: a resume or an approval continues the run, it does not restart it.
            values["started_at"] = func.coalesce(col(Run.started_at), now)
        if status in ("finished", "failed", "cancelled"):
            values["finished_at"] = now
        query = update(Run).where(col(Run.id) == run_id)
        if status != "cancelled":
            query = query.where(col(Run.status) != "cancelled")
        else:
            query = query.where(col(Run.status).not_in(sorted(TERMINAL_STATUSES)))
        message = f"run {status}" + (f": {reason}" if reason else "")
        with self.session() as session:
            changed = session.execute(query.values(**values)).rowcount  # type: ignore[attr-defined]
            if changed:
                # One commit with the status: an events stream that reads the run's end and then its last
                # events missed this one when it committed a moment later (the UPDATE holds the run's row,
                # which orders this event after the run's earlier ones, as `emit` requires).
                session.add(Event(run_id=run_id, kind="status", message=message, data={"status": status}))
            session.commit()
        if not changed:
            self.get_run(run_id)  # raises RunNotFoundError for an unknown id
            return False
        if status in ("failed", "cancelled"):
            self.close_unfinished(run_id, status, reason or f"the run was {status}")
        return True

    @_reconnecting
    def close_unfinished(self, run_id: str, status: str, reason: str) -> int:
        """Mark the run's steps and experiments still `running` as `status`, with `reason`; returns how many.

        Whatever was running when its run was cancelled, its worker was killed or its server went
        down will never report an end of its own; left as it is, it would show as running forever.
        """
        now = utcnow()
        note = f" [{status}: {reason}]"
        with self.session() as session:
            steps = session.execute(
                update(Step)
                .where(col(Step.run_id) == run_id, col(Step.status) == "running")
                .values(status=status, finished_at=now, detail=col(Step.detail) + note)
            ).rowcount  # type: ignore[attr-defined]
            experiments = session.execute(
                update(Experiment)
                .where(col(Experiment.run_id) == run_id, col(Experiment.status) == "running")
                .values(status=status, finished_at=now, error=reason)
            ).rowcount  # type: ignore[attr-defined]
            session.commit()
        return int(steps) + int(experiments)

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

    @_reconnecting
    def finish_step(self, step_id: int, status: str = "done", detail: str | None = None) -> None:
        values: dict[str, Any] = {"status": status, "finished_at": utcnow()}
        if detail is not None:
            values["detail"] = detail
        with self.session() as session:
            session.execute(update(Step).where(col(Step.id) == step_id).values(**values))
            session.commit()

    @_reconnecting
    def steps(self, run_id: str) -> list[Step]:
        with self.session() as session:
            return list(session.exec(select(Step).where(Step.run_id == run_id).order_by(col(Step.id))).all())

    # -- experiments ----------------------------------------------------------------------------

    def add_experiment(self, run_id: str, spec: ExperimentSpec) -> Experiment:
        """Record an experiment once per key: asking again returns the existing row (idempotent).

        The existing row is returned as it is, whatever `spec.params` say: callers that would act on
        it (dispatch skips a finished experiment) check that it is the experiment they mean.

        Raises:
            ExperimentKeyError: the key cannot name a directory of its own (see `check_experiment_key`).
        """
        existing = self.find_experiment(run_id, spec.key)
        if existing is not None:
            return existing
        check_experiment_key(spec.key)
        row = Experiment(
            run_id=run_id,
            key=spec.key,
            attempt=spec.attempt,
            parent_key=spec.parent_key,
            rationale=spec.rationale,
            params=spec.params,
        )
        try:
            return self._add(row)  # type: ignore[no-any-return]
        except IntegrityError:
            # Another writer recorded the same key in between: theirs is the experiment.
            existing = self.find_experiment(run_id, spec.key)
            if existing is None:
                raise
            return existing

    @_reconnecting
    def find_experiment(self, run_id: str, key: str) -> Experiment | None:
        with self.session() as session:
            query = select(Experiment).where(Experiment.run_id == run_id, Experiment.key == key)
            return session.exec(query).first()

    @_reconnecting
    def update_experiment(self, experiment_id: int, **values: Any) -> None:
        with self.session() as session:
            session.execute(update(Experiment).where(col(Experiment.id) == experiment_id).values(**values))
            session.commit()

    @_reconnecting
    def experiments(self, run_id: str) -> list[Experiment]:
        with self.session() as session:
            query = select(Experiment).where(Experiment.run_id == run_id).order_by(col(Experiment.id))
            return list(session.exec(query).all())

    # -- artifacts ------------------------------------------------------------------------------

    def add_artifact(self, run_id: str, source: Path, *, kind: str, **fields: Unpack[ArtifactFields]) -> Artifact:
        """Store a file as an artifact; `within` is the directory below which no link is followed.

        Raises:
            UntrustedFileError: the file is a link, not a regular file, too large or unreadable.
        """
        return self._add(self.stage_artifact(run_id, source, kind=kind, **fields))  # type: ignore[no-any-return]

    def stage_artifact(
        self,
        run_id: str,
        source: Path,
        *,
        kind: str,
        name: str | None = None,
        experiment_id: int | None = None,
        produced_by: str = "",
        within: Path | None = None,
    ) -> Artifact:
        """Store a file's bytes as `add_artifact` does and return its row unrecorded, for `add_artifacts`.

        Raises:
            UntrustedFileError: the file is a link, not a regular file, too large or unreadable.
        """
        sha, size = self.artifacts.put_file(source, within=within)
        return Artifact(
            run_id=run_id,
            experiment_id=experiment_id,
            kind=kind,
            name=stored_name(name or source.name),
            sha256=sha,
            size=size,
            media_type=media_type_for(name or source.name, kind),
            produced_by=produced_by,
        )

    def add_artifacts(self, rows: Sequence[Artifact]) -> list[Artifact]:
        """Record rows from `stage_artifact` in one transaction: all of them, or none if it fails.

        An experiment's outputs (a CFD case has 16-19) were one commit each, about 5 ms apiece of the
        run's own process after every case."""
        if not rows:
            return []
        with self.session() as session:
            session.add_all(rows)
            session.commit()
        return list(rows)

    def finish_experiment(self, experiment_id: int, rows: Sequence[Artifact], **values: Any) -> None:
        """Record an experiment's output files (rows from `stage_artifact`) in place of any an earlier attempt
        recorded, and its outcome (`values`, as `update_experiment`), in one transaction.

        Stored and marked finished in two commits, a process killed between them left the first attempt's
        files attached to the experiment; `agent resume` ran it again and recorded the outputs a second
        time, and the report's accepted results showed the killed attempt's kernel, which no gate judged,
        beside the judged one."""
        with self.session() as session:
            session.execute(delete(Artifact).where(col(Artifact.experiment_id) == experiment_id))
            session.add_all(rows)
            session.execute(update(Experiment).where(col(Experiment.id) == experiment_id).values(**values))
            session.commit()

    def record_report(self, run_id: str, rows: Sequence[Artifact]) -> None:
        """Record a run's report files (rows from `stage_artifact`) in place of any written before, and point
        the run at the first, in one transaction.

        A write-up cut short after its files were recorded (a kill, a lost database) and run again on resume
        recorded every report file twice, and the dashboard listed both; the run pointed at whichever write
        came last. Rows of the same names (of the run, not of an experiment) are replaced.

        Raises:
            RunNotFoundError: no run has the id.
        """
        names = [row.name for row in rows]
        with self.session() as session:
            session.execute(
                delete(Artifact).where(
                    col(Artifact.run_id) == run_id,
                    col(Artifact.experiment_id).is_(None),
                    col(Artifact.name).in_(names),
                )
            )
            session.add_all(rows)
            if rows:
                result = session.execute(
                    update(Run).where(col(Run.id) == run_id).values(report_sha256=rows[0].sha256, updated_at=utcnow())
                )
                if result.rowcount == 0:  # type: ignore[attr-defined]
                    session.rollback()
                    raise RunNotFoundError(f"no run with id {run_id!r}")
            session.commit()

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
            name=stored_name(name),
            sha256=sha,
            size=size,
            media_type=media_type_for(name, kind),
            produced_by=produced_by,
        )
        return self._add(row)  # type: ignore[no-any-return]

    @_reconnecting
    def artifacts_of(self, run_id: str, experiment_id: int | None = None) -> list[Artifact]:
        query = select(Artifact).where(Artifact.run_id == run_id)
        if experiment_id is not None:
            query = query.where(Artifact.experiment_id == experiment_id)
        with self.session() as session:
            return list(session.exec(query.order_by(col(Artifact.id))).all())

    @_reconnecting
    def artifact_by_sha(self, sha256: str) -> Artifact | None:
        with self.session() as session:
            return session.exec(select(Artifact).where(Artifact.sha256 == sha256)).first()

    # -- verdicts -------------------------------------------------------------------------------

    def add_verdict(self, run_id: str, experiment_id: int | None, result: GateResult) -> RecordedVerdict:
        """Record a gate's result; returns it as `verdicts` will (announcing it is the caller's job)."""
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
        with self.session() as session:
            session.add(row)
            session.commit()
            session.refresh(row)
            experiment = session.get(Experiment, experiment_id) if experiment_id is not None else None
        return _recorded(row, experiment.key if experiment is not None else "")

    @_reconnecting
    def verdicts(self, run_id: str, experiment_id: int | None = None) -> list[RecordedVerdict]:
        """The run's verdicts (or one experiment's) in the order they were recorded, as gates returned them."""
        query = (
            select(Verdict, Experiment.key)
            .outerjoin(Experiment, col(Verdict.experiment_id) == col(Experiment.id))
            .where(Verdict.run_id == run_id)
        )
        if experiment_id is not None:
            query = query.where(Verdict.experiment_id == experiment_id)
        with self.session() as session:
            return [_recorded(row, key or "") for row, key in session.exec(query.order_by(col(Verdict.id))).all()]

    # -- events ---------------------------------------------------------------------------------

    def emit(self, run_id: str, kind: str, message: str, data: dict[str, Any] | None = None) -> Event:
        """Append an event; within one run, event ids become visible in increasing order.

        A reader resumes a stream after the last id it saw (SSE Last-Event-ID), so an event with a
        smaller id must never commit after one with a larger id. SQLite serialises writers anyway;
        on a server database the run's row is locked until the event commits.
        """
        row = Event(run_id=run_id, kind=kind, message=message, data=data or {})
        with self.session() as session:
            if not self.is_sqlite:
                session.execute(select(Run.id).where(Run.id == run_id).with_for_update())
            session.add(row)
            session.commit()
            session.refresh(row)
            return row

    @_reconnecting
    def events(
        self,
        run_id: str,
        after_id: int = 0,
        limit: int = 1000,
        *,
        kind: str | None = None,
        exclude: Sequence[str] = (),
    ) -> Sequence[Event]:
        """The run's events after `after_id`, oldest first; only those of `kind` when given, none of `exclude`."""
        query = select(Event).where(Event.run_id == run_id, col(Event.id) > after_id)
        if kind is not None:
            query = query.where(Event.kind == kind)
        if exclude:
            query = query.where(col(Event.kind).not_in(list(exclude)))
        query = query.order_by(col(Event.id)).limit(limit)
        with self.session() as session:
            return list(session.exec(query).all())

    @_reconnecting
    def newest_events(self, run_id: str, kind: str, limit: int) -> Sequence[Event]:
        """The run's newest `limit` events of `kind`, oldest first: frequent kinds (progress) never crowd out
        the rest of a page that reads the run's first events."""
        query = (
            select(Event).where(Event.run_id == run_id, Event.kind == kind).order_by(col(Event.id).desc()).limit(limit)
        )
        with self.session() as session:
            return list(reversed(session.exec(query).all()))

    @_reconnecting
    def last_event_id(self, run_id: str) -> int:
        """The id of the run's newest event, 0 when it has none."""
        with self.session() as session:
            newest = session.exec(select(func.max(Event.id)).where(Event.run_id == run_id)).one()
        return int(newest or 0)
