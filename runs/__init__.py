"""The run store: runs, steps, experiments, artifacts, verdicts and events, plus the shared records."""

from runs._artifacts import ArtifactNotFoundError, ArtifactStore, media_type_for, sha256_file
from runs._records import (
    RUN_STATUSES,
    TERMINAL_STATUSES,
    Budget,
    Decision,
    ExperimentSpec,
    ExperimentStatus,
    GateResult,
    RunStatus,
    TaskSpec,
    WorkloadName,
    combine_decisions,
)
from runs._store import RUN_SORT_KEYS, RunNotFoundError, RunStore, new_run_id
from runs._tables import Artifact, Event, Experiment, Run, Step, Verdict, utcnow

__all__ = [
    "RUN_SORT_KEYS",
    "RUN_STATUSES",
    "TERMINAL_STATUSES",
    "Artifact",
    "ArtifactNotFoundError",
    "ArtifactStore",
    "Budget",
    "Decision",
    "Event",
    "Experiment",
    "ExperimentSpec",
    "ExperimentStatus",
    "GateResult",
    "Run",
    "RunNotFoundError",
    "RunStatus",
    "RunStore",
    "Step",
    "TaskSpec",
    "Verdict",
    "WorkloadName",
    "combine_decisions",
    "media_type_for",
    "new_run_id",
    "sha256_file",
    "utcnow",
]
