"""Plans: which catalog task answers a goal, with which parameters, according to which passages."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Citation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    passage: str = Field(description="passage id, file#n")
    source: str
    location: str
    quote: str


class Plan(BaseModel):
    """One proposed run. `task_id` is None when no available tool can carry it out."""

    model_config = ConfigDict(extra="forbid")

    task_id: str | None
    params: dict[str, Any] = Field(default_factory=dict)
    sweep: dict[str, list[Any]] = Field(default_factory=dict)
    rationale: str = ""
    citations: list[Citation] = Field(default_factory=list)
    score: float = 0.0
    unmapped_reason: str = ""


class PlanningResult(BaseModel):
    goal: str
    planner: str
    documents: int
    passages: int
    plans: list[Plan] = Field(default_factory=list)
    unmapped: list[Plan] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
