"""The body of one worker process: execute (or continue) a single run, then exit.

Started by the worker pool as `python -m api.rest._execute RUN_ID SERVER_PID`. The process ends when
the server does (parent-death signal), and a run it leaves `running` is resumed by the next server.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

from api._progress import LineReporter
from api._settings import Settings, build_launcher
from sandboxes import yield_cpu

_PR_SET_PDEATHSIG = 1
WORKER_NICENESS = 10
"""Runs (and the solvers they start) yield the CPU to the server answering requests (`yield_cpu`:
nice, and a weighted CPU cgroup where autogroup scheduling would ignore nice); on an idle machine
this costs them nothing."""


def _die_with(parent_pid: int) -> None:
    """Ask the kernel for SIGTERM when the server goes; if it already went, stop now."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:
        raise SystemExit(3)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[1].isdigit():
        print("usage: python -m api.rest._execute RUN_ID SERVER_PID", file=sys.stderr)
        return 2
    run_id, parent = argv[0], int(argv[1])
    _die_with(parent)
    yield_cpu(WORKER_NICENESS)
    launcher = build_launcher(Settings())
    run = launcher.store.get_run(run_id)
    if run.status != "queued":
        print(f"run {run_id} is {run.status}, not queued: nothing to do", file=sys.stderr)
        return 0
    resume = run.started_at is not None  # started before: continue from its checkpoint
    summary = launcher.execute(run_id, LineReporter(sys.stdout), resume=resume)
    print(f"run {run_id}: {summary.status}" + (f" ({summary.reason})" if summary.reason else ""), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
