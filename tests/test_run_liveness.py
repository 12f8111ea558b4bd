"""Resuming a run is safe when several processes and hosts share one store: a run another host is
executing (its heartbeat is recent) is not resumed, one whose host went silent is, and of two resumes
racing only one takes the run. Runs on SQLite and, where CI provides one, PostgreSQL.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agents import RunLauncher, RunStateError, executed_elsewhere
from agents._liveness import STALE_SECONDS, heartbeat, heartbeat_age, this_worker
from api._settings import Settings, build_catalog
from runs import RunStore, TaskSpec
from tests.api_server import served_client
from tests.conftest import agent
from tests.databases import BACKENDS, store_on

OTHER_HOST = "another-host.example:4242"


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, home: Path) -> Iterator[RunStore]:
    with store_on(request.param, home) as store:
        yield store


def _running(store: RunStore, worker: str, *, heard_seconds_ago: float) -> str:
    run = store.create_run(TaskSpec(id="cfd/cavity", workload="cfd", params={"case": "cavity"}))
    store.set_status(run.id, "running")
    store.update_run(run.id, worker=worker)
    with store.session() as session:  # the last heartbeat, as the executing process left it
        row = session.get(type(run), run.id)
        assert row is not None
        row.updated_at = datetime.now(UTC) - timedelta(seconds=heard_seconds_ago)
        session.add(row)
        session.commit()
    return run.id


def test_another_hosts_run_is_executed_there_until_its_heartbeat_goes_stale(store: RunStore) -> None:
    fresh = _running(store, OTHER_HOST, heard_seconds_ago=5)
    stale = _running(store, OTHER_HOST, heard_seconds_ago=STALE_SECONDS + 60)
    assert "another host" in (executed_elsewhere(store.get_run(fresh)) or "")
    assert executed_elsewhere(store.get_run(stale)) is None


def test_on_this_host_the_process_decides_not_the_heartbeat(store: RunStore) -> None:
    alive = _running(store, f"{socket.gethostname()}:{os.getppid()}", heard_seconds_ago=STALE_SECONDS * 10)
    gone = _running(store, f"{socket.gethostname()}:{2**22 + 991}", heard_seconds_ago=0)
    assert "still being executed by process" in (executed_elsewhere(store.get_run(alive)) or "")
    assert executed_elsewhere(store.get_run(gone)) is None
    mine = _running(store, this_worker(), heard_seconds_ago=0)  # a dead worker's pid, now the resuming process's
    assert executed_elsewhere(store.get_run(mine), me=this_worker()) is None
    assert executed_elsewhere(store.get_run(mine)) is not None  # asked by a server: a live process is executing


def _launcher(store: RunStore, home: Path) -> RunLauncher:
    return RunLauncher(store, build_catalog(Settings(home=home)))


def test_resume_refuses_a_run_another_host_is_executing(store: RunStore, home: Path) -> None:
    run_id = _running(store, OTHER_HOST, heard_seconds_ago=5)
    with pytest.raises(RunStateError, match="on another host"):
        _launcher(store, home).resume(run_id)
    assert store.get_run(run_id).worker == OTHER_HOST  # untouched


def test_agent_resume_of_a_run_another_host_is_executing_exits_2_naming_it(store: RunStore, home: Path) -> None:
    run_id = _running(store, OTHER_HOST, heard_seconds_ago=5)
    result = agent("resume", run_id, home=home, env={"LABGATE_DATABASE_URL": store.database_url})
    assert result.returncode == 2 and "on another host" in result.stderr, result.stderr
    assert store.get_run(run_id).worker == OTHER_HOST


def test_resume_takes_over_a_silent_hosts_run(store: RunStore, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_id = _running(store, OTHER_HOST, heard_seconds_ago=STALE_SECONDS + 60)
    launcher = _launcher(store, home)
    executed: list[str] = []
    monkeypatch.setattr(launcher, "execute", lambda run, reporter=None, *, resume=False: executed.append(run))
    launcher.resume(run_id)
    assert executed == [run_id] and store.get_run(run_id).worker == this_worker()


def test_of_two_resumes_racing_only_one_takes_the_run(
    store: RunStore, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = _running(store, OTHER_HOST, heard_seconds_ago=STALE_SECONDS + 60)
    launcher = _launcher(store, home)
    real = store.update_run_if

    def another_resume_first(*args: Any, **kwargs: Any) -> bool:
        real(run_id, status_in=["running"], expect_worker=OTHER_HOST, worker="third-host.example:7")
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "update_run_if", another_resume_first)
    monkeypatch.setattr(launcher, "execute", lambda *args, **kwargs: pytest.fail("executed a run it did not take"))
    with pytest.raises(RunStateError, match="taken over by another process"):
        launcher.resume(run_id)
    assert store.get_run(run_id).worker == "third-host.example:7"


def test_the_executing_process_keeps_its_heartbeat_and_only_its_own(store: RunStore) -> None:
    ours = _running(store, this_worker(), heard_seconds_ago=STALE_SECONDS * 2)
    taken = _running(store, "third-host.example:7", heard_seconds_ago=STALE_SECONDS * 2)
    with heartbeat(store, ours, this_worker(), every=0.05), heartbeat(store, taken, this_worker(), every=0.05):
        time.sleep(0.5)
    assert executed_elsewhere(store.get_run(ours), me=this_worker()) is None
    assert heartbeat_age(store.get_run(ours)) < 5
    assert heartbeat_age(store.get_run(taken)) > STALE_SECONDS  # not ours: left as it was


def test_the_rest_api_refuses_to_resume_a_run_another_host_is_executing(home: Path) -> None:
    settings = Settings(home=home, run_workers=0, max_workers=1)
    store = RunStore(home)
    fresh = _running(store, OTHER_HOST, heard_seconds_ago=5)
    stale = _running(store, OTHER_HOST, heard_seconds_ago=STALE_SECONDS + 60)
    with served_client(settings) as client:
        refused = client.post(f"/runs/{fresh}/resume")
        assert refused.status_code == 409 and "another host" in refused.text
        assert client.post(f"/runs/{stale}/resume").status_code == 200
    assert store.get_run(fresh).status == "running" and store.get_run(stale).status == "queued"
    store.engine.dispose()
