"""Red team of the REST API, the dashboard and the CLI (session s38): how a run's status and a damaged record
reach whoever reads them.

- F1: a run whose process is gone read `stopped` in the table and on the dashboard, but `running` in every
  JSON answer (`agent runs --json`, `agent show --json`, GET /runs, GET /runs/{id}), and its event stream
  never ended: a client waiting for the run to end waited for ever.
- F3: a row another program changed into a shape labgate never writes (valid JSON of the wrong shape, text
  in a number column, an unknown status) gave a 500 or a traceback instead of naming the damaged record.
- F6: a recorded pid that a reboot gave to another process made the run read `running` for good, and its
  resume was refused.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from agents import executed_elsewhere, stopped
from agents._liveness import host_booted_at
from api._app import create_app
from api._settings import Settings
from runs import ExperimentSpec, GateResult, RunStore, TaskSpec
from tests.api_server import served_client
from tests.conftest import agent
from tests.test_run_liveness import _running

GONE = f"{socket.gethostname()}:{2**22 + 991}"
"""A worker of this host whose process does not exist (above any pid the kernel hands out)."""


def _alive() -> str:
    """A worker of this host whose process lives and started before any heartbeat a test records: this one."""
    return f"{socket.gethostname()}:{os.getpid()}"


@pytest.fixture
def server(home: Path) -> Iterator[httpx.Client]:
    settings = Settings(home=home, run_workers=0, max_workers=2)
    with served_client(settings, timeout=10) as client:
        yield client


# -- F1: `stopped` for every reader, and the event stream ends ---------------------------------------------


def test_a_run_whose_process_is_gone_reads_stopped_in_every_api_answer(server: httpx.Client, store: RunStore) -> None:
    gone = _running(store, GONE, heard_seconds_ago=0)
    alive = _running(store, _alive(), heard_seconds_ago=0)
    listed = server.get("/runs").json()
    assert {row["run_id"]: row["status"] for row in listed["items"]} == {gone: "stopped", alive: "running"}
    assert server.get(f"/runs/{gone}").json()["status"] == "stopped"
    assert server.get(f"/runs/{alive}").json()["status"] == "running"
    # The filter reads the status each run is reported with: a page and its total agree.
    for status, expected in (("stopped", gone), ("running", alive)):
        page = server.get("/runs", params={"status": status}).json()
        assert [row["run_id"] for row in page["items"]] == [expected] and page["total"] == 1, page
    assert store.get_run(gone).status == "running"  # stored as it was: `agent resume` takes a running run


def test_the_event_stream_of_a_run_whose_process_is_gone_ends(server: httpx.Client, store: RunStore) -> None:
    """The stream stayed open (keep-alives every 15 s, the read timeout here is 10 s) for a run nothing executes."""
    gone = _running(store, GONE, heard_seconds_ago=0)
    with server.stream("GET", f"/runs/{gone}/events") as answer:
        lines = list(answer.iter_lines())
    ends = [json.loads(data.removeprefix("data: ")) for kind, data in itertools.pairwise(lines) if kind == "event: end"]
    assert [end["status"] for end in ends] == ["stopped"], lines


def test_the_dashboard_filters_on_the_status_each_run_is_shown_with(server: httpx.Client, store: RunStore) -> None:
    """`/?status=stopped` was refused (422) and `/?status=running` listed stopped runs among the running."""
    gone = _running(store, GONE, heard_seconds_ago=0)
    alive = _running(store, _alive(), heard_seconds_ago=0)
    for status, shown, hidden in (("stopped", gone, alive), ("running", alive, gone)):
        page = server.get("/", params={"status": status})
        assert page.status_code == 200 and shown in page.text and hidden not in page.text, page.text[:300]


def test_the_run_page_of_a_stopped_run_still_offers_resume(server: httpx.Client, store: RunStore) -> None:
    gone = _running(store, GONE, heard_seconds_ago=0)
    page = server.get(f"/ui/runs/{gone}").text
    assert 'data-status="stopped"' in page and 'data-action="resume"' in page


def test_the_cli_json_says_stopped_and_filters_on_it(home: Path, store: RunStore) -> None:
    gone = _running(store, GONE, heard_seconds_ago=0)
    alive = _running(store, _alive(), heard_seconds_ago=0)
    listed = agent("runs", "--json", home=home, timeout=60)
    assert {row["run_id"]: row["status"] for row in json.loads(listed.stdout)} == {gone: "stopped", alive: "running"}
    only = agent("runs", "--json", "--status", "stopped", home=home, timeout=60)
    assert [row["run_id"] for row in json.loads(only.stdout)] == [gone], only.stderr
    shown = agent("show", gone, "--json", home=home, timeout=60)
    assert json.loads(shown.stdout)["status"] == "stopped", shown.stderr


# -- F3: a damaged row is named, never a 500 or a traceback ----------------------------------------------------


def _seeded(store: RunStore) -> tuple[str, int]:
    """A run with one of each record a page reads: an experiment, a verdict, an artifact, a plan event."""
    run = store.create_run(TaskSpec(id="cfd/damaged", workload="cfd", params={"case": "cavity"}))
    experiment = store.add_experiment(run.id, ExperimentSpec(key="re=100", task_id="cfd/damaged", params={"re": 100}))
    assert experiment.id is not None
    store.update_experiment(experiment.id, metrics={"drag": 1.5})
    store.add_verdict(run.id, experiment.id, GateResult(gate="solver-log", decision="accept", reasons=["ran"]))
    artifact = store.add_artifact_bytes(run.id, b"t,v\n0,1\n", kind="table", name="r.csv", experiment_id=experiment.id)
    store.emit(run.id, "plan", "planned", {"planned": [{"key": "re=100", "params": {"re": 100}}]})
    store.emit(run.id, "llm", "planner: 1 call", {"purpose": "planner", "prompt_tokens": 10, "seconds": 0.5})
    assert artifact.id is not None
    return run.id, artifact.id


LISTS = ["/runs", "/runs?sort=cost", "/"]
RUN = ["/runs/{run}", "/ui/runs/{run}"]
PAGES = [*LISTS, *RUN, "/runs/{run}/artifacts", "/ui/artifacts/{art}"]

DAMAGES = [
    ("update run set status = 'succeeded'", "status", [*LISTS, *RUN]),
    ("update run set llm_cost = 'abc'", "llm_cost", [*LISTS, *RUN]),
    ("update run set llm_tokens = 'x'", "llm_tokens", [*LISTS, *RUN]),
    ("update run set options = '[]'", "options", [*LISTS, *RUN]),
    ("update run set options = '\"s\"'", "options", RUN),
    ("update experiment set params = '[1,2]'", "params", [*LISTS, *RUN]),
    ("update experiment set metrics = '[1]'", "metrics", [*LISTS, *RUN]),
    ("update artifact set size = 'big'", "size", [*RUN, "/runs/{run}/artifacts", "/ui/artifacts/{art}"]),
    ("update verdict set reasons = '{}'", "reasons", RUN),
    ("update event set data = '[1]'", "data", ["/ui/runs/{run}"]),
    ("update event set data = '[1]' where kind = 'llm'", "data", ["/ui/runs/{run}"]),  # the model calls' table
]


def _damage(home: Path, sql: str) -> None:
    with sqlite3.connect(home / "labgate.db") as database:
        database.execute(sql)


@pytest.mark.parametrize(("sql", "field", "named_on"), DAMAGES, ids=[sql.split(" = ")[0][7:] for sql, *_ in DAMAGES])
def test_a_row_of_a_shape_labgate_never_writes_is_named_not_a_500(
    home: Path, store: RunStore, sql: str, field: str, named_on: list[str]
) -> None:
    run_id, artifact_id = _seeded(store)
    _damage(home, sql)
    app = create_app(Settings(home=home, run_workers=0, max_workers=2), start_workers=False)
    with TestClient(app, raise_server_exceptions=False, base_url="http://localhost") as client:
        for template in PAGES:
            path = template.format(run=run_id, art=artifact_id)
            answer = client.get(path)
            assert answer.status_code < 500 or answer.status_code == 503, f"{path}: {answer.status_code} {answer.text}"
            if template in named_on:
                body = answer.json()
                assert answer.status_code == 503 and body["message"] == body["detail"], f"{path}: {answer.text}"
                assert "damaged" in body["detail"] and field in body["detail"], f"{path}: {answer.text}"


@pytest.mark.parametrize(
    ("sql", "args"),
    [
        ("update experiment set metrics = '[1]'", ["show", "{run}"]),  # a traceback, exit 1
        ("update run set status = 'succeeded'", ["runs", "--json"]),  # printed as if it were a status
    ],
)
def test_the_cli_names_a_damaged_row_in_one_line(home: Path, store: RunStore, sql: str, args: list[str]) -> None:
    run_id, _ = _seeded(store)
    _damage(home, sql)
    result = agent(*(arg.format(run=run_id) for arg in args), home=home, timeout=60)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "damaged" in lines[0] and run_id in lines[0], lines


# -- F6: a pid that outlived a reboot ------------------------------------------------------------------------


def test_a_pid_recorded_before_this_host_booted_names_no_executor(server: httpx.Client, store: RunStore) -> None:
    """After a power loss the recorded pid may belong to any live process: the run read `running` for good."""
    booted = host_booted_at()
    if booted is None:
        pytest.skip("this system does not say when it booted (/proc/stat)")
    before_boot = (datetime.now(UTC) - booted).total_seconds() + 60
    reused = _running(store, _alive(), heard_seconds_ago=before_boot)  # a live process, but not the one recorded
    executing = _running(store, _alive(), heard_seconds_ago=0)  # the same live process, heard from since the boot
    assert executed_elsewhere(store.get_run(reused)) is None and stopped(store.get_run(reused))
    assert executed_elsewhere(store.get_run(executing)) is not None and not stopped(store.get_run(executing))
    assert server.get(f"/runs/{reused}").json()["status"] == "stopped"
    resumed = server.post(f"/runs/{reused}/resume")
    assert resumed.status_code == 200 and resumed.json()["status"] == "queued", resumed.text
    assert server.post(f"/runs/{executing}/resume").status_code == 409


def test_a_server_starting_after_a_reboot_requeues_a_run_whose_pid_another_process_holds(store: RunStore) -> None:
    from api.rest._worker import WorkerPool

    booted = host_booted_at()
    if booted is None:
        pytest.skip("this system does not say when it booted (/proc/stat)")
    reused = _running(store, _alive(), heard_seconds_ago=(datetime.now(UTC) - booted).total_seconds() + 60)
    executing = _running(store, _alive(), heard_seconds_ago=0)
    assert WorkerPool(store, concurrency=0).recover() == [reused]
    assert store.get_run(reused).status == "queued" and store.get_run(executing).status == "running"
