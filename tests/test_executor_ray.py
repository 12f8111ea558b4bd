"""Experiments dispatched to Ray: a local instance, a cluster started by `ray start`, a worker killed mid-run."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from runs import RunStore
from tests.conftest import REPO, agent, require_tool, solvers_of, wait_for

# The sweep and the cancel run in the fast lane (about 30 s together): a race in how a run starts its first batch
# on Ray failed two runs in three and only a real Ray run shows such things. The rest start clusters or kill
# workers by name, and stay in the slow lane.
pytestmark = [pytest.mark.openfoam, pytest.mark.usefixtures("openfoam", "bubblewrap")]

SWEEP = ["run", "cfd/cavity", "--param", "re=100", "--param", "cells=24,32", "--executor", "ray", "--json"]


@pytest.fixture(autouse=True)
def _ray_installed() -> None:
    try:
        import ray  # noqa: F401
    except ImportError:
        require_tool(False, "Ray (pip install 'labgate[ray]')")


def _workers() -> list[int]:
    found = subprocess.run(["pgrep", "-f", "ray::execute_job"], capture_output=True, text=True, check=False)
    return [int(pid) for pid in found.stdout.split()]


def test_sweep_through_a_local_ray_instance(home: Path) -> None:
    result = agent(*SWEEP, home=home, timeout=300)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert sorted(summary["accepted"]) == ["cells=24_re=100", "cells=32_re=100"]
    store = RunStore(home)
    run = store.get_run(summary["run_id"])
    assert run.environment["executor"] == "ray" and run.environment["cpus"] >= 1
    for experiment in store.experiments(run.id):
        assert "ray_node" in experiment.outcome["info"]["executor"]
        assert len(store.verdicts(run.id, experiment.id)) == 3
        # The worker's files came back to the head: gates read them, artifacts point at them.
        assert (Path(experiment.workdir) / "case" / "log.icoFoam").is_file()


@pytest.mark.slow
def test_a_worker_killed_mid_experiment_is_survived(home: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", *SWEEP[:5], "cells=48,56", *SWEEP[6:]],
        cwd=REPO,
        env={**os.environ, "LABGATE_HOME": str(home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    killed = None
    deadline = time.monotonic() + 120
    while killed is None and time.monotonic() < deadline and process.poll() is None:
        workers = _workers()
        if workers:
            time.sleep(1.0)  # let the experiment get well under way
            os.kill(workers[0], signal.SIGKILL)
            killed = workers[0]
        time.sleep(0.1)
    stdout, stderr = process.communicate(timeout=300)
    assert killed is not None, "no Ray worker was seen executing an experiment"
    assert process.returncode == 0, stderr
    summary = json.loads(stdout)
    assert sorted(summary["accepted"]) == ["cells=48_re=100", "cells=56_re=100"]
    store = RunStore(home)
    experiments = store.experiments(summary["run_id"])
    assert len(experiments) == 2
    assert [len(store.verdicts(summary["run_id"], e.id)) for e in experiments] == [3, 3]


@pytest.mark.parametrize("stop", ["cancel", "interrupt"])
def test_a_cancel_stops_a_ray_run_and_its_solver_while_it_runs(home: Path, stop: str) -> None:
    # One long case: nothing ends on its own for minutes, so only the executor's own watch can stop it.
    argv = [sys.executable, "-m", "api.cli", "run", "cfd/cavity", "--param", "re=100"]
    argv += ["--param", "convective_times=2000", "--budget", "1", "--executor", "ray", "--json"]
    env = {**os.environ, "LABGATE_HOME": str(home)}
    process = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    store = RunStore(home)
    try:
        wait_for("the run to be recorded", lambda: bool(store.list_runs()), 60)
        run_id = store.list_runs()[0].id
        wait_for("the solver to start on a Ray worker", lambda: bool(solvers_of(run_id)), 180)
        if stop == "cancel":
            cancelled = agent("cancel", run_id, home=home, timeout=60)
            assert cancelled.returncode == 0, cancelled.stderr
        else:
            process.send_signal(signal.SIGINT)
        start = time.monotonic()
        stdout, stderr = process.communicate(timeout=60)
        assert time.monotonic() - start < 30, "the run went on after the cancel"
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert solvers_of(run_id) == []  # the worker was killed, and the sandbox's command with it
    run = store.get_run(run_id)
    events = [e for e in store.events(run_id) if e.kind == "cancel"]
    assert events and events[0].data["stopped"] == 1, [e.message for e in store.events(run_id)]
    experiments = store.experiments(run_id)
    if stop == "cancel":
        assert process.returncode == 1, stderr
        assert json.loads(stdout)["status"] == "cancelled"
        assert run.status == "cancelled" and run.finished_at is not None
        assert experiments and all(e.status == "cancelled" for e in experiments), [e.status for e in experiments]
    else:
        # An interrupted run is left to `agent resume`: what was unfinished stays to be run again.
        assert run.status == "running" and "interrupted" in run.reason, (run.status, run.reason, stderr)
        assert all(e.status != "accepted" for e in experiments)
    store.engine.dispose()


def _stop_cluster(temp_dir: Path) -> None:
    """End the processes of the cluster whose files are under `temp_dir`, and only those.

    `ray stop --force` ends every Ray process on the machine, another test worker's instance too. Each of the
    cluster's own processes names its session directory on its command line or keeps its log files there open
    (the agents rename themselves, `ray::DashboardAgent`); its workers end with its raylet.
    """
    marker = str(temp_dir)

    def belongs(process: Path) -> bool:
        if marker.encode() in (process / "cmdline").read_bytes():
            return True
        return any(os.readlink(link).startswith(marker) for link in (process / "fd").iterdir())

    for sig in (signal.SIGTERM, signal.SIGTERM, signal.SIGKILL):
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            with contextlib.suppress(OSError):
                if belongs(entry):
                    pids.append(int(entry.name))
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        time.sleep(2)


@pytest.fixture
def cluster_without_openfoam() -> Iterator[str]:
    ray = shutil.which("ray", path=str(Path(sys.executable).parent))
    assert ray is not None
    port = "6391"
    env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}  # keep the cluster on loopback
    # A short directory of its own (Ray's socket paths must stay under the kernel's 107 bytes).
    temp_dir = Path(tempfile.mkdtemp(prefix="ray-t-", dir="/tmp"))
    started = subprocess.run(
        [
            ray,
            "start",
            "--head",
            f"--temp-dir={temp_dir}",
            f"--port={port}",
            "--num-cpus=1",
            "--include-dashboard=false",
            "--disable-usage-stats",
            "--node-ip-address=127.0.0.1",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env=env,
    )
    try:
        assert started.returncode == 0, started.stderr
        yield f"127.0.0.1:{port}"
    finally:
        _stop_cluster(temp_dir)
        shutil.rmtree(temp_dir, ignore_errors=True)


@pytest.mark.slow
def test_a_cluster_without_the_tool_is_refused_clearly(home: Path, cluster_without_openfoam: str) -> None:
    result = agent(*SWEEP, home=home, env={"LABGATE_RAY_ADDRESS": cluster_without_openfoam}, timeout=300)
    summary = json.loads(result.stdout)
    assert result.returncode == 1
    assert summary["status"] == "failed"
    assert "no Ray node offers the resource 'openfoam'" in summary["reason"]


@pytest.mark.slow
def test_no_address_starts_a_new_instance_beside_a_running_cluster(home: Path, cluster_without_openfoam: str) -> None:
    # An empty LABGATE_RAY_ADDRESS means a new local instance, never the cluster `ray start` left on
    # this machine (which Ray would join, refusing the instance's own CPU count).
    result = agent(*SWEEP, home=home, env={"LABGATE_RAY_ADDRESS": ""}, timeout=300)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert sorted(summary["accepted"]) == ["cells=24_re=100", "cells=32_re=100"]
