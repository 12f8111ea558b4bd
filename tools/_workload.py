"""What every workload provides to the orchestrator: tasks, plans, and experiments run in a sandbox."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from runs import ExperimentSpec, TaskSpec, WorkloadName
from sandboxes import Sandbox
from tools._search import SearchSpace

ArtifactKind = Literal["log", "image", "table", "field", "source", "report", "data", "proof", "kernel"]


class SandboxFactory(Protocol):
    """Builds the configured sandbox backend around one experiment directory.

    `ro_paths` adds read-only binds a workload's own tool needs inside the sandbox (a Python
    interpreter and its packages for a long-lived worker, say); backends that share the host
    filesystem may ignore it.
    """

    def __call__(self, workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox: ...


DEFAULT_IMAGES: dict[str, str] = {"cfd": "openfoam", "kernels": "kernels", "proofs": "coq"}
"""The tool image (sandboxes/images/<name>) each workload's commands run in under the docker backend."""


class TaskError(ValueError):
    """A task or its parameters are invalid; the message names the problem for the user."""


class ToolUnavailableError(RuntimeError):
    """The scientific tool a workload needs is not installed where labgate looks for it."""


class OutputFile(BaseModel):
    """A file the harness produced for an experiment, to be stored as an artifact."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="relative to the experiment directory")
    kind: ArtifactKind
    role: str = Field(description="what the file is, e.g. 'solver-log' or 'field-figure'")
    required: bool = True


class ExperimentOutcome(BaseModel):
    """What running one experiment produced. Gates re-read the files; they do not trust `metrics`."""

    model_config = ConfigDict(extra="forbid")

    key: str
    status: Literal["completed", "error"]
    error: str = ""
    metrics: dict[str, float] = Field(default_factory=dict)
    files: list[OutputFile] = Field(default_factory=list)
    info: dict[str, Any] = Field(default_factory=dict)
    refused: list[str] = Field(
        default_factory=list,
        description="files the sandbox left that the harness refused to read ('path: reason'): links, "
        "special files, oversize files; each is a reason for the gates to reject",
    )

    def file_for(self, role: str) -> OutputFile | None:
        return next((item for item in self.files if item.role == role), None)


class Workload(ABC):
    """One scientific workload (CFD, kernels, proofs) behind a common shape."""

    name: ClassVar[WorkloadName]

    @abstractmethod
    def tasks(self) -> list[TaskSpec]:
        """The built-in catalog entries of this workload."""

    @abstractmethod
    def validate(self, task: TaskSpec) -> None:
        """Raise TaskError naming the first invalid parameter, before anything runs."""

    @abstractmethod
    def plan(self, task: TaskSpec) -> list[ExperimentSpec]:
        """The experiments that answer the task, before any revision."""

    @abstractmethod
    def check_tools(self, task: TaskSpec) -> None:
        """Raise ToolUnavailableError when the tool the task needs is missing."""

    @abstractmethod
    def tool_versions(self) -> dict[str, str]:
        """Versions recorded on the run (solver, prover, device)."""

    def sandbox_image(self, task: TaskSpec) -> str | None:
        """The docker image the task's commands need; a workload whose tasks use several tools overrides this."""
        return DEFAULT_IMAGES.get(self.name)

    def param_schema(self, task: TaskSpec) -> dict[str, Any]:
        """JSON schema of one experiment's parameters (shown to an LLM proposing experiments)."""
        return {}

    def fixed_params(self, task: TaskSpec) -> tuple[str, ...]:
        """Parameters a proposer may not change (they select the tool or the case, not a hypothesis)."""
        return ()

    def validate_experiment(self, task: TaskSpec, params: dict[str, Any]) -> None:
        """Raise TaskError when one experiment's parameters are invalid for the task."""
        return None

    def numerics_variant(self, experiment: ExperimentSpec) -> tuple[dict[str, Any], str] | None:
        """Parameters for a numerically gentler rerun and why, or None when the workload has none."""
        return None

    def ray_resources(self, task: TaskSpec) -> dict[str, float]:
        """Custom Ray resources a node must offer to run this task's experiments (e.g. an installed tool)."""
        return {}

    def search_space(self, task: TaskSpec) -> SearchSpace | None:
        """The box a proposer searches for this task, or None when the task is a plain sweep."""
        return None

    @abstractmethod
    def run(
        self, task: TaskSpec, experiment: ExperimentSpec, directory: Path, sandbox_factory: SandboxFactory
    ) -> ExperimentOutcome:
        """Execute one experiment; never raises for the experiment's own failures (status='error')."""


def experiment_key(params: dict[str, Any]) -> str:
    """A readable, filesystem-safe key for a parameter combination, e.g. 're=100'."""
    if not params:
        return "base"
    parts = []
    for name in sorted(params):
        value = params[name]
        text = f"{value:g}" if isinstance(value, float) else str(value)
        parts.append(f"{name}={text}")
    key = "_".join(parts)
    return "".join(char if char.isalnum() or char in "=._-" else "-" for char in key)[:150]
