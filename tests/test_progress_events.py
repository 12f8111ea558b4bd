"""Live solver progress: the tail parser on a log being written, the watcher's rate limit and its end, and a
real cavity run that announces its simulated time and residuals while icoFoam runs."""

from __future__ import annotations

import json
import math
import os
import threading
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from agents.cfd_search import CfdSearchProposer, SolverWatcher, solver_log_of
from runs import ExperimentSpec, TaskSpec, UntrustedFileError
from sandboxes import LocalSandbox
from tools import SandboxFactory, Workload
from tools.cfd import CfdWorkload, SolverProgress, parse_progress, read_solver_progress

FIXTURE = Path(__file__).parent / "data" / "solver_logs" / "log.icoFoam.running"


def test_the_tail_of_a_running_log_gives_time_step_and_latest_residuals() -> None:
    progress = parse_progress(FIXTURE.read_text())
    assert progress.time == 0.005 and progress.delta_t == 0.00125 and not progress.ended
    # The step being written has solved Ux only: Uy and p come from the step before (their first solve).
    assert progress.residuals == {"Ux": 0.1204117235, "Uy": 0.1922752591, "p": 0.05817533807}
    assert progress.courant_max == pytest.approx(0.02824540248)
    assert progress.summary().startswith("t = 0.005, Δt = 0.00125, Courant max 0.0282, residuals Ux 0.12, Uy 0.192")
    assert json.loads(json.dumps(progress.data(), allow_nan=False))["residuals"]["p"] == 0.05817533807


def test_only_the_end_of_a_large_log_is_read_and_a_cut_first_line_is_dropped(tmp_path: Path) -> None:
    case = tmp_path / "case"
    case.mkdir()
    text = FIXTURE.read_text()
    (case / "log.icoFoam").write_text("x" * (4 << 20) + "\n" + text)
    progress = read_solver_progress(case / "log.icoFoam", within=case, max_bytes=2000)
    assert progress is not None and progress.time == 0.005 and progress.residuals["Ux"] == 0.1204117235
    # A tail starting mid-line ("...Solving for Ux, Initial residual = 0.5...") must not read as a solve.
    cut = parse_progress(
        "olving for Uy, Initial residual = 0.5, Final residual = 0.1, No Iterations 1\nTime = 2\n", cut=True
    )
    assert cut.time == 2 and cut.residuals == {}
    assert read_solver_progress(case / "log.missing", within=case) is None


def test_an_ended_or_diverged_log_says_so_with_json_safe_values(tmp_path: Path) -> None:
    ended = parse_progress(FIXTURE.read_text() + "ExecutionTime = 0.02 s  ClockTime = 0 s\n\nEnd\n")
    assert ended.ended and ended.execution_seconds == 0.02
    diverged = parse_progress(
        "Time = 0.1\ndeltaT = 0.002\nsmoothSolver:  Solving for Ux, Initial residual = nan, Final residual = nan, "
        "No Iterations 1000\n#0  Foam::error::printStack(Foam::Ostream&)\nsigFpe::sigHandler(int)\n"
    )
    assert diverged.ended and diverged.delta_t == 0.002 and diverged.residuals == {"Ux": None}
    assert "Ux non-finite" in diverged.summary()
    json.dumps(diverged.data(), allow_nan=False)


def test_a_linked_log_is_refused_and_stops_the_watcher(tmp_path: Path) -> None:
    case = tmp_path / "case"
    case.mkdir()
    secret = tmp_path / "secret"
    secret.write_text("Time = 1\n")
    os.symlink(secret, case / "log.icoFoam")
    with pytest.raises(UntrustedFileError, match="link"):
        read_solver_progress(case / "log.icoFoam", within=case)
    os.mkfifo(case / "log.simpleFoam")  # opened without waiting for a writer, then refused
    with pytest.raises(UntrustedFileError, match="FIFO"):
        read_solver_progress(case / "log.simpleFoam", within=case)
    reported: list[SolverProgress] = []
    watcher = SolverWatcher(case, "log.icoFoam", reported.append, interval=0.05)
    watcher.start()
    time.sleep(0.3)
    watcher.stop()
    assert reported == [] and "symbolic link" in watcher.refusal


def test_the_watcher_reports_at_most_once_per_interval_and_stops_at_the_end_of_the_log(tmp_path: Path) -> None:
    case = tmp_path / "case"
    case.mkdir()
    log = case / "log.icoFoam"
    log.write_text("")
    reported: list[tuple[float, SolverProgress]] = []
    watcher = SolverWatcher(case, "log.icoFoam", lambda p: reported.append((time.monotonic(), p)), interval=0.3)

    def solver() -> None:  # a step every 20 ms, then End
        with log.open("a") as handle:
            for step in range(1, 61):
                handle.write(
                    f"Time = {step * 0.01:g}\n\nsmoothSolver:  Solving for Ux, Initial residual = {1 / step:g}, "
                    "Final residual = 1e-06, No Iterations 2\n"
                )
                handle.flush()
                time.sleep(0.02)
            handle.write("End\n")

    writer = threading.Thread(target=solver)
    writer.start()
    watcher.start()
    writer.join()
    time.sleep(1.0)  # the watcher sees End, reports it, and stops by itself
    assert not watcher.watching
    watcher.stop()
    assert 2 <= len(reported) <= 6
    gaps = [b[0] - a[0] for a, b in pairwise(reported)]
    assert all(gap >= 0.25 for gap in gaps), gaps
    times = [p.time for _, p in reported]
    assert times == sorted(times) and reported[-1][1].ended and reported[-1][1].time == pytest.approx(0.6)


