"""The host's side of a request whose buffers it fills itself (`_arena`, `_launcher`): it drives every run.

The worker (a candidate's, or the trusted one for the rival) is stopped from the moment it says
`prepared`, except inside each run's bracket: with it stopped the host writes the run's inputs and
poison into the arena (`Trial.staged`, the same preparation a worker does for itself elsewhere), then
starts its clock, resumes the worker and says go; at `done` it signals the worker's processes to stop
(`SandboxProcess.halt`), stops its clock, waits until they have stopped (`pause`), and reads the run
back (`Trial.observe`). So a taken-over worker sees a run's inputs only inside the bracket, and what it
does after `done` has only as long as a signal takes to arrive (microseconds). Before `halt`, the clock
stopped at `done` and the stop began after it, with a read of the sandbox's process list: a process
spinning there ran on for 0.43 ms (median, 0.64 ms at most) past the clock, free work on every run,
against 0.04 ms with the known processes signalled first (`HostProcess`, measured on this machine).
Waiting inside the bracket was tried too: the wait's jitter (it polls every 0.2 ms) swamped the small
sizes' runs, and the seed read 1.8x and 0.68x itself. A worker that could not be stopped, or that
started a process while it ran (`newcomers`: it may have run on past the stop), breaks the protocol.
The host, not the worker, decides how many runs there are (from its clock of the first), which are checked in full,
and where the outputs are sampled: the reply a worker would send is built here.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NoReturn, Protocol, TypeVar

import numpy as np

from tools.kernels._arena import HostArena, arena_bytes
from tools.kernels._host_clock import Clocked, Message, Read, Rival, RivalError, Write, clock_launch, clocked_seconds
from tools.kernels._protocol import ProtocolError
from tools.kernels._trial import Trial, checked_runs, run_counts

T = TypeVar("T")


class Stoppable(Protocol):
    """What a placed session needs of the worker's process (a `SandboxProcess`)."""

    newcomers: tuple[int, ...]

    def pause(self) -> bool: ...

    def halt(self) -> bool: ...

    def resume(self) -> None: ...


