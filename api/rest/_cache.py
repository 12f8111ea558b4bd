"""A response cache for the reads every dashboard and script polls: GET /runs and GET /runs/{id}.

Building a run list or a run's record costs milliseconds of queries and encoding; answering the
same question again from memory costs one query, the store revision (`RunStore.revision`), which
every committed write advances in the write's own transaction, whichever process wrote. An entry is
served only while the revision is the one read *before* its response was built, so no answer is
ever older than the last write; a response that shows a clock-derived value (the duration of a run
still executing) is rebuilt after `LIVE_SECONDS`, and answers the requests that arrive while its
successor is being built.

Entries are keyed by scheme, host, path, query and the caller's `Authorization` header (the cache sits
inside the read guard and the rate limit, which still see every request). Concurrent misses of one
key wait for the first to finish instead of each building the same answer. Each 200 answer carries
an ETag; a request whose If-None-Match names it is answered 304 without a body.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import sqlite3
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool

from api.rest._security import ASGIApp, Message, Receive, Scope, Send

CACHED_PATHS = re.compile(r"/runs(/[A-Za-z0-9_.-]+)?")
"""GET /runs and GET /runs/{id}: the run list and one run's record (not its events or artifacts)."""

LIVE_SECONDS = 1.0
"""How long an answer showing a running run's duration (computed from the clock) may be reused."""

NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "unchanged since the ETag the request named in If-None-Match (no body)"}
}
"""The OpenAPI entry of the cached reads' 304."""

STATE_KEY = "labgate_cache_seconds"
"""Set by a handler in the request's state: None (kept until the next write) or a number of seconds.
A response whose handler did not set it is never kept."""


@dataclass(frozen=True)
class Entry:
    revision: int
    expires: float | None
    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: bytes


class ResponseCache:
    """ASGI middleware keeping the latest 200 answer per key, valid while the store revision holds."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        revision: Callable[[], int],
        revision_blocks: bool = False,
        max_entries: int = 512,
        max_bytes: int = 64 * 1024 * 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`revision_blocks`: the revision query may wait on the network (a database server), so it
        runs in a worker thread; a local SQLite read takes a few microseconds and runs inline."""
        self.app = app
        self._revision = revision
        self._revision_blocks = revision_blocks
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._clock = clock
        self._entries: OrderedDict[tuple[bytes, ...], Entry] = OrderedDict()
        self._bytes = 0
        self._building: dict[tuple[bytes, ...], tuple[int, asyncio.Future[Entry | None]]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not CACHED_PATHS.fullmatch(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        # The host and scheme too: a list's `next` link is an absolute URL built from them.
        key = (
            scope.get("scheme", "http").encode(),
            headers.get(b"host", b""),
            scope["path"].encode(),
            scope.get("query_string", b""),
            headers.get(b"authorization", b""),
        )
        validator = headers.get(b"if-none-match")
        try:
            revision = await self._read_revision()
        except (DBAPIError, sqlite3.Error):  # the store failed: nothing is known fresh; the route answers (503)
            await self.app(scope, receive, send)
            return
        entry = self._current(key, revision)
        if entry is not None and not self._expired(entry):
            await _answer(send, entry, validator)
            return
        building = self._building.get(key)
        if building is not None and building[0] == revision:
            # Its successor is being built: an entry of this revision is only older on the clock
            # (a running run's duration), never by a write, so it answers meanwhile.
            entry = entry or await asyncio.shield(building[1])
            if entry is not None:
                await _answer(send, entry, validator)
                return
        await self._build(key, revision, scope, receive, send, validator)

    async def _read_revision(self) -> int:
        if self._revision_blocks:
            return await run_in_threadpool(self._revision)
        return self._revision()

    def _current(self, key: tuple[bytes, ...], revision: int) -> Entry | None:
        """The entry built at `revision` (forgetting one of another revision), expired or not."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.revision != revision:
            self._forget(key)
            return None
        self._entries.move_to_end(key)
        return entry

    def _expired(self, entry: Entry) -> bool:
        return entry.expires is not None and self._clock() >= entry.expires

    async def _build(
        self, key: tuple[bytes, ...], revision: int, scope: Scope, receive: Receive, send: Send, validator: bytes | None
    ) -> None:
        future: asyncio.Future[Entry | None] = asyncio.get_running_loop().create_future()
        self._building[key] = (revision, future)
        entry: Entry | None = None
        try:
            entry = await self._run_app(key, revision, scope, receive, send, validator)
        finally:
            if self._building.get(key, (None, None))[1] is future:
                del self._building[key]
            future.set_result(entry)

    async def _run_app(
        self, key: tuple[bytes, ...], revision: int, scope: Scope, receive: Receive, send: Send, validator: bytes | None
    ) -> Entry | None:
        """Run the app; a 200 whose handler allowed keeping it is stored and sent with its ETag."""
        start: Message | None = None
        chunks: list[bytes] = []
        passing = False

        async def capture(message: Message) -> None:
            nonlocal start, passing
            if passing:
                await send(message)
            elif message["type"] == "http.response.start":
                if message["status"] == 200:
                    start = message
                else:
                    passing = True
                    await send(message)
            else:
                chunks.append(message.get("body", b""))

        scope.setdefault("state", {})
        await self.app(scope, receive, capture)
        if passing or start is None:
            return None
        body = b"".join(chunks)
        seconds = _allowed_seconds(scope)
        etag = b'"' + hashlib.blake2b(body, digest_size=12).hexdigest().encode() + b'"'
        headers = [(name, value) for name, value in start.get("headers", []) if name.lower() != b"etag"]
        entry = Entry(
            revision=revision,
            expires=None if seconds is None else self._clock() + seconds,
            headers=headers,
            body=body,
            etag=etag,
        )
        if seconds is not False:
            self._keep(key, entry)
        await _answer(send, entry, validator)
        return entry if seconds is not False else None

    def _keep(self, key: tuple[bytes, ...], entry: Entry) -> None:
        if len(entry.body) > self.max_bytes:
            return
        self._forget(key)
        self._entries[key] = entry
        self._bytes += len(entry.body)
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            oldest = next(iter(self._entries))
            self._forget(oldest)

    def _forget(self, key: tuple[bytes, ...]) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= len(entry.body)

    def __len__(self) -> int:
        return len(self._entries)


def _allowed_seconds(scope: Scope) -> float | bool | None:
    """What the handler allowed: None (until the next write), seconds, or False (not to be kept)."""
    state = scope.get("state")
    if not isinstance(state, dict) or STATE_KEY not in state:
        return False
    value = state[STATE_KEY]
    return None if value is None else float(value)


def _matches(validator: bytes | None, etag: bytes) -> bool:
    if validator is None:
        return False
    tags = [tag.strip().removeprefix(b"W/") for tag in validator.split(b",")]
    return b"*" in tags or etag in tags


async def _answer(send: Send, entry: Entry, validator: bytes | None) -> None:
    extra = [(b"etag", entry.etag), (b"cache-control", b"no-cache")]
    if _matches(validator, entry.etag):
        kept = [
            (name, value) for name, value in entry.headers if name.lower() not in (b"content-length", b"content-type")
        ]
        await send({"type": "http.response.start", "status": 304, "headers": kept + extra})
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": "http.response.start", "status": 200, "headers": entry.headers + extra})
    await send({"type": "http.response.body", "body": entry.body})
