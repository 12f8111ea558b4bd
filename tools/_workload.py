"""What every workload provides to the orchestrator: tasks, plans, and experiments run in a sandbox.

A workload is a plugin (entry-point group `labgate.workloads`, see `tools.installed_workloads`): the
class declares everything the rest of labgate needs to know about it (its name, docker image,
artifact kinds, settings and prose vocabulary), so adding one edits no shared file.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, ClassVar, Literal, Protocol, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from runs import ExperimentSpec, LabgateError, TaskSpec, UntrustedFileError, WorkloadName, read_untrusted_path
from sandboxes import Sandbox
from tools._prose import ProsePattern
from tools._search import SearchSpace

_KIND = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


def _check_kind(value: str) -> str:
    if not _KIND.match(value):
        raise ValueError(
            f"artifact kind {value!r} must be 1-32 lowercase letters, digits, '-' or '_', starting with a letter"
        )
    return value


ArtifactKind = Annotated[str, AfterValidator(_check_kind)]
"""What an artifact is: one of COMMON_ARTIFACT_KINDS, or a kind its workload declares (`Workload.artifact_kinds`)."""

COMMON_ARTIFACT_KINDS: frozenset[str] = frozenset({"log", "image", "table", "field", "source", "report", "data"})
"""Artifact kinds every workload may produce; the deliverables gate knows how to check image, table and field."""


class SandboxFactory(Protocol):
    """Builds the configured sandbox backend around one experiment directory.

    `ro_paths` adds read-only binds a workload's own tool needs inside the sandbox (a Python
    interpreter and its packages for a long-lived worker, say); backends that share the host
    filesystem may ignore it.
    """

    def __call__(self, workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox: ...


class WorkloadSettings(BaseSettings):
    """The base of a workload's settings: read from LABGATE_* variables when the workload is built.

    A workload that needs settings (where its tool lives, say) subclasses this with its fields;
    `openfoam_bin_dir` is then read from LABGATE_OPENFOAM_BIN_DIR.
    """

    model_config = SettingsConfigDict(env_prefix="LABGATE_", extra="ignore")


class TaskError(LabgateError, ValueError):
    """A task or its parameters are invalid; the message names the problem for the user."""


class ToolUnavailableError(LabgateError, RuntimeError):
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
    """One scientific workload (CFD, kernels, proofs, or a plugin's) behind a common shape.

    Besides the methods below, a workload declares as class attributes what it owns: `name` (the
    entry-point name it is registered under), `image` (the tool image under the docker backend),
    `artifact_kinds` and `Settings`; `from_settings` builds it from those settings.
    """

    name: ClassVar[WorkloadName]
    image: ClassVar[str | None] = None
    """The tool image (sandboxes/images/<name>) this workload's commands run in under the docker backend."""
    artifact_kinds: ClassVar[Mapping[str, str]] = MappingProxyType({})
    """Artifact kinds beyond COMMON_ARTIFACT_KINDS, each with the code-fence language the report shows its
    text in: such an artifact (a proof, a kernel) is the result itself, so the report prints it."""
    Settings: ClassVar[type[WorkloadSettings]] = WorkloadSettings
    """The settings this workload reads (LABGATE_* variables)."""
    adoption_gates: ClassVar[tuple[str, ...]] = ()
    """Gates (by name) that judge every result this workload adopts (`agent check`), before the task's own:
    what a user brings was not produced under labgate's eyes, so a workload whose results are files a tool
    wrote (a solver's log and fields) names here the gate that has the tool compute them again."""

    @classmethod
    def from_settings(cls, settings: WorkloadSettings) -> Self:
        """The workload configured by `settings` (an instance of `Settings`); the base needs none."""
        return cls()

    @classmethod
    def configured(cls) -> Self:
        """The workload as the environment configures it (its `Settings` read from LABGATE_* variables).

        Raises:
            pydantic.ValidationError: a variable holds a value its setting refuses.
        """
        return cls.from_settings(cls.Settings())

    @classmethod
    def declared_kinds(cls) -> frozenset[str]:
        """Every artifact kind this workload may record: the common ones and its own."""
        return COMMON_ARTIFACT_KINDS | frozenset(cls.artifact_kinds)

    def prose_patterns(self) -> Mapping[str, ProsePattern]:
        """How documents state this workload's parameters, by parameter name (read by the rule planner)."""
        return {}

    def refuse_undeclared(self, outcome: ExperimentOutcome) -> ExperimentOutcome:
        """`outcome`, or an error outcome when it names a file of an artifact kind this workload did not declare.

        A kind nobody declared has no checker and no place in the report, so it is a defect of the
        workload, reported as the experiment's error (its files of declared kinds are still stored)
        rather than stored as something nobody reads.
        """
        declared = self.declared_kinds()
        undeclared = [f"{item.path} ({item.kind})" for item in outcome.files if item.kind not in declared]
        if not undeclared:
            return outcome
        error = (
            f"workload {self.name!r} produced artifact kinds it does not declare: {', '.join(undeclared)}; "
            f"declared: {', '.join(sorted(declared))} (add the kind to {type(self).__name__}.artifact_kinds)"
        )
        kept = [item for item in outcome.files if item.kind in declared]
        return outcome.model_copy(update={"status": "error", "error": error, "files": kept})

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

    def warm_up(self, task: TaskSpec) -> None:  # noqa: B027 - optional hook
        """Start in the background what this run's experiments will share, while the run starts.

        Called once per run, before planning, when the experiments run in threads of this process
        (the local executor): start-up is single-threaded, so a second core is idle then, and
        whatever starts here (CFD's figure renderers import matplotlib) no longer competes with the
        solvers later. Nothing by default.
        """

    def sandbox_image(self, task: TaskSpec) -> str | None:
        """The docker image the task's commands need; a workload whose tasks use several tools overrides this."""
        return self.image

    def param_schema(self, task: TaskSpec) -> dict[str, Any]:
        """JSON schema of one experiment's parameters (shown to an LLM proposing experiments)."""
        return {}

    def fixed_params(self, task: TaskSpec) -> tuple[str, ...]:
        """Parameters a proposer may not change (they select the tool or the case, not a hypothesis)."""
        return ()

    def validate_run(self, task: TaskSpec) -> None:
        """Raise TaskError when the task is valid but cannot be run as given: a parameter that only a
        check may leave out (`agent check` supplies it from its PATH). Called as a run is submitted, so
        that the CLI answers exit 2 and the REST API 422 before anything runs."""
        return None

    def validate_experiment(self, task: TaskSpec, params: dict[str, Any]) -> None:
        """Raise TaskError when one experiment's parameters are invalid for the task."""
        return None

    def validate_revision(self, task: TaskSpec, revised: ExperimentSpec, params: dict[str, Any]) -> None:
        """Raise TaskError when `params` may not rerun `revised` (a revision proposed after its gates).

        A revision answers the question of the experiment it revises; a workload whose parameters say
        which ones ask the question refuses a revision that changes them. By default: `validate_experiment`.
        """
        self.validate_experiment(task, params)

    def numerics_variant(self, experiment: ExperimentSpec) -> tuple[dict[str, Any], str] | None:
        """Parameters for a numerically gentler rerun and why, or None when the workload has none."""
        return None

    def ray_resources(self, task: TaskSpec) -> dict[str, float]:
        """Custom Ray resources a node must offer to run this task's experiments (e.g. an installed tool)."""
        return {}

    def search_space(self, task: TaskSpec) -> SearchSpace | None:
        """The box a proposer searches for this task, or None when the task is a plain sweep."""
        return None

    def read_task_files(self, task: TaskSpec, directory: Path) -> TaskSpec:
        """`task` as read from a task file in `directory`, with any files its parameters name beside it read in.

        A workload whose task files name files of their own (a reference implementation, a seed
        kernel) puts their contents into the task here, so the recorded task is complete wherever
        it later runs. The default has none.

        Raises:
            TaskError: a named file is missing or unreadable (naming the parameter).
        """
        return task

    def titled(self, task: TaskSpec) -> TaskSpec:
        """`task`, given whole (a task file or a REST body), with the title and question its own content implies.

        A theorem of one's own names its task rather than the catalog task it extends. The default keeps
        the title it has.
        """
        return task

    def adopt(
        self, task: TaskSpec, source: Path, directory: Path, sandbox_factory: SandboxFactory
    ) -> tuple[ExperimentSpec, ExperimentOutcome]:
        """An existing result at `source` (a case, a file) as the experiment and outcome a run would have,
        copied into `directory` for the task's gates (`agent check`); `source` is only read.

        Raises:
            TaskError: this workload cannot adopt results, or `source` is not one it can read.
        """
        raise TaskError(f"{self.name} tasks cannot check an existing result ({source})")

    @abstractmethod
    def run(
        self, task: TaskSpec, experiment: ExperimentSpec, directory: Path, sandbox_factory: SandboxFactory
    ) -> ExperimentOutcome:
        """Execute one experiment; never raises for the experiment's own failures (status='error')."""


def read_user_text_file(source: Path, what: str, *, max_bytes: int) -> str:
    """The text of a file a user hands to `agent check`, or a TaskError naming what is wrong with it.

    Raises:
        TaskError: the path is a directory, unreadable, larger than `max_bytes`, not UTF-8, or empty.
    """
    if source.is_dir():
        raise TaskError(f"{source} is a directory, not a {what}")
    try:
        size = source.stat().st_size
        if size > max_bytes:
            raise TaskError(f"{what} {source} is {size} bytes; the limit is {max_bytes}")
        # Opened as a sandbox's file is: a FIFO would block the read forever and a device (/dev/zero)
        # reports no size and never ends; only a regular file, and no more than the limit, is read.
        text = read_untrusted_path(source.resolve(), max_bytes=max_bytes).decode()
    except UntrustedFileError as error:
        raise TaskError(f"cannot read {what} {source}: {error.reason}") from None
    except (OSError, RuntimeError) as error:  # RuntimeError: a loop of links (pathlib's resolve)
        raise TaskError(f"cannot read {what} {source}: {getattr(error, 'strerror', None) or error}") from None
    except UnicodeDecodeError:
        raise TaskError(f"cannot read {what} {source}: not UTF-8 text") from None
    if not text.strip():
        raise TaskError(f"{what} {source} is empty")
    return text


_KEY_CHARS = 150


def experiment_key(params: dict[str, Any]) -> str:
    """A readable, filesystem-safe key for a parameter combination, e.g. 're=100'.

    Where the readable form loses information (a float `:g` rounds, a character replaced, a long key
    cut), a short digest of the parameters is appended: two experiments must never share a key, or
    the second would be taken for the first, already finished.
    """
    if not params:
        return "base"
    parts = []
    lossy = False
    for name in sorted(params):
        value = params[name]
        text = f"{value:g}" if isinstance(value, float) else str(value)
        if isinstance(value, float) and not (float(text) == value or math.isnan(value)):
            lossy = True
        parts.append(f"{name}={text}")
    joined = "_".join(parts)
    key = "".join(char if char.isalnum() or char in "=._-" else "-" for char in joined)
    lossy = lossy or key != joined or len(key) > _KEY_CHARS
    if not lossy:
        return key
    # 128 bits: a key names the experiment's directory, and a proposer choosing parameters can search for a
    # collision in a short digest (48 bits of another digest fell in 35 s of one core).
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:32]
    return f"{key[: _KEY_CHARS - 33]}-{digest}"
