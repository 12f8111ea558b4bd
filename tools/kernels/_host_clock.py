"""The host's side of a request: each run's inputs sent when asked, every launch timed by the host's clock.

A candidate's kernel runs in its worker's process and, on a CPU device, can rewrite that process's
memory: the durations the worker records, the rival it runs beside, the program it launches. So a
duration that counts is the host's: the worker says `ready` once a run is prepared, the host notes
its clock and says `go`, the worker launches and says `done` (with the device's own account of the
launch), and the host notes its clock again. The bracket holds the launch plus what the messages and
the launch itself cost around the device's work. A run counts as the device's duration, never less
than the bracket minus that cost, never more than the bracket (`clocked_seconds`), so a worker that
understates its durations gains at most the part of that cost its own launches do not pay.

The cost comes from the rival's runs of the same request (the task's trusted seed, in a worker of its
own, launching the same host program: the median of bracket minus device time), and without a rival
from handshakes with no launch, clocked as the worker started, before any candidate ran there
(`Worker.overhead`; smaller than any launch's, so honest runs then read a little long, never short).

A worker whose control flow is taken over can do a run's work before it says `ready`. So a run also
counts as at least its window, from the moment the host sent its inputs to `done`, less what the rival's
windows hold besides the work (its median, a quarter more, and 50 microseconds). That is tight where
preparing a run is cheap next to the work (compute-bound tasks, whose inputs are drawn whole per run),
and loose where preparing it is a memory pass like the work itself (there the window may hide about
that pass).

The rival runs on each timed run's inputs, right beside that run: before the candidate's inputs are
uploaded on even runs, after the candidate's run is observed on odd ones (when the candidate next asks
for inputs, or replies), so that neither ever runs while the other works. Both sides' durations are
clocked the same way, so the paired ratio compares like with like.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn, Protocol

import numpy as np

from runs import LabgateError
from tools.kernels._protocol import ProtocolError

Message = tuple[dict[str, Any], dict[str, np.ndarray]]
Write = Callable[[Mapping[str, Any], Mapping[str, np.ndarray]], None]
Read = Callable[[], Message]

CALIBRATION_RUNS = 30
"""Handshakes around no launch a fresh worker is clocked on, to learn what a bracket adds by itself."""
RIVAL_RUNS_FOR_COST = 3
"""Rival runs a request needs before their brackets, rather than the worker's calibration, give the cost."""
WINDOW_SLACK = 0.25
WINDOW_SLACK_SECONDS = 50e-6
"""How much more than the rival's typical preparation and messages a run's window may hold before the rest
counts as work (`host_timed_reply`): a quarter more, and 50 microseconds."""


@dataclass(frozen=True)
class Clocked:
    """One launch as the host saw it: its bracket on the host's clock and the device's own account."""

    run: int
    timed: bool
    bracket: float
    device: float
    window: float
    """From the moment the host sent the run's inputs to `done`: preparation and launch together (the
    bracket itself where no inputs were sent)."""

    @property
    def outside(self) -> float:
        """What the window holds besides the device's own work (uploads, poison, messages, the launch)."""
        return max(0.0, self.window - self.device)


def clocked_seconds(device: float, bracket: float, overhead: float) -> float:
    """A run's duration: the device's account, held within [bracket - overhead, bracket] of the host's clock."""
    if not math.isfinite(device) or device < 0:
        device = 0.0
    return min(bracket, max(device, bracket - overhead))


def bracket_overhead(clocked: list[Clocked]) -> float:
    """What the host's bracket adds to a launch: the median of bracket minus device time over `clocked`."""
    gaps = [max(0.0, c.bracket - c.device) for c in clocked if math.isfinite(c.device)]
    return statistics.median(gaps) if gaps else 0.0


def _run_number(header: Mapping[str, Any]) -> int:
    run = header.get("run")
    if not isinstance(run, int) or isinstance(run, bool) or run < 0:
        raise ProtocolError(f"a run number that is not a whole number: {str(header)[:200]}")
    return run


def _device_seconds(header: Mapping[str, Any]) -> float:
    seconds = header.get("seconds")
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
        raise ProtocolError(f"a launch's device time that is not a number: {str(header)[:200]}")
    return float(seconds)


