"""Every LLM path against a real model server (llama.cpp with SmolLM2-135M, `tests/llm_local.py`).

The model is tiny and says odd things: valid, invalid or off-topic. Each test runs one path end to
end and checks that the platform survives and that the gates alone decide: an accepted experiment
has only accepting verdicts, and nothing the gates did not accept appears among the report's
results. What the model proposes is never asserted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents.cfd_search import LlmHypothesisProposer
from agents.llm import LLMConfig, Message, OpenAIChat
from tests.conftest import agent
from tests.llm_local import LocalLLM, local_llm_server
from tools.cfd import CfdWorkload

pytestmark = [pytest.mark.slow, pytest.mark.llm]

CORPUS = Path(__file__).parent / "data" / "corpus"


@pytest.fixture(scope="session")
def local_llm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalLLM]:
    with local_llm_server(tmp_path_factory.mktemp("llm") / "server.log") as server:
        yield server


def _client(server: LocalLLM, **overrides: Any) -> OpenAIChat:
    return OpenAIChat(LLMConfig.model_validate({"base_url": server.url, "model": server.model, **overrides}))


def _run(home: Path, server: LocalLLM, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = agent("run", *args, "--json", home=home, env=server.env(**(env or {})), timeout=600)
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert result.returncode == 0, result.stderr[-3000:]
    summary: dict[str, Any] = json.loads(result.stdout)
    assert summary["status"] == "finished", summary
    return summary


def _assert_gates_decided(summary: dict[str, Any]) -> str:
    """Accepted experiments carry only accepting verdicts; the report's results name no other experiment."""
    verdicts = summary["verdicts"]
    for key in summary["accepted"]:
        mine = [v for v in verdicts if v["experiment"] == key]
        assert mine and all(v["decision"] == "accept" for v in mine), (key, mine)
    for key in summary["rejected"]:
        mine = [v for v in verdicts if v["experiment"] == key]
        assert not mine or any(v["decision"] != "accept" for v in mine), (key, mine)
    report = Path(summary["report"]).read_text()
    results = report.split("## Accepted results", 1)[1].split("## Appendix", 1)[0]
    for key in summary["rejected"]:
        assert f"### {key}\n" not in results, key
    return report


def test_the_server_answers_and_structured_output_is_constrained(local_llm: LocalLLM) -> None:
    from pydantic import BaseModel

    class Answer(BaseModel):
        city: str
        population: int

    llm = _client(local_llm)
    completion = llm.complete([Message("user", "Say hello.")], max_tokens=16)
    assert completion.completion_tokens > 0 and completion.seconds > 0
    answer = llm.structured([Message("user", "Name a city and its population.")], Answer, max_tokens=64)
    assert isinstance(answer.population, int)
    # llama.cpp takes a schema with json_object (not OpenAI's json_schema): the client found that out once.
    assert llm.usage.structured_modes == {"json_object": 1}


def test_hill_hypotheses_from_the_model_are_in_the_box_or_replaced(local_llm: LocalLLM) -> None:
    workload = CfdWorkload()
    hill = next(task for task in workload.tasks() if task.id == "cfd/periodic-hill")
    space = workload.search_space(hill)
    assert space is not None
    proposer = LlmHypothesisProposer(_client(local_llm), hill.goal)
    proposals = proposer.propose(space, [], 1, 0.003)
    assert len(proposals) == 1
    for values, why in proposals:
        assert set(values) == {p.name for p in space.parameters}
        assert all(p.low <= values[p.name] <= p.high for p in space.parameters), values
        assert why.startswith("LLM hypothesis: ") or "in place of an LLM hypothesis" in why, why


