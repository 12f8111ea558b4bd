"""The LLM proposer: hypotheses about the coefficients, each with a physical rationale."""

from __future__ import annotations

from pydantic import BaseModel, Field

from agents.cfd_search._history import Observation
from agents.llm import LLM, Message
from tools import SearchSpace


class Hypothesis(BaseModel):
    values: dict[str, float] = Field(description="coefficient name -> value")
    rationale: str = Field(description="why this set should lower the objective, physically")


class HypothesisBatch(BaseModel):
    hypotheses: list[Hypothesis]


class LlmHypothesisProposer:
    name = "llm"

    def __init__(self, llm: LLM, goal: str) -> None:
        self.llm = llm
        self.goal = goal

    def propose(
        self, space: SearchSpace, history: list[Observation], count: int, baseline: float | None
    ) -> list[tuple[dict[str, float], str]]:
        box = "\n".join(f"- {p.name}: default {p.default:g}, allowed [{p.low:g}, {p.high:g}]" for p in space.parameters)
        tried = (
            "\n".join(
                f"- {o.values} -> {space.objective_metric} = {o.objective if o.objective is not None else 'failed'}"
                for o in history
            )
            or "(none yet)"
        )
        prompt = (
            f"Goal: {self.goal}\nObjective: minimise {space.objective_metric} (default model: {baseline}).\n"
            f"Parameters:\n{box}\nTried so far:\n{tried}\n"
            f"Propose {count} new coefficient sets, each with a physical rationale."
        )
        batch = self.llm.structured(
            [Message("system", "You propose turbulence-model coefficient hypotheses."), Message("user", prompt)],
            HypothesisBatch,
        )
        return [(space.clamp(h.values), f"LLM hypothesis: {h.rationale}") for h in batch.hypotheses[:count]]