def clock_launch(
    write: Write,
    read: Read,
    run: int,
    timed: bool,
    given: float | None = None,
    *,
    start: Callable[[], object] = lambda: None,
    stop: Callable[[], object] = lambda: None,
) -> Clocked | Message:
    """Start the clock, say go, and stop it at the worker's `done` (after its `ready`, where it says one).

    `given`: when the host sent the run's inputs (the start of its window). `start` and `stop` run inside
    the bracket (resuming the worker's stopped processes, and signalling them to stop again, so that every
    moment they run is clocked). A launch that fails ends the request: the worker's reply comes instead
    of `done`, and is returned.
    """
    started = time.perf_counter()
    start()
    write({"op": "go", "run": run}, {})
    header, arrays = read()
    stop()
    stopped = time.perf_counter()
    if "ok" in header and "op" not in header:
        return header, arrays
    if header.get("op") != "done" or _run_number(header) != run:
        raise ProtocolError(f"expected run {run} done, got {str(header)[:200]}")
    window = stopped - (given if given is not None else started)
    return Clocked(run, timed, stopped - started, _device_seconds(header), window)


class Rival(Protocol):
    """The task's trusted seed beside a candidate: one clocked run on a run's inputs when asked."""

    clocked: dict[int, Clocked]

    def run(self, run: int) -> None: ...

    def close(self) -> None: ...


class RivalSession:
    """The trusted seed in a worker of its own, one clocked run per call, on the candidate's runs' inputs."""

    def __init__(self, write: Write, read: Read, variants: Mapping[int, Mapping[str, np.ndarray]]) -> None:
        self.write = write
        self.read = read
        self.variants = variants
        self.clocked: dict[int, Clocked] = {}
        self.closed = False

    def open(self, header: Mapping[str, Any], base: Mapping[str, np.ndarray]) -> None:
        """Send the rival's request; raises RivalError if it does not compile or set up."""
        self.write({**header, "op": "rival"}, base)
        reply, _ = self.read()
        if reply.get("op") != "prepared":
            self._failed(reply)

    def run(self, run: int) -> None:
        if run in self.clocked or self.closed:
            return
        given = time.perf_counter()
        self.write({"op": "run", "run": run}, self.variants.get(run, {}))
        header, _ = self.read()
        if header.get("op") != "ready":
            self._failed(header)
        try:
            if _run_number(header) != run:
                raise ProtocolError(f"the rival said ready for run {header.get('run')}, not {run}")
            clocked = clock_launch(self.write, self.read, run, True, given)
        except ProtocolError as error:
            # The trusted worker's fault, not the candidate's it was answering beside.
            self._failed({"error": f"the trusted worker broke the protocol: {error}"})
        if not isinstance(clocked, Clocked):
            self._failed(clocked[0])
        self.clocked[run] = clocked

    def _failed(self, reply: Mapping[str, Any]) -> NoReturn:
        self.closed = True
        raise RivalError(reply)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.write({"op": "end"}, {})
        reply, _ = self.read()
        if not reply.get("ok"):
            raise RivalError(reply)


class RivalError(LabgateError):
    """The trusted seed failed beside the candidate (it compiles and runs everywhere else: a device fault)."""

    def __init__(self, reply: Mapping[str, Any], what: str = "the rival") -> None:
        """`what` failed: the rival, or another of the trusted worker's jobs (the bandwidth yardstick)."""
        super().__init__(f"{what} failed: {str(reply.get('error', reply))[:400]}")
        self.reply = reply


