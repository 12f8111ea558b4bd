"""What the two LLM proposers (coefficient hypotheses, model forms) share: the state they keep, the box
and goal they show the model, and the check that a set of coefficients lies in the box.

A reply that is wrong goes back to the model a bounded number of times; what is still wrong is
dropped and CMA-ES fills the places left, so both hold the same fallback and the same record of
what the model was told.
"""

from __future__ import annotations

import json
import math

from pydantic import BaseModel

from agents.cfd_search._cmaes import CmaesProposer
from agents.llm import LLM, Message
from tools import SearchSpace


class LlmProposerBase:
    """The state of an LLM proposer; a subclass sets `name` and the corrections it allows by default."""

    name: str
    default_corrections: int

    def __init__(self, llm: LLM, goal: str, *, corrections: int | None = None) -> None:
        """`corrections`: times a wrong reply is sent back before it is dropped (None: the proposer's default)."""
        self.llm = llm
        self.goal = goal
        self.corrections = self.default_corrections if corrections is None else corrections
        self.fallback = CmaesProposer()
        self.problems: list[str] = []
        """Every problem the model was told about (a violation, a compile error), in order."""

    def sent_back(
        self, conversation: list[Message], reply: BaseModel, problems: list[str], feedback: str
    ) -> list[Message]:
        """Record `problems` and continue the conversation: the model's `reply`, then `feedback` on what is wrong."""
        self.problems += problems
        return [*conversation, Message("assistant", reply.model_dump_json()), Message("user", feedback)]

    def heading(self, space: SearchSpace, baseline: float | None) -> str:
        """The goal and the objective, first in every prompt."""
        return f"Goal: {self.goal}\nObjective: minimise {space.objective_metric} (default model: {baseline}).\n"


def box(space: SearchSpace) -> str:
    """The coefficients the model may set, one line each with its default and allowed range."""
    return "\n".join(f"- {p.name}: default {p.default:g}, allowed [{p.low:g}, {p.high:g}]" for p in space.parameters)


def outcome(space: SearchSpace, objective: float | None) -> str:
    """How a tried set scored, as the model is shown it."""
    return f"{space.objective_metric} = {objective if objective is not None else 'failed'}"


def violations(space: SearchSpace, values: dict[str, float]) -> list[str]:
    """What keeps `values` out of the box: unknown names, values outside the bounds or not finite."""
    known = {parameter.name: parameter for parameter in space.parameters}
    problems = [f"unknown coefficient {name!r} (known: {', '.join(known)})" for name in values if name not in known]
    for name, value in values.items():
        parameter = known.get(name)
        if parameter is None:
            continue
        if not math.isfinite(value):
            problems.append(f"{name} = {json.dumps(value)} is not a number")
        elif not parameter.low <= value <= parameter.high:
            problems.append(f"{name} = {value:g} outside [{parameter.low:g}, {parameter.high:g}]")
    return problems
