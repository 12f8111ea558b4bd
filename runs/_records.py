"""Records shared by every package: what a task asks for, what a gate decided.

These live in `runs` because every other package may import `runs` and nothing else in common;
keeping them here lets a gate and a proposer agree on a verdict without knowing each other.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from runs._errors import ExperimentKeyError

_WORKLOAD_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


def _check_workload_name(value: str) -> str:
    if not _WORKLOAD_NAME.match(value):
        raise ValueError(
            f"workload name {value!r} must be 1-32 lowercase letters, digits, '-' or '_', starting with a letter"
        )
    return value


WorkloadName = Annotated[str, AfterValidator(_check_workload_name)]
"""A workload's name, as its plugin registers it (`labgate.workloads`); the catalog checks it is installed."""
Decision = Literal["accept", "rerun", "revise", "reject"]
RunStatus = Literal["queued", "running", "paused", "finished", "failed", "cancelled"]
ExperimentStatus = Literal["pending", "running", "completed", "error", "cancelled", "failed", "interrupted"]

RUN_STATUSES: tuple[RunStatus, ...] = ("queued", "running", "paused", "finished", "failed", "cancelled")
TERMINAL_STATUSES: frozenset[str] = frozenset({"finished", "failed", "cancelled"})

_TASK_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)+$")


MAX_EXPERIMENTS = 100_000
"""Most experiments one run's budget may ask for."""
MAX_SEED = 2**31 - 1
"""Largest seed a task may record: every random generator labgate seeds takes it, and every database stores it."""
MAX_WALL_SECONDS = 30 * 86_400
"""Longest run a budget may ask for: thirty days."""
MAX_EXPERIMENT_SECONDS = 7 * 86_400
"""Longest single execution a budget may ask for: seven days."""


class Budget(BaseModel):
    """Limits on one run; the orchestrator stops cleanly when any of them is spent."""

    # Upper bounds keep every limit a number the sandbox's rlimits and timers can hold: a spec
    # accepted at submission must not fail later because 1e300 seconds cannot be set as a CPU limit.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    experiments: int = Field(default=8, ge=1, le=MAX_EXPERIMENTS, description="solver/prover/kernel executions")
    iterations: int = Field(default=4, ge=1, le=10_000, description="plan-dispatch-gate rounds")
    wall_seconds: float = Field(default=3600.0, gt=0, le=MAX_WALL_SECONDS, description="whole run")
    experiment_seconds: float = Field(
        default=600.0, gt=0, le=MAX_EXPERIMENT_SECONDS, description="one execution in the sandbox"
    )
    llm_tokens: int = Field(
        default=0, ge=0, le=10**12, description="0 means no LLM spending allowed beyond the default"
    )


GateChange = Literal["removed", "added", "reordered", "option"]

CUSTOM_GATES = "custom gates"


class GateDeviation(BaseModel):
    """One difference between a submitted task's gates and those of the catalog task it names or extends.

    Gate settings are part of a result: a run judged by other gates or thresholds than its catalog task
    must say so wherever it is shown, so each difference is recorded on the run, loosened or tightened.
    """

    model_config = ConfigDict(extra="forbid")

    gate: str
    change: GateChange
    option: str | None = Field(default=None, description="the option that changed, for change 'option'")
    catalog: Any = Field(default=None, description="the catalog task's value (gate order for 'reordered')")
    submitted: Any = Field(default=None, description="the submitted value (gate order for 'reordered')")

    def describe(self) -> str:
        if self.change == "option":
            return f"{self.gate}.{self.option} = {self.submitted!r} (catalog {self.catalog!r})"
        if self.change == "reordered":
            return f"gate order {', '.join(self.submitted or [])} (catalog {', '.join(self.catalog or [])})"
        return f"{self.gate} {self.change}"


