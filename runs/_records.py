"""Records shared by every package: what a task asks for, what a gate decided.

These live in `runs` because every other package may import `runs` and nothing else in common;
keeping them here lets a gate and a proposer agree on a verdict without knowing each other.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

WorkloadName = Literal["cfd", "kernels", "proofs"]
Decision = Literal["accept", "rerun", "revise", "reject"]
RunStatus = Literal["queued", "running", "paused", "finished", "failed", "cancelled"]
ExperimentStatus = Literal["pending", "running", "completed", "error"]

RUN_STATUSES: tuple[RunStatus, ...] = ("queued", "running", "paused", "finished", "failed", "cancelled")
TERMINAL_STATUSES: frozenset[str] = frozenset({"finished", "failed", "cancelled"})

_TASK_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)+$")


class Budget(BaseModel):
    """Limits on one run; the orchestrator stops cleanly when any of them is spent."""

    model_config = ConfigDict(extra="forbid")

    experiments: int = Field(default=8, ge=1, le=100_000, description="solver/prover/kernel executions")
    iterations: int = Field(default=4, ge=1, le=10_000, description="plan-dispatch-gate rounds")
    wall_seconds: float = Field(default=3600.0, gt=0, description="whole run")
    experiment_seconds: float = Field(default=600.0, gt=0, description="one execution in the sandbox")
    llm_tokens: int = Field(default=0, ge=0, description="0 means no LLM spending allowed beyond the default")


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
    seed: int = 0

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not _TASK_ID.match(value):
            raise ValueError(f"task id {value!r} must look like 'workload/name' (lowercase, digits, '-', '_', '.')")
        return value


class ExperimentSpec(BaseModel):
    """One concrete thing to execute; `key` is stable so reruns and resumes can be idempotent."""

    model_config = ConfigDict(extra="forbid")

    key: str
    task_id: str
    params: dict[str, Any] = Field(default_factory=dict)
    attempt: int = 1
    parent_key: str | None = None
    rationale: str = ""


class GateResult(BaseModel):
    """What one gate decided about one experiment, with the evidence it read."""

    model_config = ConfigDict(extra="forbid")

    gate: str
    decision: Decision
    reasons: list[str] = Field(default_factory=list)
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
