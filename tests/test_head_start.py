"""A new run's first batch starts while the orchestrator graph is still being built (agents/_head_start.py).

Each test holds `Orchestrator.build` (where LangGraph is imported) until it sees what the head start did,
so a run that waited for the graph before planning would fail them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agents import RunLauncher, RunOptions
from agents._context import _INTERRUPTED
from agents._graph import Orchestrator
from agents._head_start import HeadStart
from api._settings import Settings, build_catalog
from runs import RunStore
from tools import apply_overrides

TINY = ["cells=8", "convective_times=0.5", "snapshots=1"]


def _launcher(home: Path) -> tuple[RunStore, RunLauncher]:
    store = RunStore(home)
    return store, RunLauncher(store, build_catalog(Settings(home=home)))


def _hold_build(monkeypatch: pytest.MonkeyPatch, until: Callable[[Orchestrator], Any], then: str = "build") -> dict:
    """Orchestrator.build waits (60 s at most) for `until(orchestrator)`, records what it saw, then builds or fails."""
    seen: dict[str, Any] = {}
    real_build = Orchestrator.build

    def build(self: Orchestrator, checkpointer: Any = None) -> Any:
        deadline = time.monotonic() + 60
        while not (found := until(self)) and time.monotonic() < deadline:
            time.sleep(0.05)
        seen["while building"] = found
        if then == "fail":
            raise RuntimeError("the graph could not be built")
        return real_build(self, checkpointer)

    monkeypatch.setattr(Orchestrator, "build", build)
    return seen


@pytest.mark.openfoam
@pytest.mark.usefixtures("openfoam", "bubblewrap")
def test_the_first_batch_runs_while_the_graph_is_being_built(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, launcher = _launcher(home)
    seen = _hold_build(
        monkeypatch, lambda orchestrator: [e.status for e in store.experiments(orchestrator.context.run_id)]
    )
    task = apply_overrides(launcher.catalog.load("cfd/cavity"), params=["re=100,400", *TINY], budget_experiments=2)
    run_id = launcher.submit(task, RunOptions())
    summary = launcher.execute(run_id)
    assert seen["while building"], "no experiment had started before the graph was built"
    assert summary.status == "finished"
    assert sorted(e.key for e in store.experiments(run_id)) == ["re=100", "re=400"]
    # The graph took the head start's results: one plan, one dispatch, each recorded once, in order.
    names = [s.name for s in store.steps(run_id)]
    assert names.count("plan") == 1 and names.count("dispatch") == 1
    assert names.index("plan") < names.index("dispatch") < names.index("gates")
    assert sum(1 for e in store.events(run_id) if e.kind == "plan") == 1


@pytest.mark.openfoam
@pytest.mark.usefixtures("openfoam", "bubblewrap")
def test_a_graph_that_cannot_be_built_stops_the_batch_it_started(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The solver the head start launched is stopped, not left to run, and no outcome of it is recorded."""
    store, launcher = _launcher(home)
    running = lambda orchestrator: any(  # noqa: E731 - a condition read by the held build
        e.status == "running" for e in store.experiments(orchestrator.context.run_id)
    )
    seen = _hold_build(monkeypatch, running, then="fail")
    # A case that runs for minutes: it can end only by being stopped.
    task = apply_overrides(launcher.catalog.load("cfd/cavity"), params=["re=100", "cells=64", "convective_times=200"])
    run_id = launcher.submit(task, RunOptions())
    started = time.monotonic()
    summary = launcher.execute(run_id)
    assert seen["while building"]
    assert time.monotonic() - started < 60
    assert summary.status == "failed"
    assert "the graph could not be built" in (store.get_run(run_id).reason or "")
    assert [e.status for e in store.experiments(run_id)] != ["completed"]
    assert run_id not in _INTERRUPTED  # the stop was this run's own, and is released
    assert not [t for t in threading.enumerate() if t.name == "labgate-head-start"]


def test_an_error_of_the_head_start_is_raised_where_its_node_takes_the_result() -> None:
    def plan(state: dict) -> dict:
        return {"queue": [1]}

    def dispatch(state: dict) -> dict:
        raise ValueError(f"dispatch failed after {state}")

    head = HeadStart(plan, dispatch, {}).start()
    assert head.planned() == {"queue": [1]}
    with pytest.raises(ValueError, match=r"dispatch failed after \{'queue': \[1\]\}"):
        head.dispatched()

    def failing_plan(state: dict) -> dict:
        raise LookupError("no plan")

    head = HeadStart(failing_plan, dispatch, {}).start()
    with pytest.raises(LookupError, match="no plan"):
        head.planned()


def test_an_abandoned_head_start_is_stopped_and_awaited() -> None:
    stop_asked = threading.Event()
    order: list[str] = []

    def plan(state: dict) -> dict:
        return {}

    def dispatch(state: dict) -> dict:
        stop_asked.wait(30)
        order.append("dispatch returned")
        return {}

    head = HeadStart(plan, dispatch, {}).start()
    head.planned()
    head.abandon(stop=lambda: (order.append("stop"), stop_asked.set()), release=lambda: order.append("release"))
    assert order == ["stop", "dispatch returned", "release"]

    taken = HeadStart(plan, lambda state: {"done": True}, {}).start()
    assert taken.dispatched() == {"done": True}
    taken.abandon(stop=lambda: order.append("must not stop"), release=lambda: order.append("must not release"))
    assert order == ["stop", "dispatch returned", "release"]


def test_a_plan_made_before_the_process_ended_is_kept_when_the_run_resumes(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process can end after the head start planned and before the graph checkpointed the plan: the
    resumed run's plan node keeps the recorded plan (its notes too) instead of planning again."""
    from agents._context import RunContext

    store, launcher = _launcher(home)
    task = apply_overrides(launcher.catalog.load("cfd/cavity"), params=["re=100,400,1000"], budget_experiments=2)
    run_id = launcher.submit(task, RunOptions())
    workload = launcher.catalog.workload_for(task)
    context = RunContext(store=store, run_id=run_id, task=task, workload=workload, sandbox_factory=lambda *_: None)  # type: ignore[arg-type]
    first = Orchestrator(context)._plan({})
    assert [spec["key"] for spec in first["queue"]] == ["re=100", "re=400"]
    assert any("the budget allows 2" in note for note in first["notes"])

    def plan_again(task: object) -> list[object]:
        raise AssertionError("the run planned again")

    monkeypatch.setattr(workload, "plan", plan_again)
    again = Orchestrator(context)._plan({})  # the resumed process's plan node
    assert again == first
    assert [step.name for step in store.steps(run_id)] == ["plan"]
