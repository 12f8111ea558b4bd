"""Reading a sandboxed worker's stdout with a deadline, for the provers that keep a process running."""

from __future__ import annotations

import os
import select
import time

from runs import LabgateError
from sandboxes import SandboxProcess


class WorkerDiedError(LabgateError, RuntimeError):
    """The worker exited (or closed its output) while an answer was awaited."""


class StreamReader:
    """Accumulates a worker's stdout; `read_more` waits for one chunk until the deadline."""

    def __init__(self, process: SandboxProcess) -> None:
        self.process = process
        self.buffer = b""

    def read_more(self, deadline: float) -> None:
        """Append the next chunk; TimeoutError at the deadline, WorkerDiedError if the worker is gone."""
        stream = self.process.stdout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            ready, _, _ = select.select([stream], [], [], min(remaining, 0.5))
            if ready:
                chunk = os.read(stream.fileno(), 1 << 16)
                if not chunk:
                    raise WorkerDiedError(self.process.stderr_tail().strip()[-300:] or "the worker exited")
                self.buffer += chunk
                return
            if self.process.poll() is not None:
                raise WorkerDiedError(self.process.stderr_tail().strip()[-300:] or "the worker exited")

    def read_line(self, deadline: float) -> str:
        while b"\n" not in self.buffer:
            self.read_more(deadline)
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.decode("utf-8", errors="replace").rstrip("\r")

    def read_exact(self, count: int, deadline: float) -> str:
        while len(self.buffer) < count:
            self.read_more(deadline)
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data.decode("utf-8", errors="replace")

    def send(self, text: str) -> None:
        self.process.stdin.write(text.encode())
        self.process.stdin.flush()
