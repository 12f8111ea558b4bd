"""Stopping the sandboxed commands a cancelled run left running in this process.

Every sandboxed command starts in a session of its own (so a timeout can kill its whole tree with
one signal) with its experiment directory as working directory. A run cancelled from another
process (`agent cancel`, the API) is noticed here by polling the store; this process then kills
each such session it started under the run's experiment directory, the way a sandbox does on a
timeout: the session's descendants first (bubblewrap's init, whose death ends its namespace), then
the process group. Other children of the process (a server the caller started) are left alone.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path


def _process_table() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, session id) of every process visible in /proc."""
    table: dict[int, tuple[int, int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
            table[int(entry.name)] = (int(fields[1]), int(fields[3]))
        except (OSError, IndexError, ValueError):
            continue
    return table


def _works_under(pid: int, root: Path) -> bool:
    try:
        cwd = Path(os.readlink(f"/proc/{pid}/cwd"))
    except OSError:
        return False
    return cwd == root or root in cwd.parents


def _descendants(pid: int, table: dict[int, tuple[int, int]]) -> list[int]:
    children: dict[int, list[int]] = {}
    for child, (parent, _) in table.items():
        children.setdefault(parent, []).append(child)
    found, stack = [], list(children.get(pid, []))
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children.get(current, []))
    return found


def stop_commands(root: Path) -> int:
    """Kill every command session this process started under `root`; returns how many were running."""
    if not Path("/proc/self/stat").exists():
        return 0
    root = root.resolve()
    me = os.getpid()
    table = _process_table()
    leaders = [
        pid for pid, (parent, session) in table.items() if parent == me and session == pid and _works_under(pid, root)
    ]
    for leader in leaders:
        for pid in reversed(_descendants(leader, table)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(leader, signal.SIGKILL)
    return len(leaders)
