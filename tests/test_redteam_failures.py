"""Failures of what surrounds a run, injected mid-run: a killed process, a full disk, a database file
deleted under the run, a lost database connection.

Each must end in one clear outcome naming the problem (CLI: one line and an exit code; the run's status
and events say what happened), leave the run resumable or re-runnable, and lose or falsify nothing
already stored: a machine's failure is never recorded, or judged, as an experiment's result.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy.exc import DBAPIError, OperationalError, PendingRollbackError

from agents import Orchestrator, RunLauncher, RunOptions
from agents._experiments import RunAbortedError, run_driver
from api._settings import Settings, build_catalog
from runs import ExperimentSpec, RunStore, StoreUnavailableError, TaskSpec
from tests.conftest import REPO, agent
from tests.databases import database_url
from tools import ExperimentOutcome

TASK = TaskSpec(id="demo/failures", workload="demo", params={})
SPEC = ExperimentSpec(key="a", task_id=TASK.id, params={})


# -- a full disk or a read-only folder is the machine's failure, not the experiment's ---------------------------


class _Workload:
    """Stands in for a workload whose run does whatever the test says (raise, return an outcome)."""

    name = "demo"

    def __init__(self, behaviour: Callable[[Path], ExperimentOutcome]) -> None:
        self.behaviour = behaviour

    def run(self, _task: TaskSpec, _spec: ExperimentSpec, directory: Path, _sandboxes: Any) -> ExperimentOutcome:
        return self.behaviour(directory)

    @staticmethod
    def refuse_undeclared(outcome: ExperimentOutcome) -> ExperimentOutcome:
        return outcome


class _Execution:
    """The least an experiment's execution offers (agents.Execution), with no store behind it."""

    def __init__(self, workload: _Workload) -> None:
        self.task = TASK
        self.workload = workload
        self.sandbox_factory = None
        self.llm = None

    def emit(self, kind: str, message: str, **data: Any) -> None:
        """Nothing watches."""

    @staticmethod
    def should_stop() -> bool:
        return False

    @staticmethod
    def remaining_seconds() -> float:
        return 600.0


def _raises(code: int) -> Callable[[Path], ExperimentOutcome]:
    def behaviour(directory: Path) -> ExperimentOutcome:
        raise OSError(code, os.strerror(code), str(directory / "2" / "U"))

    return behaviour


def _returns(**fields: Any) -> Callable[[Path], ExperimentOutcome]:
    def behaviour(_directory: Path) -> ExperimentOutcome:
        return ExperimentOutcome(key="a", **fields)

    return behaviour


def _free_bytes(monkeypatch: pytest.MonkeyPatch, free: int) -> None:
    usage = shutil.disk_usage("/")
    monkeypatch.setattr(shutil, "disk_usage", lambda _path: type(usage)(usage.total, usage.total - free, free))


@pytest.mark.parametrize(
    ("behaviour", "free", "named"),
    [
        (_raises(errno.ENOSPC), 10 << 30, "No space left on device"),
        (_raises(errno.EROFS), 10 << 30, "Read-only file system"),
        # Post-processing caught the error itself and recorded it: the gates would reject the science.
        (
            _returns(status="completed", info={"analysis_error": "OSError: [Errno 28] No space left on device"}),
            10 << 30,
            "No space left on device",
        ),
        # The solver crashed when it could not write its fields: the policy would halve its time step.
        (_returns(status="error", error="solve exited with code 139"), 0, "0 bytes free"),
    ],
    ids=["raised-ENOSPC", "raised-EROFS", "caught-ENOSPC", "crashed-on-a-full-disk"],
)
def test_a_full_disk_stops_the_run_instead_of_becoming_the_experiments_outcome(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    behaviour: Callable[[Path], ExperimentOutcome],
    free: int,
    named: str,
) -> None:
    """Before, each became an outcome the gates judged: a permanent `reject` of a result nobody computed,
    or a `rerun` that halved the time step and filled the disk again."""
    _free_bytes(monkeypatch, free)
    with pytest.raises(RunAbortedError) as caught:
        run_driver(cast(Any, _Execution(_Workload(behaviour))), SPEC, tmp_path)
    message = str(caught.value)
    assert named in message and str(tmp_path) in message and "\n" not in message


def _store_locked(_directory: Path) -> ExperimentOutcome:
    from sqlalchemy.exc import OperationalError

    raise OperationalError(
        "UPDATE experiment SET outcome=? WHERE id = ?", ("{...}", 1), Exception("database is locked")
    )


def test_a_store_that_fails_under_an_experiment_stops_the_run_instead_of_becoming_its_outcome(tmp_path: Path) -> None:
    """A lock another process held on labgate.db past the minute's wait, met while an experiment was recorded:
    the evaluated kernel became an `error` outcome, both kernel gates recorded "reject: the experiment produced
    no candidate-kernel file", and the run's reason quoted the SQL statement and its parameters."""
    with pytest.raises(RunAbortedError) as caught:
        run_driver(cast(Any, _Execution(_Workload(_store_locked))), SPEC, tmp_path)
    message = str(caught.value)
    assert "database is locked" in message and "UPDATE" not in message and "\n" not in message, message


