"""REST: artifact files by digest, with their media type and range requests.

A digest is the only key: the path parameter must be 64 hex digits (anything else is a 422),
the store maps it to `artifacts/<2>/<64>` itself, and only digests recorded for some run are
served. No part of a request ever becomes part of a file path, so nothing can escape the store.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import FileResponse
from sqlmodel import col, select

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


@router.get(
    "/artifacts/{sha256}",
    summary="An artifact's bytes",
    response_class=FileResponse,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "the file"},
        206: {"description": "the requested byte range"},
        404: refusal("no artifact with this digest"),
        416: {"description": "range not satisfiable"},
    },
)
def get_artifact(
    sha256: Annotated[str, Path(pattern=SHA256_PATTERN, description="sha256 of the content, lowercase hex")],
    state: Annotated[AppState, Depends(app_state)],
    download: Annotated[bool, Query(description="ask the browser to save it rather than show it")] = False,
    artifact: Annotated[
        int | None,
        Query(ge=1, le=2**63 - 1, description="the recorded artifact whose name and type to serve it under"),
    ] = None,
) -> FileResponse:
    """The stored file under its recorded media type; `Range: bytes=...` is honoured (206)."""
    row = _artifact(state, sha256, artifact)
    try:
        path = state.store.artifacts.open_path(sha256)
    except ArtifactNotFoundError as error:
        raise HTTPException(404, str(error)) from None
    media_type = row.media_type
    if media_type == "application/octet-stream":
        media_type = media_type_for(row.name, row.kind)  # rows recorded before kinds informed the type
    if is_active_type(media_type):
        media_type = "text/plain"  # its bytes, to read; never code a page of this origin could load
    if media_type.startswith("text/") and "charset" not in media_type:
        media_type += "; charset=utf-8"
    return FileResponse(
        path,
        media_type=media_type,
        filename=download_name(row.name),
        content_disposition_type="attachment" if download else "inline",
        headers={
            # Content-addressed: these bytes never change. Served files are never active content.
            "Cache-Control": "public, max-age=31536000, immutable",
            "Content-Security-Policy": "sandbox; default-src 'none'; img-src data: 'self'; style-src 'unsafe-inline'",
            "X-Content-Type-Options": "nosniff",
        },
    )
