"""A cgroup per sandboxed command, bounding its processes and its memory as a whole.

rlimits bind one process at a time: four processes of 400 MiB each pass a 512 MiB `RLIMIT_AS`, and
`RLIMIT_NPROC` does not bind processes whose real user is root. So, where the machine lets labgate
make cgroups (root, on cgroup v1 or v2), every command gets one of its own with `pids.max` and a
memory limit that covers the whole tree (swap included, so the limit cannot be dodged by paging
out). The cgroup also lets the sandbox kill every process the command left behind, escaped or not,
and tells afterwards whether the kernel had to OOM-kill something in it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

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


def _v1_parent(controller: str) -> Path | None:
    hierarchy = _ROOT / controller
    if not (hierarchy / "cgroup.procs").exists():
        return None
    own = _own_cgroup(controller) or "/"
    return hierarchy / own.lstrip("/")


def _v2_parent() -> Path | None:
    controllers = _ROOT / "cgroup.controllers"
    if not controllers.exists():
        return None
    own = _own_cgroup(None) or "/"
    return _ROOT / own.lstrip("/")


def _write(path: Path, value: str) -> bool:
    try:
        path.write_text(value)
    except OSError:
        return False
    return True


def _make_child(parent: Path) -> Path | None:
    path = parent / f"labgate-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        path.mkdir()
    except OSError:
        return None
    return path


def _remove_dir(path: Path) -> None:
    for _ in range(50):
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.02)


def _counter(path: Path, key: str) -> int:
    """The value of `key` in a flat keyed cgroup file (memory.events, memory.oom_control), 0 if absent."""
    try:
        text = path.read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name == key and value.strip().isdigit():
            return int(value)
    return 0


@dataclass
class SandboxCgroup:
    """The cgroup directories (one per v1 controller, or one v2 directory) a command runs in."""

    paths: list[Path]
    memory: Path | None = None
    memory_v2: bool = False
    limited: set[str] = field(default_factory=set)

    @classmethod
    def create(cls, max_pids: int | None, memory_bytes: int | None) -> SandboxCgroup | None:
        """A fresh cgroup with the limits that are not None, or None where no cgroup can be made or limited."""
        if max_pids is None and memory_bytes is None:
            return None
        cgroup = cls(paths=[])
        v2 = _v2_parent()
        if v2 is not None:
            cgroup._create_v2(v2, max_pids, memory_bytes)
        else:
            cgroup._create_v1(max_pids, memory_bytes)
        if not cgroup.limited:
            cgroup.remove()
            return None
        return cgroup

    def _create_v1(self, max_pids: int | None, memory_bytes: int | None) -> None:
        pids_parent = _v1_parent("pids")
        if max_pids is not None and pids_parent is not None:
            path = _make_child(pids_parent)
            if path is not None:
                self.paths.append(path)
                if _write(path / "pids.max", str(max_pids)):
                    self.limited.add("processes")
        memory_parent = _v1_parent("memory")
        if memory_bytes is not None and memory_parent is not None:
            path = _make_child(memory_parent)
            if path is not None:
                self.paths.append(path)
                # The memory limit first: memsw may never be below it. Where swap accounting exists,
                # memory plus swap gets the same limit, so paging out does not buy more room.
                if _write(path / "memory.limit_in_bytes", str(memory_bytes)):
                    memsw = path / "memory.memsw.limit_in_bytes"
                    if not memsw.exists() or _write(memsw, str(memory_bytes)):
                        self.memory = path
                        self.limited.add("memory_bytes")

    def _create_v2(self, parent: Path, max_pids: int | None, memory_bytes: int | None) -> None:
        path = _make_child(parent)
        if path is None:
            return
        self.paths.append(path)
        if max_pids is not None and _write(path / "pids.max", str(max_pids)):
            self.limited.add("processes")
        if memory_bytes is not None and _write(path / "memory.max", str(memory_bytes)):
            _write(path / "memory.swap.max", "0")
            self.memory = path
            self.memory_v2 = True
            self.limited.add("memory_bytes")

    def enter_prefix(self) -> list[str]:
        """argv prefix that moves the command into every directory before it execs (no fork escapes it)."""
        script = (
            'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1/cgroup.procs" || exit 126; shift; n=$((n-1)); done; '
            'exec "$@"'
        )
        return ["sh", "-c", script, "labgate-cgroup", str(len(self.paths)), *(str(p) for p in self.paths)]

    def pids(self) -> list[int]:
        found: set[int] = set()
        for path in self.paths:
            with contextlib.suppress(OSError):
                found.update(int(item) for item in (path / "cgroup.procs").read_text().split())
        return sorted(found)

    def oom_kills(self) -> int:
        """How many processes the kernel killed for crossing this cgroup's memory limit."""
        if self.memory is None:
            return 0
        if self.memory_v2:
            return _counter(self.memory / "memory.events", "oom_kill")
        return _counter(self.memory / "memory.oom_control", "oom_kill")

    def kill_all(self, grace: float = 2.0) -> None:
        """SIGKILL every process in the cgroup until it is empty (new forks included) or `grace` runs out."""
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
        for path in self.paths:
            _remove_dir(path)


BACKGROUND = "labgate-background"
"""The CPU cgroup (v1) that runs share, beside the processes that must stay responsive (the API server)."""


def yield_cpu(niceness: int) -> list[str]:
    """Make this process, and everything it starts from now on, yield the CPU as `niceness` says.

    A nice value alone is not enough where it matters most. With Linux's autogroup scheduling (on
    whenever the process sits in the root CPU cgroup, as on a root-run cgroup v1 machine) the CPU is
    shared between *sessions* first, and nice counts only inside a session; every sandboxed command
    starts a session of its own (`bwrap --new-session`), so a niced run's solver competed with the
    API server as an equal (measured: an even split of one core). Processes in a CPU cgroup other
    than the root one are scheduled by their group's weight instead, which their sessions cannot
    escape. So, besides nice and this session's autogroup, the process joins one shared cgroup
    weighted like `niceness`, where the machine allows it (cgroup v1 with a cpu controller, as
    root). Returns what took effect ("nice", "autogroup", "cgroup"), for the log.
    """
    done: list[str] = []
    with contextlib.suppress(OSError):
        os.nice(niceness - os.getpriority(os.PRIO_PROCESS, 0))
        done.append("nice")
    if _write(Path("/proc/self/autogroup"), str(niceness)):
        done.append("autogroup")
    parent = _v1_parent("cpu")
    if parent is not None:
        group = parent if parent.name == BACKGROUND else parent / BACKGROUND
        with contextlib.suppress(OSError):
            group.mkdir(exist_ok=True)
        # CFS weighs each nice level about 1.25x apart; a group's share of 1024 is nice 0.
        shares = max(2, round(1024 / 1.25**niceness))
        if _write(group / "cpu.shares", str(shares)) and _write(group / "cgroup.procs", str(os.getpid())):
            done.append("cgroup")
    return done


_usable: frozenset[str] | None = None


def cgroup_limits_usable() -> frozenset[str]:
    """Which aggregate limits (`processes`, `memory_bytes`) this process can set through cgroups (probed once)."""
    global _usable
    if _usable is None:
        probe = SandboxCgroup.create(1024, 1 << 40)
        _usable = frozenset(probe.limited) if probe is not None else frozenset()
        if probe is not None:
            probe.remove()
    return _usable


def cgroups_usable() -> bool:
    """Whether this process can make pids cgroups (probed once)."""
    return "processes" in cgroup_limits_usable()
