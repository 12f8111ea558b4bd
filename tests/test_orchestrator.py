"""The orchestrator with real OpenFOAM: resume after kill -9, plan approval, LLM-driven revision, budgets."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runs import RunStore
from tests.conftest import REPO, agent
from tests.llm_server import Reply, Rule, ScriptedLLMServer, message_text

pytestmark = [pytest.mark.slow, pytest.mark.openfoam, pytest.mark.usefixtures("openfoam", "bubblewrap")]


def _started_events(store: RunStore, run_id: str, key: str) -> int:
    return sum(1 for e in store.events(run_id) if e.message == f"{key}: started")


def test_resume_after_kill_9_does_not_repeat_finished_experiments(home: Path) -> None:
    args = ["run", "cfd/cavity", "--param", "re=100", "--param", "cells=24,48", "--workers", "1", "--json"]
    first_key, second_key = "cells=24_re=100", "cells=48_re=100"
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", *args],
        cwd=REPO,
        env={**os.environ, "LABGATE_HOME": str(home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    store = RunStore(home)
    deadline = time.monotonic() + 120
    run_id = None
    while time.monotonic() < deadline:
        runs = store.list_runs()
        if runs:
            run_id = runs[0].id
            states = {e.key: e.status for e in store.experiments(run_id)}
            if states.get(first_key) == "completed" and states.get(second_key) == "running":
                break
        time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("the run never reached its second experiment")
    assert run_id is not None
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    first = {e.key: e for e in store.experiments(run_id)}
    assert store.get_run(run_id).status == "running"  # nobody could record the crash

    result = agent("resume", run_id, "--json", home=home)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["status"] == "finished"
    assert sorted(summary["accepted"]) == [first_key, second_key]
    after = {e.key: e for e in store.experiments(run_id)}
    assert after[first_key].started_at == first[first_key].started_at  # not executed again
    assert _started_events(store, run_id, first_key) == 1
    assert any(e.message == f"{second_key}: restarting after an interruption" for e in store.events(run_id))
    gates_per_experiment = [len(store.verdicts(run_id, e.id)) for e in after.values()]
    assert gates_per_experiment == [3, 3]  # no gate judged anything twice

    again = agent("resume", run_id, home=home)
    assert again.returncode == 2 and "already ended" in again.stderr


def test_plan_approval_pauses_until_approved(home: Path) -> None:
    result = agent(
        "run", "cfd/cavity", "--param", "re=100", "--param", "cells=16", "--approve-plan", "--json", home=home
    )
    paused = json.loads(result.stdout)
    assert result.returncode == 0 and paused["status"] == "paused"
    store = RunStore(home)
    assert store.experiments(paused["run_id"]) == []  # nothing ran before approval
    assert [s.name for s in store.steps(paused["run_id"])] == ["plan"]
    approved = json.loads(agent("approve", paused["run_id"], "--json", home=home).stdout)
    assert approved["status"] == "finished" and approved["accepted"] == ["re=100"]
    assert any(e.kind == "approval" for e in store.events(paused["run_id"]))


def _strict_task(tmp_path: Path, rmse_max: float, llm_tokens: int = 0) -> Path:
    task = tmp_path / "strict.yaml"
    task.write_text(
        "extends: cfd/cavity\n"
        "goal: Reproduce Ghia's Re 100 centreline profiles to within the stated error.\n"
        "sweep: {re: [100]}\n"
        "params: {cells: 16, convective_times: 12}\n"
        f"gate_options: {{comparator: {{rmse_max: {rmse_max}}}}}\n"
        f"budget: {{experiments: 4, iterations: 4, llm_tokens: {llm_tokens}}}\n"
    )
    return task


def test_llm_hypothesis_drives_a_revision_to_acceptance(home: Path, tmp_path: Path) -> None:
    proposal = {
        "action": "run",
        "params": {"re": 100, "cells": 48, "convective_times": 12},
        "rationale": "the error is discretisation error: refine the mesh threefold",
    }
    rules = [Rule("Propose the next experiment", [Reply(content=json.dumps(proposal), prompt_tokens=400)])]
    with ScriptedLLMServer(rules) as server:
        env = {"LABGATE_LLM_BASE_URL": server.url, "LABGATE_LLM_MODEL": "scripted", "OPENAI_API_KEY": "sk-never-leaks"}
        result = agent("run", str(_strict_task(tmp_path, 0.008)), "--json", home=home, env=env)
        summary = json.loads(result.stdout)
        assert result.returncode == 0, result.stderr
        assert summary["accepted"] == ["re=100-a2"] and summary["rejected"] == ["re=100"]
        prompt = message_text(server.requests[0]["body"])
        assert "comparator: revise" in prompt and "rmse_u" in prompt and '"cells"' in prompt
    store = RunStore(home)
    revised = store.find_experiment(summary["run_id"], "re=100-a2")
    assert revised is not None and revised.params["cells"] == 48 and revised.params["case"] == "cavity"
    assert "refine the mesh threefold" in revised.rationale
    run = store.get_run(summary["run_id"])
    assert run.llm_tokens == 407 and run.environment["llm"].startswith("scripted")
    everything = json.dumps([e.data for e in store.events(run.id)]) + json.dumps(run.environment)
    for path in (home / "runs").rglob("*"):
        if path.is_file() and path.suffix in (".md", ".log", ".json", ".html"):
            everything += path.read_text(errors="replace")
    assert "sk-never-leaks" not in everything


def test_llm_token_budget_stops_the_run_cleanly(home: Path, tmp_path: Path) -> None:
    proposal = {"action": "run", "params": {"re": 100, "cells": 17, "convective_times": 12}, "rationale": "try"}
    rules = [Rule("Propose the next experiment", [Reply(content=json.dumps(proposal), prompt_tokens=600)])]
    with ScriptedLLMServer(rules) as server:
        env = {"LABGATE_LLM_BASE_URL": server.url, "LABGATE_LLM_MODEL": "scripted"}
        result = agent("run", str(_strict_task(tmp_path, 0.0001, llm_tokens=500)), "--json", home=home, env=env)
        summary = json.loads(result.stdout)
        assert len(server.requests) == 1
    assert result.returncode == 0
    assert summary["status"] == "finished"
    assert "LLM token budget of 500 spent" in summary["reason"]
    assert summary["accepted"] == [] and summary["rejected"] == ["re=100", "re=100-a2"]
    report = Path(summary["report"]).read_text()
    assert "stopped early" in report


def test_experiment_budget_stops_reruns(home: Path) -> None:
    result = agent(
        "run",
        "cfd/cavity",
        "--param",
        "re=100",
        "--param",
        "cells=24",
        "--param",
        "delta_t=0.03",
        "--param",
        "convective_times=12",
        "--budget",
        "1",
        "--json",
        home=home,
    )
    summary = json.loads(result.stdout)
    assert [v["decision"] for v in summary["verdicts"] if v["gate"] == "solver-log"] == ["rerun"]
    report = Path(summary["report"]).read_text()
    assert "rerun requested, but the experiment budget is spent" in report


def test_an_experiment_is_judged_as_soon_as_it_ends_while_others_still_run(home: Path) -> None:
    result = agent(
        "run", "cfd/cavity", "--param", "re=100", "--param", "cells=8,64", "--workers", "2", "--json", home=home
    )
    assert result.returncode == 0, result.stderr
    run_id = json.loads(result.stdout)["run_id"]
    events = RunStore(home).events(run_id)
    small, large = "cells=8_re=100", "cells=64_re=100"
    first = next(i for i, e in enumerate(events) if e.kind == "verdict" and e.message.startswith(f"{small}: "))
    ended = next(i for i, e in enumerate(events) if e.message == f"{large}: completed")
    assert first < ended, [e.message for e in events]  # the small case's gates did not wait for the large case
    assert any(e.kind == "decision" and e.data.get("key") == small for e in events)
    gates = [step.name for step in RunStore(home).steps(run_id)]
    assert gates.count("gates") == 1  # the gates node still collects the batch
