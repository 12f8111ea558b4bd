"""Workloads: each builds its experiments' inputs, runs them through a sandbox and extracts results."""

from tools._catalog import (
    Catalog,
    apply_overrides,
    describe_validation_error,
    parse_overrides,
    parse_scalar,
    subject_params,
)
from tools._installed import InstalledWorkloads, WorkloadsOnDemand, installed_workloads, workload_class
from tools._param_types import check_param_types
from tools._plugins import GATES, PROPOSERS, WORKLOADS, PluginError, forget_plugins, load_plugin, plugin_names
from tools._prose import ProsePattern
from tools._repeated import listed_twice
from tools._search import SearchParameter, SearchSpace
from tools._workload import (
    COMMON_ARTIFACT_KINDS,
    ArtifactKind,
    ExperimentOutcome,
    OutputFile,
    SandboxFactory,
    TaskError,
    ToolUnavailableError,
    Workload,
    WorkloadSettings,
    experiment_key,
)

__all__ = [
    "COMMON_ARTIFACT_KINDS",
    "GATES",
    "PROPOSERS",
    "WORKLOADS",
    "ArtifactKind",
    "Catalog",
    "ExperimentOutcome",
    "InstalledWorkloads",
    "OutputFile",
    "PluginError",
    "ProsePattern",
    "SandboxFactory",
    "SearchParameter",
    "SearchSpace",
    "TaskError",
    "ToolUnavailableError",
    "Workload",
    "WorkloadSettings",
    "WorkloadsOnDemand",
    "apply_overrides",
    "check_param_types",
    "describe_validation_error",
    "experiment_key",
    "forget_plugins",
    "installed_workloads",
    "listed_twice",
    "load_plugin",
    "parse_overrides",
    "parse_scalar",
    "plugin_names",
    "subject_params",
    "workload_class",
]
