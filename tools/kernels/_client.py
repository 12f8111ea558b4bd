"""The host's handle on the sandboxed worker: requests with a wall clock, restart on a hang.

One worker serves a whole search (its context, program cache and PoCL cache are reused). When a
request outlives its deadline (an infinite-loop kernel) or the worker dies (a crashing kernel),
the whole sandboxed tree is killed and the next request starts a fresh worker.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np

from runs import LabgateError
from sandboxes import GIB, Limits, Sandbox, SandboxProcess
from tools.kernels._host_clock import (
    CALIBRATION_RUNS,
    Conversation,
    Rival,
    RivalError,
    RivalSession,
    bracket_overhead,
    host_timed_reply,
)
from tools.kernels._host_link import split_runs
from tools.kernels._placed import PlacedRival, PlacedSession, placed_evaluation
from tools.kernels._protocol import REQUEST_MARK, ProtocolError, decode, encode

DEATH_NOTE_CHARS = 240
"""The most of a dead worker's last output quoted in the error (the end of it)."""
WORKER_LIMITS = Limits(
    memory_bytes=8 * GIB,
    address_space_bytes=24 * GIB,
    processes=256,
    file_bytes=1 * GIB,
    open_files=1024,
    output_bytes=1 << 20,
)
"""Address space is generous, since the device runtime maps large regions it never touches; memory is
not: a candidate that makes the kernel compiler (or the task's reference) use more than 8 GiB is killed
there, not the host (the largest suite task peaks near 0.7 GB)."""


T = TypeVar("T")


class WorkerSandboxFactory(Protocol):
    def __call__(self, workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox: ...


class WorkerTimeoutError(LabgateError, TimeoutError):
    """The worker did not answer in time; it has been killed."""


class WorkerCrashedError(LabgateError, RuntimeError):
    """The worker exited (or broke the protocol) while serving a request; it has been killed."""


def worker_ro_paths() -> list[Path]:
    """What the sandboxed interpreter must see read-only: the venv, the base Python, labgate's packages."""
    import runs
    import sandboxes
    import tools

    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent.parent}
    for module in (tools, runs, sandboxes):
        paths.add(Path(module.__file__ or ".").resolve().parent)
    system = (Path("/usr"), Path("/etc"), Path("/opt"))
    return sorted(p for p in paths if p.exists() and not any(p == s or s in p.parents for s in system))


def _package_root() -> Path:
    import tools

    return Path(tools.__file__ or ".").resolve().parent.parent


def describe_exit(code: int | None) -> str:
    """An exit status in words: a crashing kernel shows up as a signal (SIGSEGV, SIGABRT from an assertion)."""
    if code is None:
        return "exit status unknown"
    number = -code if code < 0 else code - 128 if 128 < code < 128 + 65 else 0
    if number:
        try:
            return f"code {code}, killed by {signal.Signals(number).name}"
        except ValueError:
            return f"code {code}, killed by signal {number}"
    return f"code {code}"


