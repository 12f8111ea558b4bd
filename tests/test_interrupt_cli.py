"""Ctrl-C, SIGTERM and SIGHUP while `agent run` executes in a terminal stop the run, and `agent resume` ends it.

Before, Ctrl-C unwound the main thread while the experiment threads ran their solvers to the end, the
renderer beside the run printed a KeyboardInterrupt traceback, and the run stayed `running` with no word
of what to do; SIGTERM and SIGHUP killed the process the same. Now the solver stops within seconds, the
run says how to continue, and a second signal quits at once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from agents import interrupt_run
from agents._context import interrupt_handled
from api.cli._interrupt import signals_interrupt
from runs import RunStore, TaskSpec
from tests.conftest import REPO, agent, solvers_of, wait_for


def _interrupted(run_id: str) -> bool:
    from agents._context import _INTERRUPTED

    return run_id in _INTERRUPTED


def test_the_first_signal_interrupts_the_run_and_the_handlers_are_put_back(home: Path) -> None:
    run_id = RunStore(home).create_run(TaskSpec(id="cfd/cavity", workload="cfd", params={"case": "cavity"})).id
    before = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        with signals_interrupt(run_id) as interruption:
            os.kill(os.getpid(), signal.SIGTERM)
            wait_for("the interrupt", lambda: _interrupted(run_id), 10)
        assert interruption.received == signal.SIGTERM
        assert {number: signal.getsignal(number) for number in before} == before
    finally:
        interrupt_handled(run_id)


def test_a_signal_the_shell_ignores_stays_ignored() -> None:
    """`nohup agent run ...` must survive the terminal closing: an ignored SIGHUP is left ignored."""
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with signals_interrupt("ignored-run") as interruption:
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
            os.kill(os.getpid(), signal.SIGHUP)
            time.sleep(0.5)
        assert interruption.received is None and not _interrupted("ignored-run")
    finally:
        signal.signal(signal.SIGHUP, previous)


def test_outside_the_main_thread_nothing_is_installed() -> None:
    seen: list[object] = []

    def enter() -> None:
        with signals_interrupt("thread-run"):
            seen.append(signal.getsignal(signal.SIGINT))

    thread = threading.Thread(target=enter)
    thread.start()
    thread.join()
    assert seen == [signal.getsignal(signal.SIGINT)]


def test_an_interrupt_is_this_processes_own_and_is_forgotten_once_handled() -> None:
    interrupt_run("run-a")
    try:
        assert _interrupted("run-a") and not _interrupted("run-b")
    finally:
        interrupt_handled("run-a")
    assert not _interrupted("run-a")


def _agent_run(home: Path, *extra: str) -> subprocess.Popen[str]:
    """`agent run` in a process group of its own, as a terminal's foreground job.

    A signal the tests' own process ignores (started under `nohup`, or in the background of a shell) would
    stay ignored in the child, as it should for a user's own `nohup agent run`; so while the child starts,
    these signals are given their default dispositions here (a handled one becomes the default in a child)."""
    argv = [sys.executable, "-m", "api.cli", "run", "cfd/cavity", "--param", "re=100", "--budget", "1", "--json"]
    defaults = {
        signal.SIGINT: signal.default_int_handler,
        signal.SIGTERM: signal.SIG_DFL,
        signal.SIGHUP: signal.SIG_DFL,
    }
    previous = {number: signal.signal(number, handler) for number, handler in defaults.items()}
    try:
        return subprocess.Popen(
            [*argv, *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "LABGATE_HOME": str(home)},
            cwd=REPO,
            start_new_session=True,
        )
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _interrupt(
    home: Path, signals: list[signal.Signals], *, group: bool, extra: tuple[str, ...] = ()
) -> tuple[int, str, str, str]:
    process = _agent_run(home, *extra)
    store = RunStore(home)
    try:
        wait_for("the run to be recorded", lambda: bool(store.list_runs()), 60)
        run_id = store.list_runs()[0].id
        wait_for("the solver to start", lambda: bool(solvers_of(run_id)), 120)
        for number in signals:
            os.killpg(process.pid, number) if group else os.kill(process.pid, number)
            time.sleep(0.3)
        stdout, stderr = process.communicate(timeout=30)
        return process.returncode, stdout, stderr, run_id
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


@pytest.mark.slow
@pytest.mark.openfoam
@pytest.mark.usefixtures("openfoam", "bubblewrap")
def test_ctrl_c_stops_the_run_and_resume_finishes_it(home: Path) -> None:
    code, stdout, stderr, run_id = _interrupt(home, [signal.SIGINT], group=True)
    assert code == 130, stderr
    assert f"SIGINT: stopping run {run_id}; `agent resume {run_id}` continues it" in stderr
    assert "Traceback" not in stderr, stderr  # the renderer beside the run ignores the terminal's signals
    summary = json.loads(stdout)
    assert summary["status"] == "running" and f"agent resume {run_id}" in summary["reason"]
    assert solvers_of(run_id) == []
    resumed = agent("resume", run_id, "--json", home=home, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["status"] == "finished"
    store = RunStore(home)
    assert [(e.key, e.status, e.decision) for e in store.experiments(run_id)] == [("re=100", "completed", "accept")]
    assert any(event.kind == "interrupted" for event in store.events(run_id))


@pytest.mark.slow
@pytest.mark.openfoam
@pytest.mark.usefixtures("openfoam", "bubblewrap")
@pytest.mark.parametrize(("number", "group"), [(signal.SIGTERM, False), (signal.SIGHUP, True)], ids=["term", "hup"])
def test_sigterm_and_a_closed_terminal_stop_the_run_the_same(home: Path, number: signal.Signals, group: bool) -> None:
    code, stdout, stderr, run_id = _interrupt(home, [number], group=group, extra=("--param", "convective_times=2000"))
    assert code == 130, stderr
    assert f"{number.name}: stopping run {run_id}" in stderr and "Traceback" not in stderr
    assert json.loads(stdout)["status"] == "running"
    assert solvers_of(run_id) == []


@pytest.mark.slow
@pytest.mark.openfoam
@pytest.mark.usefixtures("openfoam", "bubblewrap")
def test_a_second_ctrl_c_quits_at_once_and_the_run_still_resumes(home: Path) -> None:
    code, stdout, stderr, run_id = _interrupt(
        home, [signal.SIGINT, signal.SIGINT], group=True, extra=("--param", "convective_times=2000")
    )
    assert code == 130, stderr
    assert f"SIGINT again: quit; `agent resume {run_id}` continues the run" in stderr
    assert stdout == ""
    assert solvers_of(run_id) == [], "the solver's sandbox dies with the process"
    store = RunStore(home)
    assert store.get_run(run_id).status == "running"
    assert [e.status for e in store.experiments(run_id)] == ["running"]  # as a killed process leaves it
    cancelled = agent("cancel", run_id, home=home, timeout=60)  # a run left so can still be ended, wholly
    assert cancelled.returncode == 0, cancelled.stderr
    run = store.get_run(run_id)
    assert run.status == "cancelled" and run.finished_at is not None
    assert [e.status for e in store.experiments(run_id)] == ["cancelled"]
    assert all(step.status != "running" for step in store.steps(run_id))
