"""The REST API and dashboard as an attacker meets them, over real HTTP (uvicorn on loopback).

Headers that keep pages unframed and scripts out, cross-site posts (`Origin: null` included),
token strength, protected reads, backoff on failed authentication, server paths kept out of
answers, secrets kept out of workers, hostile report text; then the submissions that used to be
accepted and fail later, and records left `running` by runs that ended. Workers are off: runs are
driven through the store.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from agents import RunContext
from agents._writer import write_report
from api._app import create_app
from api._settings import Settings, SettingsError, build_catalog
from api.rest._ratelimit import FailedAuthLimiter
from api.rest._worker import WorkerPool, worker_environment
from runs import ExperimentSpec, RunStore, TaskSpec
from sandboxes import SandboxUnavailableError
from tests.api_server import serve_in_thread, served_client
from tests.conftest import agent, checkpointed, require_tool

TOKEN = "a-token-long-enough-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
HOSTILE_TITLE = '<script>alert("title")</script><img src="http://beacon.example/t.png">'
HOSTILE_GOAL = (
    "Measure drag.\n\n# Injected heading\n\n| fake | table |\n|---|---|\n| 1 | 2 |\n\n"
    '![beacon](http://beacon.example/goal.png) <script>alert("goal")</script>'
)


@pytest.fixture
def settings(home: Path) -> Settings:
    return Settings(home=home, run_workers=0, max_workers=2)


@pytest.fixture
def store(settings: Settings) -> Iterator[RunStore]:
    store = RunStore(settings.home)
    yield store
    store.engine.dispose()


@pytest.fixture
def server(settings: Settings) -> Iterator[httpx.Client]:
    with served_client(settings) as client:
        yield client


def _serve(settings: Settings, **changes: Any) -> Any:
    return serve_in_thread(settings.model_copy(update=changes), start_workers=False)


def _task(name: str = "cfd/sec") -> TaskSpec:
    return TaskSpec(id=name, workload="cfd", params={"case": "cavity"})


def _small_run() -> dict[str, object]:
    return {"task": "cfd/cavity", "params": {"re": 100, "cells": 16, "convective_times": 3}, "budget": 1}


# -- headers ----------------------------------------------------------------------------------------


def test_pages_api_and_artifacts_carry_security_headers(server: httpx.Client, store: RunStore) -> None:
    run = store.create_run(_task())
    artifact = store.add_artifact_bytes(run.id, b"<svg onload='alert(1)'/>", kind="image", name="x.svg")
    for path in ("/", f"/ui/runs/{run.id}", "/runs", f"/runs/{run.id}", "/ui/compare"):
        response = server.get(path)
        policy = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy, path
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, path
        assert response.headers["x-frame-options"] == "DENY", path
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["referrer-policy"] == "no-referrer", path
        if path.startswith("/ui") or path == "/":
            # No inline script for the policy to block: every <script> loads a file of this origin.
            assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", response.text) == [], path
    served = server.get(f"/artifacts/{artifact.sha256}")
    assert served.status_code == 200
    assert served.headers["content-security-policy"].startswith("sandbox")  # the artifact's own policy is kept
    assert served.headers["x-frame-options"] == "DENY" and served.headers["x-content-type-options"] == "nosniff"


# -- cross-site and tokens --------------------------------------------------------------------------


def test_a_post_with_origin_null_is_refused(server: httpx.Client, store: RunStore) -> None:
    run = store.create_run(_task())
    refused = server.post(f"/runs/{run.id}/cancel", headers={"Origin": "null"})
    assert refused.status_code == 403
    assert store.get_run(run.id).status == "queued"
    assert server.post("/runs", json=_small_run(), headers={"Origin": "null"}).status_code == 403
    assert server.get("/runs").json()["total"] == 1  # only the run made above


def test_a_short_token_stops_the_server_at_startup(settings: Settings, home: Path) -> None:
    with pytest.raises(SettingsError, match="at least 16"):
        create_app(settings.model_copy(update={"api_token": SecretStr("x" * 15)}), start_workers=False)
    with pytest.raises(SettingsError, match="LABGATE_PROTECT_READS"):
        create_app(settings.model_copy(update={"protect_reads": True}), start_workers=False)
    result = agent("serve", "--host", "0.0.0.0", "--port", "0", home=home, env={"LABGATE_API_TOKEN": "1"}, timeout=60)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert "LABGATE_API_TOKEN has 1 characters" in lines[0] and "Traceback" not in result.stderr


def test_protected_reads_need_the_token_and_writes_need_the_bearer(settings: Settings, store: RunStore) -> None:
    run = store.create_run(_task())
    basic = {"Authorization": "Basic " + base64.b64encode(f"me:{TOKEN}".encode()).decode()}
    with (
        _serve(settings, api_token=SecretStr(TOKEN), protect_reads=True) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        for path in ("/runs", f"/runs/{run.id}", "/", f"/ui/runs/{run.id}", "/openapi.json", f"/runs/{run.id}/events"):
            refused = client.get(path)
            assert refused.status_code == 401, path
            assert 'Basic realm="labgate"' in refused.headers.get_list("www-authenticate")[0]
            assert run.id not in refused.text
        assert client.get("/runs", headers={"Authorization": "Bearer wrong-token-of-some-length"}).status_code == 401
        assert client.get("/runs", headers=AUTH).json()["total"] == 1
        assert client.get(f"/ui/runs/{run.id}", headers=basic).status_code == 200  # a browser's login prompt
        assert client.get("/healthz").status_code == 200 and client.get("/static/app.js").status_code == 200
        # A browser resends Basic credentials to cross-site requests: they open reads, never writes.
        assert client.post(f"/runs/{run.id}/cancel", headers=basic).status_code == 401
        assert store.get_run(run.id).status == "queued"
        assert client.post(f"/runs/{run.id}/cancel", headers=AUTH).status_code == 200
    with _serve(settings, api_token=SecretStr(TOKEN)) as url:
        assert httpx.get(f"{url}/runs", timeout=30).status_code == 200  # reads open unless protected


def test_failed_authentication_backs_off_per_address(settings: Settings) -> None:
    with _serve(settings, api_token=SecretStr(TOKEN)) as url, httpx.Client(base_url=url, timeout=30) as client:
        wrong = {"Authorization": "Bearer guessed-token-number-0000"}
        codes = [client.post("/runs", json=_small_run(), headers=wrong).status_code for _ in range(10)]
        assert codes == [401] * 10
        blocked = client.post("/runs", json=_small_run(), headers=AUTH)  # even the right token waits now
        assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1
        assert client.get("/runs").json()["total"] == 0


def test_the_backoff_forgets_old_failures_and_holds_bounded_memory() -> None:
    now = [0.0]
    limiter = FailedAuthLimiter(max_failures=3, window_seconds=60, max_clients=100, clock=lambda: now[0])
    for _ in range(3):
        limiter.failed("10.0.0.1")
    assert limiter.retry_after("10.0.0.1") == 60 and limiter.retry_after("10.0.0.2") is None
    now[0] = 59.5
    assert limiter.retry_after("10.0.0.1") == 1
    now[0] = 60.0
    assert limiter.retry_after("10.0.0.1") is None  # the failures left the window
    for index in range(10_000):
        limiter.failed(f"198.51.{index // 256}.{index % 256}")
    assert len(limiter) == 100


# -- what answers reveal --------------------------------------------------------------------------


def test_no_server_path_appears_in_run_json_events_or_pages(server: httpx.Client, store: RunStore) -> None:
    run = store.create_run(_task())
    run_dir = store.run_dir(run.id)
    step = store.start_step(run.id, "write-up")
    assert step.id is not None
    store.finish_step(step.id, detail=str(run_dir / "report.md"))
    store.emit(run.id, "error", f"could not read {run_dir / 'experiments' / 'a' / 'log'}", {"dir": str(run_dir)})
    store.set_status(run.id, "failed", f"solver failed in {store.home / 'runs' / run.id / 'experiments'}")
    home = str(store.home)
    detail = server.get(f"/runs/{run.id}")
    assert home not in detail.text
    assert detail.json()["steps"][0]["detail"] == "report.md"
    assert detail.json()["reason"] == "solver failed in experiments"
    events = server.get(f"/runs/{run.id}/events", params={"follow": False})
    assert home not in events.text and "could not read experiments/a/log" in events.text, events.text
    other = store.create_run(_task()).id
    for page in ("/runs", "/", f"/ui/runs/{run.id}", f"/ui/compare?run={run.id}&run={other}"):
        shown = server.get(page)
        assert shown.status_code == 200 and home not in shown.text, page
    assert f"solver failed in runs/{run.id}/experiments" in server.get("/").text  # relative to the data home
    unknown = "20200101-000000-abcdef"
    for page in (f"/runs/{unknown}", f"/runs/{unknown}/events", f"/ui/runs/{unknown}"):
        assert server.get(page).status_code == 404, page
    assert not (store.home / "runs" / unknown).exists()  # a probe leaves no directory behind


def test_workers_do_not_inherit_the_api_token_or_other_secrets(
    store: RunStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LABGATE_API_TOKEN", TOKEN)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-secret")
    monkeypatch.setenv("GITHUB_TOKEN", "gh-secret")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-needed-by-the-orchestrator")
    monkeypatch.setenv("LABGATE_LLM_TOKEN_BUDGET", "5000")  # a setting the run needs, not a secret
    env = WorkerPool(store, concurrency=0, child_env={"LABGATE_HOME": str(store.home)}).child_env
    for name in ("LABGATE_API_TOKEN", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN"):
        assert name not in env
    assert TOKEN not in env.values()
    assert env["OPENAI_API_KEY"] == "sk-needed-by-the-orchestrator"  # the model is called from the worker
    assert env["LABGATE_HOME"] == str(store.home) and env["PATH"] == os.environ["PATH"]
    assert env["LABGATE_LLM_TOKEN_BUDGET"] == "5000"
    assert worker_environment({"MY_PASSWORD": "p", "LANG": "C"}, {}) == {"LANG": "C"}


# -- hostile report text --------------------------------------------------------------------------


def _report_of_hostile_task(store: RunStore) -> str:
    catalog = build_catalog(Settings())
    task = catalog.get("cfd/cavity").model_copy(update={"title": HOSTILE_TITLE, "goal": HOSTILE_GOAL})
    run = store.create_run(task)
    context = RunContext(
        store=store,
        run_id=run.id,
        task=task,
        workload=catalog.workload_for(task),
        sandbox_factory=lambda path: None,  # type: ignore[arg-type]  # the write-up executes nothing
    )
    write_report(context)
    return run.id


def test_a_hostile_title_and_goal_stay_text_in_the_report(server: httpx.Client, store: RunStore) -> None:
    run_id = _report_of_hostile_task(store)
    page = (store.run_dir(run_id) / "report.html").read_text()
    body = page.split("<body>", 1)[1]
    assert "<script" not in page and "<img" not in body  # no script, and no figure: none was produced
    assert "&lt;script&gt;alert(&quot;title&quot;)&lt;/script&gt;" in body  # shown as the text it is
    assert "<h1>Injected heading</h1>" not in body and "<th>fake</th>" not in body
    assert body.count("<h1>") == 1 and body.count("<table>") == 0
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert policy is not None and "default-src 'none'" in policy.group(1) and "script-src" not in policy.group(1)
    dashboard = server.get(f"/ui/runs/{run_id}").text
    assert "beacon.example/goal.png" not in re.findall(r'<img[^>]+src="([^"]+)"', dashboard)
    assert not re.search(r'<img[^>]+src="https?://', dashboard)
    assert "<script>alert" not in dashboard and "<h1>Injected heading</h1>" not in dashboard


def test_the_dashboard_shows_no_remote_image_from_a_report(server: httpx.Client, store: RunStore) -> None:
    run = store.create_run(_task())
    report = store.add_artifact_bytes(
        run.id,
        b"# Report\n\n![beacon](http://beacon.example/x.png)\n\n<img src='http://beacon.example/y.png'>\n",
        kind="report",
        name="report.md",
    )
    store.update_run(run.id, report_sha256=report.sha256)
    page = server.get(f"/ui/runs/{run.id}").text
    assert "[image: beacon]" in page
    assert not re.search(r'<img[^>]+src="https?://', page) and "<img src='http" not in page


# -- submissions that used to be accepted and fail later ------------------------------------------


def test_a_date_past_year_9999_is_a_422_on_the_dashboard_too(server: httpx.Client) -> None:
    for path in ("/", "/runs"):
        response = server.get(path, params={"since": "9999-12-31T23:59:59-14:00"})
        assert response.status_code == 422, (path, response.text)
        assert "outside the dates" in response.text


def test_deeply_nested_bodies_are_refused_with_422(server: httpx.Client) -> None:
    nested: Any = 1
    for _ in range(300):
        nested = {"x": nested}
    spec = {"spec": {"extends": "cfd/cavity", "gate_options": {"comparator": nested}}}
    response = server.post("/runs", json=spec)
    assert response.status_code == 422 and "nested deeper" in response.json()["message"]
    lists = server.post("/runs", content=b'{"spec": ' + b"[" * 5000 + b"]" * 5000 + b"}")
    assert lists.status_code == 422
    text = server.post("/runs", json={"spec": {"extends": "cfd/cavity", "goal": '"[{\\' * 200}})
    assert text.status_code == 202, text.text  # brackets inside a string are text, not nesting
    assert server.get("/runs").json()["total"] == 1


@pytest.mark.parametrize("budget", [{"experiment_seconds": 1e300}, {"wall_seconds": 1e300}, {"llm_tokens": 10**20}])
def test_budgets_beyond_what_a_sandbox_can_enforce_are_refused(server: httpx.Client, budget: dict[str, Any]) -> None:
    response = server.post("/runs", json={"spec": {"extends": "cfd/cavity", "budget": budget}})
    assert response.status_code == 422, response.text
    assert next(iter(budget)) in response.json()["message"]
    assert server.get("/runs").json()["total"] == 0


def test_a_docker_task_runs_in_docker_or_is_refused(server: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    import api.rest._routes_runs as routes

    def no_engine(timeout: float) -> Any:
        raise SandboxUnavailableError("no Docker engine answers at unix:///nowhere")

    monkeypatch.setattr(routes, "connect_engine", no_engine)
    spec = {"spec": {"extends": "cfd/cavity", "sandbox": "docker"}}
    refused = server.post("/runs", json=spec)
    assert refused.status_code == 422 and "docker is not available" in refused.json()["message"]
    assert server.get("/runs").json()["total"] == 0

    class Engine:
        def close(self) -> None:
            pass

    monkeypatch.setattr(routes, "connect_engine", lambda timeout: Engine())
    accepted = server.post("/runs", json=spec)
    assert accepted.status_code == 202, accepted.text
    detail = server.get(f"/runs/{accepted.json()['run_id']}").json()
    assert detail["spec"]["sandbox"] == "docker" and detail["options"]["sandbox"] in (None, "docker")


def test_a_submission_cannot_ask_for_more_workers_than_the_server_allows(server: httpx.Client) -> None:
    accepted = server.post("/runs", json={**_small_run(), "workers": 8})
    assert accepted.status_code == 202
    assert server.get(f"/runs/{accepted.json()['run_id']}").json()["options"]["max_workers"] == 2
    fewer = server.post("/runs", json={**_small_run(), "workers": 1})
    assert server.get(f"/runs/{fewer.json()['run_id']}").json()["options"]["max_workers"] == 1


# -- records left running -------------------------------------------------------------------------


def _running_work(store: RunStore) -> tuple[str, int, int]:
    run = store.create_run(_task())
    store.set_status(run.id, "running")
    step = store.start_step(run.id, "dispatch", "iteration 1")
    experiment = store.add_experiment(run.id, ExperimentSpec(key="re=100", task_id="cfd/sec"))
    assert step.id is not None and experiment.id is not None
    store.update_experiment(experiment.id, status="running")
    return run.id, step.id, experiment.id


def _step_and_experiment(store: RunStore, run_id: str) -> tuple[Any, Any]:
    return store.steps(run_id)[0], store.experiments(run_id)[0]


def test_a_cancel_closes_the_steps_and_experiments_it_interrupts(server: httpx.Client, store: RunStore) -> None:
    run_id, _, _ = _running_work(store)
    assert server.post(f"/runs/{run_id}/cancel").status_code == 200
    step, experiment = _step_and_experiment(store, run_id)
    assert step.status == "cancelled" and step.finished_at is not None and "cancelled on request" in step.detail
    assert experiment.status == "cancelled" and experiment.finished_at is not None and experiment.error
    shown = server.get(f"/runs/{run_id}").json()
    assert [s["status"] for s in shown["steps"]] == ["cancelled"]
    assert [e["status"] for e in shown["experiments"]] == ["cancelled"]


def test_a_failed_run_and_a_restart_close_what_was_left_running(store: RunStore) -> None:
    failed, _, _ = _running_work(store)
    store.set_status(failed, "failed", "the worker process was killed by signal 9")
    step, experiment = _step_and_experiment(store, failed)
    assert (step.status, experiment.status) == ("failed", "failed")
    assert "killed by signal 9" in experiment.error

    interrupted, _, _ = _running_work(store)
    store.update_run(interrupted, worker=f"{socket.gethostname()}:{2**22 + 777}")  # a process that is gone
    assert WorkerPool(store, concurrency=0).recover() == [interrupted]
    step, experiment = _step_and_experiment(store, interrupted)
    assert (step.status, experiment.status) == ("interrupted", "interrupted") and step.finished_at is not None


def test_resume_and_approve_keep_the_first_start_time(server: httpx.Client, store: RunStore) -> None:
    run = store.create_run(_task())
    store.set_status(run.id, "running")
    first = store.get_run(run.id).started_at
    assert first is not None
    store.set_status(run.id, "paused", "waiting for plan approval")
    checkpointed(store.home, run.id)
    assert server.post(f"/runs/{run.id}/approve").status_code == 200
    store.set_status(run.id, "running")  # what the worker does when it takes the approved run
    assert store.get_run(run.id).started_at == first
    store.update_run(run.id, worker=f"{socket.gethostname()}:{2**22 + 778}")
    assert server.post(f"/runs/{run.id}/resume").status_code == 200
    store.set_status(run.id, "running")
    assert store.get_run(run.id).started_at == first
    assert server.get(f"/runs/{run.id}").json()["started"].startswith(first.isoformat()[:19])


# -- in a real browser ----------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"


@pytest.mark.browser
def test_a_hostile_title_does_nothing_in_a_browser(settings: Settings, store: RunStore) -> None:
    """The report file and the run page, opened in Chromium: no dialog, no request to the beacon's host,
    and the dashboard's own script still runs under its policy (no policy violation reported)."""
    require_tool(shutil.which(CHROMIUM) is not None, "Debian's chromium (/usr/bin/chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require_tool(False, "the playwright Python package")
        raise
    run_id = _report_of_hostile_task(store)
    report = store.run_dir(run_id) / "report.html"
    dialogs: list[str] = []
    requests: list[str] = []
    violations: list[str] = []
    with serve_in_thread(settings, start_workers=False) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page()

        def on_dialog(dialog: Any) -> None:  # an alert() that ran: recorded, then closed
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on("request", lambda request: requests.append(request.url))
        page.on(
            "console", lambda message: violations.append(message.text) if "Security Policy" in message.text else None
        )
        page.goto(report.as_uri())
        assert page.locator("h1").count() == 1 and "<script>" in page.locator("h1").inner_text()
        page.goto(f"{url}/ui/runs/{run_id}")
        page.wait_for_load_state("networkidle")
        assert page.locator("#report h1").count() == 1
        dashboard_violations = list(violations)
        # app.js runs under the policy: it refreshes the runs table's rows with a fetch every 2 s.
        with page.expect_request(lambda request: "rows=true" in request.url, timeout=15_000):
            page.goto(f"{url}/")
        browser.close()
    assert dialogs == []
    assert [request for request in requests if "beacon.example" in request] == []
    assert dashboard_violations == [] and violations == []
