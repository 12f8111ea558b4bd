"""Real runs through the worker pool: the queue limit, cancel, a killed worker, and a server restart.

Each run is a small lid-driven cavity (16x16 cells, 3 convective times) on the real OpenFOAM in the
bubblewrap sandbox, executed by child processes of the server under test.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agents._liveness import process_alive_here
from api._settings import Settings
from tests.api_server import serve_in_thread
from tests.databases import BACKENDS, database_url

pytestmark = [pytest.mark.slow, pytest.mark.openfoam, pytest.mark.usefixtures("openfoam", "bubblewrap")]

SMALL = {"task": "cfd/cavity", "params": {"re": 100, "cells": 16, "convective_times": 3}, "budget": 1, "workers": 1}
LONGER = {"task": "cfd/cavity", "params": {"re": 100, "cells": 48, "convective_times": 40}, "budget": 1, "workers": 1}
UNENDING = {
    "task": "cfd/cavity",
    "params": {"re": 100, "cells": 64, "convective_times": 400},
    "budget": 1,
    "workers": 1,
}
"""Minutes of solver time: still running whenever the test stops it."""


def _wait(predicate: Any, timeout: float, what: str, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def _status(client: httpx.Client, run_id: str) -> str:
    return str(client.get(f"/runs/{run_id}").json()["status"])


def _experiment_started(client: httpx.Client, run_id: str) -> bool:
    events = client.get(f"/runs/{run_id}/events", params={"follow": False}).text
    return '"kind": "experiment"' in events


@pytest.fixture
def sqlite_settings(home: Path) -> Settings:
    return Settings(home=home, run_workers=1)


def test_submissions_beyond_the_limit_wait_and_none_is_dropped(sqlite_settings: Settings) -> None:
    with serve_in_thread(sqlite_settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        ids = [client.post("/runs", json=SMALL).json()["run_id"] for _ in range(2)]
        most_running = 0
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            statuses = [_status(client, run_id) for run_id in ids]
            most_running = max(most_running, statuses.count("running"))
            assert client.get("/healthz").status_code == 200  # the API answers while runs execute
            if all(status in ("finished", "failed") for status in statuses):
                break
            time.sleep(0.2)
        details = [client.get(f"/runs/{run_id}").json() for run_id in ids]
    assert [d["status"] for d in details] == ["finished", "finished"], [d["reason"] for d in details]
    assert most_running == 1
    first, second = sorted(details, key=lambda d: d["started"])
    assert second["started"] >= first["finished"]  # the second waited for the slot
    for detail in details:
        assert detail["experiments"][0]["verdicts"], "the gates judged the experiment"
        assert detail["report_sha256"]


def test_cancel_stops_a_running_run_and_the_server_stays_up(sqlite_settings: Settings) -> None:
    with serve_in_thread(sqlite_settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        run_id = client.post("/runs", json=UNENDING).json()["run_id"]
        _wait(lambda: _experiment_started(client, run_id), 120, "the experiment to start")
        worker = _worker_of(sqlite_settings, run_id)
        assert client.post(f"/runs/{run_id}/cancel").status_code == 200
        _wait(lambda: process_alive_here(worker) is False, 30, "the run's process to end")
        assert _status(client, run_id) == "cancelled"
        health = client.get("/healthz").json()
        assert health["status"] == "ok" and health["executing"] == 0
        time.sleep(1.0)
        assert _status(client, run_id) == "cancelled"  # nothing overwrote it
        assert _still_running(client.get(f"/runs/{run_id}").json()) == []  # the interrupted work is closed out


def _still_running(detail: dict[str, Any]) -> list[str]:
    """The steps and experiments of a run's record that still say `running`."""
    rows = [f"step {s['name']}" for s in detail["steps"] if s["status"] == "running"]
    return rows + [f"experiment {e['key']}" for e in detail["experiments"] if e["status"] == "running"]


