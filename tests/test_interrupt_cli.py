"""Ctrl-C, SIGTERM and SIGHUP while `agent run` executes in a terminal cancel the run, as `agent cancel` does.

Before, Ctrl-C unwound the main thread while the experiment threads ran their solvers to the end, the
renderer beside the run printed a KeyboardInterrupt traceback, and the run stayed `running`; SIGTERM and
SIGHUP killed the process with the run the same. A second signal stops the process at once.
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

from api.cli._interrupt import signals_cancel
from runs import RunStore, TaskSpec
from tests.conftest import REPO
from tests.test_cancel_cli import _solvers_of, _wait_for


@pytest.fixture
def store(home: Path) -> RunStore:
    return RunStore(home)


def _queued(store: RunStore) -> str:
    run = store.create_run(TaskSpec(id="cfd/cavity", workload="cfd", params={"case": "cavity"}))
    store.set_status(run.id, "running")
    return run.id


def test_the_first_signal_cancels_the_run_in_the_store_and_the_handlers_are_put_back(store: RunStore) -> None:
    run_id = _queued(store)
    before = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    with signals_cancel(store, run_id) as interruption:
        os.kill(os.getpid(), signal.SIGTERM)
        _wait_for("the cancel", lambda: store.get_run(run_id).status == "cancelled", 10)
    assert interruption.received == signal.SIGTERM
    assert {number: signal.getsignal(number) for number in before} == before


def test_a_signal_the_shell_ignores_stays_ignored(store: RunStore) -> None:
    """`nohup agent run ...` must survive the terminal closing: an ignored SIGHUP is left ignored."""
    run_id = _queued(store)
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with signals_cancel(store, run_id) as interruption:
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
            os.kill(os.getpid(), signal.SIGHUP)
            time.sleep(0.5)
        assert interruption.received is None and store.get_run(run_id).status == "running"
    finally:
        signal.signal(signal.SIGHUP, previous)


def test_outside_the_main_thread_nothing_is_installed(store: RunStore) -> None:
    run_id = _queued(store)
    seen: list[object] = []

    def enter() -> None:
        with signals_cancel(store, run_id):
            seen.append(signal.getsignal(signal.SIGINT))

    thread = threading.Thread(target=enter)
    thread.start()
    thread.join()
    assert seen == [signal.getsignal(signal.SIGINT)]


def _agent_run(home: Path) -> subprocess.Popen[str]:
    """`agent run` in a process group of its own, as a terminal's foreground job.

    A handled SIGINT becomes the default in the child; an ignored one (tests started in the background of
    a shell) would stay ignored, as it should for the user's own background jobs, so it is handled here."""
    argv = [sys.executable, "-m", "api.cli", "run", "cfd/cavity", "--param", "re=100"]
    argv += ["--param", "convective_times=2000", "--budget", "1", "--json"]
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "LABGATE_HOME": str(home)},
            cwd=REPO,
            start_new_session=True,
        )
    finally:
        signal.signal(signal.SIGINT, previous)


def _interrupt(home: Path, signals: list[signal.Signals], *, group: bool) -> tuple[int, str, str, str, float]:
    process = _agent_run(home)
    store = RunStore(home)
    try:
        _wait_for("the run to be recorded", lambda: bool(store.list_runs()), 60)
        run_id = store.list_runs()[0].id
        _wait_for("the solver to start", lambda: bool(_solvers_of(run_id)), 120)
        started = time.monotonic()
        for number in signals:
            os.killpg(process.pid, number) if group else os.kill(process.pid, number)
            time.sleep(0.3)
        stdout, stderr = process.communicate(timeout=30)
        return process.returncode, stdout, stderr, run_id, time.monotonic() - started
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


@pytest.mark.slow
@pytest.mark.openfoam
@pytest.mark.usefixtures("openfoam", "bubblewrap")
@pytest.mark.parametrize(
    ("signals", "group"),
    [([signal.SIGINT], True), ([signal.SIGTERM], False), ([signal.SIGHUP], True)],
    ids=["ctrl-c", "sigterm", "sighup"],
)
def test_a_signal_cancels_a_cli_run_and_stops_its_solver(
    home: Path, signals: list[signal.Signals], group: bool
) -> None:
    code, stdout, stderr, run_id, seconds = _interrupt(home, signals, group=group)
    assert code == 130, stderr
    assert seconds < 30
    assert f"{signals[0].name}: cancelling run {run_id}" in stderr
    assert "Traceback" not in stderr, stderr  # the renderer beside the run ignores the terminal's signals
    summary = json.loads(stdout)
    assert summary["status"] == "cancelled" and summary["run_id"] == run_id
    assert _solvers_of(run_id) == []
    store = RunStore(home)
    assert store.get_run(run_id).status == "cancelled"
    assert [e.status for e in store.experiments(run_id)] == ["cancelled"]
    assert all(step.status != "running" for step in store.steps(run_id))


@pytest.mark.slow
@pytest.mark.openfoam
@pytest.mark.usefixtures("openfoam", "bubblewrap")
def test_a_second_ctrl_c_stops_at_once(home: Path) -> None:
    code, stdout, stderr, run_id, _ = _interrupt(home, [signal.SIGINT, signal.SIGINT], group=True)
    assert code == 130, stderr
    assert f"SIGINT again: run {run_id} stopped at once" in stderr
    assert stdout == ""
    assert _solvers_of(run_id) == [], "the solver's sandbox dies with the process"
    store = RunStore(home)
    assert store.get_run(run_id).status == "cancelled"
    assert [e.status for e in store.experiments(run_id)] == ["cancelled"]