def storable_problem(value: Any, where: str = "") -> str | None:
    """Why `value` cannot be stored and shown again as it was given, or None when it can.

    A run's spec is kept as JSON and answered as UTF-8: a NaN or infinity is written as `null`
    (the run would record a value nobody gave), and a lone surrogate (`"\\ud800"` in JSON, an
    undecodable byte in a file name) makes every page that lists the run fail to encode. Walked
    without recursion, so a deeply nested value cannot exhaust the interpreter's stack. `where`
    prefixes the path named in the answer (`params.re`).
    """
    pending: list[tuple[Any, str]] = [(value, where)]
    while pending:
        item, path = pending.pop()
        prefix = f"{path}: " if path else ""
        if isinstance(item, float) and not math.isfinite(item):
            return f"{prefix}{item} is not a finite number"
        if isinstance(item, str) and not is_unicode_text(item):
            return f"{prefix}{_shown(item)} is not valid Unicode text"
        if isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str) and not is_unicode_text(key):
                    return f"{prefix}the name {_shown(key)} is not valid Unicode text"
                pending.append((child, f"{path}.{key}" if path else str(key)))
        elif isinstance(item, list | tuple):
            pending.extend((child, f"{path}[{index}]") for index, child in enumerate(item))
    return None


def _shown(text: str) -> str:
    """`text` printable whatever it holds: lone surrogates as their escapes."""
    return repr(text.encode("utf-8", "backslashreplace").decode("utf-8"))


def is_unicode_text(text: str) -> bool:
    """Whether `text` can be written as UTF-8: no lone surrogate (from a `\\ud800` escape or an
    undecodable file name), which would make every answer and page that shows it fail to encode."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def task_label(task_id: str, deviations: list[GateDeviation] | list[dict[str, Any]]) -> str:
    """`task_id`, marked when its gates deviate from the catalog task's."""
    return f"{task_id} ({CUSTOM_GATES})" if deviations else task_id


def recorded_deviations(spec: Any) -> list[dict[str, Any]]:
    """The gate deviations recorded in a run's stored spec at submission (none for a run that never started)."""
    found = spec.get("gate_deviations") if isinstance(spec, dict) else None
    return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []


def describe_deviations(deviations: list[dict[str, Any]]) -> str:
    """Deviations stored as JSON (a run's spec), in one line: what a report or page prints."""
    return "; ".join(GateDeviation.model_validate(item).describe() for item in deviations)


class TaskSpec(BaseModel):
    """A task: what to study, with which tool, judged by which gates.

    `params` is workload-specific and validated by the workload (each has a typed model for it);
    keeping it a plain mapping here lets the catalog, task files and the REST body share one shape.
    """

    model_config = ConfigDict(extra="forbid")

    id: str
    workload: WorkloadName
    title: str = ""
    goal: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    sweep: dict[str, list[Any]] = Field(
        default_factory=dict, description="parameter name -> values; one experiment per combination"
    )
    gates: list[str] = Field(default_factory=list, description="gate names, most basic first")
    gate_options: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="per-gate settings, e.g. thresholds stated by the task"
    )
    budget: Budget = Field(default_factory=Budget)
    sandbox: Literal["local", "docker"] = "local"
    seed: int = Field(default=0, description=f"0 to {MAX_SEED}; checked when a run is submitted")
    extends: str | None = Field(default=None, description="the catalog task this spec was derived from")
    gate_deviations: list[GateDeviation] = Field(
        default_factory=list,
        description="how the gates differ from the catalog task's; recorded by the catalog at submission "
        "(a value given in a task file is replaced)",
    )

    @property
    def label(self) -> str:
        """The task as lists and reports name it: a run with custom gates is not the catalog task's result."""
        return task_label(self.id, self.gate_deviations)

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not _TASK_ID.match(value):
            raise ValueError(f"task id {value!r} must look like 'workload/name' (lowercase, digits, '-', '_', '.')")
        return value

    @field_validator("title", "goal", "params", "sweep", "gate_options")
    @classmethod
    def _check_storable(cls, value: Any, info: ValidationInfo) -> Any:
        problem = storable_problem(value)
        if problem is not None:
            raise PydanticCustomError("not_storable", problem)
        return value


