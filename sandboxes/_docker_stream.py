"""The engine's attach/exec stream: stdin raw one way, stdout and stderr multiplexed the other.

Without a TTY the engine frames its output: an 8-byte header (stream 1 = stdout, 2 = stderr,
three zero bytes, a big-endian 32-bit length) and then the payload. Reading the frames ourselves,
from the raw socket with a timeout, lets the host enforce the wall clock and the output cap on
every read, where the SDK's helpers would block.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from typing import Any

from runs import LabgateError

STDOUT = 1
STDERR = 2


class StreamTimeoutError(LabgateError, TimeoutError):
    """The deadline passed before the stream ended."""


def raw_socket(handle: Any) -> socket.socket:
    """The socket under what the SDK returns for a hijacked connection (SocketIO or the socket itself)."""
    sock = getattr(handle, "_sock", handle)
    if not isinstance(sock, socket.socket):
        raise TypeError(f"expected a socket from the Docker engine, got {type(sock).__name__}")
    return sock


def hang_up(handle: Any) -> None:
    """End the connection now. `close()` alone waits for every file object the SDK made from the socket
    to be closed too; until then the engine keeps writing into it, and a kill of the container waits
    for those writes."""
    with contextlib.suppress(OSError, TypeError):
        sock = raw_socket(handle)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
    with contextlib.suppress(OSError, AttributeError):
        handle.close()


def _read_exactly(sock: socket.socket, size: int, deadline: float | None) -> bytes:
    chunks = []
    left = size
    while left:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise StreamTimeoutError
            sock.settimeout(remaining)
        else:
            sock.settimeout(None)
        try:
            chunk = sock.recv(min(left, 1 << 16))
        except TimeoutError:
            raise StreamTimeoutError from None
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def frames(sock: socket.socket, deadline: float | None = None) -> Iterator[tuple[int, bytes]]:
    """(stream, payload) until the engine closes the stream; StreamTimeoutError past the deadline."""
    while True:
        header = _read_exactly(sock, 8, deadline)
        if len(header) < 8:
            return
        stream = header[0]
        size = int.from_bytes(header[4:8], "big")
        payload = _read_exactly(sock, size, deadline) if size else b""
        yield stream, payload
        if len(payload) < size:
            return


def send_and_close(sock: socket.socket, data: bytes) -> None:
    """Write all of `data` to the command's stdin, then half-close so it sees end of file."""
    with contextlib.suppress(OSError):
        sock.sendall(data)
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_WR)


class CappedBuffer:
    """Keeps the first `cap` bytes written to it and counts all of them."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.chunks: list[bytes] = []
        self.size = 0

    def add(self, data: bytes) -> None:
        if self.size < self.cap:
            self.chunks.append(data[: self.cap - self.size])
        self.size += len(data)

    @property
    def overflowed(self) -> bool:
        return self.size > self.cap

    def text(self) -> str:
        return b"".join(self.chunks).decode("utf-8", errors="replace")
