"""The dashboard: server-rendered pages (Jinja2) with a little JavaScript for live status and actions."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from agents import RATIONALE_LABEL, show_invisible, stopped
from api._detail import REPORTED_STATUSES, duration_seconds, headline_experiments, iso, listed_runs, run_row
from api._paths import without_server_paths
from api.rest._problems import UnprocessableError
from api.rest._routes_runs import DECISION_FILTERS, RunId, SearchText, SortKey, as_utc
from api.rest._schemas import RUN_ID_PATTERN, TAG_PATTERN
from api.rest._state import AppState, app_state
from api.web._compare import compare_page
from api.web._render import highlight_css
from api.web._searches import read_entries, step_detail
from api.web._views import artifact_view, run_page
from runs import TERMINAL_STATUSES, Artifact, RunNotFoundError

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


def _visible_controls(value: Any) -> Any:
    """Jinja's `finalize`: every value a template prints, markup included, with each character no reader can see
    shown as a visible `⟨U+202E⟩` (`show_invisible`, the policy the written report follows too).

    A kernel, a proof or a file name written with reordering characters (Trojan Source, CVE-2021-42574) reads
    differently on screen from what the compiler, the prover or the store sees: `/* } if (admin) { */` can
    display as code; a zero-width character makes two names that look alike differ. No honest source needs them,
    so a reviewer sees each one, as the character it is. The replacements hold no markup characters, so escaped
    text stays escaped."""
    if isinstance(value, Markup):
        return Markup(show_invisible(str(value)))
    if isinstance(value, str):
        return show_invisible(value)
    return value


templates.env.finalize = _visible_controls
templates.env.filters["value"] = _fmt_value
templates.env.filters["duration"] = _fmt_duration
templates.env.filters["time"] = _fmt_time
templates.env.globals["terminal"] = TERMINAL_STATUSES
templates.env.globals["rationale_label"] = RATIONALE_LABEL


def _choice(values: tuple[str, ...]) -> str:
    """A query pattern for one of `values`, or empty: the filter form sends `any` as an empty field."""
    return "^(" + "|".join(values) + ")?$"


@router.get("/static/highlight.css")
def highlight_stylesheet() -> Response:
    return Response(highlight_css(), media_type="text/css", headers={"Cache-Control": "max-age=3600"})


@router.get("/", response_class=HTMLResponse)
def runs_table(
    request: Request,
    state: State,
    status: Annotated[str | None, Query(pattern=_choice(REPORTED_STATUSES))] = None,
    task: Annotated[str | None, Query(max_length=200)] = None,
    workload: Annotated[str | None, Query(max_length=20)] = None,
    since: Annotated[str | None, Query(max_length=40)] = None,
    q: SearchText = None,
    decision: Annotated[str | None, Query(pattern=_choice(DECISION_FILTERS))] = None,
    tag: Annotated[str | None, Query(pattern="^(" + TAG_PATTERN[1:-1] + ")?$")] = None,
    sort: SortKey = "-created",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    rows: Annotated[bool, Query(description="only the table's rows (the page refreshes them live)")] = False,
) -> HTMLResponse:
    since_at = None
    if since:
        try:
            since_at = datetime.fromisoformat(since)
        except ValueError:
            raise HTTPException(422, f"since: {since!r} is not a date (YYYY-MM-DD)") from None
        since_at = as_utc(since_at, "since")  # a zone offset can push the last day past year 9999
    filters: dict[str, Any] = {
        "status": status or None,
        "task_id": task or None,
        "workload": workload or None,
        "since": since_at,
        "text": q.replace("\x00", "") if q else None,
        "decision": decision or None,
        "tag": tag or None,
    }
    runs, total = listed_runs(state.store, sort=sort, limit=limit, offset=offset, **filters)
    headline = headline_experiments(state.store, [run.id for run in runs])
    records = [
        without_server_paths({**run_row(run, headline.get(run.id)), "stopped": stopped(run)}, state.store.home)
        for run in runs
    ]
    query = {
        "status": status or "",
        "task": task or "",
        "workload": workload or "",
        "since": since or "",
        "q": q or "",
        "decision": decision or "",
        "tag": tag or "",
    }
    kept = {k: v for k, v in query.items() if v}

    def link(**changes: Any) -> str:
        return "/?" + urlencode({**kept, "sort": sort, "limit": limit, "offset": offset, **changes})

    model = {
        "rows": records,
        "sort": sort,
        "link": link,
        "param_columns": _columns(record["params"] for record in records),
        "metric_columns": _columns(record["metrics"] for record in records),
        "total": total,
        "offset": offset,
    }
    if rows:
        return templates.TemplateResponse(request, "_runs_table.html", model)
    tasks = sorted(state.launcher.catalog.tasks())
    return templates.TemplateResponse(
        request,
        "runs.html",
        {
            **model,
            "offset": offset,
            "limit": limit,
            "query": query,
            "statuses": REPORTED_STATUSES,
            "decisions": DECISION_FILTERS,
            "workloads": sorted(state.launcher.catalog.workloads),
            "tasks": tasks,
            "rows_query": urlencode({**kept, "sort": sort, "limit": limit, "offset": offset, "rows": "true"}),
            "token_required": state.token is not None,
        },
    )


COLUMNS_SHOWN = 6
"""Parameter and metric columns of the runs table each: the names most rows share."""


def _columns(values: Any) -> list[str]:
    """The names that most of the listed runs have, most common first (ties by name)."""
    counts: dict[str, int] = {}
    for mapping in values:
        for name in mapping:
            counts[name] = counts.get(name, 0) + 1
    return sorted(counts, key=lambda name: (-counts[name], name))[:COLUMNS_SHOWN]


@router.get("/ui/runs/{run_id}", response_class=HTMLResponse)
async def run_view(run_id: RunId, request: Request, state: State) -> HTMLResponse:
    try:
        model = await run_in_threadpool(run_page, state.store, run_id)
    except RunNotFoundError as error:
        raise HTTPException(404, str(error)) from None
    run = state.store.get_run(run_id)
    model["duration"] = duration_seconds(run)
    model["stopped"] = stopped(run)
    model["token_required"] = state.token is not None
    return templates.TemplateResponse(request, "run.html", model)


@router.get("/ui/artifacts/{artifact_id}", response_class=HTMLResponse)
async def artifact_fragment(
    artifact_id: Annotated[int, PathParam(ge=1, le=2**62)], request: Request, state: State
) -> HTMLResponse:
    """One artifact's contents as the run page shows them (highlighted text, a table), fetched when opened."""
    with state.store.session() as session:
        row = session.get(Artifact, artifact_id)
    if row is None:
        raise HTTPException(404, f"no artifact with id {artifact_id}")
    view = await run_in_threadpool(artifact_view, state.store, row, lazy=False)
    response = templates.TemplateResponse(request, "_artifact_body.html", {"a": view})
    response.headers["Cache-Control"] = "private, max-age=3600"  # an artifact's bytes never change
    return response