MAX_EXPERIMENT_KEY = 200
"""The experiment table's key column holds this many characters."""


def check_experiment_key(key: str) -> str:
    """`key` when it can name one experiment's directory (`experiments/<key>`) and nothing else.

    A key is a path component below the run's `experiments/` folder, beside the folders the gates
    keep there for themselves (`_held-out`): a separator or `..` would put the experiment's files
    (and the candidate's writable sandbox) elsewhere, and a leading `_` or `.` onto those folders.

    Raises:
        ExperimentKeyError: naming what is wrong with the key.
    """
    problem = None
    if not key or len(key) > MAX_EXPERIMENT_KEY:
        problem = f"must be 1-{MAX_EXPERIMENT_KEY} characters"
    elif any(char in key for char in "/\\") or any(ord(char) < 32 or ord(char) == 127 for char in key):
        problem = "must not contain a path separator or a control character"
    elif key[0] in "._":
        problem = "must not start with '.' or '_' (reserved for the run's own folders)"
    if problem is not None:
        raise ExperimentKeyError(f"experiment key {key[:80]!r} {problem}")
    return key


class ExperimentSpec(BaseModel):
    """One concrete thing to execute; `key` is stable so reruns and resumes can be idempotent."""

    model_config = ConfigDict(extra="forbid")

    key: str
    task_id: str
    params: dict[str, Any] = Field(default_factory=dict)
    attempt: int = 1
    parent_key: str | None = None
    rationale: str = ""


MAX_REASONS = 40
"""The most reasons one verdict keeps; the rest are counted in its last line."""
MAX_REASON_CHARS = 4000
"""The most characters one reason keeps; the rest are counted at its end."""


def _bounded_reasons(reasons: list[str]) -> list[str]:
    """A verdict's reasons, at most `MAX_REASONS` of at most `MAX_REASON_CHARS` each.

    A gate's reasons quote what the candidate wrote (a prover's message about each of its sentences, a log
    line), so their number and length are the candidate's to choose: a proof file of 100,000 refused
    sentences made a 12.6 MB verdict, printed and stored. Bounding again what is already bounded changes
    nothing, so a verdict read back from the store is the verdict that was written.
    """
    kept = [_bounded_reason(reason) for reason in reasons[:MAX_REASONS]]
    if len(reasons) > MAX_REASONS:
        more = len(reasons) - (MAX_REASONS - 1)
        kept[-1] = f"... and {more} more reasons (the first {MAX_REASONS - 1} are shown)"
    return kept


def _bounded_reason(reason: str) -> str:
    if len(reason) <= MAX_REASON_CHARS:
        return reason
    marker = " ... ({} more characters)"
    cut = MAX_REASON_CHARS - len(marker.format(len(reason)))
    return reason[:cut] + marker.format(len(reason) - cut)


class GateResult(BaseModel):
    """What one gate decided about one experiment, with the evidence it read."""

    model_config = ConfigDict(extra="forbid")

    gate: str
    decision: Decision
    reasons: Annotated[list[str], AfterValidator(_bounded_reasons)] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list, description="artifact sha256 digests")
    metrics: dict[str, float] = Field(default_factory=dict)
    confidence: float = Field(default=1.0, ge=0.0, le=1.0)


def combine_decisions(decisions: list[Decision]) -> Decision:
    """The decision for an experiment given its gates' decisions, in the task's gate order.

    The first gate that does not accept decides: gates are listed from the most basic (did the
    solver finish?) to the most derived (does the metric match the reference?), so a later gate's
    rejection of a diverged case must not hide the earlier gate's request to rerun it.
    An empty list is never an acceptance.
    """
    if not decisions:
        return "reject"
    for decision in decisions:
        if decision != "accept":
            return decision
    return "accept"
