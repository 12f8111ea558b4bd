"""Request and response bodies of the REST API; their JSON schemas are the OpenAPI document."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from api._detail import REPORTED_STATUSES

Scalar = Annotated[str, StringConstraints(max_length=500)] | int | float | bool
INT32 = 2**31 - 1
RUN_ID_PATTERN = r"^[0-9A-Za-z][0-9A-Za-z_.-]{0,39}$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"


def _no_nul(value: Any, where: str = "body") -> None:
    """PostgreSQL text cannot hold NUL; refuse it up front rather than fail at the database."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(f"{where}: NUL characters are not allowed")
    elif isinstance(value, dict):
        for key, item in value.items():
            _no_nul(key, where)
            _no_nul(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _no_nul(item, f"{where}[{index}]")


def _elements(name: str, value: Any) -> list[tuple[str, Any]]:
    """A parameter's value, or each value of its sweep, with where it stands (`params.re[1]`)."""
    if isinstance(value, list):
        return [(f"params.{name}[{index}]", item) for index, item in enumerate(value)]
    return [(f"params.{name}", value)]


class ErrorBody(BaseModel):
    """Every refusal but 422: what went wrong, in one sentence (`message` repeats it for older clients)."""

    detail: str
    message: str


class RunRequest(BaseModel):
    """Submit a run: a catalog task by id, or a whole task spec; optional overrides as on the command line."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,  # `approve_plan: 0` or `budget: "3"` is a client's mistake, said so, not guessed at
        json_schema_extra={
            # Exactly one source: a catalog id, or a spec (the validator below says the same in words).
            "oneOf": [
                {"required": ["task"], "properties": {"task": {"type": "string"}, "spec": {"type": "null"}}},
                {"required": ["spec"], "properties": {"spec": {"type": "object"}, "task": {"type": "null"}}},
            ],
            "examples": [
                {"task": "cfd/cavity", "params": {"re": 100, "cells": 16, "convective_times": 3}, "budget": 1},
                {"spec": {"extends": "cfd/cavity", "params": {"cells": 32}, "sweep": {"re": [100, 400]}}},
            ],
        },
    )

    task: str | None = Field(default=None, max_length=200, description="catalog task id, e.g. cfd/cavity")
    spec: dict[str, Any] | None = Field(
        default=None, description="a full task spec, or `extends: <task id>` plus the fields to change"
    )
    params: dict[Annotated[str, StringConstraints(min_length=1, max_length=100)], Scalar | list[Scalar]] = Field(
        default_factory=dict,
        max_length=100,
        description="parameter overrides: a value fixes the parameter, a list of values sweeps it",
    )
    budget: int | None = Field(default=None, ge=1, le=10_000, description="maximum number of experiments")
    seed: int | None = Field(default=None, ge=0, le=INT32, description="seed recorded on the run")
    approve_plan: bool = Field(default=False, description="pause after planning until POST /runs/{id}/approve")
    workers: int | None = Field(default=None, ge=1, le=64, description="experiments of this run executed at once")

    @model_validator(mode="after")
    def _one_source(self) -> RunRequest:
        if (self.task is None) == (self.spec is None):
            raise ValueError("give exactly one of 'task' (a catalog id) or 'spec' (a task spec)")
        _no_nul(self.task, "task")
        _no_nul(self.spec, "spec")
        _no_nul(self.params, "params")
        return self

    @field_validator("params", mode="before")
    @classmethod
    def _values_are_scalars(cls, value: Any) -> Any:
        """Name a null or an object given as a parameter's value in one sentence; the union of the value's
        types would otherwise answer with one complaint per branch (string, integer, number, ...)."""
        if not isinstance(value, dict):
            return value
        for name, item in value.items():
            for where, element in _elements(str(name), item):
                if element is None:
                    raise ValueError(f"{where}: null is not a value; leave the parameter out to keep its default")
                if isinstance(element, dict | list):
                    kind = "an object" if isinstance(element, dict) else "a list inside a list"
                    raise ValueError(f"{where}: {kind} is not a parameter value; give a number, text or true/false")
        return value

    @field_validator("params")
    @classmethod
    def _sweeps_not_empty(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name, item in value.items():
            if isinstance(item, list) and not 1 <= len(item) <= 100:
                raise ValueError(f"params.{name}: a sweep needs 1 to 100 values")
        return value


class Links(BaseModel):
    self: str
    events: str | None = None
    artifacts: str | None = None
    dashboard: str | None = None


class RunAccepted(BaseModel):
    run_id: str
    status: str
    links: Links


class ActionResult(BaseModel):
    run_id: str
    status: str
    message: str


TAG_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:+-]{0,39}$"
Tag = Annotated[str, StringConstraints(pattern=TAG_PATTERN)]


class Annotations(BaseModel):
    """A reviewer's tags and notes on a run; each call replaces both."""

    model_config = ConfigDict(extra="forbid")

    tags: list[Tag] = Field(
        default_factory=list, max_length=20, description="short labels (letters, digits, `_.:+-`), at most 20"
    )
    notes: str = Field(default="", max_length=20_000, description="free text, shown on the run page")

    @field_validator("notes")
    @classmethod
    def _notes_printable(cls, value: str) -> str:
        _no_nul(value, "notes")
        return value


class AnnotationsResult(Annotations):
    run_id: str


class RunRow(BaseModel):
    run_id: str
    task: str = Field(description="the task id, marked '(custom gates)' when its gates deviate from the catalog's")
    gate_deviations: list[dict[str, Any]] = Field(
        default_factory=list, description="how the run's gates differ from its catalog task's"
    )
    workload: str
    status: Literal[REPORTED_STATUSES] = Field(  # type: ignore[valid-type]
        description="`stopped`: recorded running, but no live process executes it (resume continues it)"
    )
    reason: str
    created: str | None
    started: str | None
    finished: str | None
    duration_seconds: float | None
    accepted: int
    rejected: int
    llm_tokens: int
    llm_cost: float
    params: dict[str, Any] = Field(
        default_factory=dict, description="the task's parameters (a sweep's values joined by commas)"
    )
    metrics: dict[str, Any] = Field(
        default_factory=dict,
        description="metrics of the run's headline experiment: its last accepted one, else (metrics_accepted "
        "false) its last experiment with metrics, which no gate accepted",
    )
    metrics_from: str | None = Field(default=None, description="key of the experiment the metrics come from")
    metrics_accepted: bool = Field(
        default=False, description="whether the experiment the metrics come from was accepted by every gate"
    )
    goal: str = Field(default="", description="the research goal, if the task states one (first 300 characters)")
    tags: list[str] = Field(default_factory=list, description="labels reviewers gave the run")


class RunList(BaseModel):
    items: list[RunRow]
    total: int
    limit: int
    offset: int
    next: str | None = Field(description="URL of the next page, or null on the last one")


class TaskInfo(BaseModel):
    id: str
    workload: str
    title: str
    goal: str
    gates: list[str]
    params: dict[str, Any]
    sweep: dict[str, list[Any]]
    budget: dict[str, Any]


class Health(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]
    disk_free_bytes: int
    read_only: bool
    """A store on read-only media serves what it holds and takes no runs."""
    workers: int
    executing: int
    queued: int