@router.get("/ui/artifacts/{artifact_id}/entries/{position}", response_class=HTMLResponse)
async def search_step_fragment(
    artifact_id: Annotated[int, PathParam(ge=1, le=2**62)],
    position: Annotated[int, PathParam(ge=0, le=10_000_000)],
    request: Request,
    state: State,
) -> HTMLResponse:
    """One line of a search log in full: a kernel candidate (source, diff to its parent, measurements) or a
    proof draft (its text, the error and the goal where it failed)."""
    with state.store.session() as session:
        row = session.get(Artifact, artifact_id)
    if row is None:
        raise HTTPException(404, f"no artifact with id {artifact_id}")
    entries = await run_in_threadpool(read_entries, state.store, row)
    if position >= len(entries):
        raise HTTPException(404, f"the search log {row.name} has no entry {position}")
    step = await run_in_threadpool(step_detail, entries, position)
    response = templates.TemplateResponse(request, "_step.html", {"step": step})
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


MAX_COMPARED = 20
"""Runs one comparison shows; each is read in full, so the page costs as much as this many run pages."""


def _compared_ids(values: list[str]) -> list[str]:
    """The distinct run ids in `run` values (each may list several, separated by commas or spaces).

    The limit holds for the ids, not the values: one value listing a thousand ids is refused as
    twenty values would be, and an id no run can have is named, not looked up.
    """
    ids = list(dict.fromkeys(part for item in values for part in item.replace(",", " ").split() if part))
    if len(ids) > MAX_COMPARED:
        raise UnprocessableError(["query", "run"], f"{len(ids)} run ids given; compare at most {MAX_COMPARED}")
    for run_id in ids:
        if not re.fullmatch(RUN_ID_PATTERN, run_id):
            shown = run_id if len(run_id) <= 60 else run_id[:60] + "..."
            raise UnprocessableError(["query", "run"], f"{shown!r} is not a run id")
    return ids


@router.get("/ui/compare", response_class=HTMLResponse)
async def compare_view(
    request: Request,
    state: State,
    run: Annotated[list[str], Query(max_length=MAX_COMPARED, description="two or more run ids")] = [],  # noqa: B006
) -> HTMLResponse:
    ids = _compared_ids(run)
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
