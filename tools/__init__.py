"""Workloads: each builds its experiments' inputs, runs them through a sandbox and extracts results."""

from tools._catalog import Catalog, apply_overrides, describe_validation_error, parse_scalar
from tools._search import SearchParameter, SearchSpace
from tools._workload import (
    ArtifactKind,
    ExperimentOutcome,
    OutputFile,
    SandboxFactory,
    TaskError,
    ToolUnavailableError,
    Workload,
    experiment_key,
)

__all__ = [
    "ArtifactKind",
    "Catalog",
    "ExperimentOutcome",
    "OutputFile",
    "SandboxFactory",
    "SearchParameter",
    "SearchSpace",
    "TaskError",
    "ToolUnavailableError",
    "Workload",
    "apply_overrides",
    "describe_validation_error",
    "experiment_key",
    "parse_scalar",
]
