"""Optional protection of reads: with LABGATE_PROTECT_READS, every page and GET needs the token too.

Runs hold unpublished results, solver logs and the goals users typed; a server shared beyond one
person may keep them private. API clients send `Authorization: Bearer <token>`; a browser is
asked for the token with its own login prompt (HTTP Basic: any user name, the token as password),
which it then sends with every page, fetch and event stream of the dashboard. Basic credentials
open reads only: a browser resends them to cross-site requests too, so mutating calls keep
requiring the bearer header, which another site cannot make a browser send.
"""

from __future__ import annotations

import base64
import binascii

from api.rest._ratelimit import FailedAuthLimiter
from api.rest._security import ASGIApp, Receive, Scope, Send, reply, token_matches

OPEN_PATHS = ("/healthz",)
OPEN_PREFIXES = ("/static/",)
"""Liveness probes and the dashboard's own stylesheet and script hold nothing of any run."""

_CHALLENGES = [
    (b"www-authenticate", b'Basic realm="labgate", charset="UTF-8"'),
    (b"www-authenticate", b"Bearer"),
]


def presented_token(authorization: str) -> str | None:
    """The token in a Bearer or Basic `Authorization` value (Basic: the password), or None."""
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        return value or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        _user, colon, password = decoded.partition(":")
        return password if colon else None
    return None


class ReadGuard:
    """ASGI middleware: GET and HEAD requests outside `OPEN_PATHS` need the server's token."""

    def __init__(self, app: ASGIApp, *, token: str, limiter: FailedAuthLimiter) -> None:
        self.app = app
        self.token = token
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or _is_open(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        client = scope["client"][0] if scope.get("client") else "unknown"
        wait = self.limiter.retry_after(client)
        if wait is not None:
            await reply(send, 429, "too many failed authentications; try later", [(b"retry-after", str(wait).encode())])
            return
        headers = dict(scope.get("headers", []))
        given = presented_token(headers.get(b"authorization", b"").decode("latin-1"))
        if given is None or not token_matches(given, self.token):
            if given is not None:
                self.limiter.failed(client)
            await reply(send, 401, "this server requires its LABGATE_API_TOKEN to read runs", _CHALLENGES)
            return
        await self.app(scope, receive, send)


def _is_open(path: str) -> bool:
    return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)
