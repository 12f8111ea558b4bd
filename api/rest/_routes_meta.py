"""REST: the task catalog and the server's health."""

from __future__ import annotations

import shutil
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.rest._schemas import Health, TaskInfo
from api.rest._state import AppState, app_state

router = APIRouter(tags=["meta"])
MIN_FREE_BYTES = 1 << 20
"""Below this much free space the store's writes are about to fail (an artifact, a figure, a log)."""
State = Annotated[AppState, Depends(app_state)]


@router.get("/tasks", response_model=list[TaskInfo], summary="The task catalog")
def list_tasks(state: State) -> list[TaskInfo]:
    tasks = sorted(state.launcher.catalog.tasks().values(), key=lambda task: task.id)
    return [
        TaskInfo(
            id=task.id,
            workload=task.workload,
            title=task.title,
            goal=task.goal,
            gates=task.gates,
            params=task.params,
            sweep=task.sweep,
            budget=task.budget.model_dump(),
        )
        for task in tasks
    ]


@router.get(
    "/healthz",
    response_model=Health,
    summary="Liveness and readiness",
    responses={503: {"description": "the database cannot be reached, or the store's disk is (nearly) full"}},
)
def healthz(state: State) -> Health | JSONResponse:
    """Ready when the database answers and, for a store that takes writes, its disk has room for them.

    A full disk used to read `ok` here while every write (a run, an event, an artifact) failed with 503.
    """
    try:
        with state.store.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        queued = state.store.count_runs(status="queued")
    except Exception as error:  # noqa: BLE001 - any database failure means not ready
        return JSONResponse({"status": "error", "database": f"{type(error).__name__}"}, status_code=503)
    try:
        free = shutil.disk_usage(state.store.home).free
    except OSError as error:
        return JSONResponse({"status": "error", "disk": f"cannot be read: {error.strerror}"}, status_code=503)
    read_only = state.store.read_only
    if free < MIN_FREE_BYTES and not read_only:
        disk = f"{free // 1024} KiB free under the store's folder: runs, events and artifacts cannot be written"
        return JSONResponse({"status": "error", "database": "ok", "disk": disk}, status_code=503)
    return Health(
        status="ok",
        database="ok",
        disk_free_bytes=free,
        read_only=read_only,
        workers=state.pool.concurrency,
        executing=len(state.pool.active),
        queued=queued,
    )


@router.head(
    "/healthz",
    summary="Liveness and readiness, headers only",
    responses={200: {"description": "ready"}, 503: {"description": "the database or the store's disk is not"}},
)
def healthz_head(state: State) -> JSONResponse:
    """What GET /healthz answers, whose body the server leaves out: probes and `curl -I` send HEAD."""
    answer = healthz(state)
    if isinstance(answer, JSONResponse):
        return answer
    return JSONResponse(answer.model_dump(mode="json"))
