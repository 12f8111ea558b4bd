"""The JSON record of one run, shared by `agent show --json`, `GET /runs/{id}` and the dashboard."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agents import summarize
from runs import Artifact, Run, RunStore, Verdict, describe_deviations, recorded_deviations, task_label


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC; SQLite hands back naive datetimes that were written as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def duration_seconds(run: Run) -> float | None:
    """Seconds from start to finish, or to now for a run still executing."""
    if run.started_at is None:
        return None
    start = run.started_at if run.started_at.tzinfo else run.started_at.replace(tzinfo=UTC)
    end = run.finished_at or datetime.now(UTC)
    end = end if end.tzinfo else end.replace(tzinfo=UTC)
    return round(max(0.0, (end - start).total_seconds()), 3)


def verdict_record(verdict: Verdict) -> dict[str, Any]:
    return {
        "id": verdict.id,
        "experiment_id": verdict.experiment_id,
        "gate": verdict.gate,
        "decision": verdict.decision,
        "reasons": verdict.reasons,
        "evidence": verdict.evidence,
        "metrics": verdict.metrics,
        "confidence": verdict.confidence,
    }


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


def run_row(run: Run) -> dict[str, Any]:
    """One line of a run list: what the runs table shows and sorts on."""
    deviations = recorded_deviations(run.spec)
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
    }


def run_detail(store: RunStore, run_id: str) -> dict[str, Any]:
    """Everything recorded about a run; raises RunNotFoundError for an unknown id."""
    run = store.get_run(run_id)
    summary = summarize(store, run_id)
    verdicts = store.verdicts(run_id)
    by_experiment: dict[int | None, list[dict[str, Any]]] = {}
    for verdict in verdicts:
        by_experiment.setdefault(verdict.experiment_id, []).append(verdict_record(verdict))
    return {
        **summary.model_dump(),
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
