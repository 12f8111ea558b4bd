"""Ctrl-C, SIGTERM or SIGHUP while a run executes in this terminal cancel it, as `agent cancel` does.

Without this a Ctrl-C unwound the main thread while the experiment threads ran their solvers to the
end, and left the run `running` in the store; SIGTERM (a supervisor, `timeout`) and SIGHUP (a closed
terminal or ssh session) killed the process with the run the same. Now the first such signal marks
the run cancelled in the store, the path `agent cancel` takes from another process: the run notices
within a few seconds, kills its sandboxed commands, marks what was unfinished cancelled and ends
with its summary (exit code 130). A second signal stops the process at once, the run's unfinished
experiments recorded as cancelled.

The handler itself only sets an event: it runs between two bytecodes of the main thread, which may be
inside a store call or writing to the terminal, so the store write and the message are a waiting
thread's. A signal the user's shell set to be ignored (`nohup`, a background job) stays ignored.
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

from agents import RunStateError, cancel_run
from runs import RunStore, utcnow

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
def signals_cancel(store: RunStore, run_id: str) -> Iterator[Interruption]:
    """Within the block, the first of SIGNALS cancels `run_id`; the second stops the process at once."""
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
        target=_on_signals, args=(store, run_id, interruption, done), name="labgate-interrupt", daemon=True
    )
    worker.start()
    try:
        yield interruption
    finally:
        for number, current in previous.items():
            signal.signal(number, current)
        done.set()
        worker.join(timeout=5)


def _on_signals(store: RunStore, run_id: str, interruption: Interruption, done: threading.Event) -> None:
    """The store's side of the signals: cancel on the first; on the second, record and leave at once.

    Leaving at once is `os._exit`: the experiment threads would otherwise keep the process (and so their
    sandboxed commands) alive until their solvers end. Local sandboxes die with the process
    (`--die-with-parent`); containers left behind are removed by the next docker sandbox of this host."""
    if not _wait(interruption._first, done):
        return
    assert interruption.received is not None
    name = interruption.received.name
    try:
        cancel_run(store, run_id)
        _say(f"agent: {name}: cancelling run {run_id} (send it again to stop at once)")
    except RunStateError:
        pass  # it had ended on its own; a second signal still stops the process
    except Exception as error:  # noqa: BLE001 - the store failing is said, the second signal still works
        _say(f"agent: {name}: could not cancel run {run_id} ({error}); send it again to stop at once")
    if not _wait(interruption._again, done):
        return
    with contextlib.suppress(Exception):  # the process stops whatever the store says
        store.close_unfinished(run_id, "cancelled", f"stopped at once by a second {name}")
        store.update_run(run_id, finished_at=utcnow())
    _say(f"agent: {name} again: run {run_id} stopped at once")
    os._exit(EXIT_INTERRUPTED)


def _wait(event: threading.Event, done: threading.Event) -> bool:
    """Whether `event` was set before the block ended."""
    while not event.wait(0.25):
        if done.is_set():
            return False
    return True


def _say(message: str) -> None:
    with contextlib.suppress(OSError, ValueError):  # a closed terminal (SIGHUP) has nowhere to say it
        print(message, file=sys.stderr, flush=True)
