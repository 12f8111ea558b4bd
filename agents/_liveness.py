"""Which process executes a run, and whether it still does: what makes resuming a run safe.

A run records `host:pid` of the process executing it. On the same host that process can be looked
up; on another host (two API servers sharing PostgreSQL, a CLI on a laptop beside a server) it
cannot, so the executing process also keeps a heartbeat: it advances the run's `updated_at` every
HEARTBEAT_SECONDS while it runs. A run of another host whose heartbeat is older than STALE_SECONDS
is taken for abandoned (its host crashed, its process was killed); a fresher one is still being
executed, and resuming it would run it twice.

A pid names a process only until the host reboots: after a power loss the recorded pid may belong to
any process started since. A run whose record last changed before this host booted is therefore
executed by none of its processes, whatever now holds that pid (`process_alive_here`'s `last_heard`).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from runs import stored_utc

if TYPE_CHECKING:
    from runs import Run, RunStore

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15.0
"""How often a process executing a run says so."""

STALE_SECONDS = 120.0
"""A heartbeat older than this (eight beats) means no process executes the run any more. Generous,
because hosts' clocks differ by a little and a busy database can delay a write."""


def this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@functools.cache
def host_booted_at() -> datetime | None:
    """When this host last booted (UTC, to the second), or None where the system does not say (not Linux).

    Read once per process: it cannot change while the process lives, and a run list asks it per run."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            for line in stat:
                if line.startswith("btime "):
                    return datetime.fromtimestamp(int(line.split()[1]), UTC)
    except (OSError, ValueError, OverflowError):
        return None
    return None


def process_alive_here(worker: str, last_heard: datetime | None = None) -> bool | None:
    """True/False for a `host:pid` of this host; None when it lives on another host (unknowable from here).

    `last_heard`: when the run naming `worker` last changed. If that is before this host booted, the
    process that recorded the pid died with the old boot, and a live process holding the pid now is
    another one (pids are handed out again from low numbers after a reboot): False. The boot time is
    compared, not the heartbeat's age, because a live executor may miss beats (stopped with Ctrl-Z, a
    long stall holding the interpreter) and must still never be taken for gone and run twice; and not
    the process's own start time, because nothing records it with the pid (`worker` keeps its
    `host:pid` shape, which the worker pool compares), while the boot time needs nothing recorded.
    """
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return None
    booted = host_booted_at() if last_heard is not None else None
    if booted is not None and last_heard is not None and stored_utc(last_heard) < booted:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _exited(int(pid))


def _exited(pid: int) -> bool:
    """Whether `pid` is a process that has ended and waits only to be reaped (a zombie executes nothing: an
    `agent run` whose parent had not yet read its output read as still executing its run)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rpartition(")")[2].split()[:1] == ["Z"]
    except OSError:
        return False


def heartbeat_age(run: Run) -> float:
    """Seconds since the run's record last changed (its executing process's last heartbeat at the latest)."""
    return (datetime.now(UTC) - stored_utc(run.updated_at)).total_seconds()


def executed_elsewhere(run: Run, me: str | None = None) -> str | None:
    """Why another live process is executing `run` (a sentence), or None when none is.

    On this host the recorded process is looked up (one whose pid outlived a reboot is gone, see
    `process_alive_here`); on another host the heartbeat decides. `me`: the asking process's own
    `host:pid`, which is not another process even when recorded (a dead worker's pid given to the
    process now resuming its run).
    """
    if run.status != "running" or not run.worker:
        return None
    here = process_alive_here(run.worker, last_heard=run.updated_at)
    if here is not None:
        return f"it is still being executed by process {run.worker}" if here and run.worker != me else None
    age = heartbeat_age(run)
    if age < STALE_SECONDS:
        return (
            f"it is being executed by {run.worker} on another host (heard from {max(age, 0.0):.0f} s ago; "
            f"a run is taken for abandoned {STALE_SECONDS:.0f} s after its last heartbeat)"
        )
    return None


INTERRUPTED = "interrupted"
"""The start of the reason a run stopped from its terminal (Ctrl-C, SIGTERM, SIGHUP) carries."""


def interrupted_by_its_user(run: Run) -> bool:
    """Whether `run` was stopped from its terminal (Ctrl-C, SIGTERM, SIGHUP) and left to be resumed.

    Such a run looks like one whose process died (`running`, the process gone), but someone chose to
    stop it: a server recovering lost runs must leave it to `agent resume`, not start it again unasked.
    """
    return run.status == "running" and (run.reason or "").startswith(f"{INTERRUPTED}:")


def stopped(run: Run) -> bool:
    """Whether `run` reads `running` although no live process executes it (Ctrl-C, a kill, a lost host).

    The store keeps such a run `running` so that `agent resume` can take it; whoever shows the run to a
    person says `stopped` instead, so that nobody waits on a run that nothing executes.
    """
    return run.status == "running" and bool(run.worker) and executed_elsewhere(run) is None


@contextlib.contextmanager
def heartbeat(store: RunStore, run_id: str, worker: str, every: float = HEARTBEAT_SECONDS) -> Iterator[None]:
    """Advance the run's `updated_at` every `every` seconds while the block runs, as long as the run is
    still running under `worker` (a resume by someone else after a long stall is not overwritten)."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every):
            try:
                store.update_run_if(run_id, status_in=["running"], expect_worker=worker)
            except Exception:  # a missed beat is retried; the run itself must not fail for it
                log.warning("heartbeat of run %s failed; retrying", run_id, exc_info=True)

    thread = threading.Thread(target=beat, name=f"heartbeat-{run_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)