class Worker:
    """A lazily started worker in its own sandbox, restarted after any failure."""

    def __init__(
        self,
        factory: WorkerSandboxFactory,
        workdir: Path,
        backend: str = "opencl",
        *,
        runs_candidates: bool = False,
        place_inputs: bool | None = None,
    ) -> None:
        """`runs_candidates`: candidates' code runs here, so between requests the worker is stopped
        (`SandboxProcess.pause`): nothing it left running may take the processor from the trusted
        worker's yardstick, seed or rival, or from the host's references. `place_inputs`: the host
        writes every run's inputs into buffers it shares with the worker (`_placed`); by default
        where the device's kernels run in the worker's own memory (a CPU device), where a kernel
        can take the worker over. Otherwise the worker uploads them (`Conversation`)."""
        self.place_inputs = place_inputs
        self.places_inputs = False
        """Whether this worker's evaluations are placed (`place_inputs`, or what the device said as it started)."""
        self.factory = factory
        self.workdir = workdir
        self.backend = backend
        self.runs_candidates = runs_candidates
        self.paused = False
        self.process: SandboxProcess | None = None
        self.sandbox: Sandbox | None = None
        self.starts = 0
        self.device: dict[str, Any] = {}
        self.overhead = 0.0
        """What the host's clock adds to a launch in this worker (`_host_clock`), measured as it started."""

    def _start(self, timeout: float) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.sandbox = self.factory(self.workdir, ro_paths=worker_ro_paths())
        code = (
            f"import sys; sys.path.insert(0, {str(_package_root())!r}); from tools.kernels._worker import main; main()"
        )
        env = {"POCL_CACHE_DIR": "/tmp/pocl-cache", "PYTHONDONTWRITEBYTECODE": "1", "OMP_NUM_THREADS": "1"}
        self.process = self.sandbox.spawn(
            [sys.executable, "-I", "-c", code, "--backend", self.backend], limits=WORKER_LIMITS, env=env
        )
        self.starts += 1
        os.set_blocking(self.process.stdin.fileno(), False)
        reply, _ = self._exchange({"op": "hello"}, {}, timeout)
        if not reply.get("ok"):
            raise WorkerCrashedError(f"worker could not open the device: {reply.get('error')}")
        self.device = dict(reply["device"])
        # Said before any candidate ran here, so it is the device's own account.
        shares = reply.get("shares_host_memory") is True
        self.places_inputs = shares if self.place_inputs is None else self.place_inputs
        # Before any candidate runs here: what the host's bracket costs by itself.
        deadline = time.monotonic() + timeout
        conversation = self._conversation(deadline, {}, None, inputs_first=False)
        self._write({"op": "calibrate", "runs": CALIBRATION_RUNS}, {}, deadline)
        reply, _ = self._guarded(conversation.serve)
        if not reply.get("ok") or len(conversation.clocked) != CALIBRATION_RUNS:
            raise WorkerCrashedError(f"worker could not be clocked: {reply.get('error')}")
        self.overhead = bracket_overhead(conversation.clocked)

    def ensure(self, timeout: float = 120.0) -> dict[str, Any]:
        if self.process is None or self.process.poll() is not None:
            self.kill()
            try:
                self._start(timeout)
            except BaseException:
                self.kill()  # no half-started worker is taken for a ready one
                raise
        return self.device

    def request(
        self,
        header: Mapping[str, Any],
        arrays: Mapping[str, np.ndarray],
        timeout: float,
        *,
        rival: Rival | None = None,
    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """One request; an evaluation's durations in the reply are the host's (`host_timed_reply`).

        Run r's input variant (`variant{r}:...` among `arrays`) is sent only when the worker asks for
        it, as run r begins. `rival` (from `open_rival` on another worker) runs beside the timed runs.
        """
        self.ensure()
        spec = header.get("yardstick")
        if self.places_inputs and isinstance(spec, Mapping):
            # The yardstick's buffers are of the kind the candidates' are here (`Yardstick._alloc`).
            header = {**header, "yardstick": {**spec, "placed": True}}
        if self.paused:
            assert self.process is not None
            self.process.resume()
            self.paused = False
        try:
            reply = self._exchange(header, arrays, timeout, rival)
        except (WorkerTimeoutError, WorkerCrashedError, RivalError):
            self.kill()  # left mid-request: the next one starts a fresh worker
            raise
        if self.runs_candidates and self.process is not None:
            self.process.pause()
            self.paused = True  # whatever it stopped (all, or some), the next request lets go first
        return reply

    def open_rival(
        self,
        header: Mapping[str, Any],
        base: Mapping[str, np.ndarray],
        variants: Mapping[int, Mapping[str, np.ndarray]],
        timeout: float,
    ) -> Rival:
        """A rival session in this worker (which must only ever run trusted code): compiled and set up."""
        self.ensure()
        deadline = time.monotonic() + timeout

        def write(message: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
            self._as_rival(lambda: self._write(message, arrays, deadline))

        def read() -> tuple[dict[str, Any], dict[str, np.ndarray]]:
            return self._as_rival(lambda: self._guarded(lambda: self._read(deadline)))

        if self.places_inputs:
            assert self.process is not None
            placed = PlacedRival(PlacedSession(write, read, self.process, self.workdir, header, base, variants))
            placed.open()
            return placed
        session = RivalSession(write, read, variants)
        session.open(header, base)
        return session

    def _as_rival(self, step: Callable[[], T]) -> T:
        """`step` of a rival session: any failure of this (trusted) worker is the rival's, not the candidate's."""
        try:
            return step()
        except (WorkerTimeoutError, WorkerCrashedError) as error:
            self.kill()
            raise RivalError({"error": f"the trusted worker: {error}"}) from None

    def _exchange(
        self,
        header: Mapping[str, Any],
        arrays: Mapping[str, np.ndarray],
        timeout: float,
        rival: Rival | None = None,
    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        base, variants = split_runs(arrays)
        if header.get("op") == "evaluate" and self.places_inputs:
            return self._placed(header, base, variants, deadline, rival)
        conversation = self._conversation(deadline, variants, rival)
        self._write(header, base, deadline)
        reply, payload = self._guarded(conversation.serve)
        if header.get("op") != "evaluate":
            return reply, payload
        try:
            return host_timed_reply(reply, conversation.clocked, self.overhead, rival), payload
        except ProtocolError as error:
            raise WorkerCrashedError(f"the worker broke the protocol: {error}") from None

    def _placed(
        self,
        header: Mapping[str, Any],
        base: Mapping[str, np.ndarray],
        variants: Mapping[int, Mapping[str, np.ndarray]],
        deadline: float,
        rival: Rival | None,
    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """An evaluation whose runs the host places and drives itself (`_placed`); the worker gets no input."""
        assert self.process is not None
        inputs = {name: array for name, array in base.items() if not name.startswith("sample:")}
        samples = {name: array for name, array in base.items() if name.startswith("sample:")}
        session = PlacedSession(
            lambda h, a: self._write(h, a, deadline),
            lambda: self._guarded(lambda: self._read(deadline)),
            self.process,
            self.workdir,
            header,
            inputs,
            variants,
            samples,
        )
        try:
            reply, payload = placed_evaluation(session, self.overhead, rival)
            return host_timed_reply(reply, list(session.clocked.values()), self.overhead, rival), payload
        except ProtocolError as error:
            raise WorkerCrashedError(f"the worker broke the protocol: {error}") from None

    def _conversation(
        self,
        deadline: float,
        variants: Mapping[int, Mapping[str, np.ndarray]],
        rival: Rival | None,
        *,
        inputs_first: bool = True,
    ) -> Conversation:
        """The host's side of one request to this worker, every message within `deadline`."""
        assert self.process is not None
        return Conversation(
            lambda h, a: self._write(h, a, deadline),
            lambda: self._read(deadline),
            variants,
            rival,
            inputs_first=inputs_first,
            pause=self.process.pause,
            resume=self.process.resume,
        )

    def _guarded(self, step: Callable[[], T]) -> T:
        """`step`, with a dead worker or a broken message turned into WorkerCrashedError."""
        try:
            return step()
        except EOFError:
            raise WorkerCrashedError(self._death_note()) from None
        except ProtocolError as error:
            # Something in the worker (a task file's reference, a kernel) wrote to the reply pipe itself.
            raise WorkerCrashedError(f"the worker broke the protocol: {error}") from None

    def _read(self, deadline: float) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return decode(lambda n: self._read_exact(n, deadline))

    def _write(self, header: Mapping[str, Any], arrays: Mapping[str, np.ndarray], deadline: float) -> None:
        """Write one message, within the deadline of the request it belongs to.

        A worker that stopped reading (a task file's reference can replace the worker's own loop)
        would otherwise block the host forever on a message larger than the pipe's buffer: the pipe
        is non-blocking, and past the deadline the worker is killed.
        """
        assert self.process is not None
        fd = self.process.stdin.fileno()
        for chunk in encode(header, arrays):
            view = chunk.cast("B")
            while len(view):
                try:
                    written = os.write(fd, view)
                except BlockingIOError:
                    written = 0
                except OSError:  # BrokenPipeError: the worker is gone
                    raise WorkerCrashedError(self._death_note()) from None
                view = view[written:]
                if len(view):
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or not select.select([], [fd], [], remaining)[1]:
                        raise WorkerTimeoutError("the worker did not take the request in time")

    def _read_exact(self, size: int, deadline: float) -> bytearray:
        assert self.process is not None
        data = bytearray(size)
        view = memoryview(data)
        have = 0
        fd = self.process.stdout.fileno()
        while have < size:
            self._wait_readable(fd, deadline)
            got = os.readv(fd, [view[have:]])
            if not got:
                raise EOFError
            have += got
        return data

    @staticmethod
    def _wait_readable(fd: int, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            raise WorkerTimeoutError("the worker did not answer in time")

    def _death_note(self) -> str:
        code = self._exit_code()
        text = self.process.stderr_tail() if self.process else ""
        # Only what the failed request printed: earlier requests' output comes before the last mark.
        tail = " | ".join(text.rpartition(REQUEST_MARK.decode())[2].strip().splitlines()[-6:])
        note = f"worker exited ({describe_exit(code)})"
        if not tail:
            return note
        # What the worker printed last may be the candidate's own words (its code runs there): it is
        # quoted, escaped and bounded, so it can pass for no verdict, reason or instruction of ours.
        cut = tail if len(tail) <= DEATH_NOTE_CHARS else "..." + tail[-DEATH_NOTE_CHARS:]
        return f"{note}; its last output (the candidate's code may have written it): {json.dumps(cut)}"

    def _exit_code(self, grace: float = 2.0) -> int | None:
        """The worker's exit status, given a moment to be reaped: its pipe closes just before it exits."""
        deadline = time.monotonic() + grace
        while self.process is not None:
            code = self.process.poll()
            if code is not None or time.monotonic() >= deadline:
                return code
            time.sleep(0.02)
        return None

    def kill(self) -> None:
        self.paused = False
        if self.process is not None:
            self.process.kill()
            self.process = None
        if self.sandbox is not None:
            self.sandbox.close()
            self.sandbox = None

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.kill()
