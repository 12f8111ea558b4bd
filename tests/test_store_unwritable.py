"""A run store that cannot be written: its disk full before a command starts.

Mid-run, a full disk already ended the run with one line. Before anything was written, every command
that writes (`agent run`, `cancel`, `resume`) and `agent serve` at start-up ended in a SQLAlchemy
traceback, and the server did not start at all when the store held a run to requeue. Now the CLI prints
one line naming the driver's reason and exits 2, the server starts (reads work, writes answer 503), and
the store is left as it was.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api._app import create_app
from api._settings import Settings
from runs import RunStore
from tests.conftest import agent

DEAD_PID = 1 << 22  # Linux's limit on pid_max: pids stay below it, so no process has this one


@pytest.fixture
def full_home(tmp_path: Path) -> Iterator[tuple[Path, str, RunStore]]:
    """A store on a tmpfs holding one run whose process is gone, then the disk filled while another process
    (here a store kept open) has the database open, as a server or a run does (root only)."""
    mount = tmp_path / "home"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    # A fresh tmpfs is world-writable (1777) unless told otherwise, which the store refuses as a home.
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", str(mount)], check=False).returncode:
        pytest.skip("this machine cannot mount a tmpfs")
    try:
        store = RunStore(mount)
        run = store.create_run(None, task_id="cfd/cavity")
        store.update_run_if(
            run.id, status_in=[run.status], status="running", worker=f"{socket.gethostname()}:{DEAD_PID}"
        )
        assert store.get_run(run.id) is not None  # a connection stays open: the WAL and its index stay
        with (mount / "filler").open("wb") as filler:
            try:
                while True:
                    filler.write(b"\0" * 65536)
                    filler.flush()
            except OSError:
                pass
        yield mount, run.id, store
        store.engine.dispose()
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_commands_that_write_say_so_in_one_line_and_keep_the_store(full_home: tuple[Path, str, RunStore]) -> None:
    home, run_id, store = full_home
    runs_before = [(run.id, run.status) for run in store.list_runs(limit=100)]
    for args in (("run", "cfd/cavity", "--param", "cells=8"), ("cancel", run_id), ("resume", run_id)):
        result = agent(*args, home=home, timeout=120)
        assert result.returncode == 2, (args, result.stderr[-2000:])
        assert "Traceback" not in result.stderr, (args, result.stderr[-2000:])
        lines = result.stderr.strip().splitlines()
        assert lines[-1].startswith("agent: error:") and "kept" in lines[-1], (args, result.stderr)
        assert "full" in lines[-1], (args, lines[-1])
    listed = agent("runs", home=home, timeout=120)
    assert listed.returncode == 0 and run_id in listed.stdout, listed.stderr[-2000:]
    assert [(run.id, run.status) for run in store.list_runs(limit=100)] == runs_before


def test_the_server_starts_on_a_store_it_cannot_write_and_answers_writes_with_503(
    full_home: tuple[Path, str, RunStore],
) -> None:
    home, run_id, _ = full_home
    app = create_app(Settings(home=home, run_workers=1))
    with TestClient(app) as client:
        listed = client.get("/runs")
        assert listed.status_code == 200 and run_id in listed.text
        cancelled = client.post(f"/runs/{run_id}/cancel")
        assert cancelled.status_code == 503, cancelled.text
        assert "the run store cannot be written: its disk is full" in cancelled.json()["detail"]
        # Readiness says so too (it read `ok` while every write failed), and says it again once there is room.
        health = client.get("/healthz")
        assert health.status_code == 503 and "KiB free" in health.json()["disk"], health.text
        assert client.head("/healthz").status_code == 503
        (home / "filler").unlink()
        health = client.get("/healthz")
        assert health.status_code == 200 and health.json()["disk_free_bytes"] > 4 << 20, health.text
    app.state.labgate.store.engine.dispose()
