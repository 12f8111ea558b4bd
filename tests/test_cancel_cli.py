"""`agent cancel` of a run executing in a terminal (`agent run`, no server): it stops promptly.

The run's process notices the cancel in the store, kills its sandboxed solver, marks what was
unfinished cancelled and exits with the run `cancelled`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runs import RunStore
from tests.conftest import REPO, agent, solvers_of, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.openfoam, pytest.mark.usefixtures("openfoam", "bubblewrap")]


def test_cancel_stops_a_cli_run_and_its_solver(home: Path) -> None:
    env = {**os.environ, "LABGATE_HOME": str(home)}
    argv = [sys.executable, "-m", "api.cli", "run", "cfd/cavity", "--param", "re=100"]
    argv += ["--param", "convective_times=2000", "--budget", "1", "--json"]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
    store = RunStore(home)
    try:
        wait_for("the run to be recorded", lambda: bool(store.list_runs()), 60)
        run_id = store.list_runs()[0].id
        wait_for("the solver to start", lambda: bool(solvers_of(run_id)), 120)
        assert [e.status for e in store.experiments(run_id)] == ["running"]

        cancelled = agent("cancel", run_id, home=home, timeout=60)
        assert cancelled.returncode == 0, cancelled.stderr
        start = time.monotonic()
        stdout, stderr = process.communicate(timeout=30)
        assert time.monotonic() - start < 30
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 1, stderr
    summary = json.loads(stdout)
    assert summary["status"] == "cancelled" and summary["run_id"] == run_id
    assert solvers_of(run_id) == []
    experiments = store.experiments(run_id)
    assert experiments and all(e.status == "cancelled" for e in experiments), [e.status for e in experiments]
    assert all(step.status != "running" for step in store.steps(run_id))
    run = store.get_run(run_id)
    assert run.status == "cancelled" and run.finished_at is not None
    stopped = [e for e in store.events(run_id) if e.kind == "cancel"]
    assert stopped and stopped[0].data["stopped"] >= 1
    store.engine.dispose()