def _worker_of(settings: Settings, run_id: str) -> str:
    """The `host:pid` of the child process executing the run (it records itself when it starts)."""
    from runs import RunStore

    store = RunStore(settings.home, settings.database_url)

    def child() -> str | None:
        run = store.get_run(run_id)
        mine = run.worker.endswith(f":{os.getpid()}")  # the server's claim, before the child takes over
        return run.worker if run.status == "running" and run.worker and not mine else None

    try:
        return str(_wait(child, 60, "the worker to record itself"))
    finally:
        store.engine.dispose()


def test_a_killed_worker_fails_its_run_not_the_server(sqlite_settings: Settings) -> None:
    with serve_in_thread(sqlite_settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        run_id = client.post("/runs", json=UNENDING).json()["run_id"]
        _wait(lambda: _experiment_started(client, run_id), 120, "the experiment to start")
        worker = _worker_of(sqlite_settings, run_id)
        os.kill(int(worker.rsplit(":", 1)[1]), signal.SIGKILL)
        _wait(lambda: _status(client, run_id) == "failed", 30, "the run to be recorded as failed")
        detail = client.get(f"/runs/{run_id}").json()
        assert "killed by signal 9" in detail["reason"]
        assert _still_running(detail) == [] and detail["experiments"][0]["status"] == "failed"
        assert client.get("/healthz").json()["status"] == "ok"
        follow_up = client.post("/runs", json=SMALL).json()["run_id"]
        _wait(lambda: _status(client, follow_up) in ("finished", "failed"), 180, "the next run")
        assert _status(client, follow_up) == "finished"


@pytest.fixture(params=BACKENDS)
def restart_settings(request: pytest.FixtureRequest, home: Path) -> Iterator[Settings]:
    with database_url(request.param) as url:
        yield Settings(home=home, database_url=url, run_workers=1)


def test_a_restarted_server_resumes_interrupted_and_queued_runs(restart_settings: Settings) -> None:
    with serve_in_thread(restart_settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        interrupted = client.post("/runs", json=LONGER).json()["run_id"]
        waiting = client.post("/runs", json=SMALL).json()["run_id"]
        _wait(lambda: _experiment_started(client, interrupted), 120, "the first run's experiment to start")
        assert _status(client, waiting) == "queued"
    # The server went down mid-run: its worker ended with it, the queue is in the database.
    with serve_in_thread(restart_settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        for run_id in (interrupted, waiting):
            _wait(lambda run_id=run_id: _status(client, run_id) in ("finished", "failed"), 400, f"run {run_id}")
        first = client.get(f"/runs/{interrupted}").json()
        second = client.get(f"/runs/{waiting}").json()
        events = client.get(f"/runs/{interrupted}/events", params={"follow": False}).text
    assert first["status"] == "finished" and second["status"] == "finished", (first["reason"], second["reason"])
    assert "resumes from its checkpoint" in events and "restarting after an interruption" in events
    assert [step["name"] for step in first["steps"]].count("plan") == 1  # resumed, not started over
    assert "interrupted" in [step["status"] for step in first["steps"]] and _still_running(first) == []


def test_a_plan_waits_for_approval_then_executes(sqlite_settings: Settings) -> None:
    with serve_in_thread(sqlite_settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        run_id = client.post("/runs", json={**SMALL, "approve_plan": True}).json()["run_id"]
        _wait(lambda: _status(client, run_id) == "paused", 120, "the plan to wait for approval")
        paused = client.get(f"/runs/{run_id}").json()
        assert [step["name"] for step in paused["steps"]] == ["plan"] and paused["experiments"] == []
        assert paused["started"] is not None
        assert client.post(f"/runs/{run_id}/approve").json()["status"] == "queued"
        _wait(lambda: _status(client, run_id) in ("finished", "failed"), 180, "the approved run to end")
        done = client.get(f"/runs/{run_id}").json()
    assert done["status"] == "finished" and len(done["experiments"]) == 1, done["reason"]
    assert [step["name"] for step in done["steps"]].count("plan") == 1
    assert done["started"] == paused["started"]  # approving continues the run; it does not restart it