class PlacedSession:
    """One worker's request over an arena: the host's trial there, the worker stopped between brackets."""

    def __init__(
        self,
        write: Write,
        read: Read,
        process: Stoppable,
        folder: Path,
        request: Mapping[str, Any],
        inputs: Mapping[str, np.ndarray],
        variants: Mapping[int, Mapping[str, np.ndarray]],
        samples: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        """`folder`: the worker's working directory (the arena is created there, where its sandbox sees it)."""
        self.write, self.read, self.process = write, read, process
        self.request = dict(request)
        self.arena = HostArena(folder, arena_bytes(self.request["buffers"], int(self.request["guard"])))
        try:
            self.trial = Trial(
                self.arena, self.request, {**inputs, **(samples or {})}, None, variant=lambda run: variants.get(run, {})
            )
        except BaseException:
            self.arena.close()
            raise
        self.clocked: dict[int, Clocked] = {}
        self.stopped = False
        """Whether the worker has been stopped (all or some of it) since it last ran: `resume` is owed."""

    def start(self) -> Message | None:
        """Send the request; None once the worker is prepared (and stopped), else its failure reply."""
        header = {**self.request, "op": "launcher", "arena": self.arena.name, "arena_bytes": self.arena.size}
        self.write(header, {})
        reply = self.read()
        if reply[0].get("op") != "prepared":
            return reply
        self._stop("as it said prepared")
        return None

    def launch(
        self,
        run: int,
        timed: bool,
        *,
        observe: bool = True,
        record: bool = True,
        before_observing: Callable[[], None] = lambda: None,
    ) -> Clocked | Message:
        """Run `run`: placed while the worker is stopped, clocked from its resumption to its stop after `done`.

        `before_observing`: what runs between the launch and reading it back (the rival's run of a pair
        whose candidate went first), so that reading back, a pass over the run's buffers in the host,
        comes after both runs of a pair and never just before one side's alone."""
        with self.trial.staged(run) as inputs:
            when = f"after run {run}"
            try:
                clocked = clock_launch(self.write, self.read, run, timed, start=self._go, stop=lambda: self._halt(when))
            except BaseException:
                with contextlib.suppress(ProtocolError):  # what went wrong first is the news (a worker dead)
                    self._stop(when)
                raise
            self._stop(when)
            if self.process.newcomers:
                raise ProtocolError(
                    f"the worker started {len(self.process.newcomers)} process(es) while it ran run {run}: a placed "
                    "worker only launches, and what it started may have worked on past the clock"
                )
            if not isinstance(clocked, Clocked):
                return clocked  # the worker replied: its request is over
            before_observing()
            if observe:
                self.trial.observe(run, inputs)
        if record:
            if run in self.clocked:
                raise ProtocolError(f"run {run} was launched twice")
            self.clocked[run] = clocked
        return clocked

    def finish(self) -> Message:
        """Let the worker go, end its request and return its reply."""
        self._go()
        self.write({"op": "end"}, {})
        return self.read()

    def settle(self) -> None:
        """Whatever happened: the worker running again (it serves other requests) and the arena gone."""
        try:
            self._go()
        finally:
            self.arena.close()

    def _halt(self, when: str) -> None:
        """Inside the clock: signal the worker to stop; where that cannot be done, stop it whole, right here
        (a slower stop inside the clock, rather than a window outside it)."""
        if not self.process.halt():
            self._stop(when)

    def _stop(self, when: str) -> None:
        """Stop the worker, or end its request: a worker left running could work on a run off the clock."""
        if self.stopped:
            return
        self.stopped = True  # whatever `pause` managed to stop, `resume` lets go
        if not self.process.pause():
            raise ProtocolError(f"the worker could not be stopped {when}")

    def _go(self) -> None:
        if self.stopped:
            self.stopped = False
            self.process.resume()


class PlacedRival:
    """The trusted seed over an arena of its own, launched by the host beside each timed run (`Rival`)."""

    def __init__(self, session: PlacedSession) -> None:
        self.session = session
        self.clocked = session.clocked
        self.closed = False

    def open(self) -> None:
        """Compile and set up, then one untimed launch: the device builds a kernel at its first launch."""
        failure = self._step(self.session.start)
        if failure is not None:
            self._failed(failure[0])
        warm = self._step(lambda: self.session.launch(0, False, observe=False, record=False))
        if not isinstance(warm, Clocked):
            self._failed(warm[0])

    def run(self, run: int, before_observing: Callable[[], None] = lambda: None) -> None:
        """One clocked run on `run`'s inputs; `before_observing` (the candidate's side of a pair the rival
        opens) runs between this launch and its reading back, and runs even where the rival does not."""
        if run in self.clocked or self.closed:
            before_observing()
            return
        # Read back as the candidate's runs are, though nothing is judged from it: observing only the
        # candidate's runs left its kernel 5-8 % slower than the seed's on the device itself (saxpy, 60 MB),
        # and the seed read as 0.94x itself at the held-out gate.
        result = self._step(lambda: self.session.launch(run, True, before_observing=before_observing))
        if not isinstance(result, Clocked):
            self._failed(result[0])

    def _step(self, step: Callable[[], T]) -> T:
        try:
            return step()
        except ProtocolError as error:
            # The trusted worker's fault, not the candidate's it was answering beside.
            self._failed({"error": f"the trusted worker broke the protocol: {error}"})

    def _failed(self, reply: Mapping[str, Any]) -> NoReturn:
        self.closed = True
        self.session.settle()
        raise RivalError(reply)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            reply, _ = self.session.finish()
        finally:
            self.session.settle()
        if not reply.get("ok"):
            raise RivalError(reply)


def placed_evaluation(session: PlacedSession, overhead: float, rival: Rival | None) -> Message:
    """One evaluation request driven run by run; the reply (with the worker's durations, for `host_timed_reply`).

    `overhead`: what this worker's bracket costs by itself, which sets the runs' count from the first's
    duration as the host clocked it. The rival runs beside each timed run: before it on even runs,
    after it on odd ones, the candidate stopped throughout (`_pair`).
    """
    try:
        failure = session.start()
        if failure is not None:
            return failure
        trial, request = session.trial, session.request
        trial.keep = {0}
        first = session.launch(0, False)
        if not isinstance(first, Clocked):
            return first
        try:
            warmup, timed = run_counts(clocked_seconds(first.device, first.bracket, overhead), request)
        except ValueError as error:  # too few variants for the runs: the host's request was wrong
            session.finish()
            return {"ok": False, "stage": "protocol", "error": str(error)}, {}
        first_timed = 1 + warmup
        trial.keep = set(checked_runs(first_timed, timed, [float(u) for u in request.get("check", [])]))
        for run in range(1, first_timed + timed):
            is_timed = run >= first_timed
            beside = rival if rival is not None and is_timed else None
            result = _pair(session, run, is_timed, beside)
            if not isinstance(result, Clocked):
                return result
        reply, _ = session.finish()
    finally:
        session.settle()
    if not reply.get("ok"):
        return reply, {}
    runs = [session.clocked[run] for run in range(first_timed + timed)]
    phases = {**reply.get("phases", {}), "prepare": trial.phases["prepare"], "observe": trial.phases["observe"]}
    return {
        **reply,
        "times": [launch.device for launch in runs[first_timed:]],
        "first": first.device,
        "runs": first_timed + timed,
        "first_timed": first_timed,
        "checked": sorted(trial.keep),
        # The worker holds no copy of the inputs to hash: these are the host's own, as the judge expects them.
        "final_digests": trial.input_digests(),
        "phases": phases,
        "placed": True,
    }, trial.payload()


def _pair(session: PlacedSession, run: int, timed: bool, rival: Rival | None) -> Clocked | Message:
    """The candidate's launch of `run` and, beside it, the rival's, in mirrored order: on odd runs the candidate
    launches first, on even runs the rival; each launch is staged right before it, and both runs are read
    back only after both launched.

    So each side's launches follow the same steps as often as the other's: half of them come right after the
    other side's launch, half after host-only work (reading back, staging). Before, the rival's runs of even
    runs were read back before the candidate launched: every candidate launch came after host-only work, half
    of the rival's right after a launch, and the seed timed against itself read 0.85-0.95x on saxpy (its
    launches' host brackets about 50 microseconds longer than the rival's, on 0.3 ms runs).
    """
    if rival is None:
        return session.launch(run, timed)
    if run % 2 == 1:
        return session.launch(run, timed, before_observing=functools.partial(rival.run, run))
    if not isinstance(rival, PlacedRival):
        rival.run(run)
        return session.launch(run, timed)
    outcome: list[Clocked | Message] = []
    failure: list[BaseException] = []

    def candidate() -> None:
        # The candidate's failure is the candidate's, not the trusted worker's the rival would blame it on.
        try:
            outcome.append(session.launch(run, timed))
        except BaseException as error:  # noqa: BLE001 - raised again below, outside the rival's run
            failure.append(error)

    rival.run(run, before_observing=candidate)
    if failure:
        raise failure[0]
    return outcome[0]
