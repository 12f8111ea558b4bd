"""Empty cgroups left by labgate processes that died mid-command are removed, and nothing else is."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from sandboxes import _cgroup
from sandboxes._cgroup import _v1_parent, _v2_parent, prune_stale


def _parent() -> Path:
    parent = _v1_parent("pids") or _v2_parent()
    if parent is None or os.geteuid() != 0 or not os.access(parent, os.W_OK):
        pytest.skip("needs root and a writable cgroup hierarchy")
    return parent


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_only_the_empty_cgroups_of_dead_labgate_processes_are_removed(monkeypatch: pytest.MonkeyPatch) -> None:
    parent = _parent()
    dead = _dead_pid()
    stale = parent / f"labgate-{dead}-0badf00d"
    live = parent / f"labgate-{os.getppid()}-0badf00d"
    busy = parent / f"labgate-{dead}-0b5ccc0d"
    other = parent / f"someone-{dead}-0badf00d"
    sleeper = None
    try:
        for path in (stale, live, busy, other):
            path.mkdir()
        sleeper = subprocess.Popen(["sleep", "30"])
        (busy / "cgroup.procs").write_text(str(sleeper.pid))
        monkeypatch.setattr(_cgroup, "STALE_SECONDS", 3600.0)
        assert prune_stale(parent) == 0 and stale.exists(), "a cgroup younger than the grace period was removed"
        monkeypatch.setattr(_cgroup, "STALE_SECONDS", 0.0)
        time.sleep(0.01)
        assert prune_stale(parent) >= 1  # other stale ones may be there too
        assert not stale.exists()
        assert live.exists() and busy.exists() and other.exists()
    finally:
        if sleeper is not None:
            sleeper.kill()
            sleeper.wait()
        for path in (stale, live, busy, other):
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.05)
