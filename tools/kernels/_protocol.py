"""Framing between the trusted host and the sandboxed worker: a length, a JSON header line, then raw arrays.

Arrays travel as bytes described in the header (name, dtype, shape), so a 100 MB input costs one
pipe copy instead of a serialisation round trip. Every part of a message is read by its exact
length, never by a buffered line reader: the worker reads each run's inputs only just before that
run (`_host_link`), and a reader that filled a buffer past the message it wanted would put the
next run's inputs in the worker's memory, where the kernel running now can read them. Both sides use
only these functions.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Mapping
from typing import IO, Any, BinaryIO

import numpy as np

from runs import LabgateError

MAX_HEADER = 1 << 24
MAX_PAYLOAD = 1 << 33
REQUEST_MARK = b"\n\x1elabgate: next request\x1e\n"
"""What the worker writes to stderr as each request begins, so that a crash note quotes only what the
request that crashed printed, not an earlier candidate's output still in the stderr tail."""
LENGTH = struct.Struct("<Q")
"""The header's length in bytes, before it."""
MAX_DIMENSIONS = 8
"""The most dimensions an array in a message may have (the kernels' arrays have at most four)."""
ALLOWED_DTYPES = frozenset({"float32", "float64", "int32", "uint32", "int64", "int8", "uint8", "complex64"})


class ProtocolError(LabgateError):
    """The other side sent something that is not a well-formed message."""


def encode(header: Mapping[str, Any], arrays: Mapping[str, np.ndarray] | None = None) -> list[memoryview]:
    """The message as chunks to write in order (arrays are not copied)."""
    specs = []
    chunks = []
    offset = 0
    for name, array in (arrays or {}).items():
        data = np.ascontiguousarray(array)
        specs.append({"name": name, "dtype": str(data.dtype), "shape": list(data.shape), "offset": offset})
        raw = data.reshape(-1).view(np.uint8).data
        chunks.append(raw)
        offset += raw.nbytes
    line = json.dumps({**header, "arrays": specs, "payload": offset}).encode() + b"\n"
    return [memoryview(LENGTH.pack(len(line))), memoryview(line), *chunks]


def write_message(stream: IO[bytes], header: Mapping[str, Any], arrays: Mapping[str, np.ndarray] | None = None) -> None:
    for chunk in encode(header, arrays):
        stream.write(chunk)
    stream.flush()


def decode(read_exact: Callable[[int], bytes | bytearray]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Parse one message; arrays are views of the payload (no copy).

    `read_exact(n)` returns exactly n bytes, or raises EOFError where the stream ends first.
    """
    (length,) = LENGTH.unpack(bytes(read_exact(LENGTH.size)))
    if length > MAX_HEADER:
        raise ProtocolError("message header too long")
    line = read_exact(length)
    try:
        header = json.loads(bytes(line).decode("utf-8"))
    except (ValueError, RecursionError) as error:
        # Text that is no UTF-8, JSON nested past the recursion limit, an integer of more digits than
        # Python converts: each a broken message from a worker someone may have taken over.
        raise ProtocolError(f"malformed message header: {type(error).__name__}: {str(error)[:200]}") from None
    if not isinstance(header, dict):
        raise ProtocolError("message header is not an object")
    size = header.pop("payload", 0)
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_PAYLOAD:
        raise ProtocolError(f"payload size {size!r} out of range")
    specs = header.pop("arrays", [])
    if not isinstance(specs, list):
        raise ProtocolError("the message's array list is not a list")
    payload = read_exact(size) if size else b""
    arrays: dict[str, np.ndarray] = {}
    for spec in specs:
        name, array = _array(spec, payload)
        arrays[name] = array
    return header, arrays


def _array(spec: object, payload: bytes | bytearray) -> tuple[str, np.ndarray]:
    """One array a header describes, as a view of the payload; ProtocolError for any malformed field.

    The other side may be a worker a kernel or a task file's reference has taken over: a missing
    key or a shape of strings is a broken message, not a KeyError that takes the host down.
    """
    if not isinstance(spec, dict):
        raise ProtocolError("an array description is not an object")
    try:
        name, dtype = str(spec["name"]), str(spec["dtype"])
        if dtype not in ALLOWED_DTYPES:
            raise ProtocolError(f"array dtype {dtype!r} not allowed")
        shape = tuple(_whole(n) for n in spec["shape"])
        start = _whole(spec["offset"])
    except (KeyError, TypeError) as error:
        raise ProtocolError(f"malformed array description {str(spec)[:200]}: {error!r}") from None
    if len(shape) > MAX_DIMENSIONS or any(n < 0 for n in shape):
        raise ProtocolError(f"array {name!r} has no shape an array can have: {str(shape)[:200]}")
    count = int(np.prod(shape, dtype=object)) if shape else 1
    end = start + count * np.dtype(dtype).itemsize
    if start < 0 or end > len(payload):
        raise ProtocolError(f"array {name!r} lies outside the payload")
    try:
        return name, np.frombuffer(payload, dtype=dtype, count=count, offset=start).reshape(shape)
    except ValueError as error:  # a length numpy cannot index, even beside a 0 that leaves the array empty
        raise ProtocolError(f"array {name!r} has a shape numpy refuses: {str(shape)[:200]}: {error}") from None


def _whole(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{value!r} is not a whole number")
    return value


def read_message(stream: BinaryIO) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Blocking read from an unbuffered binary stream (the worker's stdin), no byte past the message."""

    def exact(size: int) -> bytearray:
        data = bytearray(size)
        view = memoryview(data)
        have = 0
        while have < size:
            got = stream.readinto(view[have:])  # type: ignore[attr-defined]
            if not got:
                raise EOFError("the other side closed the pipe")
            have += got
        return data

    return decode(exact)
