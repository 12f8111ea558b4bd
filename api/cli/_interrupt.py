"""Ctrl-C, SIGTERM or SIGHUP while a run executes in this terminal stop it, leaving it to `agent resume`.

Without this a Ctrl-C unwound the main thread while the experiment threads ran their solvers to the
end, the renderer beside the run printed a traceback, and the run was left `running`; SIGTERM (a
supervisor, `timeout`) and SIGHUP (a closed terminal or ssh session) killed the process the same.
Now the first such signal stops the run as a cancel would (`agents.interrupt_run`: its sandboxed
commands are killed within a few seconds), but what finished is kept and the run is not ended:
`agent resume` runs the rest, `agent cancel` ends it (exit code 130). A second signal leaves at once,
as a killed process would (local sandboxes die with it; the run resumes the same).

The handler itself only sets events: it runs between two bytecodes of the main thread, which may be
inside a store call or writing to the terminal, so the rest is a waiting thread's. A signal the user's
shell set to be ignored (`nohup`, a background job) stays ignored.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType

from agents import interrupt_run

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
EXIT_INTERRUPTED = 130
"""What a shell reports for a process that Ctrl-C ended (128 + SIGINT)."""


@dataclass
class Interruption:
    """Which signal asked the run to stop, if one did."""

    received: signal.Signals | None = None
    _first: threading.Event = field(default_factory=threading.Event)
    _again: threading.Event = field(default_factory=threading.Event)


@contextmanager
def signals_interrupt(run_id: str) -> Iterator[Interruption]:
    """Within the block, the first of SIGNALS stops `run_id` (resumable); the second stops the process at once."""
    interruption = Interruption()
    if threading.current_thread() is not threading.main_thread():
        yield interruption  # signal handlers belong to the main thread
        return
    done = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        if interruption.received is None:
            interruption.received = signal.Signals(signum)
            interruption._first.set()
        else:
            interruption._again.set()

    previous = {}
    for number in SIGNALS:
        current = signal.getsignal(number)
        if current is signal.SIG_IGN:
            continue
        previous[number] = current
        signal.signal(number, handler)
    worker = threading.Thread(
        target=_on_signals, args=(run_id, interruption, done), name="labgate-interrupt", daemon=True
    )
    worker.start()
    try:
        yield interruption
    finally:
        for number, current in previous.items():
            signal.signal(number, current)
        done.set()
        interruption._first.set()  # wakes the waiting thread, which finds `done` and leaves
        interruption._again.set()
        worker.join(timeout=5)


def _on_signals(run_id: str, interruption: Interruption, done: threading.Event) -> None:
    """Stop the run on the first signal; on the second, leave at once.

    Leaving at once is `os._exit`: the experiment threads would otherwise keep the process (and so their
    sandboxed commands) alive until their solvers end. Local sandboxes die with the process
    (`--die-with-parent`); containers left behind are removed by the next docker sandbox of this host."""
    if not _wait(interruption._first, done):
        return
    assert interruption.received is not None
    name = interruption.received.name
    interrupt_run(run_id)
    _say(f"agent: {name}: stopping run {run_id}; `agent resume {run_id}` continues it (send {name} again to quit now)")
    if not _wait(interruption._again, done):
        return
    _say(f"agent: {name} again: quit; `agent resume {run_id}` continues the run")
    os._exit(EXIT_INTERRUPTED)


def _wait(event: threading.Event, done: threading.Event) -> bool:
    """Whether `event` was set before the block ended (whose end sets `event` too, after `done`): waiting on
    `event` alone, the block's end does not wait out a polling interval."""
    event.wait()
    return not done.is_set()


def _say(message: str) -> None:
    with contextlib.suppress(OSError, ValueError):  # a closed terminal (SIGHUP) has nowhere to say it
        print(message, file=sys.stderr, flush=True)
