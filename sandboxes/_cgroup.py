"""A pids cgroup per sandboxed command, where the machine lets us make one.

RLIMIT_NPROC does not bind processes whose real user is root, even inside a user namespace,
so when labgate runs as root the process limit comes from the cgroup's `pids.max` instead.
The cgroup also lets the sandbox kill every process the command left behind, escaped or not.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import time
from dataclasses import dataclass
from pathlib import Path

_V1_PIDS = Path("/sys/fs/cgroup/pids")
_ROOT = Path("/sys/fs/cgroup")


def _own_cgroup(controller: str | None) -> str | None:
    """This process's cgroup path for a v1 controller, or its v2 path when controller is None."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controller is None and controllers == "":
            return path
        if controller is not None and controller in controllers.split(","):
            return path
    return None


def _candidate_parents() -> list[Path]:
    parents = []
    if (_V1_PIDS / "cgroup.procs").exists():
        own = _own_cgroup("pids") or "/"
        parents.append(_V1_PIDS / own.lstrip("/"))
    controllers = _ROOT / "cgroup.controllers"
    if controllers.exists() and "pids" in controllers.read_text().split():
        own = _own_cgroup(None) or "/"
        parents.append(_ROOT / own.lstrip("/"))
    return parents


@dataclass
class PidsCgroup:
    path: Path

    @classmethod
    def create(cls, max_pids: int) -> PidsCgroup | None:
        """A fresh cgroup limited to `max_pids` tasks, or None where cgroups are not writable."""
        for parent in _candidate_parents():
            path = parent / f"labgate-{os.getpid()}-{secrets.token_hex(4)}"
            try:
                path.mkdir()
            except OSError:
                continue
            try:
                (path / "pids.max").write_text(str(max_pids))
                return cls(path)
            except OSError:
                with contextlib.suppress(OSError):
                    path.rmdir()
        return None

    def enter_prefix(self) -> list[str]:
        """argv prefix that moves the command into this cgroup before it execs (no fork escapes it)."""
        return ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && shift && exec "$@"', str(self.path), "--"]

    def pids(self) -> list[int]:
        try:
            text = (self.path / "cgroup.procs").read_text()
        except OSError:
            return []
        return [int(item) for item in text.split()]

    def kill_all(self, grace: float = 2.0) -> None:
        deadline = time.monotonic() + grace
        while True:
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            if time.monotonic() > deadline:
                return
            time.sleep(0.02)

    def remove(self) -> None:
        self.kill_all()
        for _ in range(50):
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.02)


_usable: bool | None = None


def cgroups_usable() -> bool:
    """Whether this process can make pids cgroups (probed once)."""
    global _usable
    if _usable is None:
        probe = PidsCgroup.create(1024)
        _usable = probe is not None
        if probe is not None:
            probe.remove()
    return _usable
