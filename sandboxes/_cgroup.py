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
import re
import secrets
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

_ROOT = Path("/sys/fs/cgroup")


def _read(path: Path | str) -> bytes:
    """A small kernel file's bytes, read with plain system calls: `Path.read_text` cost three times as much
    (an encoding and a buffered text layer), and a command reads several of these as it starts and ends."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _own_cgroup(controller: str | None) -> str | None:
    """This process's cgroup path for a v1 controller, or its v2 path when controller is None."""
    try:
        lines = _read("/proc/self/cgroup").decode().splitlines()
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
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        os.write(fd, value.encode())
    except OSError:
        return False
    finally:
        os.close(fd)
    return True


_STALE_NAME = re.compile(r"labgate-(\d+)-[0-9a-f]{8}")
STALE_SECONDS = 60.0
"""How old an empty cgroup of a dead labgate process must be before it is removed: a live one is empty only
between its creation and the command joining it, a moment long."""
_pruned: set[Path] = set()


def prune_stale(parent: Path) -> int:
    """Remove the empty cgroups that labgate processes which died mid-command left under `parent`.

    A process killed between making a command's cgroup and removing it leaves the directory behind; nothing
    else ever removes it. Only a directory named for a process that no longer exists, older than
    `STALE_SECONDS`, is removed, and only if empty (the kernel refuses to remove one that holds processes).
    """
    removed = 0
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return 0
    for entry in entries:
        match = _STALE_NAME.fullmatch(entry.name)
        if match is None or int(match.group(1)) == os.getpid() or _alive(int(match.group(1))):
            continue
        try:
            if time.time() - entry.stat(follow_symlinks=False).st_mtime < STALE_SECONDS:
                continue
            os.rmdir(entry.path)
            removed += 1
        except OSError:
            continue
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _make_child(parent: Path) -> Path | None:
    if parent not in _pruned:
        _pruned.add(parent)
        prune_stale(parent)
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
        text = _read(path).decode()
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
    v2: bool = False
    limited: set[str] = field(default_factory=set)
    pids_dir: Path | None = None
    memory_dir: Path | None = None

    @classmethod
    def create(cls, max_pids: int | None, memory_bytes: int | None) -> SandboxCgroup | None:
        """A fresh cgroup with the limits that are not None, or None where no cgroup can be made or limited."""
        if max_pids is None and memory_bytes is None:
            return None
        cgroup = cls.unlimited(pids=max_pids is not None, memory=memory_bytes is not None)
        if cgroup is None:
            return None
        cgroup.limit(max_pids, memory_bytes)
        if not cgroup.limited:
            cgroup.remove()
            return None
        return cgroup

    @classmethod
    def unlimited(cls, pids: bool = True, memory: bool = True) -> SandboxCgroup | None:
        """Fresh directories for the controllers asked for, no limit written yet (`limit` writes them);
        None where none can be made."""
        cgroup = cls(paths=[])
        v2 = _v2_parent()
        if v2 is not None:
            cgroup.v2 = True
            path = _make_child(v2)
            if path is not None:
                cgroup.paths.append(path)
                cgroup.pids_dir = path if pids else None
                cgroup.memory_dir = path if memory else None
        else:
            for wanted, controller in ((pids, "pids"), (memory, "memory")):
                parent = _v1_parent(controller) if wanted else None
                path = _make_child(parent) if parent is not None else None
                if path is not None:
                    cgroup.paths.append(path)
                    if controller == "pids":
                        cgroup.pids_dir = path
                    else:
                        cgroup.memory_dir = path
        return cgroup if cgroup.paths else None

    def limit(self, max_pids: int | None, memory_bytes: int | None) -> bool:
        """Write the limits that are not None; whether all of them took (`limited` names those that did)."""
        complete = True
        if max_pids is not None:
            if self.pids_dir is not None and _write(self.pids_dir / "pids.max", str(max_pids)):
                self.limited.add("processes")
            else:
                complete = False
        if memory_bytes is not None:
            if self.memory_dir is not None and self._limit_memory(self.memory_dir, memory_bytes):
                self.memory = self.memory_dir
                self.memory_v2 = self.v2
                self.limited.add("memory_bytes")
            else:
                complete = False
        return complete

    def _limit_memory(self, path: Path, memory_bytes: int) -> bool:
        if self.v2:
            if not _write(path / "memory.max", str(memory_bytes)):
                return False
            _write(path / "memory.swap.max", "0")
            return True
        # The memory limit first: memsw may never be below it. Where swap accounting exists,
        # memory plus swap gets the same limit, so paging out does not buy more room.
        if not _write(path / "memory.limit_in_bytes", str(memory_bytes)):
            return False
        memsw = path / "memory.memsw.limit_in_bytes"
        return not memsw.exists() or _write(memsw, str(memory_bytes))

    def entry_script(self) -> str:
        """Shell text that moves the shell running it into every directory, named by `$1` (their count) and
        the arguments after it, and shifts them away; it exits 126 where a move fails.

        On cgroup v1 the shell writes 0 to each `tasks` file, which moves the writing thread: the shell has
        one, so that is the whole process, and everything it starts follows. A thread moving itself does not
        take the kernel's global lock that a move by pid (`echo $$ > cgroup.procs`) takes, whose write side
        waits for an RCU grace period: measured on Linux 6.18, 5-8 ms per directory, two directories per
        command, against nothing for the self move (kernels without that fast path take the lock either way).
        A v2 directory that is not threaded has no per-thread file, so there the process moves by pid.
        """
        target, value = ("cgroup.procs", "$$") if self.v2 else ("tasks", "0")
        return (
            f'n=$1; shift; while [ "$n" -gt 0 ]; do echo {value} > "$1/{target}" || exit 126; shift; n=$((n-1)); done'
        )

    def entry_args(self) -> list[str]:
        return [str(len(self.paths)), *(str(p) for p in self.paths)]

    def join_files(self) -> list[Path]:
        """The file of each directory that a process moves itself into by writing 0 to it (labgate-launch):
        v1 `tasks` moves the writing thread (the launcher has one), v2 `cgroup.procs` the whole process."""
        return [path / ("cgroup.procs" if self.v2 else "tasks") for path in self.paths]

    def enter_prefix(self) -> list[str]:
        """argv prefix that moves the command into every directory before it execs (no fork escapes it)."""
        return ["sh", "-c", f'{self.entry_script()}; exec "$@"', "labgate-cgroup", *self.entry_args()]

    def pids(self) -> list[int]:
        found: set[int] = set()
        for path in self.paths:
            with contextlib.suppress(OSError):
                found.update(int(item) for item in _read(path / "cgroup.procs").split())
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
        """Kill what is left in the directories and remove them.

        The kernel refuses to remove a cgroup that holds a process (EBUSY), so an empty one, as a command's
        is once it has ended and been reaped, is removed at once; only one that still holds something is
        killed (`kill_all`) and then removed, as before."""
        left = []
        for path in self.paths:
            try:
                path.rmdir()
            except FileNotFoundError:
                continue
            except OSError:
                left.append(path)
        if left:
            self.kill_all()
            for path in left:
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
