"""The REST API over real HTTP (uvicorn on loopback): status codes, validation, auth, pagination,
SSE resumption, artifacts with ranges, and traversal attempts. No solver runs here (workers off);
tests/test_api_runs.py executes real runs through the worker pool.

Every test runs on SQLite and, where LABGATE_TEST_POSTGRES_URL is set (CI), on PostgreSQL.
"""

from __future__ import annotations

import io
import json
import os
import re
import socket
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from api._settings import Settings
from api.rest import _routes_runs as routes_runs
from api.rest._security import is_loopback
from runs import ExperimentSpec, GateResult, RunStore, TaskSpec
from tests.api_server import served_client
from tests.conftest import agent, checkpointed
from tests.databases import BACKENDS, database_url

TOKEN = "s3cret-token-for-tests"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, home: Path) -> Iterator[Settings]:
    with database_url(request.param) as url:
        yield Settings(home=home, database_url=url, run_workers=0)


@pytest.fixture
def server(settings: Settings) -> Iterator[httpx.Client]:
    with served_client(settings) as client:
        yield client


@pytest.fixture
def guarded(settings: Settings) -> Iterator[httpx.Client]:
    secured = settings.model_copy(update={"api_token": SecretStr(TOKEN)})
    with served_client(secured) as client:
        yield client


def _store(settings: Settings) -> RunStore:
    return RunStore(settings.home, settings.database_url)


def _small_run() -> dict[str, object]:
    return {"task": "cfd/cavity", "params": {"re": 100, "cells": 16, "convective_times": 3}, "budget": 1}


def test_health_tasks_and_openapi(server: httpx.Client) -> None:
    health = server.get("/healthz")
    assert health.status_code == 200 and health.json()["database"] == "ok"
    tasks = {task["id"]: task for task in server.get("/tasks").json()}
    assert tasks["cfd/cavity"]["gates"] == ["solver-log", "deliverables", "comparator"]
    spec = server.get("/openapi.json").json()
    assert {"/runs", "/runs/{run_id}", "/runs/{run_id}/events", "/artifacts/{sha256}", "/healthz"} <= set(spec["paths"])
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


def test_submit_queues_a_run_and_lists_it(server: httpx.Client) -> None:
    response = server.post("/runs", json=_small_run())
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued" and response.headers["location"] == f"/runs/{body['run_id']}"
    detail = server.get(f"/runs/{body['run_id']}").json()
    assert detail["status"] == "queued" and detail["spec"]["params"]["cells"] == 16
    assert detail["spec"]["budget"]["experiments"] == 1 and "report" not in detail
    listed = server.get("/runs").json()
    assert [item["run_id"] for item in listed["items"]] == [body["run_id"]] and listed["total"] == 1


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, "give exactly one of 'task'"),
        ({"task": "cfd/cavity", "spec": {"id": "cfd/x", "workload": "cfd"}}, "give exactly one"),
        ({"task": "cfd/nope"}, "unknown task 'cfd/nope'"),
        ({"task": "cfd/cavity", "params": {"re": -1}}, "re: Input should be greater than 0"),
        ({"task": "cfd/cavity", "params": {"viscosity": 1}}, "viscosity"),
        ({"task": "cfd/cavity", "colour": "red"}, "body.colour: unknown field"),
        ({"task": "cfd/cavity", "budget": 0}, "body.budget: Input should be greater than or equal to 1"),
        ({"task": "cfd/cavity", "params": {"re": []}}, "a sweep needs 1 to 100 values"),
        ({"spec": {"id": "not a task id", "workload": "cfd"}}, "must look like 'workload/name'"),
        ({"spec": {"extends": "cfd/cavity", "seed": 2**40}}, "spec.seed"),
        ({"task": "cfd/cavity\u0000"}, "NUL characters are not allowed"),
    ],
)
def test_invalid_submissions_get_a_422_naming_the_problem(
    server: httpx.Client, body: dict[str, object], expected: str
) -> None:
    response = server.post("/runs", json=body)
    assert response.status_code == 422, response.text
    payload = response.json()
    assert expected in payload["message"], payload
    assert isinstance(payload["detail"], list) and payload["detail"][0]["loc"]
    assert server.get("/runs").json()["total"] == 0  # nothing was queued


