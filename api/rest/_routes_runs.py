"""REST: submit, list and inspect runs; cancel, resume and approve them; follow their events (SSE)."""

from __future__ import annotations

import asyncio
import json
import math
import pathlib
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials
from fastapi.types import DecoratedCallable
from pydantic import TypeAdapter, ValidationError
from starlette.responses import StreamingResponse

import agents
from agents import CANCEL_REASON, RunOptions, RunStateError, executed_elsewhere
from api._detail import (
    REPORTED_STATUSES,
    STOPPED,
    artifact_record,
    headline_experiments,
    listed_runs,
    reported_status,
    run_detail,
    run_row,
)
from api._json import dumps_strict, strict_json
from api._paths import without_server_paths
from api.rest._cache import LIVE_SECONDS, NOT_MODIFIED, STATE_KEY
from api.rest._problems import MALFORMED, TOO_LARGE, UnprocessableError, refusal
from api.rest._schemas import (
    RUN_ID_PATTERN,
    TAG_PATTERN,
    ActionResult,
    Annotations,
    AnnotationsResult,
    Links,
    RunAccepted,
    RunList,
    RunRequest,
    RunRow,
)
from api.rest._security import bearer, check_token
from api.rest._state import AppState, app_state
from runs import RUN_SORT_KEYS, TERMINAL_STATUSES, Event, Run, RunNotFoundError, TaskSpec
from sandboxes import SandboxUnavailableError, connect_engine
from tools import TaskError, Workload, check_param_types

router = APIRouter(tags=["runs"])

State = Annotated[AppState, Depends(app_state)]
RunId = Annotated[str, Path(pattern=RUN_ID_PATTERN, description="run id, as returned by POST /runs")]
SORT_PATTERN = "^-?(" + "|".join(RUN_SORT_KEYS) + ")$"
SortKey = Annotated[str, Query(pattern=SORT_PATTERN, description="column, '-' prefix for descending")]
DECISION_FILTERS = ("accept", "reject", "rerun", "revise", "none")
DecisionFilter = Annotated[
    Literal[DECISION_FILTERS] | None,  # type: ignore[valid-type]
    Query(description="only runs with an experiment so decided; `none`: no experiment decided yet"),
]
TagFilter = Annotated[str | None, Query(pattern=TAG_PATTERN, description="only runs carrying this tag")]
SearchText = Annotated[
    str | None,
    Query(max_length=200, description="case-insensitive text in the run's id, task, reason, goal or parameters"),
]


ReportedStatus = Literal[REPORTED_STATUSES]  # type: ignore[valid-type]


