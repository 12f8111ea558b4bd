"""What guards the REST API: bearer token, body size, characters no database accepts, cross-site posts."""

from __future__ import annotations

import ipaddress
import json
import math
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from fastapi import HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.rest._problems import unprocessable_body
from api.rest._ratelimit import FailedAuthLimiter
from runs import LabgateError, is_unicode_text

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

bearer = HTTPBearer(auto_error=False, description="LABGATE_API_TOKEN, required for POST when the server sets one")


def is_loopback(host: str) -> bool:
    """Only literal loopback addresses and `localhost` count; any other name might resolve anywhere."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_origin(request: Request) -> None:
    """Refuse a call posted from another site.

    `Origin: null` is what a sandboxed iframe, a `data:` page or a redirect chain sends: it names
    no site, so it cannot be shown to be this one, and is refused like any foreign origin.
    """
    origin = request.headers.get("origin")
    if origin is None:
        return  # not sent by a browser page (curl, scripts), or a same-origin navigation
    host = request.headers.get("host", "")
    if origin == "null" or urlsplit(origin).netloc != host:
        raise HTTPException(403, f"cross-origin request from {origin} refused")


def check_token(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None,
    token: str | None,
    limiter: FailedAuthLimiter | None = None,
) -> None:
    """Refuse a mutating call without the server's token (when it has one) or posted from another site.

    With a `limiter`, a client address that failed too often recently gets 429 before its token
    is even compared, and every failure counts against it.
    """
    check_origin(request)
    if token is None:
        return
    client = request.client.host if request.client else "unknown"
    if limiter is not None:
        wait = limiter.retry_after(client)
        if wait is not None:
            raise HTTPException(429, "too many failed authentications; try later", {"Retry-After": str(wait)})
    if credentials is None or credentials.scheme.lower() != "bearer":
        _failed(limiter, client)
        raise HTTPException(401, "this server requires 'Authorization: Bearer <LABGATE_API_TOKEN>'", _CHALLENGE)
    if not token_matches(credentials.credentials, token):
        _failed(limiter, client)
        raise HTTPException(401, "the bearer token is not this server's LABGATE_API_TOKEN", _CHALLENGE)


def token_matches(presented: str, token: str) -> bool:
    """Whether a presented token is the server's, in constant time; never raises, whatever either holds.

    Starlette decodes header bytes as Latin-1, and a token read from the environment keeps a byte that is
    not UTF-8 as a lone surrogate, which a plain `.encode()` refuses: every request carrying a token then
    failed with a 500. `surrogatepass` encodes every string, so any mismatch is a mismatch (401).
    """
    return secrets.compare_digest(presented.encode("utf-8", "surrogatepass"), token.encode("utf-8", "surrogatepass"))


def _failed(limiter: FailedAuthLimiter | None, client: str) -> None:
    if limiter is not None:
        limiter.failed(client)


_CHALLENGE = {"WWW-Authenticate": "Bearer"}


MAX_BODY_DEPTH = 32
"""How deeply arrays and objects of a request body may nest; no spec needs more than a handful, and
copying or validating a structure hundreds of levels deep exhausts the interpreter's recursion limit."""


def body_problem(body: bytes) -> str | None:
    """Why a JSON request body is refused before any handler reads it, or None (also for a body that is not JSON).

    Too deep: the C parser guards its own recursion, so a hostile body fails here with RecursionError
    instead of later in a validator written in Python. `NaN` and `Infinity` are not JSON (RFC 8259),
    and a value holding them, or a number such as `1e400` that only a double's infinity holds, would
    be stored as `null`. A key given twice in one object means whichever value a parser keeps. A
    `\\ud800` escape decodes to a lone surrogate that no UTF-8 answer can carry: stored, it would
    break every page listing the run. What did parse is walked without recursion.
    """
    try:
        value = json.loads(
            body,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
            object_pairs_hook=_unique_keys,
        )
    except RecursionError:
        return f"request body nested deeper than {MAX_BODY_DEPTH} levels"
    except _NotJsonNumberError as error:
        return f"request body holds {error}, which is not a JSON number"
    except _NumberOutOfRangeError as error:
        return f"request body holds {error}"
    except _DuplicateKeyError as error:
        return f"request body gives the key {error} twice in one object; which one is meant is ambiguous"
    except UnicodeDecodeError as error:
        return f"request body is not UTF-8 text (byte {error.start}: {error.reason})"
    except ValueError:
        return None  # not JSON: the handler's own validation answers
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str) and not is_unicode_text(item):
            return "request body holds a lone surrogate escape (such as \\ud800), which is not Unicode text"
        if isinstance(item, dict):
            if not all(is_unicode_text(key) for key in item):
                return "request body holds a lone surrogate escape (such as \\ud800), which is not Unicode text"
            item = list(item.values())
        if isinstance(item, list):
            if depth + 1 > MAX_BODY_DEPTH:
                return f"request body nested deeper than {MAX_BODY_DEPTH} levels"
            pending.extend((child, depth + 1) for child in item)
    return None


