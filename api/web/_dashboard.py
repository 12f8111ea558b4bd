"""The dashboard: server-rendered pages (Jinja2) with a little JavaScript for live status and actions."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from api._detail import duration_seconds, iso, run_row
from api._paths import without_server_paths
from api.rest._routes_runs import RunId, SortKey, as_utc
from api.rest._state import AppState, app_state
from api.web._render import highlight_css
from api.web._views import compare_page, run_page
from runs import RUN_STATUSES, TERMINAL_STATUSES, RunNotFoundError

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False)
State = Annotated[AppState, Depends(app_state)]


def _fmt_value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def _fmt_time(value: str | datetime | None) -> str:
    if value is None:
        return "—"
    text = iso(value) if isinstance(value, datetime) else value
    return (text or "—")[:19].replace("T", " ")


templates.env.filters["value"] = _fmt_value
templates.env.filters["duration"] = _fmt_duration
templates.env.filters["time"] = _fmt_time
templates.env.globals["terminal"] = TERMINAL_STATUSES


@router.get("/static/highlight.css")
def highlight_stylesheet() -> Response:
    return Response(highlight_css(), media_type="text/css", headers={"Cache-Control": "max-age=3600"})


@router.get("/", response_class=HTMLResponse)
def runs_table(
    request: Request,
    state: State,
    status: Annotated[Literal[RUN_STATUSES] | None, Query()] = None,  # type: ignore[valid-type]
    task: Annotated[str | None, Query(max_length=200)] = None,
    workload: Annotated[str | None, Query(max_length=20)] = None,
    since: Annotated[str | None, Query(max_length=40)] = None,
    sort: SortKey = "-created",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> HTMLResponse:
    since_at = None
    if since:
        try:
            since_at = datetime.fromisoformat(since)
        except ValueError:
            raise HTTPException(422, f"since: {since!r} is not a date (YYYY-MM-DD)") from None
        since_at = as_utc(since_at, "since")  # a zone offset can push the last day past year 9999
    filters: dict[str, Any] = {
        "status": status,
        "task_id": task or None,
        "workload": workload or None,
        "since": since_at,
    }
    runs = state.store.list_runs(**filters, sort=sort, limit=limit, offset=offset)
    total = state.store.count_runs(**filters)
    query = {"status": status or "", "task": task or "", "workload": workload or "", "since": since or ""}
    kept = {k: v for k, v in query.items() if v}

    def link(**changes: Any) -> str:
        return "/?" + urlencode({**kept, "sort": sort, "limit": limit, "offset": offset, **changes})

    tasks = sorted(state.launcher.catalog.tasks())
    return templates.TemplateResponse(
        request,
        "runs.html",
        {
            "rows": [without_server_paths(run_row(run), state.store.home) for run in runs],
            "total": total,
            "offset": offset,
            "limit": limit,
            "sort": sort,
            "query": query,
            "statuses": RUN_STATUSES,
            "workloads": sorted(state.launcher.catalog.workloads),
            "tasks": tasks,
            "link": link,
            "api_query": urlencode({**kept, "sort": sort, "limit": limit, "offset": offset}),
            "token_required": state.token is not None,
        },
    )


@router.get("/ui/runs/{run_id}", response_class=HTMLResponse)
async def run_view(run_id: RunId, request: Request, state: State) -> HTMLResponse:
    try:
        model = await run_in_threadpool(run_page, state.store, run_id)
    except RunNotFoundError as error:
        raise HTTPException(404, str(error)) from None
    model["duration"] = duration_seconds(state.store.get_run(run_id))
    model["token_required"] = state.token is not None
    return templates.TemplateResponse(request, "run.html", model)


@router.get("/ui/compare", response_class=HTMLResponse)
async def compare_view(
    request: Request,
    state: State,
    run: Annotated[list[str], Query(max_length=20, description="two or more run ids")] = [],  # noqa: B006
) -> HTMLResponse:
    ids = list(dict.fromkeys(part for item in run for part in item.replace(",", " ").split() if part))
    error = ""
    model: dict[str, Any] = {"runs": [], "sections": []}
    if len(ids) < 2:
        error = "Choose two or more runs of the same task to compare."
    else:
        try:
            model = await run_in_threadpool(compare_page, state.store, ids)
        except RunNotFoundError as missing:
            raise HTTPException(404, str(missing)) from None
        tasks = {detail["task"] for detail in model["runs"]}
        if len(tasks) > 1:
            error = f"These runs are of different tasks ({', '.join(sorted(tasks))}); compare runs of one task."
            model = {"runs": model["runs"], "sections": []}
    response = templates.TemplateResponse(request, "compare.html", {**model, "error": error})
    if error and ids:
        response.status_code = 422  # a choice was made and cannot be compared; an empty form is fine
    return response
