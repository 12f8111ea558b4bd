"""The JSON record of one run, shared by `agent show --json`, `GET /runs/{id}` and the dashboard.

Verdicts keep the store's shape (`runs.RecordedVerdict`, a gate's `GateResult` with its id and
experiment): the run's list and each experiment's list hold the same records.

Every record here gives a run's status as whoever reads it must act on it (`reported_status`:
`stopped` for a run that nothing executes any more), and checks the shapes of the rows it reads
(`checked_run` and its siblings): a row another program changed into what labgate never writes is
named as damaged (CLI exit 2, API 503), never a traceback or a 500 on whichever page met it first.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlmodel import col, select

from agents import stopped, summarize
from runs import (
    RUN_STATUSES,
    Artifact,
    DamagedRecordError,
    Event,
    Experiment,
    Run,
    RunStore,
    describe_deviations,
    recorded_deviations,
    stored_utc,
    task_label,
)

COLUMN_TEXT_LIMIT = 80
"""Longer parameter values (a case directory, a kernel definition) stay out of a run list's columns."""

STOPPED = "stopped"
"""The status a `running` run reads once no live process executes it (see `agents.stopped`)."""

REPORTED_STATUSES: tuple[str, ...] = (*RUN_STATUSES, STOPPED)
"""Every status a run is reported with: the stored ones, and `stopped`."""


def reported_status(run: Run) -> str:
    """The run's status as every reader gets it: `stopped` for a `running` run that nothing executes.

    The store keeps such a run `running`, because `agent resume` takes only a running run; a table, a
    JSON answer or an event stream that said `running` would have people and scripts wait for ever.
    """
    return STOPPED if stopped(run) else run.status


def listed_runs(
    store: RunStore, *, status: str | None, limit: int, offset: int, sort: str, **filters: Any
) -> tuple[list[Run], int]:
    """A page of runs and their total, filtered on the status each run is reported with.

    `running` and `stopped` share one stored status: those runs (few: the ones executing, and the
    ones left to resume) are read whole and told apart here, so a page and its total still agree.
    """
    if status not in ("running", STOPPED):
        return (
            store.list_runs(status=status, limit=limit, offset=offset, sort=sort, **filters),
            store.count_runs(status=status, **filters),
        )
    stored = store.count_runs(status="running", **filters)
    runs = store.list_runs(status="running", limit=max(stored, 1), offset=0, sort=sort, **filters)
    kept = [run for run in runs if reported_status(run) == status]
    return kept[offset : offset + limit], len(kept)


def _damaged(record: str, field: str, value: Any, expected: str) -> DamagedRecordError:
    return DamagedRecordError(
        f"a record in the run store is damaged ({field} of {record} reads {str(value)[:60]!r}, not {expected}); "
        "labgate never writes that, so the database was changed by something else"
    )


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _mapping(value: Any) -> bool:
    return isinstance(value, dict)


def _texts_or_none(value: Any) -> bool:
    return value is None or (isinstance(value, list) and all(isinstance(item, str) for item in value))


Shapes = dict[str, tuple[Callable[[Any], bool], str]]

WHOLE = (_whole, "a whole number")
MAPPING = (_mapping, "a JSON object")
RUN_SHAPES: Shapes = {
    "accepted": WHOLE,
    "rejected": WHOLE,
    "llm_tokens": WHOLE,
    "llm_cost": (_number, "a number"),
    "options": MAPPING,
    "tags": (_texts_or_none, "a list of texts"),
}
"""What the run's columns hold as labgate writes them, where a reader depends on it. SQLite keeps text
written into a number column as text, and JSON of any shape in a JSON column. (`spec` is left out:
`shown_spec` shows whatever shape it holds.)"""
EXPERIMENT_SHAPES: Shapes = {"attempt": WHOLE, "params": MAPPING, "metrics": MAPPING}
ARTIFACT_SHAPES: Shapes = {"size": WHOLE}
EVENT_SHAPES: Shapes = {"data": MAPPING}


def _check(record: str, row: Any, shapes: Shapes) -> None:
    for field, (fits, expected) in shapes.items():
        value = getattr(row, field)
        if not fits(value):
            raise _damaged(record, field, value, expected)


