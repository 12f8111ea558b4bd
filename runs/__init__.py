"""The run store: runs, steps, experiments, artifacts, verdicts and events, plus the shared records."""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from runs._artifacts import (
    MAX_ARTIFACT_BYTES,
    ArtifactNotFoundError,
    ArtifactStore,
    DamagedArtifactError,
    media_type_for,
    sha256_file,
    write_atomically,
)
from runs._clock import new_run_id, stored_utc, utcnow
from runs._errors import (
    STORAGE_ERRNOS,
    DamagedRecordError,
    ExperimentKeyError,
    LabgateError,
    RunNotFoundError,
    StoreUnavailableError,
    UnknownStatusError,
    is_store_error,
    store_failure,
)
from runs._json import json_objects, read_json
from runs._records import (
    MAX_EXPERIMENT_KEY,
    MAX_EXPERIMENTS,
    MAX_REASON_CHARS,
    MAX_REASONS,
    MAX_SEED,
    RUN_STATUSES,
    TERMINAL_STATUSES,
    Budget,
    Decision,
    ExperimentSpec,
    ExperimentStatus,
    GateChange,
    GateDeviation,
    GateResult,
    RunStatus,
    TaskSpec,
    WorkloadName,
    check_experiment_key,
    combine_decisions,
    describe_deviations,
    is_unicode_text,
    recorded_deviations,
    storable_problem,
    task_label,
)
from runs._tree import TreeStep, TreeWalkError, tree_steps
from runs._untrusted import (
    UntrustedEntry,
    UntrustedFileError,
    UntrustedFileMissingError,
    copy_untrusted_tree,
    read_untrusted,
    read_untrusted_path,
    read_untrusted_path_head,
    read_untrusted_path_tail,
    read_untrusted_path_text,
    read_untrusted_text,
    remove_untrusted_tree,
    split_under,
    untrusted_kind,
    untrusted_listing,
    untrusted_subdirectories,
    walk_untrusted,
    write_untrusted_text,
)
from runs._verdicts import RecordedVerdict

if TYPE_CHECKING:
    from runs._store import RUN_SORT_KEYS, RunStore
    from runs._tables import Artifact, Event, Experiment, Run, Step, Verdict

_LAZY = {
    **dict.fromkeys(("RUN_SORT_KEYS", "RunStore"), "runs._store"),
    **dict.fromkeys(("Artifact", "Event", "Experiment", "Run", "Step", "Verdict"), "runs._tables"),
}
"""Exported names whose modules load on first access: the store and its tables import SQLAlchemy and SQLModel
(half a second), which a Ray worker, a renderer or a command that never opens the store does not need."""


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'runs' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "MAX_ARTIFACT_BYTES",
    "MAX_EXPERIMENTS",
    "MAX_EXPERIMENT_KEY",
    "MAX_REASONS",
    "MAX_REASON_CHARS",
    "MAX_SEED",
    "RUN_SORT_KEYS",
    "RUN_STATUSES",
    "STORAGE_ERRNOS",
    "TERMINAL_STATUSES",
    "Artifact",
    "ArtifactNotFoundError",
    "ArtifactStore",
    "Budget",
    "DamagedArtifactError",
    "DamagedRecordError",
    "Decision",
    "Event",
    "Experiment",
    "ExperimentKeyError",
    "ExperimentSpec",
    "ExperimentStatus",
    "GateChange",
    "GateDeviation",
    "GateResult",
    "LabgateError",
    "RecordedVerdict",
    "Run",
    "RunNotFoundError",
    "RunStatus",
    "RunStore",
    "Step",
    "StoreUnavailableError",
    "TaskSpec",
    "TreeStep",
    "TreeWalkError",
    "UnknownStatusError",
    "UntrustedEntry",
    "UntrustedFileError",
    "UntrustedFileMissingError",
    "Verdict",
    "WorkloadName",
    "check_experiment_key",
    "combine_decisions",
    "copy_untrusted_tree",
    "describe_deviations",
    "is_store_error",
    "is_unicode_text",
    "json_objects",
    "media_type_for",
    "new_run_id",
    "read_json",
    "read_untrusted",
    "read_untrusted_path",
    "read_untrusted_path_head",
    "read_untrusted_path_tail",
    "read_untrusted_path_text",
    "read_untrusted_text",
    "recorded_deviations",
    "remove_untrusted_tree",
    "sha256_file",
    "split_under",
    "storable_problem",
    "store_failure",
    "stored_utc",
    "task_label",
    "tree_steps",
    "untrusted_kind",
    "untrusted_listing",
    "untrusted_subdirectories",
    "utcnow",
    "walk_untrusted",
    "write_atomically",
    "write_untrusted_text",
]
