"""Model calls made on a Ray worker are accounted on the run like local ones, within the run's token budget."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from runs import RunStore
from tests.conftest import agent, require_tool
from tools.kernels import SUITE


def _ray() -> None:
    try:
        import ray  # noqa: F401
    except ImportError:
        require_tool(False, "Ray (pip install 'labgate[ray]')")


@pytest.mark.slow
@pytest.mark.opencl
def test_calls_on_a_ray_worker_reach_the_runs_events_and_totals(opencl: None, home: Path, tmp_path: Path) -> None:
    _ray()
    from tests.llm_server import Reply, Rule, ScriptedLLMServer

    kernel = SUITE["saxpy"].seed.replace("//@params LOCAL=64 VEC=1", "//@params LOCAL=128 VEC=1")
    rules = [
        Rule("You optimise OpenCL C kernels", [Reply(content=f"Larger groups.\n```c\n{kernel}```\n")]),
        Rule("Write a short summary", [Reply(content="The search kept the seed's arithmetic.")]),
    ]
    with ScriptedLLMServer(rules) as server:
        env = {
            "XDG_CACHE_HOME": str(tmp_path / "cache"),
            "LABGATE_LLM_BASE_URL": server.url,
            "LABGATE_LLM_MODEL": "kernel-writer",
        }
        params = ["proposer=llm", "edit=rewrite", "evaluations=3", "search=one-plus-one"]
        args = [item for param in params for item in ("--param", param)]
        result = agent("run", "kernels/saxpy", *args, "--executor", "ray", "--json", home=home, env=env, timeout=600)
        kernel_calls = sum("You optimise OpenCL C kernels" in json.dumps(r["body"]) for r in server.requests)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    store = RunStore(home)
    [experiment] = store.experiments(summary["run_id"])
    assert "ray_node" in experiment.outcome["info"]["executor"]
    calls = [event for event in store.events(summary["run_id"]) if event.kind == "llm" and "purpose" in event.data]
    proposer = [event for event in calls if event.data["purpose"] == "proposer"]
    assert kernel_calls > 0 and len(proposer) == kernel_calls, (kernel_calls, [e.message for e in calls])
    recorded = sum(event.data["prompt_tokens"] + event.data["completion_tokens"] for event in calls)
    assert store.get_run(summary["run_id"]).llm_tokens == recorded > 0


def test_parallel_jobs_share_what_is_left_of_the_token_budget(tmp_path: Path) -> None:
    """Jobs on other machines cannot see each other's spending, so each gets an even share of the rest."""
    from agents.executors._ray import RayExecutor
    from agents.llm import LLMConfig
    from runs import Budget, TaskSpec

    store = RunStore(tmp_path / "home")
    task = TaskSpec(id="kernels/saxpy", workload="kernels", params={"kernel": "saxpy"}, budget=Budget(llm_tokens=1000))
    run = store.create_run(task)
    store.add_llm_usage(run.id, 400, 0.0)
    executor = object.__new__(RayExecutor)
    executor.llm = LLMConfig(base_url="http://127.0.0.1:9/v1", model="m", token_budget=50_000)
    context = cast(Any, SimpleNamespace(task=task, store=store, run_id=run.id))
    shared = executor._job_llm(context, 3)
    assert shared is not None and shared.token_budget == 200
    unlimited = TaskSpec(id="kernels/saxpy", workload="kernels", params={"kernel": "saxpy"})
    executor.llm = LLMConfig(base_url="http://127.0.0.1:9/v1", model="m")
    context = cast(Any, SimpleNamespace(task=unlimited, store=store, run_id=run.id))
    job = executor._job_llm(context, 3)
    assert job is not None and job.token_budget == 0
