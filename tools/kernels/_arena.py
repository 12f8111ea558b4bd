"""Buffers the host fills itself: a file both sides map, the worker's device buffers living in it.

On a CPU device a candidate's kernel is native code in its worker and can take the worker over. A
worker taken over once did a memory-bound run's work on the base inputs before any clock started and,
in the timed window, patched only the elements the run's variant named (a 0.6x saxpy was accepted at
1.8x). Anything the worker receives before the host's clock starts can be worked on unclocked, and a
preparation allowance in the window can hide a memory pass. So, where the device shares the worker's
memory, the worker never receives a run's inputs at all: its buffers are this file (PoCL computes in a
`CL_MEM_USE_HOST_PTR` buffer's own memory), and the host writes each run's inputs and poison into it
while the worker's processes are stopped, resumes them as its clock starts, and stops them again at
`done` before it reads the outputs, guards and inputs back (`_placed`). Every moment a worker can
compute on a run's inputs is then inside the host's bracket.

The host reads and writes through its own descriptor (`pread`/`pwrite`), never a mapping: a worker
that truncated the file would make a mapped read raise SIGBUS in the host; here it is a short read,
reported as a protocol break.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from tools.kernels._protocol import ProtocolError

PAGE = 4096
"""Every buffer (guards included) starts on its own page: a sub-buffer's offset must be aligned."""


def span(nbytes: int) -> int:
    """The arena bytes one allocation of `nbytes` takes: whole pages."""
    return -(-max(nbytes, 4) // PAGE) * PAGE


def buffer_bytes(spec: Mapping[str, Any]) -> int:
    """A request's buffer's size in bytes (its element count times its dtype's size)."""
    return int(spec["count"]) * np.dtype(str(spec["dtype"])).itemsize


def arena_bytes(buffers: Iterable[Mapping[str, Any]], guard: int) -> int:
    """The arena a request's buffers need, each with its guards on both sides, in request order."""
    return max(PAGE, sum(span(buffer_bytes(spec) + 2 * guard) for spec in buffers))


class HostArena:
    """The host's side: the file, and the part of `Backend` that `Trial` uses to prepare and observe runs.

    Allocations are handed out in order, a page-rounded span each, exactly as the worker's side
    (`WorkerArena`) hands them out over its mapping, so both agree on where each buffer is.
    """

    def __init__(self, folder: Path, nbytes: int) -> None:
        self.name = f".arena-{secrets.token_hex(8)}"
        self.path = folder / self.name
        self.size = nbytes
        self.next = 0
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            # The sandbox's processes run as a uid of their own: the file is theirs to map, and only theirs
            # and the host's, since the folder is the sandbox's working directory.
            os.fchmod(fd, 0o666)
            os.ftruncate(fd, nbytes)
        except OSError:
            os.close(fd)
            self.path.unlink(missing_ok=True)
            raise
        self.fd = fd

    def alloc(self, nbytes: int) -> int:
        offset = self.next
        self.next += span(nbytes)
        if self.next > self.size:
            raise ValueError(f"the arena holds {self.size} bytes; its buffers need more")
        return offset

    def region(self, parent: int, offset: int, nbytes: int) -> int:
        return parent + offset

    def write(self, parent: int, data: np.ndarray, offset: int = 0) -> None:
        view = np.ascontiguousarray(data).data.cast("B")
        position = parent + offset
        while len(view):
            written = os.pwrite(self.fd, view, position)
            view, position = view[written:], position + written

    def read(self, parent: int, out: np.ndarray, offset: int = 0) -> None:
        view = out.data.cast("B")
        position = parent + offset
        while len(view):
            got = os.preadv(self.fd, [view], position)
            if got <= 0:
                raise ProtocolError("the worker cut the shared buffers short (the arena file was truncated)")
            view, position = view[got:], position + got

    def close(self) -> None:
        """Drop the file's pages (unwritten, never flushed to disk) and the file."""
        if self.fd < 0:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self.fd, 0)
        os.close(self.fd)
        self.fd = -1
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> HostArena:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class WorkerArena:
    """The worker's side: the file mapped, device buffers made over consecutive spans of it."""

    def __init__(self, name: str, nbytes: int) -> None:
        if "/" in name or not name.startswith(".arena-"):
            raise ValueError(f"an arena is a file of the working directory named .arena-*, not {name!r}")
        fd = os.open(name, os.O_RDWR | os.O_CLOEXEC)
        try:
            if os.fstat(fd).st_size < nbytes:
                raise ValueError(f"the arena {name} is smaller than the {nbytes} bytes asked for")
            self.mapping = mmap.mmap(fd, nbytes, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        finally:
            os.close(fd)
        self.memory = np.frombuffer(self.mapping, np.uint8)
        self.next = 0

    def take(self, nbytes: int) -> np.ndarray:
        """The next allocation's memory (`HostArena.alloc` hands out the same offsets)."""
        start = self.next
        self.next += span(nbytes)
        if self.next > self.memory.size:
            raise ValueError("the arena is smaller than the request's buffers")
        return self.memory[start : start + max(nbytes, 4)]

    def close(self) -> None:
        del self.memory
        with contextlib.suppress(BufferError):
            self.mapping.close()
