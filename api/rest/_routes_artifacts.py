"""REST: artifact files by digest, with their media type and range requests.

A digest is the only key: the path parameter must be 64 hex digits (anything else is a 422),
the store maps it to `artifacts/<2>/<64>` itself, and only digests recorded for some run are
served. No part of a request ever becomes part of a file path, so nothing can escape the store.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import FileResponse
from sqlmodel import col, select
from starlette.datastructures import Headers
from starlette.responses import MalformedRangeHeader, RangeNotSatisfiable

from api.rest._problems import refusal
from api.rest._schemas import SHA256_PATTERN
from api.rest._state import AppState, app_state
from runs import Artifact, ArtifactNotFoundError, media_type_for

router = APIRouter(tags=["artifacts"])


_ACTIVE_TYPES = {"text/css", "application/wasm", "text/cache-manifest", "application/manifest+json"}
_SCRIPT_WORDS = ("javascript", "ecmascript", "jscript", "livescript")


def is_active_type(media_type: str) -> bool:
    """Whether a page could load a file of this type as code: a script, a style sheet, WebAssembly, a manifest.

    The dashboard's policy lets its pages load scripts and styles of their own origin, which is also the
    artifacts' origin, and a service worker may be any script of the origin served as JavaScript. A stored
    `payload.js` served under its own type would be one injected tag away from running as the dashboard.
    """
    essence = media_type.split(";", 1)[0].strip().lower()
    return essence in _ACTIVE_TYPES or any(word in essence for word in _SCRIPT_WORDS)


MAX_DOWNLOAD_NAME = 200
"""Characters of the file name a browser is offered; file systems refuse names much longer (255 bytes)."""


def download_name(name: str) -> str:
    """The name a browser saves an artifact under: its last path component without invisible characters.

    A stored name comes from whatever the run wrote. Controls and format characters (a right-to-left
    override, a zero-width space) are shown on the dashboard but would be obeyed in a save dialog and a
    file manager: `invoice\u202egnp.exe` saves as an executable that reads `invoiceexe.png`. They are
    dropped; a name left too long is shortened keeping its suffix.
    """
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    visible = "".join(char for char in base if unicodedata.category(char) not in _INVISIBLE).strip()
    if len(visible) > MAX_DOWNLOAD_NAME:
        _stem, dot, suffix = visible.rpartition(".")
        kept = dot + suffix if dot and 0 < len(suffix) <= 16 else ""
        visible = visible[: MAX_DOWNLOAD_NAME - len(kept)] + kept
    return visible if visible.strip(".") else "artifact"


_INVISIBLE = {"Cc", "Cf", "Zl", "Zp"}


def _artifact(state: AppState, sha256: str, artifact_id: int | None) -> Artifact:
    """The recorded artifact whose name and type the bytes are served under.

    The same bytes may be recorded by several runs under other names and types (a figure saved as
    `fig.svg` by one run and `fig2.png` by another). With `artifact_id` (the links the dashboard and
    `GET /runs/{id}/artifacts` give) it is that record, which must hold these bytes; without it, the
    first record of the digest.
    """
    query = select(Artifact).where(Artifact.sha256 == sha256)
    if artifact_id is not None:
        query = query.where(Artifact.id == artifact_id)
    with state.store.session() as session:
        row = session.exec(query.order_by(col(Artifact.id))).first()
    if row is None:
        which = f" recorded as artifact {artifact_id}" if artifact_id is not None else ""
        raise HTTPException(404, f"no artifact with digest {sha256}{which}")
    return row


class ArtifactFileResponse(FileResponse):
    """A file response whose `Range` answers follow RFC 9110 and the API's error shape.

    Starlette answered `Range: items=0-1` and `Range: bytes=5-1` with a plain-text 400, which is neither
    the documented `{"detail","message"}` nor in the OpenAPI document; and RFC 9110 §14.2 says a range
    unit the server does not understand must be ignored. Here another unit is ignored (200, the whole
    file), and a malformed bytes range counts as not satisfiable, which the route refuses first with
    `range_refusal` (416 in the API's shape).
    """

    @classmethod
    def _parse_range_header(cls, http_range: str, file_size: int) -> list[tuple[int, int]]:
        unit, equals, _ranges = http_range.partition("=")
        if not equals or unit.strip().lower() != "bytes":
            return []  # not a byte range: ignored, the whole file is sent
        try:
            return super()._parse_range_header(http_range, file_size)
        except MalformedRangeHeader:
            raise RangeNotSatisfiable(file_size) from None

    def range_refusal(self, headers: Headers) -> str | None:
        """Why the byte range a request asks for cannot be sent, or None (also when its Range is ignored:
        no Range, another unit, or an If-Range naming another version of the file)."""
        http_range = headers.get("range")
        if http_range is None or self.stat_result is None:
            return None
        if_range = headers.get("if-range")
        if if_range is not None and not self._should_use_range(if_range):
            return None
        size = self.stat_result.st_size
        try:
            self._parse_range_header(http_range, size)
        except RangeNotSatisfiable:
            return f"the range {http_range[:80]!r} is malformed or lies outside the file's {size} bytes"
        return None


_ARTIFACT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/octet-stream": {}}, "description": "the file"},
    206: {"description": "the requested byte range"},
    404: refusal("no artifact with this digest"),
    416: refusal("the byte range is malformed or outside the file (Content-Range names its size)"),
    503: refusal("the stored file is damaged: its size is not the size recorded for it"),
}

IMMUTABLE_SECONDS = 31536000
"""How long a client may keep an artifact: its URL names its digest, so its bytes never change."""


@router.get(
    "/artifacts/{sha256}", summary="An artifact's bytes", response_class=FileResponse, responses=_ARTIFACT_RESPONSES
)
def get_artifact(
    request: Request,
    sha256: Annotated[str, Path(pattern=SHA256_PATTERN, description="sha256 of the content, lowercase hex")],
    state: Annotated[AppState, Depends(app_state)],
    download: Annotated[bool, Query(description="ask the browser to save it rather than show it")] = False,
    artifact: Annotated[
        int | None,
        Query(ge=1, le=2**63 - 1, description="the recorded artifact whose name and type to serve it under"),
    ] = None,
) -> FileResponse:
    """The stored file under its recorded media type; `Range: bytes=...` is honoured (206).

    A stored file whose size is not the recorded one is refused (503, `DamagedArtifactError`): its bytes
    are not the digest's, and would otherwise be cached as them for a year.
    """
    row = _artifact(state, sha256, artifact)
    try:
        path = state.store.artifacts.open_path(sha256, size=row.size)
    except ArtifactNotFoundError as error:
        raise HTTPException(404, str(error)) from None
    media_type = row.media_type
    if media_type == "application/octet-stream":
        media_type = media_type_for(row.name, row.kind)  # rows recorded before kinds informed the type
    if is_active_type(media_type):
        media_type = "text/plain"  # its bytes, to read; never code a page of this origin could load
    if media_type.startswith("text/") and "charset" not in media_type:
        media_type += "; charset=utf-8"
    response = ArtifactFileResponse(
        path,
        media_type=media_type,
        filename=download_name(row.name),
        content_disposition_type="attachment" if download else "inline",
        stat_result=path.stat(),
        headers={
            "Cache-Control": cache_control(protected=state.settings.protect_reads),
            # Served files are never active content.
            "Content-Security-Policy": "sandbox; default-src 'none'; img-src data: 'self'; style-src 'unsafe-inline'",
            "X-Content-Type-Options": "nosniff",
        },
    )
    problem = response.range_refusal(request.headers)
    if problem is not None:
        raise HTTPException(416, problem, {"Content-Range": f"bytes */{row.size}"})
    return response


router.add_api_route(
    "/artifacts/{sha256}",
    get_artifact,
    methods=["HEAD"],
    name="head_artifact",
    summary="An artifact's headers (size, type, name), without its bytes",
    response_class=FileResponse,
    responses=_ARTIFACT_RESPONSES,
)


def cache_control(*, protected: bool) -> str:
    """Content-addressed bytes never change, so any client may keep them for a year; with reads protected
    (LABGATE_PROTECT_READS) only the client's own cache may, never a shared one (a proxy or CDN in front
    of the server), which would serve a response to a request that carried the token to anyone (RFC 9111 §3.5)."""
    return f"{'private' if protected else 'public'}, max-age={IMMUTABLE_SECONDS}, immutable"
