"""A container's cgroup counters, read from the host: out-of-memory kills and live processes.

The engine tells that a container was OOM-killed only as a flag that stays set until the
container restarts, and only when the event reaches it; a warm container runs many commands, so
the memory cgroup's own `oom_kill` counter, read before and after each command, is what says
"this command's sandbox ran out of memory". The pids counters say how many processes the sandbox
holds now and how often the cgroup refused a fork, and its member list which processes to look at for
files held open with no name (`QuotaWatch`). Both cgroup versions are read; where labgate
cannot see the container's processes (it runs in a container itself) `find` returns None and
callers fall back to the engine's flag.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

_ROOT = Path("/sys/fs/cgroup")


def _paths_of(pid: int) -> dict[str, str]:
    """controller name ('' for the v2 hierarchy) -> cgroup path of `pid`."""
    found: dict[str, str] = {}
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for name in controllers.split(",") if controllers else [""]:
                found[name] = path
    return found


def _read_key(path: Path, key: str) -> int | None:
    """The value of `key` in a flat-keyed cgroup file (`oom_kill 3`, `max 1`)."""
    try:
        text = path.read_text()
    except OSError:
        return None
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name == key and value.strip().isdigit():
            return int(value)
    return None


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class ContainerCgroup:
    """Where a container's memory and pids counters live on this host."""

    memory: Path
    pids: Path
    unified: bool

    @classmethod
    def find(cls, pid: int) -> ContainerCgroup | None:
        """The cgroup of the container whose init is host pid `pid`, or None when it cannot be read."""
        if pid <= 0:
            return None
        paths = _paths_of(pid)
        if "memory" in paths and "pids" in paths:
            memory = _ROOT / "memory" / paths["memory"].lstrip("/")
            found = cls(memory, _ROOT / "pids" / paths["pids"].lstrip("/"), False)
        elif "" in paths:
            unified = _ROOT / paths[""].lstrip("/")
            found = cls(unified, unified, True)
        else:
            return None
        return found if found.oom_kills() is not None else None

    def oom_kills(self) -> int | None:
        """How many processes the kernel's OOM killer has killed in this cgroup so far."""
        if self.unified:
            return _read_key(self.memory / "memory.events", "oom_kill")
        return _read_key(self.memory / "memory.oom_control", "oom_kill")

    def processes(self) -> int | None:
        return _read_int(self.pids / "pids.current")

    def members(self) -> list[int]:
        """The host pids of every process in the container now (for `QuotaWatch`'s unnamed open files)."""
        try:
            return [int(line) for line in (self.pids / "cgroup.procs").read_text().split()]
        except (OSError, ValueError):
            return []

    def forks_refused(self) -> int | None:
        """How many forks the pids limit has refused so far."""
        return _read_key(self.pids / "pids.events", "max")