def test_malformed_bodies_and_size_limit(server: httpx.Client, settings: Settings) -> None:
    not_json = server.post("/runs", content=b"{not json", headers={"content-type": "application/json"})
    assert not_json.status_code == 422 and "JSON" in not_json.json()["message"]
    as_text = server.post("/runs", content=b'{"task": "cfd/cavity"}', headers={"content-type": "text/plain"})
    assert as_text.status_code == 422
    huge = {"task": "cfd/cavity", "spec": None, "params": {"x": "a" * 400}, "pad": "b" * settings.max_body_bytes}
    too_big = server.post("/runs", json=huge)
    assert too_big.status_code == 413 and "limit" in too_big.json()["detail"]

    def chunks() -> Iterator[bytes]:
        for _ in range(settings.max_body_bytes // 4096 + 2):
            yield b" " * 4096

    chunked = server.post("/runs", content=chunks(), headers={"content-type": "application/json"})
    assert chunked.status_code == 413


def test_bearer_token_guards_every_mutating_call(guarded: httpx.Client) -> None:
    assert guarded.get("/runs").status_code == 200  # reading needs no token
    missing = guarded.post("/runs", json=_small_run())
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    wrong = guarded.post("/runs", json=_small_run(), headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    auth = {"Authorization": f"Bearer {TOKEN}"}
    accepted = guarded.post("/runs", json=_small_run(), headers=auth)
    assert accepted.status_code == 202
    run_id = accepted.json()["run_id"]
    for action in ("cancel", "resume", "approve"):
        assert guarded.post(f"/runs/{run_id}/{action}").status_code == 401
    assert guarded.post(f"/runs/{run_id}/cancel", headers=auth).status_code == 200
    assert guarded.get(f"/runs/{run_id}").json()["status"] == "cancelled"


def test_cross_site_posts_are_refused(server: httpx.Client) -> None:
    response = server.post("/runs", json=_small_run(), headers={"Origin": "http://evil.example"})
    assert response.status_code == 403
    same = server.post("/runs", json=_small_run(), headers={"Origin": str(server.base_url).rstrip("/")})
    assert same.status_code == 202


def test_pagination_filters_and_sorting(server: httpx.Client, settings: Settings) -> None:
    store = _store(settings)
    task = TaskSpec(id="cfd/paging", workload="cfd", params={"case": "cavity"})
    ids = [store.create_run(task).id for _ in range(7)]
    store.set_status(ids[0], "failed", "boom")
    store.update_run(ids[3], accepted=5)
    seen, url = [], "/runs?limit=3"
    while url:
        page = server.get(url).json()
        assert page["total"] == 7 and len(page["items"]) <= 3
        seen += [item["run_id"] for item in page["items"]]
        url = page["next"]
    assert seen == list(reversed(ids))
    failed = server.get("/runs", params={"status": "failed"}).json()
    assert [item["run_id"] for item in failed["items"]] == [ids[0]] and failed["items"][0]["reason"] == "boom"
    assert server.get("/runs", params={"task": "cfd/other"}).json()["total"] == 0
    assert server.get("/runs", params={"workload": "cfd"}).json()["total"] == 7
    assert server.get("/runs", params={"sort": "-accepted", "limit": 1}).json()["items"][0]["run_id"] == ids[3]
    assert server.get("/runs", params={"since": "2999-01-01T00:00:00"}).json()["total"] == 0
    assert server.get("/runs", params={"until": "2999-01-01"}).json()["total"] == 7
    for bad in ({"status": "sleeping"}, {"sort": "colour"}, {"limit": 0}, {"offset": -1}, {"since": "yesterday"}):
        response = server.get("/runs", params=bad)
        assert response.status_code == 422, bad
        assert next(iter(bad)) in response.json()["message"]
    store.engine.dispose()


def test_unknown_and_malformed_run_ids(server: httpx.Client) -> None:
    missing = server.get("/runs/20200101-000000-abcdef")
    assert missing.status_code == 404 and "no run with id" in missing.json()["detail"]
    for path in ("/runs/a%20b", "/runs/" + "x" * 60):
        assert server.get(path).status_code == 422
    assert server.post("/runs/20200101-000000-abcdef/cancel").status_code == 404
    assert server.get("/runs/20200101-000000-abcdef/events").status_code == 404


def _run_with_artifacts(store: RunStore, tmp: Path) -> tuple[str, dict[str, str]]:
    run = store.create_run(TaskSpec(id="cfd/artifacts", workload="cfd", params={"case": "cavity"}))
    experiment = store.add_experiment(run.id, ExperimentSpec(key="re=100", task_id="cfd/artifacts"))
    image = store.add_artifact_bytes(
        run.id, PNG, kind="image", name="re=100/figures/u.png", experiment_id=experiment.id
    )
    log = store.add_artifact_bytes(
        run.id, b"Time = 0.1\nCourant Number mean: 0.1 max: 0.5\nEnd\n", kind="log", name="re=100/log.icoFoam"
    )
    (tmp / "report.md").write_text("# Report\n\n![u](figures/" + image.sha256[:12] + "-u.png)\n")
    report = store.add_artifact(run.id, tmp / "report.md", kind="report", name="report.md", produced_by="writer")
    store.update_run(run.id, report_sha256=report.sha256)
    store.add_verdict(
        run.id, experiment.id, GateResult(gate="deliverables", decision="accept", evidence=[image.sha256])
    )
    return run.id, {"image": image.sha256, "log": log.sha256, "report": report.sha256}


def test_artifacts_types_ranges_and_traversal(server: httpx.Client, settings: Settings, tmp_path: Path) -> None:
    store = _store(settings)
    run_id, shas = _run_with_artifacts(store, tmp_path)
    listed = server.get(f"/runs/{run_id}/artifacts").json()
    assert {item["kind"] for item in listed} == {"image", "log", "report"}
    (image_row,) = server.get(f"/runs/{run_id}/artifacts", params={"kind": "image"}).json()
    assert image_row["url"] == f"/artifacts/{shas['image']}?artifact={image_row['id']}"

    image = server.get(f"/artifacts/{shas['image']}")
    assert image.status_code == 200 and image.headers["content-type"] == "image/png" and image.content == PNG
    assert (
        image.headers["x-content-type-options"] == "nosniff" and "sandbox" in image.headers["content-security-policy"]
    )
    log = server.get(f"/artifacts/{shas['log']}")
    assert log.headers["content-type"] == "text/plain; charset=utf-8" and log.text.startswith("Time = 0.1")
    assert server.get(f"/artifacts/{shas['report']}").headers["content-type"].startswith("text/markdown")
    download = server.get(f"/artifacts/{shas['log']}", params={"download": True})
    assert download.headers["content-disposition"].startswith("attachment")

    part = server.get(f"/artifacts/{shas['image']}", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == PNG[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(PNG)}"
    tail = server.get(f"/artifacts/{shas['image']}", headers={"Range": "bytes=-16"})
    assert tail.status_code == 206 and tail.content == PNG[-16:]
    beyond = server.get(f"/artifacts/{shas['image']}", headers={"Range": f"bytes={len(PNG) + 10}-"})
    assert beyond.status_code == 416

    stored_elsewhere = store.artifacts.put_bytes(b"not recorded for any run")[0]
    assert server.get(f"/artifacts/{stored_elsewhere}").status_code == 404
    assert server.get("/artifacts/" + "0" * 64).status_code == 404
    for attempt in (
        "/artifacts/..%2F..%2F..%2Fetc%2Fpasswd",
        "/artifacts/%2e%2e%2flabgate.db",
        "/artifacts/" + shas["image"].upper(),
        "/artifacts/" + shas["image"][:2] + "%2F" + shas["image"],
        "/artifacts/" + shas["image"] + "%00",
    ):
        response = server.get(attempt)
        assert response.status_code in (404, 422), attempt
        assert b"root:" not in response.content and b"SQLite" not in response.content
    for attempt in ("/static/..%2F..%2F_settings.py", "/static/%2e%2e/_app.py", "/static/../labgate.db"):
        response = server.get(attempt)
        assert response.status_code == 404, attempt
    store.engine.dispose()


def _events(response: httpx.Response) -> list[dict[str, object]]:
    messages = []
    for block in response.text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "data" in fields:
            messages.append(
                {"id": fields.get("id"), "event": fields.get("event", "message"), **json.loads(fields["data"])}
            )
    return messages


def test_events_stream_in_order_and_resume_after_last_event_id(server: httpx.Client, settings: Settings) -> None:
    store = _store(settings)
    run = store.create_run(TaskSpec(id="cfd/events", workload="cfd", params={"case": "cavity"}))
    store.set_status(run.id, "running")

    def produce() -> None:
        for index in range(20):
            store.emit(run.id, "note", f"event {index}")
            time.sleep(0.02)
        store.set_status(run.id, "finished")

    producer = threading.Thread(target=produce)
    producer.start()
    with server.stream("GET", f"/runs/{run.id}/events") as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        response.read()
    producer.join()
    messages = _events(response)
    assert messages[-1]["event"] == "end" and messages[-1]["status"] == "finished"
    body = [m for m in messages if m["event"] == "message"]
    ids = [int(str(m["id"])) for m in body]
    assert ids == sorted(ids) and len(ids) == len(set(ids)) == 22  # running, 20 notes, finished
    assert [m["message"] for m in body if m["kind"] == "note"] == [f"event {i}" for i in range(20)]

    cut = ids[9]
    resumed = _events(server.get(f"/runs/{run.id}/events", headers={"Last-Event-ID": str(cut)}))
    assert [int(str(m["id"])) for m in resumed if m["event"] == "message"] == ids[10:]
    by_query = _events(server.get(f"/runs/{run.id}/events", params={"after": ids[-2]}))
    assert [int(str(m["id"])) for m in by_query if m["event"] == "message"] == ids[-1:]
    bad = server.get(f"/runs/{run.id}/events", headers={"Last-Event-ID": "yesterday"})
    assert bad.status_code == 422
    store.engine.dispose()


def test_events_of_a_live_run_without_follow_return_at_once(server: httpx.Client, settings: Settings) -> None:
    store = _store(settings)
    run = store.create_run(TaskSpec(id="cfd/events", workload="cfd", params={"case": "cavity"}))
    store.emit(run.id, "note", "one")
    messages = _events(server.get(f"/runs/{run.id}/events", params={"follow": False}, timeout=10))
    assert [m.get("message") for m in messages if m["event"] == "message"] == ["one"]
    assert messages[-1]["event"] == "end" and messages[-1]["status"] == "queued"
    store.engine.dispose()


def test_event_streams_are_capped_and_a_closed_one_frees_its_place(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each open stream polls the store while its run is quiet (100 idle ones took 83 % of a core)."""
    monkeypatch.setattr(routes_runs, "MAX_EVENT_STREAMS", 2)
    store = _store(settings)
    run = store.create_run(TaskSpec(id="cfd/events", workload="cfd", params={"case": "cavity"}))
    with served_client(settings) as client:
        streams = [client.stream("GET", f"/runs/{run.id}/events") for _ in range(2)]
        opened = [stream.__enter__() for stream in streams]
        assert [response.status_code for response in opened] == [200, 200]
        third = client.get(f"/runs/{run.id}/events", timeout=10)
        assert third.status_code == 503 and third.headers["retry-after"] == "10", third.text
        assert "2 event streams are open" in third.json()["detail"]
        streams[0].__exit__(None, None, None)
        deadline = time.monotonic() + 15
        while (again := client.get(f"/runs/{run.id}/events", params={"follow": False})).status_code == 503:
            assert time.monotonic() < deadline, "a closed stream never gave its place back"
            time.sleep(0.2)
        assert again.status_code == 200
        streams[1].__exit__(None, None, None)
    store.engine.dispose()


def test_cancel_resume_and_approve_follow_the_run_state(server: httpx.Client, settings: Settings) -> None:
    store = _store(settings)
    task = TaskSpec(id="cfd/states", workload="cfd", params={"case": "cavity"})
    queued, paused, orphan, busy = (store.create_run(task).id for _ in range(4))
    assert server.post(f"/runs/{queued}/resume").status_code == 409  # already queued
    assert server.post(f"/runs/{queued}/approve").status_code == 409  # not paused
    assert server.post(f"/runs/{queued}/cancel").json()["status"] == "cancelled"
    again = server.post(f"/runs/{queued}/cancel")
    assert again.status_code == 409 and "already ended" in again.json()["detail"]

    store.set_status(paused, "running")
    store.set_status(paused, "paused", "waiting for plan approval")
    checkpointed(store.home, paused)
    assert server.post(f"/runs/{paused}/resume").status_code == 409
    approved = server.post(f"/runs/{paused}/approve")
    assert approved.status_code == 200 and store.get_run(paused).status == "queued"
    assert "approval" in [event.kind for event in store.events(paused)]

    import socket

    store.set_status(orphan, "running")
    store.update_run(orphan, worker=f"{socket.gethostname()}:{2**22 + 12345}")  # a process that does not exist
    store.start_step(orphan, "dispatch")  # what the dead process left open: closed on resume, as the CLI does
    assert server.post(f"/runs/{orphan}/resume").json()["status"] == "queued"
    assert [(step.name, step.status) for step in store.steps(orphan)] == [("dispatch", "interrupted")]
    store.set_status(busy, "running")
    store.update_run(busy, worker=f"{socket.gethostname()}:{os.getpid()}")  # alive: this very process
    refused = server.post(f"/runs/{busy}/resume")
    assert refused.status_code == 409 and "still being executed" in refused.json()["detail"]
    store.engine.dispose()


def test_dashboard_pages_render(server: httpx.Client, settings: Settings, tmp_path: Path) -> None:
    store = _store(settings)
    run_id, shas = _run_with_artifacts(store, tmp_path)
    other = store.create_run(TaskSpec(id="cfd/artifacts", workload="cfd", params={"case": "cavity"})).id
    home = server.get("/")
    assert home.status_code == 200 and run_id in home.text and '<html lang="en">' in home.text
    sorted_page = server.get("/", params={"sort": "status", "status": "queued"})
    assert sorted_page.status_code == 200 and 'aria-sort="ascending"' in sorted_page.text
    page = server.get(f"/ui/runs/{run_id}")
    assert page.status_code == 200
    assert f'src="/artifacts/{shas["image"]}"' in page.text  # the evidence image inline, and the report's figure
    assert page.text.count(f"/artifacts/{shas['image']}") >= 3
    assert "Courant" not in page.text  # a log loads when its section is opened, from its fragment
    fragments = re.findall(r'data-fragment="(/ui/artifacts/\d+)"', page.text)
    logs = [server.get(url).text for url in fragments]
    assert any("Courant" in text and 'class="hl"' in text for text in logs)  # the log, highlighted
    assert server.get("/ui/artifacts/999999").status_code == 404
    assert "<h1>Report</h1>" in page.text
    compare = server.get("/ui/compare", params=[("run", run_id), ("run", other)])
    assert compare.status_code == 200 and "re=100" in compare.text
    assert server.get("/ui/compare", params={"run": run_id}).status_code == 422
    assert server.get("/ui/compare").status_code == 200
    assert server.get("/ui/runs/20200101-000000-abcdef").status_code == 404
    store.engine.dispose()


def test_the_dashboard_says_stopped_for_a_running_run_that_nothing_executes(
    server: httpx.Client, settings: Settings
) -> None:
    """After a Ctrl-C or a kill the store keeps a run `running` so that it can be resumed; the dashboard must
    not show it as running (someone would wait on it) while a run whose process lives still reads running."""
    store = _store(settings)
    spec = TaskSpec(id="cfd/cavity", workload="cfd", params={"case": "cavity"})
    gone, alive = store.create_run(spec).id, store.create_run(spec).id
    for run_id, pid in ((gone, 2**22 + 991), (alive, os.getpid())):
        store.set_status(run_id, "running")
        store.update_run(run_id, worker=f"{socket.gethostname()}:{pid}")
    rows = server.get("/", params={"rows": "true"}).text
    shown = dict(
        re.findall(
            r'data-run-id="([^"]+)" data-status="[^"]*">.*?data-field="status"><span class="badge status-(\w+)"',
            rows,
            re.S,
        )
    )
    assert shown == {gone: "stopped", alive: "running"}, rows
    page = server.get(f"/ui/runs/{gone}").text
    assert 'class="badge status-stopped" id="run-status"' in page and "Resume (if its process died)" in page
    assert 'class="badge status-running" id="run-status"' in server.get(f"/ui/runs/{alive}").text
    assert server.get(f"/runs/{gone}").json()["status"] == "stopped"  # as the page and the table say
    assert store.get_run(gone).status == "running"  # the record itself is unchanged (resume takes it)
    store.engine.dispose()


def test_serve_refuses_a_public_address_without_a_token(home: Path) -> None:
    result = agent("serve", "--host", "0.0.0.0", "--port", "0", home=home, env={"LABGATE_API_TOKEN": ""}, timeout=60)
    assert result.returncode == 2
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "without LABGATE_API_TOKEN" in lines[0] and "Traceback" not in result.stderr
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and is_loopback("127.8.0.1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4") and not is_loopback("example.org")


def test_kernel_search_and_proof_views_appear_where_their_artifacts_exist(
    server: httpx.Client, settings: Settings
) -> None:
    store = _store(settings)
    run = store.create_run(TaskSpec(id="kernels/stencil", workload="kernels"))
    search = store.add_experiment(run.id, ExperimentSpec(key="search", task_id="kernels/stencil"))
    seed_source = b"__kernel void f(__global float* a) { a[0] = 1.0f; }\n"
    best_source = b"__kernel void f(__global float* a) { a[0] = 2.0f; /* unrolled */ }\n"
    store.add_artifact_bytes(
        run.id, seed_source, kind="kernel", name="search/seed.cl", experiment_id=search.id, produced_by="k:seed-kernel"
    )
    store.add_artifact_bytes(
        run.id,
        best_source,
        kind="kernel",
        name="search/candidate.cl",
        experiment_id=search.id,
        produced_by="k:candidate-kernel",
    )
    lines = [json.dumps({"index": i, "fitness": f, "source": "x"}) for i, f in enumerate([0.1, 0.3, 0.2, 0.55])]
    store.add_artifact_bytes(
        run.id, "\n".join(lines).encode(), kind="log", name="search/search.jsonl", experiment_id=search.id
    )
    first = store.add_experiment(run.id, ExperimentSpec(key="proof-1", task_id="kernels/stencil"))
    second = store.add_experiment(
        run.id, ExperimentSpec(key="proof-2", task_id="kernels/stencil", attempt=2, parent_key="proof-1")
    )
    store.add_artifact_bytes(run.id, b"Proof. auto. Qed.\n", kind="proof", name="proof-1/p.v", experiment_id=first.id)
    store.add_artifact_bytes(run.id, b"Proof. lia. Qed.\n", kind="proof", name="proof-2/p.v", experiment_id=second.id)
    search_log = [
        {
            "kind": "check",
            "origin": "skeleton:intros",
            "attempt": 1,
            "ok": False,
            "step": 1,
            "seconds": 0.4,
            "error": "Error: auto failed to close 0 < x",
        },
        {
            "kind": "probe",
            "origin": "skeleton:intros",
            "attempt": 2,
            "ok": True,
            "step": 1,
            "replaced": "auto",
            "tactic": "lia",
            "seconds": 0.9,
        },
        {"kind": "check", "origin": "skeleton:intros", "attempt": 3, "ok": True, "seconds": 0.3, "error": ""},
    ]
    store.add_artifact_bytes(
        run.id,
        "\n".join(json.dumps(entry) for entry in search_log).encode(),
        kind="log",
        name="proof-2/search-log.jsonl",
        experiment_id=second.id,
    )
    store.update_experiment(first.id, decision="revise", error="Error: auto failed to prove the goal")
    store.add_verdict(run.id, first.id, GateResult(gate="proof-check", decision="revise", reasons=["goal remains"]))
    store.update_experiment(second.id, decision="accept")
    store.add_verdict(run.id, second.id, GateResult(gate="proof-check", decision="accept", reasons=["Qed checked"]))

    page = server.get(f"/ui/runs/{run.id}").text
    assert '<svg class="plot"' in page and "Fitness of 4 evaluated candidates; best 0.55" in page
    assert "From seed to best: search/seed.cl → search/candidate.cl" in page and "unrolled" in page
    assert "Proof attempts" in page and "auto failed to prove the goal" in page and "goal remains" in page
    history = page.split("3 prover runs and model calls", 1)[1].split("</details>", 1)[0]
    assert "auto failed to close 0 &lt; x" in history and "replaced `auto` by `lia`" in history
    assert history.count("<tr>") == 4  # the header and one row per prover run, in order
    assert history.index("failed") < history.index("replaced") < history.rindex(">ok<")
    accepted = page.split("<h3>Accepted proof</h3>", 1)[1]
    assert "lia" in accepted.split("</figure>", 1)[0]
    plain = server.get(f"/ui/runs/{_run_with_artifacts(store, Path(settings.home))[0]}").text
    assert '<svg class="plot"' not in plain and "Proof attempts" not in plain  # no special views without their data
    store.engine.dispose()


def test_recovery_requeues_only_runs_whose_local_process_is_gone(settings: Settings) -> None:
    import socket

    from api.rest._worker import WorkerPool

    store = _store(settings)
    task = TaskSpec(id="cfd/recover", workload="cfd", params={"case": "cavity"})
    orphan, remote, alive, done, stopped = (store.create_run(task).id for _ in range(5))
    host = socket.gethostname()
    for run_id, worker in (
        (orphan, f"{host}:{2**22 + 4321}"),
        (remote, "another-host:1234"),
        (alive, f"{host}:{os.getpid()}"),
        (done, f"{host}:{2**22 + 4322}"),
        (stopped, f"{host}:{2**22 + 4323}"),
    ):
        store.set_status(run_id, "running")
        store.update_run(run_id, worker=worker)
    store.set_status(done, "finished")
    # Stopped from its terminal (Ctrl-C) on purpose: `agent resume` takes it, a server does not start it unasked.
    store.update_run(stopped, reason=f"interrupted: `agent resume {stopped}` continues it")
    assert WorkerPool(store, concurrency=0).recover() == [orphan]
    assert store.get_run(stopped).status == "running"
    assert [store.get_run(run_id).status for run_id in (orphan, remote, alive, done)] == [
        "queued",
        "running",
        "running",
        "finished",
    ]
    assert store.get_run(orphan).worker == ""
    assert any("resumes from its checkpoint" in event.message for event in store.events(orphan))
    store.engine.dispose()


def test_a_run_downloads_as_one_zip_built_from_the_store_without_following_links(
    server: httpx.Client, settings: Settings, tmp_path: Path
) -> None:
    store = _store(settings)
    run_id, shas = _run_with_artifacts(store, tmp_path)
    planted = store.add_artifact_bytes(run_id, b"placeholder", kind="log", name="../../etc/planted.log")
    secret = tmp_path / "secret.txt"
    secret.write_text("host secret")
    stored = store.artifacts.path_for(planted.sha256)
    stored.chmod(0o644)
    stored.unlink()
    stored.symlink_to(secret)  # a link where an artifact file should be: never followed
    response = server.get(f"/runs/{run_id}/archive")
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"] == f'attachment; filename="labgate-run-{run_id}.zip"'
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        names = archive.namelist()
        assert archive.testzip() is None
        assert json.loads(archive.read("run.json"))["run_id"] == run_id
        assert archive.read("report/report.md").startswith(b"# Report")
        assert archive.read("artifacts/re=100/figures/u.png") == PNG
        assert archive.read("artifacts/run/re=100/log.icoFoam").startswith(b"Time = 0.1")
        readme = archive.read("README.txt").decode()
    assert all(not name.startswith("/") and ".." not in name.split("/") for name in names), names
    assert f"{shas['image']}  artifacts/re=100/figures/u.png" in readme
    assert f"{planted.sha256}  (missing from the store)" in readme
    assert b"host secret" not in response.content and str(settings.home) not in response.text
    assert server.get("/runs/20200101-000000-abcdef/archive").status_code == 404
    page = server.get(f"/ui/runs/{run_id}").text
    assert f'href="/runs/{run_id}/archive"' in page
    store.engine.dispose()


def test_runs_list_searches_text_filters_by_decision_and_carries_params_and_metrics(
    server: httpx.Client, settings: Settings
) -> None:
    store = _store(settings)
    low = store.create_run(TaskSpec(id="cfd/cavity", workload="cfd", params={"re": 100}, goal="Ghia benchmark")).id
    high = store.create_run(TaskSpec(id="cfd/cavity", workload="cfd", params={"re": 400}, sweep={"cells": [16, 32]}))
    odd = store.create_run(TaskSpec(id="cfd/odd", workload="cfd", goal="100% of the odd_name")).id
    for run_id, decision, metrics in ((low, "accept", {"u_min": -0.2}), (high.id, "reject", {"u_min": -0.3})):
        experiment = store.add_experiment(run_id, ExperimentSpec(key="e1", task_id="cfd/cavity"))
        assert experiment.id is not None
        store.update_experiment(experiment.id, decision=decision, metrics=metrics)

    def ids(**params: str) -> list[str]:
        response = server.get("/runs", params=params)
        assert response.status_code == 200, response.text
        return [item["run_id"] for item in response.json()["items"]]

    assert ids(q="ghia BENCH") == [low]  # the goal, case-insensitively
    assert ids(q=high.id[-6:]) == [high.id]  # the run id
    assert ids(q='"re": 400') == [high.id]  # the parameters
    assert ids(q="%") == [odd] and ids(q="_name") == [odd]  # LIKE wildcards are literal text
    assert ids(decision="accept") == [low] and ids(decision="reject") == [high.id]
    assert ids(decision="none") == [odd]
    assert server.get("/runs", params={"decision": "maybe"}).status_code == 422
    item = next(i for i in server.get("/runs").json()["items"] if i["run_id"] == high.id)
    assert item["params"] == {"cells": "16,32", "re": 400} and item["metrics"] == {"u_min": -0.3}
    assert item["metrics_from"] == "e1"
    store.engine.dispose()


def test_tags_and_notes_are_set_guarded_searched_and_filtered(guarded: httpx.Client, settings: Settings) -> None:
    store = _store(settings)
    run_id = store.create_run(TaskSpec(id="cfd/cavity", workload="cfd")).id
    other = store.create_run(TaskSpec(id="cfd/cavity", workload="cfd")).id
    body = {"tags": ["baseline", "re-100", "baseline"], "notes": "compare with the <b>2019</b> run"}
    assert guarded.post(f"/runs/{run_id}/annotations", json=body).status_code == 401
    headers = {"Authorization": f"Bearer {TOKEN}"}
    saved = guarded.post(f"/runs/{run_id}/annotations", json=body, headers=headers)
    assert saved.status_code == 200, saved.text
    assert saved.json() == {"run_id": run_id, "tags": ["baseline", "re-100"], "notes": body["notes"]}
    for bad in ({"tags": ['a"b']}, {"tags": ["x"] * 21}, {"notes": "n" * 20_001}, {"colour": "red"}):
        assert guarded.post(f"/runs/{run_id}/annotations", json=bad, headers=headers).status_code == 422, bad
    missing = guarded.post("/runs/20200101-000000-abcdef/annotations", json=body, headers=headers)
    assert missing.status_code == 404
    detail = guarded.get(f"/runs/{run_id}").json()
    assert detail["tags"] == ["baseline", "re-100"] and detail["notes"] == body["notes"]
    assert [i["run_id"] for i in guarded.get("/runs", params={"tag": "baseline"}).json()["items"]] == [run_id]
    assert guarded.get("/runs", params={"tag": "re"}).json()["total"] == 0  # a whole tag, not a part of one
    assert [i["run_id"] for i in guarded.get("/runs", params={"q": "2019"}).json()["items"]] == [run_id]
    assert guarded.get("/runs", params={"tag": 'a"b'}).status_code == 422
    page = guarded.get(f"/ui/runs/{run_id}").text
    assert "&lt;b&gt;2019&lt;/b&gt;" in page and "<b>2019" not in page  # notes are text, never markup
    assert other not in [i["run_id"] for i in guarded.get("/runs", params={"tag": "re-100"}).json()["items"]]
    store.engine.dispose()


def test_the_same_bytes_recorded_under_two_names_are_served_under_the_asked_record(
    server: httpx.Client, settings: Settings, tmp_path: Path
) -> None:
    """Identical bytes recorded as `fig.svg` by one run and `fig2.png` by another: each record's link serves
    them under its own name and type (the digest alone gives the first record), and a record of other bytes
    is not a way to rename these."""
    store = _store(settings)
    first_run = store.create_run(TaskSpec(id="cfd/one", workload="cfd", params={"case": "cavity"}))
    second_run = store.create_run(TaskSpec(id="cfd/two", workload="cfd", params={"case": "cavity"}))
    (tmp_path / "fig.svg").write_bytes(PNG)
    (tmp_path / "fig2.png").write_bytes(PNG)
    (tmp_path / "other.txt").write_text("other bytes\n")
    svg = store.add_artifact(first_run.id, tmp_path / "fig.svg", kind="image", name="fig.svg")
    png = store.add_artifact(second_run.id, tmp_path / "fig2.png", kind="image", name="fig2.png")
    other = store.add_artifact(second_run.id, tmp_path / "other.txt", kind="log", name="other.txt")
    assert svg.sha256 == png.sha256 and svg.id != png.id
    (listed,) = server.get(f"/runs/{second_run.id}/artifacts", params={"kind": "image"}).json()
    served = server.get(listed["url"])
    assert served.status_code == 200 and served.headers["content-type"] == "image/png" and served.content == PNG
    assert 'filename="fig2.png"' in served.headers["content-disposition"]
    plain = server.get(f"/artifacts/{png.sha256}")
    assert 'filename="fig.svg"' in plain.headers["content-disposition"]
    assert server.get(f"/artifacts/{png.sha256}", params={"artifact": other.id}).status_code == 404
    assert server.get(f"/artifacts/{png.sha256}", params={"artifact": 0}).status_code == 422
