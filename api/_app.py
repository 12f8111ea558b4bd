"""The FastAPI app: REST API and dashboard over one run store, with the worker pool beside it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api._settings import Settings, build_launcher
from api.rest._cache import ResponseCache
from api.rest._headers import SecurityHeaders
from api.rest._problems import UnprocessableError, unprocessable_body
from api.rest._ratelimit import FailedAuthLimiter
from api.rest._readguard import ReadGuard
from api.rest._routes_archive import router as archive_router
from api.rest._routes_artifacts import router as artifacts_router
from api.rest._routes_meta import router as meta_router
from api.rest._routes_runs import router as runs_router
from api.rest._security import LoopbackHostGuard, RequestGuard
from api.rest._state import AppState
from api.rest._worker import WorkerPool
from api.web._dashboard import STATIC_DIR
from api.web._dashboard import router as dashboard_router
from runs import DamagedRecordError, store_failure


def _where(location: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in location) or "request"


def _problems(error: RequestValidationError) -> list[dict[str, Any]]:
    problems = []
    for item in error.errors():
        message = "unknown field" if item.get("type") == "extra_forbidden" else str(item.get("msg", "invalid"))
        problems.append({"loc": list(item.get("loc", ())), "msg": message, "type": item.get("type", "invalid")})
    return problems


async def _invalid_request(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = _problems(error)
    message = "; ".join(f"{_where(p['loc'])}: {p['msg']}" for p in problems)
    return JSONResponse({"detail": problems, "message": message}, status_code=422)


async def _unprocessable(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, UnprocessableError)
    return JSONResponse(unprocessable_body(error.loc, str(error), error.kind), status_code=422)


async def _refused(_request: Request, error: Exception) -> JSONResponse:
    """Every HTTPException as the documented one-sentence shape; a 422 raised this way still lists its problem."""
    assert isinstance(error, StarletteHTTPException)
    detail = str(error.detail)
    if error.status_code == 422:
        return JSONResponse(unprocessable_body(["request"], detail), status_code=422, headers=error.headers)
    headers = dict(error.headers or {})
    if error.status_code == 405:
        headers["Allow"] = ", ".join(_methods_at(_request))
    return JSONResponse({"detail": detail, "message": detail}, status_code=error.status_code, headers=headers)


async def _store_failed(_request: Request, error: Exception) -> JSONResponse:
    """The database failed under a request (damaged, full, gone): 503 naming the driver's reason in one
    sentence, never a 500 with a traceback in the log and nothing for the client. No SQL, no path."""
    assert isinstance(error, DBAPIError)
    detail = store_failure(error)
    return JSONResponse({"detail": detail, "message": detail}, status_code=503, headers={"Retry-After": "30"})


async def _record_damaged(_request: Request, error: Exception) -> JSONResponse:
    """A record of the store is damaged (`runs.DamagedRecordError`): 503 naming it, as for a failed database."""
    detail = str(error)
    return JSONResponse({"detail": detail, "message": detail}, status_code=503)


def _methods_at(request: Request) -> list[str]:
    """Every method the API document lists for this path: a path served by two routes (GET and POST /runs)
    is refused another method with both, not with whichever route the router tried last."""
    methods: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, request.url.path):
            methods |= {method.upper() for method in operations}
    return sorted(methods)


def create_app(settings: Settings | None = None, *, start_workers: bool = True) -> FastAPI:
    """The app for `settings` (read from LABGATE_* when None); `start_workers=False` only queues runs."""
    settings = settings or Settings()
    token = settings.serving_token()  # a weak token, or protected reads without one, stop the server here
    launcher = build_launcher(settings)
    child_env = {"LABGATE_HOME": str(launcher.store.home)}
    if settings.database_url:
        child_env["LABGATE_DATABASE_URL"] = settings.database_url
    # A store that can only be read (read-only media) serves pages; workers would fail to claim a run on
    # every loop of the supervisor, a traceback in the log each time.
    start_workers = start_workers and not launcher.store.read_only
    pool = WorkerPool(launcher.store, concurrency=settings.run_workers if start_workers else 0, child_env=child_env)
    limiter = FailedAuthLimiter(max_failures=settings.auth_failures_per_minute)
    state = AppState(settings=settings, launcher=launcher, pool=pool, limiter=limiter)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if start_workers:
            pool.start()
        try:
            yield
        finally:
            pool.stop()
            launcher.store.engine.dispose()

    app = FastAPI(
        title="labgate",
        version="0.1.0",
        summary="Research runs judged by verifier gates: submit, follow and review them.",
        description=(
            "Mutating calls (POST) need `Authorization: Bearer <LABGATE_API_TOKEN>` when the server sets a token; "
            "with LABGATE_PROTECT_READS every GET needs it too (Bearer, or HTTP Basic with the token as password). "
            "Runs are queued and executed by a worker pool; follow them with GET /runs/{id}/events (SSE)."
        ),
        lifespan=lifespan,
        docs_url=None,  # the interactive docs load scripts from a CDN; labgate works offline
        redoc_url=None,
    )
    app.state.labgate = state
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(UnprocessableError, _unprocessable)
    app.add_exception_handler(StarletteHTTPException, _refused)
    app.add_exception_handler(DBAPIError, _store_failed)
    app.add_exception_handler(DamagedRecordError, _record_damaged)
    app.include_router(runs_router)
    app.include_router(archive_router)
    app.include_router(artifacts_router)
    app.include_router(meta_router)
    app.include_router(dashboard_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    store = launcher.store
    # Innermost: the guards, the read token and the rate limit see every request, cached or not.
    app.add_middleware(ResponseCache, revision=store.revision, revision_blocks=not store.is_sqlite)
    app.add_middleware(RequestGuard, max_body_bytes=settings.max_body_bytes)
    if settings.protect_reads and token is not None:
        app.add_middleware(ReadGuard, token=token, limiter=state.limiter)
    if token is None:
        app.add_middleware(LoopbackHostGuard)  # no token: a page under another site's name reads nothing
    app.add_middleware(SecurityHeaders)  # outermost: even a refusal by the guards carries the headers
    return app
