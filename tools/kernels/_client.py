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
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from runs import LabgateError
from sandboxes import GIB, Limits, Sandbox, SandboxProcess
from tools.kernels._protocol import REQUEST_MARK, ProtocolError, decode, write_message
from tools.kernels._variant_stream import streamed

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

    def __init__(self, factory: WorkerSandboxFactory, workdir: Path, backend: str = "opencl") -> None:
        self.factory = factory
        self.workdir = workdir
        self.backend = backend
        self.process: SandboxProcess | None = None
        self.sandbox: Sandbox | None = None
        self.starts = 0
        self.device: dict[str, Any] = {}

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
        reply, _ = self._exchange({"op": "hello"}, {}, timeout)
        if not reply.get("ok"):
            raise WorkerCrashedError(f"worker could not open the device: {reply.get('error')}")
        self.device = dict(reply["device"])

    def ensure(self, timeout: float = 120.0) -> dict[str, Any]:
        if self.process is None or self.process.poll() is not None:
            self.kill()
            self._start(timeout)
        return self.device

    def request(
        self, header: Mapping[str, Any], arrays: Mapping[str, np.ndarray], timeout: float
    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        self.ensure()
        try:
            return self._exchange(header, arrays, timeout)
        except (WorkerTimeoutError, WorkerCrashedError):
            self.kill()
            raise

    def _exchange(
        self, header: Mapping[str, Any], arrays: Mapping[str, np.ndarray], timeout: float
    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        self._send(header, arrays, deadline)
        try:
            return decode(lambda n: self._read_exact(n, deadline))
        except EOFError:
            raise WorkerCrashedError(self._death_note()) from None
        except ProtocolError as error:
            # Something in the worker (a task file's reference, a kernel) wrote to the reply pipe itself.
            raise WorkerCrashedError(f"the worker broke the protocol: {error}") from None

    def _send(self, header: Mapping[str, Any], arrays: Mapping[str, np.ndarray], deadline: float) -> None:
        """Write one request, within the same deadline as its answer.

        A worker that stopped reading (a task file's reference can replace the worker's own loop)
        would otherwise block the host forever on a request larger than the pipe's buffer: the
        write runs beside, and past the deadline the worker is killed, which ends the write.
        Each run's input variant follows as a message of its own (`streamed`), which the worker
        reads just before that run: until then it waits in the pipe, out of the kernels' reach.
        """
        assert self.process is not None
        stream = self.process.stdin
        failed: list[BaseException] = []
        messages = streamed(header, arrays)

        def write() -> None:
            try:
                for message_header, message_arrays in messages:
                    write_message(stream, message_header, message_arrays)
            except (OSError, ValueError) as error:  # BrokenPipeError is an OSError
                failed.append(error)

        writer = threading.Thread(target=write, name="kernel-worker-request", daemon=True)
        writer.start()
        writer.join(max(0.0, deadline - time.monotonic()))
        if writer.is_alive():
            self.kill()
            writer.join(5.0)
            raise WorkerTimeoutError("the worker did not take the request in time")
        if failed:
            raise WorkerCrashedError(self._death_note())

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
