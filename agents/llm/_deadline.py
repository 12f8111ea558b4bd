"""An HTTP transport that gives every reply one deadline and a size cap, not only a timeout per read.

The SDK's timeout bounds each wait for bytes, so an endpoint that sent one byte of whitespace every half
second before its JSON held a call with a 2 s timeout for 100 s (and an endless body grew the memory without
bound). Here the reply's body is read against one deadline, counted from when the request was sent, and a
cap on its bytes; passing either ends the call with a timeout the client already knows how to report.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

try:
    import httpx2 as httpx  # what the openai SDK is built on since its HTTP library was renamed
except ImportError:  # older SDKs use httpx itself
    import httpx  # type: ignore[no-redef]

MAX_REPLY_BYTES = 16 << 20
"""More than any chat completion a run asks for (replies are at most a few thousand tokens, with logprobs)."""


class _BoundedStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, deadline: float, seconds: float, max_bytes: int) -> None:
        self._inner = inner
        self._deadline = deadline
        self._seconds = seconds
        self._max_bytes = max_bytes

    def __iter__(self) -> Iterator[bytes]:
        received = 0
        for chunk in self._inner:
            received += len(chunk)
            if time.monotonic() > self._deadline:
                raise httpx.ReadTimeout(f"the reply took longer than {self._seconds:g} s in all")
            if received > self._max_bytes:
                raise httpx.ReadError(f"the reply is larger than {self._max_bytes} bytes")
            yield chunk

    def close(self) -> None:
        self._inner.close()


class DeadlineTransport(httpx.BaseTransport):
    """`httpx.HTTPTransport` whose replies are read within `seconds` of the request and `max_bytes` in size."""

    def __init__(self, seconds: float, max_bytes: int = MAX_REPLY_BYTES) -> None:
        self._inner = httpx.HTTPTransport()
        self._seconds = seconds
        self._max_bytes = max_bytes

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        deadline = time.monotonic() + self._seconds
        response = self._inner.handle_request(request)
        stream = response.stream
        assert isinstance(stream, httpx.SyncByteStream)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_BoundedStream(stream, deadline, self._seconds, self._max_bytes),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._inner.close()


def deadline_client(seconds: float) -> httpx.Client:
    """The SDK's HTTP client, its replies read within `seconds` in all (a proxy from the environment, which
    gets a transport of its own, keeps only the SDK's timeout per read)."""
    return httpx.Client(transport=DeadlineTransport(seconds), timeout=seconds)
