"""`agent cancel` of a run whose process never notices: it is killed after a grace, not left running.

A cancel is noticed by a thread of the executing process; a call that holds the interpreter (one regular
expression match on a hostile kernel reply ran for hours) never lets that thread run, and the run read
`cancelled` while its process went on using a core until killed by hand.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from runs import RunStore, TaskSpec
from tests.conftest import agent

TASK = TaskSpec(id="cfd/cavity", workload="cfd", params={"case": "cavity"})


def _running_run(home: Path, process: subprocess.Popen[bytes]) -> str:
    store = RunStore(home)
    run = store.create_run(TASK)
    store.update_run(run.id, status="running", worker=f"{socket.gethostname()}:{process.pid}")
    store.engine.dispose()
    return run.id


def test_a_cancelled_run_whose_process_never_stops_is_killed(home: Path) -> None:
    stuck = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])  # never reads the store
    try:
        run_id = _running_run(home, stuck)
        cancelled = agent("cancel", run_id, home=home, env={"LABGATE_CANCEL_GRACE_SECONDS": "1"})
        assert cancelled.returncode == 0, cancelled.stderr
        assert f"run {run_id} cancelled" in cancelled.stdout
        assert "did not stop within 1 s of the cancel: killed" in cancelled.stdout
        assert stuck.wait(timeout=10) == -9
        store = RunStore(home)
        run = store.get_run(run_id)
        assert run.status == "cancelled" and run.finished_at is not None
        store.engine.dispose()
    finally:
        stuck.kill()


def test_a_pid_now_naming_another_program_is_never_killed(home: Path) -> None:
    sleep = shutil.which("sleep")
    if sleep is None:
        pytest.skip("no sleep program")
    other = subprocess.Popen([sleep, "600"])  # not labgate's interpreter: a pid reused by another program
    try:
        run_id = _running_run(home, other)
        cancelled = agent("cancel", run_id, home=home, env={"LABGATE_CANCEL_GRACE_SECONDS": "1"})
        assert cancelled.returncode == 0, cancelled.stderr
        assert "killed" not in cancelled.stdout
        assert other.poll() is None
    finally:
        other.kill()