@pytest.mark.parametrize(
    ("behaviour", "free"),
    [
        (_raises(errno.ENOENT), 10 << 30),  # the experiment's own missing file
        (_returns(status="error", error="solve exited with code 1"), 10 << 30),  # diverged, disk fine
        (_returns(status="completed"), 0),  # a full disk after an experiment that succeeded
        # A solver's log line quoted in the error is not an error the tool caught.
        (_returns(status="error", error="solve exited with code 1: OSError: [Errno 28] No space left"), 10 << 30),
    ],
    ids=["other-oserror", "diverged", "succeeded-on-a-full-disk", "quoted-errno"],
)
def test_an_experiments_own_failure_is_still_its_outcome(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, behaviour: Callable[[Path], ExperimentOutcome], free: int
) -> None:
    _free_bytes(monkeypatch, free)
    outcome = run_driver(cast(Any, _Execution(_Workload(behaviour))), SPEC, tmp_path)
    assert outcome.key == "a"


# -- the run's own end: one line, the cause named, resumable when the store could not record it -------------------


@pytest.fixture
def launcher(home: Path) -> Iterator[RunLauncher]:
    store = RunStore(home)
    yield RunLauncher(store, build_catalog(Settings(home=home)), None)
    store.engine.dispose()


def _execute_failing(launcher: RunLauncher, monkeypatch: pytest.MonkeyPatch, failure: Callable[[], None]) -> str:
    run_id = launcher.submit(launcher.catalog.load("cfd/cavity"), RunOptions())

    def run(*_args: object, **_kwargs: object) -> None:
        failure()

    monkeypatch.setattr(Orchestrator, "run", run)
    return run_id


