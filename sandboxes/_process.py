"""Running one host process with a wall clock, an output cap and whole-group cleanup.

The child starts its own session so that a timeout can kill everything it spawned with one
signal; output is drained by threads so a chatty child can never block on a full pipe.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

from sandboxes._base import ExecResult, OutputLimitExceededError, SandboxProcess, SandboxTimeoutError


class _CappedReader(threading.Thread):
    """Drains a pipe, keeping at most `cap` bytes; reports when the cap was crossed."""

    def __init__(self, stream: IO[bytes], cap: int, on_overflow: threading.Event, keep: str = "head") -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.cap = cap
        self.on_overflow = on_overflow
        self.keep = keep
        self.chunks: list[bytes] = []
        self.size = 0

    def run(self) -> None:
        while True:
            try:
                chunk = self.stream.read1(65536) if hasattr(self.stream, "read1") else self.stream.read(65536)
            except (OSError, ValueError):
                break
            if not chunk:
                break
            if self.keep == "tail":
                # Keep the newest bytes: for a worker's stderr the end says why it died.
                self.chunks.append(chunk)
                joined = b"".join(self.chunks)[-self.cap :]
                self.chunks = [joined]
            elif self.size < self.cap:
                self.chunks.append(chunk[: self.cap - self.size])
            self.size += len(chunk)
            if self.size > self.cap and self.keep == "head":
                self.on_overflow.set()
        with contextlib.suppress(OSError):
            self.stream.close()

    def text(self) -> str:
        return b"".join(self.chunks).decode("utf-8", errors="replace")


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        process.kill()


def run_process(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    timeout: float,
    output_bytes: int,
    input: bytes | None = None,
) -> ExecResult:
    """Run argv to completion; raise SandboxTimeoutError / OutputLimitExceededError on the limits."""
    start = time.monotonic()
    process = subprocess.Popen(
        list(argv),
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(env),
        cwd=cwd,
        start_new_session=True,
        close_fds=True,
    )
    overflow = threading.Event()
    assert process.stdout is not None and process.stderr is not None
    readers = [
        _CappedReader(process.stdout, output_bytes, overflow),
        _CappedReader(process.stderr, output_bytes, overflow),
    ]
    for reader in readers:
        reader.start()
    if input is not None and process.stdin is not None:
        try:
            process.stdin.write(input)
            process.stdin.close()
        except BrokenPipeError:
            pass

    deadline = start + timeout
    timed_out = False
    while True:
        try:
            process.wait(timeout=0.05)
            break
        except subprocess.TimeoutExpired:
            if overflow.is_set():
                _kill_group(process)
                process.wait()
                break
            if time.monotonic() >= deadline:
                timed_out = True
                _kill_group(process)
                process.wait()
                break
    # A daemonised grandchild may still hold the pipes open; the group kill covers the rest.
    _kill_group(process)
    for reader in readers:
        reader.join(timeout=5)
    result = ExecResult(
        returncode=process.returncode,
        stdout=readers[0].text(),
        stderr=readers[1].text(),
        duration=time.monotonic() - start,
    )
    if timed_out:
        raise SandboxTimeoutError(f"command timed out after {timeout:g} s and was killed", result)
    if overflow.is_set():
        raise OutputLimitExceededError(f"command wrote more than {output_bytes} bytes of output and was killed", result)
    return result


class HostProcess(SandboxProcess):
    """A long-lived child in its own session, killed as a whole group; stderr kept in a ring."""

    def __init__(
        self, argv: Sequence[str], *, env: Mapping[str, str], cwd: Path, stderr_bytes: int, on_exit: Callable[[], None]
    ) -> None:
        self.process = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
            close_fds=True,
        )
        assert self.process.stdin is not None and self.process.stdout is not None and self.process.stderr is not None
        self.stdin: IO[bytes] = self.process.stdin
        self.stdout: IO[bytes] = self.process.stdout
        self._stderr = _CappedReader(self.process.stderr, stderr_bytes, threading.Event(), keep="tail")
        self._stderr.start()
        self._on_exit = on_exit
        self._killed = False

    def poll(self) -> int | None:
        return self.process.poll()

    def kill(self) -> None:
        if self._killed:
            return
        self._killed = True
        _kill_group(self.process)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        for stream in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()
        self._on_exit()

    def stderr_tail(self) -> str:
        return self._stderr.text()
