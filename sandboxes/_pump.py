"""Feeding a command's input and draining its output from the calling thread, woken the moment it exits.

A reader thread per pipe costs a few milliseconds to start on a busy machine, and waiting with
`Popen.wait(timeout=...)` sleeps in growing steps: together they were most of what a short
sandboxed command added to the command itself. One `poll` over the pipes and a pidfd (Linux's
descriptor that becomes readable when the process exits) does the same work with no thread and no
sleep. Output is still capped as it arrives, so a chatty command can never fill memory, and the
pipes are always drained, so it can never block on a full one.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import subprocess
import time
from typing import Literal

_CHUNK = 65536


class CappedBuffer:
    """The bytes of one stream, at most `cap` of them: the first (`head`) or the newest (`tail`)."""

    def __init__(self, cap: int, keep: Literal["head", "tail"] = "head") -> None:
        self.cap = cap
        self.keep = keep
        self.chunks: list[bytes] = []
        self.size = 0
        self._held = 0  # bytes in `chunks` (for `tail`, up to twice `cap` between trims)

    def feed(self, chunk: bytes) -> None:
        if self.keep == "tail":
            # Keep the newest bytes: for a worker's stderr the end says why it died. Trimmed only once twice
            # the cap is held, so each byte is copied a bounded number of times: joining the whole ring at
            # every chunk cost labgate 0.7 of a core while a worker wrote stderr without pause.
            self.chunks.append(chunk)
            self._held += len(chunk)
            if self._held > 2 * self.cap:
                self.chunks = [b"".join(self.chunks)[-self.cap :]]
                self._held = len(self.chunks[0])
        elif self.size < self.cap:
            self.chunks.append(chunk[: self.cap - self.size])
        self.size += len(chunk)

    @property
    def overflowed(self) -> bool:
        """Whether more than `cap` bytes arrived where the first ones are kept (the command must be stopped)."""
        return self.keep == "head" and self.size > self.cap

    def text(self) -> str:
        kept = b"".join(self.chunks)
        return (kept[-self.cap :] if self.keep == "tail" else kept).decode("utf-8", errors="replace")


def _exit_watcher(pid: int) -> int | None:
    """A descriptor that becomes readable when `pid` exits (Linux pidfd), or None where there is none."""
    opener = getattr(os, "pidfd_open", None)
    if opener is None:
        return None
    try:
        fd: int = opener(pid)
    except OSError:
        return None
    return fd


class Pump:
    """The pipes of one started process: stdin fed from `input`, stdout and stderr into capped buffers."""

    def __init__(self, process: subprocess.Popen[bytes], output_bytes: int, input: bytes | None) -> None:
        assert process.stdout is not None and process.stderr is not None
        self.process = process
        self.stdout = CappedBuffer(output_bytes)
        self.stderr = CappedBuffer(output_bytes)
        self._selector = selectors.DefaultSelector()  # epoll: no FD_SETSIZE limit on a busy server
        self._buffers = {process.stdout.fileno(): self.stdout, process.stderr.fileno(): self.stderr}
        for fd in self._buffers:
            self._selector.register(fd, selectors.EVENT_READ)
        self._input = memoryview(input or b"")
        self._stdin: int | None = None
        if process.stdin is not None:
            if self._input:
                self._stdin = process.stdin.fileno()
                os.set_blocking(self._stdin, False)
                self._selector.register(self._stdin, selectors.EVENT_WRITE)
            else:
                self._close_stdin()
        self._watcher = _exit_watcher(process.pid)
        if self._watcher is not None:
            self._selector.register(self._watcher, selectors.EVENT_READ)

    @property
    def overflowed(self) -> bool:
        return self.stdout.overflowed or self.stderr.overflowed

    def step(self, seconds: float) -> None:
        """Move what is ready through the pipes, waiting at most `seconds` (less if output comes or it exits)."""
        for key, _ in self._selector.select(seconds):
            if key.fd == self._watcher:
                continue
            if key.fd == self._stdin:
                self._write()
            else:
                self._read(key.fd)

    def drain(self, seconds: float) -> None:
        """After the process ended: read the pipes until every writer is gone or `seconds` run out."""
        if self._watcher is not None:
            self._selector.unregister(self._watcher)
            os.close(self._watcher)
            self._watcher = None
        if self._stdin is not None:
            self._selector.unregister(self._stdin)
            self._close_stdin()
        deadline = time.monotonic() + seconds
        while self._buffers and (remaining := deadline - time.monotonic()) > 0:
            self.step(remaining)

    def close(self) -> None:
        if self._stdin is not None:
            self._selector.unregister(self._stdin)
            self._close_stdin()
        for fd in list(self._buffers):
            self._selector.unregister(fd)
            del self._buffers[fd]
        if self._watcher is not None:
            os.close(self._watcher)
            self._watcher = None
        self._selector.close()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def _read(self, fd: int) -> None:
        try:
            chunk = os.read(fd, _CHUNK)
        except OSError:
            chunk = b""
        if chunk:
            self._buffers[fd].feed(chunk)
            return
        self._selector.unregister(fd)
        del self._buffers[fd]

    def _write(self) -> None:
        assert self._stdin is not None
        try:
            written = os.write(self._stdin, self._input[:_CHUNK])
        except BlockingIOError:
            return
        except OSError:  # the command closed its stdin (BrokenPipeError): the rest is not wanted
            written = len(self._input)
        self._input = self._input[written:]
        if not self._input:
            self._selector.unregister(self._stdin)
            self._close_stdin()

    def _close_stdin(self) -> None:
        self._stdin = None
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