class RecordingExecution:
    """What a run gives an experiment, with `emit` recording each event and when it came."""

    def __init__(self, task: TaskSpec) -> None:
        self._task = task
        self._workload = CfdWorkload()
        self.events: list[tuple[float, str, str, dict[str, Any]]] = []

    @property
    def task(self) -> TaskSpec:
        return self._task

    @property
    def workload(self) -> Workload:
        return self._workload

    @property
    def sandbox_factory(self) -> SandboxFactory:
        return lambda where: LocalSandbox(workdir=where)

    @property
    def llm(self) -> None:
        return None

    def emit(self, kind: str, message: str, **data: Any) -> None:
        self.events.append((time.monotonic(), kind, message, data))

    def should_stop(self) -> bool:
        return False

    def remaining_seconds(self) -> float:
        return 600.0


def test_solver_log_is_only_named_for_a_cfd_case() -> None:
    spec = ExperimentSpec(key="x", task_id="cfd/cavity", params={"case": "cavity"})
    assert solver_log_of(CfdWorkload(), spec) == "log.icoFoam"
    assert solver_log_of(CfdWorkload(), spec.model_copy(update={"params": {"case": "nonsense"}})) is None


@pytest.mark.slow
@pytest.mark.openfoam
@pytest.mark.usefixtures("openfoam", "bubblewrap")
def test_a_real_cavity_run_announces_time_and_residuals_while_icofoam_runs(tmp_path: Path) -> None:
    params = {"case": "cavity", "re": 100, "cells": 16, "convective_times": 200, "courant": 0.2}
    task = TaskSpec(id="cfd/cavity", workload="cfd", params=params)
    execution = RecordingExecution(task)
    spec = ExperimentSpec(key="re=100", task_id=task.id, params=params)
    outcome = CfdSearchProposer().run_experiment(execution, spec, tmp_path / "experiment")
    returned = time.monotonic()
    assert outcome.status == "completed", outcome.error
    progress = [(at, message, data) for at, kind, message, data in execution.events if kind == "progress"]
    assert progress, "no progress event while the solver ran"
    for _, message, data in progress:
        assert data["key"] == "re=100" and data["solver_log"] == "log.icoFoam"
        assert isinstance(data["time"], float) and 0 < data["time"] <= 20.0 + 1e-9
        assert set(data["residuals"]) >= {"Ux", "Uy", "p"} and all(
            isinstance(v, float) and math.isfinite(v) for v in data["residuals"].values()
        )
        assert message.startswith("re=100: t = ") and "residuals Ux" in message
        json.dumps(data, allow_nan=False)
    gaps = [b[0] - a[0] for a, b in pairwise(progress)]
    assert all(gap >= 1.9 for gap in gaps), gaps
    assert all(at <= returned for at, _, _ in progress)
    time.sleep(2.5)
    assert len([e for e in execution.events if e[1] == "progress"]) == len(progress)  # nothing after the solver


def test_frequent_progress_events_never_crowd_the_run_page(tmp_path: Path) -> None:
    """Thousands of progress events (a long solver run) leave the page's event list, newest progress and stream
    position right: the list holds the run's other events, the progress shown is the newest."""
    from api.web._views import MAX_LISTED_EVENTS, run_page
    from runs import RunStore, TaskSpec

    store = RunStore(tmp_path / "home")
    run = store.create_run(TaskSpec(id="cfd/busy", workload="cfd", params={"case": "cavity"}))
    store.emit(run.id, "status", "run started", {"status": "running"})
    for step in range(MAX_LISTED_EVENTS + 300):
        store.emit(run.id, "progress", f"re=100: t = {step}", {"key": "re=100", "summary": f"t = {step}"})
        if step % 1000 == 0:
            store.emit(run.id, "llm", "planner call", {"node": "planner", "prompt_tokens": 1})
    last = store.emit(run.id, "experiment", "re=100: completed", {"key": "re=100"})
    page = run_page(store, run.id)
    kinds = [event.kind for event in page["events"]]
    assert kinds == ["status", "experiment"]
    assert page["progress"]["re=100"].summary == f"t = {MAX_LISTED_EVENTS + 299}"
    assert page["last_event_id"] == last.id
    store.engine.dispose()
