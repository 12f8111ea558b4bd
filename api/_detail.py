"""The JSON record of one run, shared by `agent show --json`, `GET /runs/{id}` and the dashboard.

Verdicts keep the store's shape (`runs.RecordedVerdict`, a gate's `GateResult` with its id and
experiment): the run's list and each experiment's list hold the same records.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel import col, select

from agents import summarize
from runs import (
    Artifact,
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
        for experiment in session.exec(query).all():
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
    deviations = recorded_deviations(run.spec)
    metrics = {k: v for k, v in (headline.metrics if headline else {}).items() if _scalar(v)}
    return {
        "run_id": run.id,
        "task": task_label(run.task_id, deviations),
        "gate_deviations": deviations,
        "workload": run.workload,
        "status": run.status,
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
    """Everything recorded about a run; raises RunNotFoundError for an unknown id."""
    run = store.get_run(run_id)
    summary = summarize(store, run_id)
    record = summary.model_dump()
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
            for e in store.experiments(run_id)
        ],
        "run_verdicts": by_experiment.get(None, []),
        "artifacts": [artifact_record(a) for a in store.artifacts_of(run_id)],
    }