def authorised(
    request: Request,
    state: State,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    check_token(request, credentials, state.token, state.limiter)


Mutating = [Depends(authorised)]
GUARDED: dict[int | str, dict[str, Any]] = {
    **MALFORMED,
    401: refusal("the server's token is required and was missing or wrong"),
    403: refusal("posted from another site (or from an opaque `Origin: null`)"),
    429: refusal("too many failed authentications from this address; see Retry-After"),
}
"""What every mutating call may answer before it looks at the run."""
UNKNOWN_RUN: dict[int | str, dict[str, Any]] = {404: refusal("no run with this id")}
ACTION: dict[int | str, dict[str, Any]] = {
    **GUARDED,
    **UNKNOWN_RUN,
    409: refusal("the run is not in a state that allows this action"),
}


MAX_EVENT_ID = 2**62
"""The largest event id a client may resume after: within every database's integers, with room to spare."""

MAX_SWEEP_COMBINATIONS = 10_000
"""As many experiments as a submission's budget may ask for (`RunRequest.budget`)."""


class TaskInvalidError(UnprocessableError):
    """A task or override the catalog refuses; answered as 422 naming the field."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(["body", where], message, "invalid_task")
        self.where = where


def _get(state: AppState, run_id: str) -> Run:
    try:
        return state.store.get_run(run_id)
    except RunNotFoundError as error:
        raise HTTPException(404, str(error)) from None


def DateQuery(description: str) -> Any:  # noqa: N802 - reads as the Query it is
    """A date-time query parameter, documented as one: a bare number is not a date here (pydantic would
    read `until=0.5` as seconds since 1970), so it stays a string until `as_utc` parses it."""
    return Query(max_length=64, description=description, json_schema_extra={"format": "date-time"})


_DATES = TypeAdapter(datetime)
_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")


def as_utc(raw: str | datetime | None, name: str) -> datetime | None:
    """`raw` (ISO 8601, RFC 3339) as an aware UTC date-time; a 422 naming the parameter otherwise."""
    if raw is None:
        return None
    if isinstance(raw, datetime):
        value = raw
    else:
        if _NUMBER.fullmatch(raw):
            raise UnprocessableError(["query", name], f"{raw!r} is a number, not an ISO 8601 date-time")
        try:
            value = _DATES.validate_python(raw)
        except ValidationError:
            raise UnprocessableError(["query", name], f"{raw!r} is not an ISO 8601 date-time") from None
    try:
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    except (OverflowError, ValueError):
        raise UnprocessableError(["query", name], f"{raw} is outside the dates this server handles") from None


def _task_from(state: AppState, body: RunRequest) -> TaskSpec:
    catalog = state.launcher.catalog
    try:
        task = catalog.get(body.task) if body.task is not None else catalog.from_mapping(body.spec or {}, "spec")
    except TaskError as error:
        raise TaskInvalidError("task" if body.task is not None else "spec", str(error)) from None
    task = task.model_copy(deep=True)
    for name, value in body.params.items():
        if isinstance(value, list):
            task.sweep[name] = list(value)
            task.params.pop(name, None)
        else:
            task.params[name] = value
            task.sweep.pop(name, None)
    combinations = math.prod(len(values) for values in task.sweep.values())
    if combinations > MAX_SWEEP_COMBINATIONS:  # a 2 kB body asking for 10^8 experiments, checked before any is built
        raise TaskInvalidError(
            "params" if body.params else "spec",
            f"the sweep makes {combinations:,} combinations; this server plans at most {MAX_SWEEP_COMBINATIONS:,}",
        )
    if body.budget is not None:
        task.budget = task.budget.model_copy(update={"experiments": body.budget})
    if body.seed is not None:
        task.seed = body.seed
    if not 0 <= task.seed <= 2**31 - 1:
        raise TaskInvalidError("spec", f"spec.seed: must be between 0 and {2**31 - 1}")
    workload = catalog.workloads.get(task.workload)
    if workload is not None:  # titled after its own content (a theorem of one's own), as a task file is
        _refuse_server_paths(workload, task, given=set(body.params))
        try:
            check_param_types(workload, task)
        except TaskError as error:
            raise TaskInvalidError("params" if body.params else ("task" if body.task else "spec"), str(error)) from None
        task = workload.titled(task)
    return task


def _refuse_server_paths(workload: Workload, task: TaskSpec, *, given: set[str]) -> None:
    """Refuse parameters naming files of the server (schema `format: path`, e.g. cfd/case's `case_dir`):
    validating or running them would copy, and quote in errors, whatever the server can read."""
    try:
        properties = workload.param_schema(task).get("properties", {})
    except TaskError:
        return  # no schema for this task: the submission's own validation names what is wrong
    # A workload may read a name in another case (cfd's `CASE_DIR` is `case_dir`), so every spelling counts.
    spellings: dict[str, list[str]] = {}
    for written in [*(n for n, v in task.params.items() if v is not None), *task.sweep]:
        spellings.setdefault(written.lower(), []).append(written)
    for name, spec in properties.items():
        if isinstance(spec, dict) and spec.get("format") == "path" and name.lower() in spellings:
            written = spellings[name.lower()][0]
            raise TaskInvalidError(
                "params" if written in given else "spec",
                f"params.{written} names a file on the server, which the API does not read for a client; "
                "run this task with `agent run` on the machine that holds the file",
            )


@router.post(
    "/runs",
    status_code=202,
    response_model=RunAccepted,
    dependencies=Mutating,
    summary="Queue a run",
    responses={**GUARDED, **TOO_LARGE},
)
def submit_run(body: RunRequest, state: State, request: Request, response: Response) -> RunAccepted:
    """Validate the task and queue it; a worker executes it when a slot is free (none are dropped)."""
    task = _task_from(state, body)
    if task.sandbox == "docker":
        _require_docker()
    ceiling = state.settings.max_workers  # the server's setting caps what one submission may ask for
    options = RunOptions(
        sandbox=None,  # the task's own choice: a spec asking for docker runs in docker, never silently locally
        max_workers=min(body.workers or ceiling, ceiling),
        executor=state.settings.executor,
        approve_plan=body.approve_plan,
        extra={"submitted_via": "api"},
    )
    try:
        run_id = state.launcher.submit(task, options)
    except TaskError as error:
        raise TaskInvalidError("params" if body.params else ("task" if body.task else "spec"), str(error)) from None
    state.store.emit(run_id, "status", "run queued", {"status": "queued"})
    state.pool.wake()
    response.headers["Location"] = f"/runs/{run_id}"
    return RunAccepted(run_id=run_id, status="queued", links=_links(run_id))


def _require_docker() -> None:
    """Refuse a docker task at submission when no Docker engine answers, rather than fail it later."""
    try:
        connect_engine(timeout=DOCKER_PING_SECONDS).close()
    except SandboxUnavailableError as error:
        raise TaskInvalidError("spec", f"spec.sandbox: docker is not available on this server: {error}") from None


DOCKER_PING_SECONDS = 5.0


def _links(run_id: str) -> Links:
    return Links(
        self=f"/runs/{run_id}",
        events=f"/runs/{run_id}/events",
        artifacts=f"/runs/{run_id}/artifacts",
        dashboard=f"/ui/runs/{run_id}",
    )


@router.get("/runs", response_model=RunList, summary="List runs", responses=NOT_MODIFIED)
def list_runs(
    state: State,
    request: Request,
    status: Annotated[
        ReportedStatus | None,
        Query(description="only runs with this status (`stopped`: recorded running, nothing executes it)"),
    ] = None,
    task: Annotated[str | None, Query(max_length=200, description="only runs of this task id")] = None,
    workload: Annotated[str | None, Query(max_length=20, description="only runs of this workload")] = None,
    since: Annotated[str | None, DateQuery("created at or after (ISO 8601; UTC if no zone)")] = None,
    until: Annotated[str | None, DateQuery("created before (ISO 8601; UTC if no zone)")] = None,
    q: SearchText = None,
    decision: DecisionFilter = None,
    tag: TagFilter = None,
    sort: SortKey = "-created",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> RunList:
    """Newest first by default; `next` is the URL of the following page."""
    filters: dict[str, Any] = {
        "task_id": task,
        "workload": workload,
        "since": as_utc(since, "since"),
        "until": as_utc(until, "until"),
        "text": q.replace("\x00", "") if q else None,
        "decision": decision,
        "tag": tag,
    }
    runs, total = listed_runs(state.store, status=status, limit=limit, offset=offset, sort=sort, **filters)
    following = None
    if offset + len(runs) < total:
        following = str(request.url.include_query_params(offset=offset + limit, limit=limit))
    headline = headline_experiments(state.store, [run.id for run in runs])
    _may_keep(request, live=any(_executing(run) for run in runs))
    return RunList(
        items=[
            RunRow.model_validate(without_server_paths(run_row(run, headline.get(run.id)), state.store.home))
            for run in runs
        ],
        total=total,
        limit=limit,
        offset=offset,
        next=following,
    )


def _executing(run: Run) -> bool:
    return run.started_at is not None and run.finished_at is None


def _may_keep(request: Request, *, live: bool) -> None:
    """Let the response cache keep this answer until the next write to the store; one that shows a
    duration counted to now (a run still executing) only for `LIVE_SECONDS`."""
    setattr(request.state, STATE_KEY, LIVE_SECONDS if live else None)


@router.get(
    "/runs/{run_id}",
    summary="One run in full",
    response_model=dict[str, Any],
    responses={**UNKNOWN_RUN, **NOT_MODIFIED},
)
def get_run(run_id: RunId, state: State, request: Request) -> JSONResponse:
    """Spec, status, steps, experiments with their verdicts, artifacts and cost."""
    try:
        detail = run_detail(state.store, run_id)
    except RunNotFoundError as error:
        raise HTTPException(404, str(error)) from None
    _may_keep(request, live=detail["started"] is not None and detail["finished"] is None)
    detail.pop("report", None)  # a path on the server; the report is an artifact (report_sha256)
    detail = without_server_paths(detail, state.store.home, state.store.run_dir(run_id))
    detail["links"] = _links(run_id).model_dump()
    return JSONResponse(strict_json(detail))  # already JSON-shaped: no second encoding pass


@router.get("/runs/{run_id}/artifacts", summary="Artifacts of a run", responses=UNKNOWN_RUN)
def list_artifacts(
    run_id: RunId,
    state: State,
    kind: Annotated[str | None, Query(max_length=40, description="only this kind (image, log, report...)")] = None,
) -> list[dict[str, Any]]:
    _get(state, run_id)
    rows = [artifact_record(a) for a in state.store.artifacts_of(run_id) if kind is None or a.kind == kind]
    for row in rows:
        row["url"] = f"/artifacts/{row['sha256']}?artifact={row['id']}"
    return rows


def _action(name: str, summary: str) -> Callable[[DecoratedCallable], DecoratedCallable]:
    """The route of an action on one run (POST /runs/{run_id}/<name>): guarded, answering ActionResult."""
    return router.post(
        f"/runs/{{run_id}}/{name}",
        response_model=ActionResult,
        dependencies=Mutating,
        summary=summary,
        responses=ACTION,
    )


def _requeue(
    state: AppState,
    run: Run,
    *,
    doing: str,
    queued: str,
    message: str,
    expect_worker: str | None = None,
    first: tuple[str, str] | None = None,
    interrupted: str = "",
) -> ActionResult:
    """Queue `run` again from the status it was seen in (and under `expect_worker`, when given); a
    compare-and-set, so of two servers racing on one run only one queues it.
    `first`: an event (kind, message) recorded before the status change is announced. `interrupted`: why the
    steps a dead process left open are closed (before any worker can take the run), as `agent resume` does;
    left open, a finished run showed its first dispatch step `running` for good."""
    if not state.store.update_run_if(
        run.id, status_in=[run.status], expect_worker=expect_worker, status="queued", worker=""
    ):
        raise HTTPException(409, f"run {run.id} changed while {doing}; look at it again")
    if interrupted:
        state.store.close_unfinished(run.id, "interrupted", interrupted)
    if first is not None:
        state.store.emit(run.id, *first)
    state.store.emit(run.id, "status", f"run queued {queued}", {"status": "queued"})
    state.pool.wake()
    return ActionResult(run_id=run.id, status="queued", message=message)


@_action("cancel", "Cancel a run")
def cancel_run(run_id: RunId, state: State) -> ActionResult:
    """A queued or paused run never starts; a running one's process is stopped. Of two cancels racing,
    one is answered 200 and the other 409, as if they had come one after the other."""
    try:
        agents.cancel_run(state.store, run_id)
    except RunStateError as error:
        raise HTTPException(409, str(error)) from None
    except RunNotFoundError as error:
        raise HTTPException(404, str(error)) from None
    state.pool.wake()
    return ActionResult(run_id=run_id, status="cancelled", message=CANCEL_REASON)


@_action("resume", "Resume a run")
def resume_run(run_id: RunId, state: State) -> ActionResult:
    """Queue again a run whose process ended while it ran; it continues from its checkpoint."""
    run = _get(state, run_id)
    if run.status in TERMINAL_STATUSES:
        raise HTTPException(409, f"run {run_id} already ended ({run.status}); nothing to resume")
    if run.status == "paused":
        raise HTTPException(409, f"run {run_id} is waiting for plan approval: POST /runs/{run_id}/approve")
    if run.status == "queued":
        raise HTTPException(409, f"run {run_id} is already queued")
    elsewhere = executed_elsewhere(run)
    if elsewhere:
        raise HTTPException(409, f"run {run_id} cannot be resumed: {elsewhere}")
    return _requeue(
        state,
        run,
        doing="resuming",
        queued="to resume from its checkpoint",
        message="queued to resume",
        expect_worker=run.worker,
        interrupted=f"its process {run.worker or '(unknown)'} ended",
    )


@_action("approve", "Approve a plan")
def approve_run(run_id: RunId, state: State) -> ActionResult:
    """Approve the plan of a run submitted with approve_plan; it is queued to execute."""
    run = _get(state, run_id)
    try:
        state.launcher.check_approvable(run_id)
    except RunStateError as error:
        raise HTTPException(409, str(error)) from None
    return _requeue(
        state,
        run,
        doing="approving",
        queued="after approval",
        message="plan approved; queued",
        first=("approval", "plan approved"),
    )


@router.post(
    "/runs/{run_id}/annotations",
    response_model=AnnotationsResult,
    dependencies=Mutating,
    summary="Tag and annotate a run",
    responses={**GUARDED, **UNKNOWN_RUN, **TOO_LARGE},
)
def annotate_run(run_id: RunId, body: Annotations, state: State) -> AnnotationsResult:
    """Replace the run's tags and notes (a reviewer's; they never change what the run recorded)."""
    _get(state, run_id)
    tags = list(dict.fromkeys(body.tags))
    try:
        state.store.update_run(run_id, tags=tags, notes=body.notes)
    except RunNotFoundError as error:
        raise HTTPException(404, str(error)) from None
    state.store.emit(run_id, "annotation", "tags and notes updated", {"tags": tags})
    return AnnotationsResult(run_id=run_id, tags=tags, notes=body.notes)


def _sse(event: Event, home: pathlib.Path, run_dir: pathlib.Path) -> str:
    payload = {
        "id": event.id,
        "kind": event.kind,
        "message": event.message,
        "data": without_server_paths(event.data, home, run_dir),
        "created": event.created_at.isoformat(),
    }
    payload["message"] = without_server_paths(event.message, home, run_dir)
    # Unnamed SSE messages (the kind is in the data), so a browser's onmessage sees every kind,
    # including kinds added later; only the closing message is named (`end`).
    return f"id: {event.id}\ndata: {dumps_strict(payload)}\n\n"


MAX_EVENT_STREAMS = 64
"""Event streams one server serves at once; more are told to retry (503). Each polls the store while its run
is quiet: 100 idle streams took 83 % of a core and slowed every other request a hundredfold."""
POLL_SECONDS = (0.5, 2.0)
"""A stream's first wait for new events, and its longest: it doubles while the run stays quiet."""


@router.get(
    "/runs/{run_id}/events",
    summary="Follow a run (Server-Sent Events)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "one SSE message per event"}, **UNKNOWN_RUN},
)
async def run_events(
    run_id: RunId,
    request: Request,
    state: State,
    last_event_id: Annotated[
        str, Header(alias="Last-Event-ID", pattern=r"^[0-9]{0,19}$", description="resume after this event id")
    ] = "",
    after: Annotated[int | None, Query(ge=0, le=MAX_EVENT_ID, description="resume after this event id")] = None,
    follow: Annotated[bool, Query(description="keep streaming until the run ends")] = True,
) -> StreamingResponse:
    """Every event of the run in order, each with its id; reconnecting with Last-Event-ID resumes exactly."""
    await run_in_threadpool(_get, state, run_id)
    cursor = after or 0
    if last_event_id:
        if int(last_event_id) > MAX_EVENT_ID:  # 19 digits may pass 2**63, which no database integer holds
            raise UnprocessableError(["header", "Last-Event-ID"], f"an event id is at most {MAX_EVENT_ID}")
        cursor = max(cursor, int(last_event_id))
    store = state.store
    run_dir = store.run_dir(run_id)
    if state.open_streams >= MAX_EVENT_STREAMS:
        raise HTTPException(
            503,
            f"{MAX_EVENT_STREAMS} event streams are open on this server; try again later",
            {"Retry-After": "10"},
        )

    async def stream() -> AsyncIterator[str]:
        # Counted once it streams: a response whose client left before it started never runs this at all.
        state.open_streams += 1
        try:
            async for message in follow_events():
                yield message
        finally:
            state.open_streams -= 1

    async def follow_events() -> AsyncIterator[str]:
        position = cursor
        yield "retry: 2000\n\n"
        quiet = 0.0
        wait = POLL_SECONDS[0]
        while True:
            batch = await run_in_threadpool(store.events, run_id, position, 500)
            for event in batch:
                assert event.id is not None
                position = event.id
                yield _sse(event, store.home, run_dir)
            if batch:
                quiet, wait = 0.0, POLL_SECONDS[0]
                continue
            status = reported_status(await run_in_threadpool(store.get_run, run_id))
            if not follow or status in TERMINAL_STATUSES or status == STOPPED:
                for event in await run_in_threadpool(store.events, run_id, position, 10_000):
                    assert event.id is not None
                    position = event.id
                    yield _sse(event, store.home, run_dir)
                yield f"event: end\ndata: {json.dumps({'status': status, 'last_event_id': position})}\n\n"
                return
            if await request.is_disconnected():
                return
            await asyncio.sleep(wait)
            quiet += wait
            wait = min(wait * 2, POLL_SECONDS[1])
            if quiet >= 15:
                quiet = 0.0
                yield ": keep-alive\n\n"

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)
