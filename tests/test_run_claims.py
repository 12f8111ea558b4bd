"""Runs taken for execution by compare-and-set: of several processes approving or resuming one run at once,
exactly one executes it.

`agent approve` read the run's status, then set it running; so did `agent resume` of a queued run (as
`POST /runs` leaves one): two at once both executed the run (two "plan approved" events, every verdict
twice, two processes in one experiment folder). The REST API's own actions already compared and set.
"""

from __future__ import annotations

import json
import multiprocessing
import time
from pathlib import Path
from typing import Any

import pytest

from agents import RunOptions, RunStateError
from api._settings import Settings, build_launcher
from tests.conftest import agent


def _take(action: str, home: str, run_id: str, barrier: Any, results: Any) -> None:
    """In a process of its own (as `agent approve`/`agent resume` are): approve or resume, with an `execute`
    that records itself and then runs on for a while, as a real one would, so the others see it alive."""
    launcher = build_launcher(Settings(home=Path(home)))

    def execute(run: str, reporter: object = None, *, resume: bool = False) -> str:
        results.put(("executed", run))
        time.sleep(3)
        return "ran"

    launcher.execute = execute  # type: ignore[method-assign]
    barrier.wait()
    try:
        results.put(("returned", str(getattr(launcher, action)(run_id))))
    except RunStateError as error:
        results.put(("refused", str(error)))


def _racing(action: str, home: Path, run_id: str, processes: int = 3) -> list[tuple[str, str]]:
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(processes), context.Queue()
    started = [
        context.Process(target=_take, args=(action, str(home), run_id, barrier, results)) for _ in range(processes)
    ]
    for process in started:
        process.start()
    for process in started:
        process.join(120)
    found = []
    while not results.empty():
        found.append(results.get())
    return found


def test_approvals_of_one_paused_run_at_once_execute_it_once(tmp_path: Path) -> None:
    home = tmp_path / "home"
    paused = agent("run", "kernels/saxpy", "--budget", "1", "--approve-plan", "--json", home=home, timeout=300)
    run_id = json.loads(paused.stdout)["run_id"]
    results = _racing("approve", home, run_id)
    assert sorted(kind for kind, _ in results) == ["executed", "refused", "refused", "returned"], results
    store = build_launcher(Settings(home=home)).store
    assert [e.message for e in store.events(run_id) if e.kind == "approval"] == ["plan approved"]


def test_an_approval_after_a_cancel_executes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    paused = agent("run", "kernels/saxpy", "--budget", "1", "--approve-plan", "--json", home=home, timeout=300)
    run_id = json.loads(paused.stdout)["run_id"]
    launcher = build_launcher(Settings(home=home))
    launcher.cancel(run_id)
    with pytest.raises(RunStateError):
        launcher.approve(run_id)
    assert launcher.store.get_run(run_id).status == "cancelled"
    assert not [e for e in launcher.store.events(run_id) if e.kind == "approval"]


def test_resumes_of_one_queued_run_at_once_execute_it_once(tmp_path: Path) -> None:
    home = tmp_path / "home"
    launcher = build_launcher(Settings(home=home))
    run_id = launcher.submit(launcher.catalog.get("kernels/saxpy"), RunOptions())
    results = _racing("resume", home, run_id)
    assert sorted(kind for kind, _ in results) == ["executed", "refused", "refused", "returned"], results