def test_a_multi_line_internal_error_is_one_line_of_reason(
    launcher: RunLauncher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database error carries its SQL on further lines; the reason `agent run` prints spanned them."""

    def fail() -> None:
        raise RuntimeError("statement failed\n[SQL: SELECT run.id, run.task_id FROM run]")

    run_id = _execute_failing(launcher, monkeypatch, fail)
    summary = launcher.execute(run_id)
    assert summary.status == "failed"
    assert summary.reason == "internal error: RuntimeError: statement failed"


def test_a_full_disk_at_the_write_up_is_named_not_an_internal_error(
    launcher: RunLauncher, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail() -> None:
        raise OSError(errno.ENOSPC, "No space left on device", "report.html")

    run_id = _execute_failing(launcher, monkeypatch, fail)
    summary = launcher.execute(run_id)
    assert summary.status == "failed" and not summary.reason.startswith("internal error")
    assert "No space left on device (report.html)" in summary.reason and run_id in summary.reason


@pytest.mark.parametrize(
    "lost",
    [
        OperationalError(
            "SELECT 1", {}, Exception("server closed the connection unexpectedly"), connection_invalidated=True
        ),
        PendingRollbackError("Can't reconnect until invalid transaction is rolled back"),
    ],
    ids=["invalidated", "pending-rollback"],
)
def test_a_lost_database_connection_leaves_the_run_to_resume(
    launcher: RunLauncher, monkeypatch: pytest.MonkeyPatch, lost: Exception
) -> None:
    """Before, one dropped connection (a server restart, a proxy's idle kill) failed the run for good,
    its finished experiments and checkpoints unusable: `agent resume` answered 'already ended'."""

    def fail() -> None:
        raise lost

    run_id = _execute_failing(launcher, monkeypatch, fail)
    with pytest.raises(StoreUnavailableError) as caught:
        launcher.execute(run_id)
    message = str(caught.value)
    assert "connection to the run store's database was lost" in message and f"agent resume {run_id}" in message
    assert "\n" not in message
    assert launcher.store.get_run(run_id).status == "running"  # resumable: not failed


@pytest.mark.postgres
def test_a_connection_killed_under_a_store_read_or_update_is_retried(home: Path) -> None:
    """pg_terminate_backend on the connection running the statement: the store's reads and idempotent
    updates reconnect once instead of failing the run."""
    pytest.importorskip("psycopg")
    with database_url("postgresql") as url:
        assert url is not None
        store = RunStore(home, url)
        run = store.create_run(None, task_id="x")
        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        lock = "SELECT id FROM run WHERE id = %s FOR UPDATE"  # the update waits on it
        errors = _killed_while_waiting(dsn, lock, (run.id,), lambda: store.update_run(run.id, notes="after the kill"))
        assert errors == []
        assert store.get_run(run.id).notes == "after the kill"
        store.engine.dispose()


# -- a real run killed in its write-up, then resumed --------------------------------------------------------------

_DIE_IN_WRITE_UP = textwrap.dedent(
    """
    import os, signal, sys
    import agents._writer as writer

    def die(*_args, **_kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    writer.render_html = die  # report.md is on disk, report.html not yet, nothing recorded of either
    sys.argv = ["agent", *sys.argv[1:]]
    from api.cli._main import main
    main()
    """
)


@pytest.mark.slow
@pytest.mark.openfoam
@pytest.mark.usefixtures("openfoam", "bubblewrap")
def test_resume_after_a_kill_in_the_write_up_closes_what_the_dead_process_left_running(home: Path) -> None:
    """Before, the killed process's write-up step stayed `running` for ever beside the resumed one's."""
    killed = subprocess.run(
        [sys.executable, "-c", _DIE_IN_WRITE_UP, "run", "cfd/cavity", "--param", "re=100", "--param", "cells=8"],
        cwd=REPO,
        env={**os.environ, "LABGATE_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert killed.returncode == -9, killed.stderr
    store = RunStore(home)
    (run,) = store.list_runs()
    verdicts = len(store.verdicts(run.id))
    assert run.status == "running" and verdicts > 0

    resumed = agent("resume", run.id, "--json", home=home, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["status"] == "finished" and summary["report"]
    steps = [(step.name, step.status) for step in store.steps(run.id)]
    assert ("write-up", "interrupted") in steps and ("write-up", "done") in steps
    assert all(status != "running" for _, status in steps)
    assert len(store.verdicts(run.id)) == verdicts  # nothing judged twice
    assert (home / "runs" / run.id / "report.html").is_file()
    store.engine.dispose()


# -- a real run on a disk that fills up ------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 400 KiB tmpfs: room for a case's setup, not for its fields (root only; skipped elsewhere)."""
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(mount)], check=False)
    if made.returncode != 0:
        pytest.skip("this machine cannot mount a tmpfs")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.openfoam
@pytest.mark.usefixtures("openfoam", "bubblewrap")
def test_a_run_whose_disk_fills_up_fails_naming_it_and_judges_nothing(home: Path, small_disk: Path) -> None:
    """Before, the solver crashed when it could not write (code 139), the gates judged that as numerical
    trouble (`rerun`, time step halved), the rerun's ENOSPC was rejected as the science's, and the run
    ended in `internal error: OSError`: verdicts on results nobody computed."""
    (home / "runs").symlink_to(small_disk)  # the store's database stays on a disk with room
    result = agent("run", "cfd/cavity", "--param", "re=100", "--param", "cells=16", "--json", home=home, timeout=300)
    assert result.returncode == 1, result.stderr
    summary = json.loads(result.stdout)
    assert summary["status"] == "failed"
    assert "No space left on device" in summary["reason"] or "bytes free" in summary["reason"]
    assert summary["verdicts"] == [] and summary["accepted"] == []
    store = RunStore(home)
    assert [e.status for e in store.experiments(summary["run_id"])] == ["failed"]
    store.engine.dispose()


def test_a_connection_killed_under_an_insert_fails_with_the_lost_connection_named(home: Path) -> None:
    """Inserts are not retried (a lost commit reply could record twice): the error must be the lost
    connection itself, a DBAPI error the REST API answers 503 for. The revision counter's rollback hook read
    the dead connection's state and replaced it with PendingRollbackError, which nothing handles."""
    pytest.importorskip("psycopg")
    with database_url("postgresql") as url:
        assert url is not None
        store = RunStore(home, url)
        run = store.create_run(None, task_id="x")
        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        lock = "LOCK TABLE event IN ACCESS EXCLUSIVE MODE"  # the insert waits on it
        errors = _killed_while_waiting(dsn, lock, (), lambda: store.emit(run.id, "note", "written while it dies"))
        assert len(errors) == 1 and isinstance(errors[0], DBAPIError), errors
        assert not isinstance(errors[0], PendingRollbackError) and store.lost_connection(errors[0])
        store.emit(run.id, "note", "the next write works")  # the pool hands out a new connection
        store.engine.dispose()


def _killed_while_waiting(
    dsn: str, lock: str, params: tuple[Any, ...], statement: Callable[[], object]
) -> list[BaseException]:
    """Run `statement` (a store call) in a thread while another connection holds `lock`, terminate the
    backend that waits on it, and return what the call raised."""
    import threading

    psycopg = pytest.importorskip("psycopg")
    holder = psycopg.connect(dsn)
    holder.execute(lock, params)
    errors: list[BaseException] = []

    def call() -> None:
        try:
            statement()
        except BaseException as error:  # noqa: BLE001 - returned to the test
            errors.append(error)

    thread = threading.Thread(target=call)
    thread.start()
    with psycopg.connect(dsn, autocommit=True) as admin:
        waiting: list[Any] = []
        while not waiting and thread.is_alive():
            waiting = admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            ).fetchall()
        assert waiting, "the statement never waited on the lock"
        admin.execute("SELECT pg_terminate_backend(%s)", (waiting[0][0],))
    holder.rollback()
    holder.close()
    thread.join(60)
    return errors
