"""The API's error bodies, one shape per kind, as its OpenAPI document declares them.

A 422 always lists its problems (`detail: [{loc, msg, type}]`), whether a handler, a guard or the
request parser found them; every other refusal is one sentence (`detail: str`). Clients parse one
shape per status, never a string where the schema promised a list.
"""

from __future__ import annotations

from typing import Any

from api.rest._schemas import ErrorBody
from runs import LabgateError


class UnprocessableError(LabgateError):
    """A request that parsed but cannot be processed; answered 422 naming where (`loc`) and why."""

    def __init__(self, loc: list[str | int], message: str, kind: str = "invalid") -> None:
        super().__init__(message)
        self.loc = loc
        self.kind = kind


def unprocessable_body(loc: list[str | int], message: str, kind: str = "invalid") -> dict[str, Any]:
    where = ".".join(str(part) for part in loc) or "request"
    return {"detail": [{"loc": loc, "msg": message, "type": kind}], "message": f"{where}: {message}"}


def refusal(description: str) -> dict[str, Any]:
    """An OpenAPI response entry for a one-sentence refusal."""
    return {"model": ErrorBody, "description": description}


MALFORMED: dict[int | str, dict[str, Any]] = {400: refusal("the body is not JSON, or a header is malformed")}
TOO_LARGE: dict[int | str, dict[str, Any]] = {413: refusal("the body is over the server's limit")}