@dataclass
class Conversation:
    """One request to a worker, driven by the worker's asks: inputs, clock starts, the final reply."""

    write: Write
    read: Read
    variants: Mapping[int, Mapping[str, np.ndarray]]
    rival: Rival | None = None
    clocked: list[Clocked] = field(default_factory=list)
    announced: dict[int, bool] = field(default_factory=dict)
    """Each run the worker asked inputs for, and whether it said the run was timed."""
    given: dict[int, float] = field(default_factory=dict)
    """When each run's inputs were sent (host clock)."""
    inputs_first: bool = True
    """Every launch must be of a run whose inputs the worker asked for, timed as it said then (an
    evaluation); False for the start-up calibration, which launches nothing and asks for nothing."""
    pause: Callable[[], bool] = lambda: False
    """Stop the worker's processes while the rival runs (`SandboxProcess.pause`): a thread it left
    spinning would slow the rival, and the candidate would look faster beside it."""
    resume: Callable[[], None] = lambda: None

    def serve(self) -> Message:
        """Answer the worker until its reply; returns the reply (the clocked launches are in `clocked`)."""
        pending: int | None = None  # an odd timed run whose rival waits for the candidate to be idle
        while True:
            header, arrays = self.read()
            op = header.get("op")
            if op == "want":
                run, timed = _run_number(header), header.get("timed") is True
                if run in self.announced:
                    raise ProtocolError(f"the worker asked for run {run}'s inputs twice")
                self.announced[run] = timed
                self._rival_now(pending)
                pending = None
                if timed and run % 2 == 0:
                    self._rival_now(run)
                self.given[run] = time.perf_counter()
                self.write({"op": "variant", "run": run}, self.variants.get(run, {}))
            elif op == "ready":
                run, timed = _run_number(header), header.get("timed") is True
                if self.inputs_first and self.announced.get(run) is not timed:
                    # A timed run the rival was not set beside, or one run on inputs never asked for.
                    raise ProtocolError(
                        f"run {run} is ready as {'timed' if timed else 'untimed'}, but its inputs were "
                        + ("never asked for" if run not in self.announced else "asked for as the other kind")
                    )
                clocked = clock_launch(self.write, self.read, run, timed, self.given.get(run))
                if not isinstance(clocked, Clocked):
                    return clocked  # the launch failed: the worker's reply
                self.clocked.append(clocked)
                if self.rival is not None and timed and run % 2 == 1:
                    pending = run
            else:
                self._rival_now(pending)
                return header, arrays

    def _rival_now(self, run: int | None) -> None:
        """The rival's run `run` (if any), with this worker stopped meanwhile: a worker that could not be
        stopped (some of its processes may run on, slowing the rival) breaks the protocol."""
        if run is None or self.rival is None:
            return
        try:
            if not self.pause():
                raise ProtocolError(f"the worker could not be stopped while the rival ran run {run}")
            self.rival.run(run)
        finally:
            self.resume()  # lets go whatever was stopped, all or some


def host_timed_reply(
    reply: dict[str, Any], clocked: list[Clocked], overhead: float, rival: Rival | None
) -> dict[str, Any]:
    """The worker's reply with every duration replaced by the host's (`clocked_seconds`).

    The runs the reply says were timed must be exactly those the host clocked as timed; a worker that
    skipped a clock, or claimed other runs, broke the protocol.
    """
    if not reply.get("ok"):
        return reply
    try:
        first_timed, claimed = int(reply["first_timed"]), len(reply["times"])
    except (KeyError, TypeError, ValueError):
        raise ProtocolError("a reply without its timed runs") from None
    by_run: dict[int, Clocked] = {}
    for launch in clocked:
        if launch.run in by_run:
            raise ProtocolError(f"run {launch.run} was launched twice")
        by_run[launch.run] = launch
    timed_runs = [launch.run for launch in clocked if launch.timed]
    expected = list(range(first_timed, first_timed + claimed))
    if timed_runs != expected or 0 not in by_run:
        raise ProtocolError(
            f"the worker's timed runs {expected[:3]}... are not the runs the host clocked as timed {timed_runs[:3]}..."
        )

    # What a bracket adds to a launch of this task: the rival's runs say it best (the same host program,
    # in a worker no candidate ran in); without a rival, what this worker's bracket cost before any did.
    cost = overhead
    beside = 0.0  # what a window holds besides the work: unknown without a rival, and then not bounded
    if rival is not None and len(rival.clocked) >= RIVAL_RUNS_FOR_COST:
        cost = bracket_overhead(list(rival.clocked.values()))
        outside = statistics.median(launch.outside for launch in rival.clocked.values())
        beside = outside * (1 + WINDOW_SLACK) + WINDOW_SLACK_SECONDS

    def seconds(launch: Clocked) -> float:
        # A worker that did the work before saying ready has an empty bracket and a full window.
        floor = launch.window - beside if beside > 0 else 0.0
        return max(clocked_seconds(launch.device, launch.bracket, cost), floor)

    timed = {
        **reply,
        "times": [seconds(by_run[run]) for run in expected],
        "first": seconds(by_run[0]),
        "device_times": [by_run[run].device for run in expected],
        "host_clocked": True,
        "bracket_cost": cost,
        "window_beside": beside,
    }
    if rival is not None:
        missing = [run for run in expected if run not in rival.clocked]
        if missing:
            raise ProtocolError(f"timed runs {missing[:3]} had no rival beside them")
        timed["rival_times"] = [seconds(rival.clocked[run]) for run in expected]
    return timed