@pytest.mark.openfoam
@pytest.mark.usefixtures("openfoam", "bubblewrap")
def test_cfd_revise_step_and_write_up(local_llm: LocalLLM, home: Path, tmp_path: Path) -> None:
    task = tmp_path / "strict.yaml"
    task.write_text(
        "extends: cfd/cavity\n"
        "goal: Reproduce Ghia's Re 100 centreline profiles to within the stated error.\n"
        "sweep: {re: [100]}\n"
        "params: {cells: 16, convective_times: 12}\n"
        "gate_options: {comparator: {rmse_max: 0.008}}\n"
        "budget: {experiments: 2, iterations: 2, experiment_seconds: 90, wall_seconds: 400}\n"
    )
    summary = _run(home, local_llm, str(task))
    _assert_gates_decided(summary)
    assert summary["llm_tokens"] > 0
    assert "re=100" in summary["rejected"]  # the strict comparator decided, whatever the model said

    accepted = _run(home, local_llm, "cfd/cavity", "--param", "re=100", "--param", "cells=16")
    report = _assert_gates_decided(accepted)
    assert accepted["accepted"] == ["re=100"] and "## Summary" in report
    assert any(v["gate"] == "write-up" for v in accepted["verdicts"]), accepted["verdicts"]


@pytest.mark.opencl
def test_kernel_proposal(local_llm: LocalLLM, opencl: None, home: Path, tmp_path: Path) -> None:
    params = ["proposer=llm", "edit=rewrite", "evaluations=3", "search=one-plus-one"]
    args = [part for param in params for part in ("--param", param)]
    # A budget bounds the model's time: a small model on 2 cores writes a few dozen tokens a second, and an
    # unbounded rewrite may ask for thousands.
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "LABGATE_LLM_TOKEN_BUDGET": "3000"}
    summary = _run(home, local_llm, "kernels/saxpy", *args, env=env)
    _assert_gates_decided(summary)
    assert summary["llm_tokens"] > 0


@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_proof_drafts_and_corrections_and_a_token_budget_spent_inside(
    local_llm: LocalLLM, home: Path, tmp_path: Path
) -> None:
    task = {
        "id": "proofs/gauss",
        "workload": "proofs",
        "params": {
            "header": "Require Import Arith.\n"
            "Fixpoint sum_to (n : nat) : nat := match n with 0 => 0 | S p => S p + sum_to p end.\n",
            "statement": "Theorem gauss : forall n : nat, 2 * sum_to n = n * (n + 1).",
            "skeletons": "automation",
            # Short replies: the tiny model needs seconds per hundred tokens on a busy machine, and a
            # 2048-token draft could use the whole search's time before any correction is asked for.
            "reply_tokens": 384,
            "seconds": 150,
        },
        "gates": ["proof-check"],
        "budget": {"llm_tokens": 6000},
    }
    task_file = tmp_path / "gauss.json"
    task_file.write_text(json.dumps(task))
    summary = _run(home, local_llm, str(task_file))
    _assert_gates_decided(summary)
    experiment = Path(summary["report"]).parent / "experiments" / "gauss"
    log = [json.loads(line) for line in (experiment / "search-log.jsonl").read_text().splitlines()]
    asked = [entry for entry in log if entry.get("kind") == "llm" and entry.get("action") in ("draft", "revise")]
    assert asked, log
    # A correction call reached the model: a draft failed and the prover's error went back to it.
    revised = [entry for entry in asked if entry["action"] == "revise" and "token budget" not in str(entry["error"])]
    assert revised or summary["accepted"], log
    if summary["accepted"]:  # whatever found it, the proof-check gate re-checked proof.v itself
        assert "Admitted" not in (experiment / "proof.v").read_text()
    spent = [entry for entry in log if entry.get("action") == "stop" and "token budget" in str(entry.get("error"))]
    if spent:  # the run's budget ran out inside the search: the run and its report say so
        assert "stopped early: gauss: stopped asking the model" in summary["reason"]
        assert "stopped asking the model" in Path(summary["report"]).read_text()


def test_planner_call(local_llm: LocalLLM, home: Path) -> None:
    result = agent(
        "plan",
        "--docs",
        str(CORPUS),
        "validate the solver on the lid-driven cavity benchmark of Ghia",
        "--json",
        home=home,
        env=local_llm.env(),
        timeout=300,
    )
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert result.returncode in (0, 1), result.stderr[-3000:]  # a plan, or a refusal naming the closest tasks
    plans = json.loads(result.stdout)
    tasks = {row["id"] for row in json.loads(agent("tasks", "--json", home=home).stdout)}
    assert all(plan["task_id"] in tasks for plan in plans["plans"]), plans