class _NotJsonNumberError(LabgateError, ValueError):
    """A `NaN`, `Infinity` or `-Infinity` literal, which Python's parser accepts and JSON does not."""


class _NumberOutOfRangeError(LabgateError, ValueError):
    """A JSON number no value of this server can hold as written: past a double's range, or too many digits."""


class _DuplicateKeyError(LabgateError, ValueError):
    """An object naming one key twice: parsers disagree on which value counts (Python's takes the last)."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object's members as a dict, refusing a key given twice (`{"re": 100, "re": 5000}`)."""
    value: dict[str, Any] = {}
    for key, item in pairs:
        if key in value:
            raise _DuplicateKeyError(json.dumps(key)[:80])
        value[key] = item
    return value


def _refuse_constant(name: str) -> Any:
    raise _NotJsonNumberError(name)


def _finite_float(text: str) -> float:
    """`1e400` is valid JSON, but Python reads it as infinity, which the run store writes back as null."""
    value = float(text)
    if not math.isfinite(value):
        raise _NumberOutOfRangeError(f"{text[:40]}, a number beyond the range of a 64-bit float")
    return value


def _bounded_int(text: str) -> int:
    """An integer literal; one longer than Python converts (4,300 digits) is named instead of a parse error."""
    try:
        return int(text)
    except ValueError:
        raise _NumberOutOfRangeError(
            f"an integer of {len(text.lstrip('-')):,} digits, more than any field takes"
        ) from None


class RequestGuard:
    """ASGI middleware: bodies over `max_body_bytes` get 413, URLs holding NUL and bodies `body_problem` refuses 422.

    A body without Content-Length (chunked) is read up to the limit and replayed to the app, so
    the limit holds whatever the client claims.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        if b"\x00" in unquote_to_bytes(query) or "\x00" in scope.get("path", ""):
            await reply(send, 422, "NUL characters are not allowed in the URL")
            return
        if scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                await reply(send, 400, "Content-Length is not a number")
                return
            if declared > self.max_body_bytes:
                await reply(send, 413, f"request body over the limit of {self.max_body_bytes} bytes")
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await reply(send, 413, f"request body over the limit of {self.max_body_bytes} bytes")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        problem = body_problem(body)
        if problem is not None:
            await reply(send, 422, problem)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def reply(send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    """Answer a request from middleware, before any handler, with the API's JSON error shape."""
    body = unprocessable_body(["request"], detail) if status == 422 else {"detail": detail, "message": detail}
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


MISDIRECTED = 421


def _host_name(header: str) -> str:
    """The name part of a Host header: `[::1]:8000` gives `::1`, `localhost:8000` gives `localhost`."""
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def is_loopback_name(header: str) -> bool:
    """Whether a Host header names this machine in a way no other site's DNS can: `localhost` (and names under
    it, which browsers resolve to loopback themselves) or a literal loopback address."""
    name = _host_name(header.strip()).rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost") or is_loopback(name)


class LoopbackHostGuard:
    """ASGI middleware for a server with no token: on a loopback socket, answer only loopback host names.

    A page of another site can point its own name at 127.0.0.1 (DNS rebinding); the browser then
    treats the server as that site's origin, so the Origin check passes and the page reads every
    run and posts new ones. Such a request still names that site in `Host`, and is refused (421).
    A socket that is not on loopback (a test client, a server bound elsewhere, which needs a
    token) is left alone; so is a request without a Host header, which names no site to rebind.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._on_loopback(scope):
            await self.app(scope, receive, send)
            return
        host = dict(scope.get("headers", [])).get(b"host")
        if host is None or is_loopback_name(host.decode("latin-1")):
            await self.app(scope, receive, send)
            return
        shown = host.decode("latin-1")[:100]
        await reply(
            send,
            MISDIRECTED,
            f"host {shown!r} refused: this server listens on loopback without LABGATE_API_TOKEN and answers only "
            "localhost, 127.0.0.1 or [::1]; set a token to serve it under another name",
        )

    @staticmethod
    def _on_loopback(scope: Scope) -> bool:
        server = scope.get("server")
        return server is not None and is_loopback(str(server[0]))
