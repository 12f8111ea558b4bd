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


class Considered(BaseModel):
    """A catalog task the planner considered for a goal it refused, and why it does not fit."""

    model_config = ConfigDict(extra="forbid")

    task_id: str
    score: float
    why_not: str


class Refusal(BaseModel):
    """No catalog task serves the goal: what the goal asks about, and the closest tasks considered."""

    model_config = ConfigDict(extra="forbid")

    reason: str
    subject: list[str] = Field(default_factory=list, description="the goal's words that name its subject")
    closest: list[Considered] = Field(default_factory=list)

    def describe(self) -> str:
        """One paragraph for a person: the refusal and each close task with why it does not fit."""
        lines = [f"no tool for this: {self.reason}"]
        lines += [f"  closest considered: {c.task_id}, which {c.why_not}" for c in self.closest]
        return "\n".join(lines)


class PlanningResult(BaseModel):
    goal: str
    planner: str
    documents: int
    passages: int
    plans: list[Plan] = Field(default_factory=list)
    unmapped: list[Plan] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    refusal: Refusal | None = Field(default=None, description="set when no catalog task serves the goal")
    llm_calls: int = Field(default=0, description="model calls the planning made")
    llm_tokens: int = Field(default=0, description="tokens (prompt and completion) those calls used")