def checked_run(run: Run) -> Run:
    """`run`, once its columns hold what labgate writes; raises DamagedRecordError naming the first that does not."""
    if run.status not in RUN_STATUSES:
        raise _damaged(f"run {run.id}", "status", run.status, "one of " + ", ".join(RUN_STATUSES))
    _check(f"run {run.id}", run, RUN_SHAPES)
    return run


def checked_experiment(experiment: Experiment) -> Experiment:
    """`experiment`, once its columns hold what labgate writes; raises DamagedRecordError otherwise."""
    _check(f"experiment {experiment.id} of run {experiment.run_id}", experiment, EXPERIMENT_SHAPES)
    return experiment


def checked_artifact(artifact: Artifact) -> Artifact:
    """`artifact`, once its columns hold what labgate writes; raises DamagedRecordError otherwise."""
    _check(f"artifact {artifact.id} of run {artifact.run_id}", artifact, ARTIFACT_SHAPES)
    return artifact


def checked_event(event: Event) -> Event:
    """`event`, once its data is the JSON object labgate writes; raises DamagedRecordError otherwise."""
    _check(f"event {event.id} of run {event.run_id}", event, EVENT_SHAPES)
    return event


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC; SQLite hands back naive datetimes that were written as UTC."""
    return None if value is None else stored_utc(value).isoformat()


def duration_seconds(run: Run) -> float | None:
    """Seconds from start to finish, or to now for a run still executing."""
    if run.started_at is None:
        return None
    end = stored_utc(run.finished_at) if run.finished_at else datetime.now(UTC)
    return round(max(0.0, (end - stored_utc(run.started_at)).total_seconds()), 3)


def artifact_record(artifact: Artifact) -> dict[str, Any]:
    checked_artifact(artifact)
    return {
        "id": artifact.id,
        "name": artifact.name,
        "kind": artifact.kind,
        "sha256": artifact.sha256,
        "size": artifact.size,
        "media_type": artifact.media_type,
        "experiment_id": artifact.experiment_id,
        "produced_by": artifact.produced_by,
    }


def _scalar(value: Any) -> bool:
    if isinstance(value, bool | int | float) or value is None:
        return True
    return isinstance(value, str) and len(value) <= COLUMN_TEXT_LIMIT


def shown_spec(spec: Any) -> dict[str, Any]:
    """A stored spec in the shape lists and pages read, whatever was stored.

    A run that failed before its task loaded (an unknown task, a malformed file) stores `{}`; a store
    written by another version, or edited by hand, may hold other shapes. Each field a page reads is
    given its type (missing or mistyped: empty), the rest is kept as stored.
    """
    spec = spec if isinstance(spec, dict) else {}

    def field(name: str, kind: type, empty: Any) -> Any:
        value = spec.get(name)
        return value if isinstance(value, kind) else empty

    sweep = {name: values for name, values in field("sweep", dict, {}).items() if isinstance(values, list)}
    gates = [gate for gate in field("gates", list, []) if isinstance(gate, str)]
    return {
        **spec,
        "params": field("params", dict, {}),
        "sweep": sweep,
        "gates": gates,
        "budget": field("budget", dict, {}),
        "goal": field("goal", str, ""),
        "title": field("title", str, ""),
        "seed": field("seed", int, None),
    }


def run_params(run: Run) -> dict[str, Any]:
    """The task's parameters as submitted; a sweep's values joined by commas; long values left out."""
    spec = shown_spec(run.spec)
    params = {k: v for k, v in spec["params"].items() if _scalar(v)}
    for name, values in spec["sweep"].items():
        if isinstance(values, list) and all(_scalar(v) for v in values):
            params[name] = ",".join(str(v) for v in values)
    return dict(sorted(params.items()))


def headline_experiments(store: RunStore, run_ids: list[str]) -> dict[str, Experiment]:
    """Per run, the experiment a list shows metrics of: the last accepted one, else the last with metrics.

    One query for the whole page of runs, so a list stays one round trip per table.
    """
    if not run_ids:
        return {}
    query = select(Experiment).where(col(Experiment.run_id).in_(run_ids)).order_by(col(Experiment.id))
    chosen: dict[str, Experiment] = {}
    with store.session() as session:
        for experiment in map(checked_experiment, session.exec(query).all()):
            current = chosen.get(experiment.run_id)
            if experiment.decision == "accept" or (
                experiment.metrics and (current is None or current.decision != "accept")
            ):
                chosen[experiment.run_id] = experiment
    return chosen


def run_row(run: Run, headline: Experiment | None = None) -> dict[str, Any]:
    """One line of a run list: what the runs table shows and sorts on.

    `headline` (see `headline_experiments`) supplies the metrics column; without it they are empty.
    """
    checked_run(run)
    deviations = recorded_deviations(run.spec)
    metrics = {k: v for k, v in (headline.metrics if headline else {}).items() if _scalar(v)}
    return {
        "run_id": run.id,
        "task": task_label(run.task_id, deviations),
        "gate_deviations": deviations,
        "workload": run.workload,
        "status": reported_status(run),
        "reason": run.reason,
        "created": iso(run.created_at),
        "started": iso(run.started_at),
        "finished": iso(run.finished_at),
        "duration_seconds": duration_seconds(run),
        "accepted": run.accepted,
        "rejected": run.rejected,
        "llm_tokens": run.llm_tokens,
        "llm_cost": run.llm_cost,
        "params": run_params(run),
        "metrics": dict(sorted(metrics.items())),
        "metrics_from": headline.key if headline else None,
        # A run with no accepted experiment still shows its last metrics; they must not read as a result.
        "metrics_accepted": headline is not None and headline.decision == "accept",
        "goal": shown_spec(run.spec)["goal"][:300],
        "tags": list(run.tags or []),
    }


def run_detail(store: RunStore, run_id: str) -> dict[str, Any]:
    """Everything recorded about a run; raises RunNotFoundError for an unknown id, DamagedRecordError for a
    record of it that labgate never wrote."""
    run = checked_run(store.get_run(run_id))
    experiments = [checked_experiment(e) for e in store.experiments(run_id)]
    try:
        summary = summarize(store, run_id)
    except ValidationError as error:  # a verdict row of a shape no gate returns (the run's own are checked)
        raise _invalid(f"a verdict of run {run_id}", error) from None
    record = {**summary.model_dump(), "status": reported_status(run)}
    by_experiment: dict[int | None, list[dict[str, Any]]] = {}
    for verdict in record["verdicts"]:
        by_experiment.setdefault(verdict["experiment_id"], []).append(verdict)
    return {
        **record,
        "gate_deviations_text": describe_deviations(summary.gate_deviations),
        "workload": run.workload,
        "spec": run.spec,
        "options": run.options,
        "environment": run.environment,
        "created": iso(run.created_at),
        "started": iso(run.started_at),
        "finished": iso(run.finished_at),
        "duration_seconds": duration_seconds(run),
        "cost": {"llm_tokens": run.llm_tokens, "llm_cost": run.llm_cost},
        "report_sha256": run.report_sha256,
        "tags": list(run.tags or []),
        "notes": run.notes,
        "steps": [
            {
                "id": s.id,
                "name": s.name,
                "status": s.status,
                "detail": s.detail,
                "started": iso(s.started_at),
                "finished": iso(s.finished_at),
            }
            for s in store.steps(run_id)
        ],
        "experiments": [
            {
                "id": e.id,
                "key": e.key,
                "attempt": e.attempt,
                "parent_key": e.parent_key,
                "params": e.params,
                "status": e.status,
                "decision": e.decision,
                "metrics": e.metrics,
                "error": e.error,
                "rationale": e.rationale,
                "started": iso(e.started_at),
                "finished": iso(e.finished_at),
                "verdicts": by_experiment.get(e.id, []),
            }
            for e in experiments
        ],
        "run_verdicts": by_experiment.get(None, []),
        "artifacts": [artifact_record(a) for a in store.artifacts_of(run_id)],
    }


def _invalid(record: str, error: ValidationError) -> DamagedRecordError:
    """A pydantic refusal of a stored row, named as a damaged record: where, and what the model expected."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "a field"
    return _damaged(record, where, first.get("input"), f"what labgate writes ({first['msg'].lower()})")
