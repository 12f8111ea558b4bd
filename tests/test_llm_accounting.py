"""Token and latency accounting per model call: `llm` events naming the node, and the run page's table."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from agents import RunLauncher, RunOptions
from agents.llm import LLMConfig, Message, llm_purpose
from api._settings import Settings, build_catalog
from api.web._llm_usage import llm_usage
from runs import RunStore, TaskSpec
from tests.api_server import served_client
from tests.conftest import agent
from tests.llm_server import Reply, Rule, ScriptedLLMServer


def _events(store: RunStore, run_id: str) -> list[dict[str, object]]:
    return [dict(event.data) for event in store.events(run_id, kind="llm")]


def _table_rows(page: str) -> dict[str, list[str]]:
    """The model-calls table of a run page: node -> its cells (calls, tokens in, out, total, seconds, per call)."""
    table = page.split('id="llm-usage-table"', 1)[1].split("</table>", 1)[0]
    rows = {}
    for node, cells in re.findall(r'<tr data-node="([^"]+)">(.*?)</tr>', table, flags=re.S):
        rows[node] = re.findall(r"<td>([^<]*)</td>", cells)
    return rows


def test_each_call_is_recorded_with_its_node_tokens_and_seconds(store: RunStore) -> None:
    rules = [Rule("draft", [Reply("Proof.", prompt_tokens=120, completion_tokens=30, delay=0.3)])]
    config = LLMConfig(base_url="", model="scripted", max_retries=0)
    proofs = TaskSpec(id="proofs/example", workload="proofs")
    run = store.create_run(proofs)
    with ScriptedLLMServer(rules) as server:
        launcher = RunLauncher(
            store, build_catalog(Settings(home=store.home)), config.model_copy(update={"base_url": server.url})
        )
        llm = launcher.llm_for(run.id, proofs)
        assert llm is not None
        with llm_purpose("proposer"):
            llm.complete([Message("user", "draft a proof")])
        llm.complete([Message("user", "draft again")])
    first, second = _events(store, run.id)
    assert first["purpose"] == "proof draft"  # a proof search's proposer drafts proofs
    assert (first["prompt_tokens"], first["completion_tokens"], first["model"]) == (120, 30, "scripted")
    assert isinstance(first["seconds"], float) and first["seconds"] >= 0.3
    assert second["purpose"] == "other"  # outside the orchestrator and any labelled block
    assert store.get_run(run.id).llm_tokens == 300
    rows = {row.node: row for row in llm_usage(store, run.id)}
    assert rows["proof draft"].calls == 1 and rows["proof draft"].tokens == 150
    assert [row.node for row in llm_usage(store, run.id)] == ["proof draft", "other"]


def test_planning_calls_are_accounted_on_the_run_the_plan_starts(store: RunStore) -> None:
    rules = [Rule("plan", [Reply("{}")])]
    with ScriptedLLMServer(rules) as server:
        config = LLMConfig(base_url=server.url, model="scripted", max_retries=0)
        launcher = RunLauncher(store, build_catalog(Settings(home=store.home)), config)
        llm = launcher.llm_for("planning", TaskSpec(id="plan/documents", workload="cfd"))
        assert llm is not None
        with llm_purpose("planner"):
            assert llm.complete([Message("user", "plan this")]).total_tokens == 18
    assert store.list_runs() == []  # planning alone creates no run
    run_id = launcher.submit(launcher.catalog.load("cfd/cavity"), RunOptions())
    [call] = _events(store, run_id)
    assert call["purpose"] == "planner" and call["prompt_tokens"] == 11
    assert store.get_run(run_id).llm_tokens == 18
    later = launcher.submit(launcher.catalog.load("cfd/cavity"), RunOptions())
    assert _events(store, later) == [] and store.get_run(later).llm_tokens == 0  # recorded once


@pytest.mark.slow
@pytest.mark.openfoam
@pytest.mark.usefixtures("openfoam", "bubblewrap")
def test_a_run_accounts_revise_and_write_up_and_shows_them(home: Path, tmp_path: Path) -> None:
    task = tmp_path / "strict.yaml"
    task.write_text(
        "extends: cfd/cavity\n"
        "goal: Reproduce Ghia's Re 100 centreline profiles to within the stated error.\n"
        "sweep: {re: [100]}\n"
        "params: {cells: 16, convective_times: 12}\n"
        "gate_options: {comparator: {rmse_max: 0.008}}\n"
        "budget: {experiments: 2, iterations: 2}\n"
    )
    proposal = {"action": "run", "params": {"re": 100, "cells": 48, "convective_times": 12}, "rationale": "refine"}
    rules = [
        Rule(
            "Propose the next experiment",
            [Reply(json.dumps(proposal), prompt_tokens=400, completion_tokens=30, delay=0.2)],
        ),
        Rule("Write a short summary", [Reply("The cavity matches Ghia.", prompt_tokens=900, completion_tokens=50)]),
    ]
    with ScriptedLLMServer(rules) as server:
        env = {"LABGATE_LLM_BASE_URL": server.url, "LABGATE_LLM_MODEL": "scripted"}
        result = agent("run", str(task), "--json", home=home, env=env)
    assert result.returncode == 0, result.stderr
    run_id = json.loads(result.stdout)["run_id"]
    store = RunStore(home)
    events = _events(store, run_id)
    by_purpose = {str(e["purpose"]): e for e in events}
    assert set(by_purpose) == {"revise", "write-up"}, events
    assert (by_purpose["revise"]["prompt_tokens"], by_purpose["revise"]["completion_tokens"]) == (400, 30)
    assert float(str(by_purpose["revise"]["seconds"])) >= 0.2
    assert (by_purpose["write-up"]["prompt_tokens"], by_purpose["write-up"]["completion_tokens"]) == (900, 50)
    assert store.get_run(run_id).llm_tokens == 1380

    settings = Settings(home=home, run_workers=0)
    with served_client(settings) as client:
        page = client.get(f"/ui/runs/{run_id}")
    assert page.status_code == 200
    rows = _table_rows(page.text)
    assert list(rows) == ["revise", "write-up", "total"]
    assert rows["revise"][:4] == ["1", "400", "30", "430"]
    assert rows["write-up"][:4] == ["1", "900", "50", "950"]
    assert rows["total"][:4] == ["2", "1300", "80", "1380"]
    assert float(rows["revise"][4]) >= 0.2
    store.engine.dispose()
