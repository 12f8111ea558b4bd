"""The LLM proposer: hypotheses about the coefficients, each with a physical rationale.

A hypothesis must lie in the box as the model wrote it: one naming an unknown coefficient or a value
outside its bounds is sent back to the model with what is wrong, a bounded number of times, never
clamped or trimmed (the rationale would then describe something other than what ran). What is still
wrong after the corrections is dropped, and the built-in optimiser fills the places left, saying so.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from agents.cfd_search._history import Observation
from agents.cfd_search._llm_base import LlmProposerBase, box, outcome, violations
from agents.llm import LLMBudgetExceededError, LLMError, Message
from tools import SearchSpace

CORRECTIONS = 2
"""Times a batch with hypotheses outside the box is sent back before those are dropped."""


class Hypothesis(BaseModel):
    values: dict[str, float] = Field(description="coefficient name -> value")
    rationale: str = Field(max_length=600, description="why this set should lower the objective, physically")


class HypothesisBatch(BaseModel):
    hypotheses: list[Hypothesis] = Field(max_length=16)


def batch_schema(space: SearchSpace) -> type[BaseModel]:
    """HypothesisBatch with the box's coefficients as the only keys of `values`.

    Sent as the reply schema, so an endpoint with constrained output cannot name an unknown
    coefficient, and one without sees the names in the schema. Bounds are not part of it: a value
    outside its range comes back from the model and is answered with the violation."""
    fields: dict[str, Any] = {
        p.name: (
            float | None,
            Field(default=None, description=f"default {p.default:g}, allowed [{p.low:g}, {p.high:g}]"),
        )
        for p in space.parameters
    }
    values = create_model("Coefficients", __config__=ConfigDict(extra="forbid"), **fields)
    hypothesis = create_model(
        "Hypothesis",
        values=(values, Field(description="coefficients to change; the others keep their default")),
        rationale=(str, Field(max_length=600, description="why this set should lower the objective, physically")),
    )
    return create_model("HypothesisBatch", hypotheses=(list[hypothesis], Field(max_length=16)))


TOKENS_PER_HYPOTHESIS = 200
"""Reply length allowed per hypothesis asked for: a bound on a model that does not stop on its own."""


class LlmHypothesisProposer(LlmProposerBase):
    name = "llm"
    default_corrections = CORRECTIONS

    def propose(
        self, space: SearchSpace, history: list[Observation], count: int, baseline: float | None
    ) -> list[tuple[dict[str, float], str]]:
        tried = "\n".join(f"- {o.values} -> {outcome(space, o.objective)}" for o in history) or "(none yet)"
        prompt = (
            f"{self.heading(space, baseline)}Parameters:\n{box(space)}\nTried so far:\n{tried}\n"
            f"Propose {count} new coefficient sets, each with a physical rationale, as JSON like "
            f"{_example(space)} (the defaults shown: change them)."
        )
        conversation = [
            Message("system", "You propose turbulence-model coefficient hypotheses."),
            Message("user", prompt),
        ]
        accepted: list[tuple[dict[str, float], str]] = []
        note = ""
        for round_ in range(self.corrections + 1):
            try:
                reply = self.llm.structured(
                    conversation, batch_schema(space), max_tokens=TOKENS_PER_HYPOTHESIS * count + 100, repair_attempts=1
                )
                batch = HypothesisBatch.model_validate(reply.model_dump(exclude_none=True))
            except LLMBudgetExceededError:
                raise
            except LLMError as error:
                note = f"the LLM gave no usable hypotheses ({error})"
                break
            wrong: list[str] = []
            for index, hypothesis in enumerate(batch.hypotheses[: count - len(accepted)], start=1):
                problems = violations(space, hypothesis.values)
                if problems:
                    wrong.append(f"hypothesis {index}: {'; '.join(problems)}")
                else:
                    values = {p.name: float(hypothesis.values.get(p.name, p.default)) for p in space.parameters}
                    accepted.append((values, f"LLM hypothesis: {hypothesis.rationale}"))
            if not batch.hypotheses:
                wrong.append("the batch holds no hypothesis")
            if not wrong or len(accepted) >= count:
                note = ""
                break
            note = f"LLM hypotheses outside the box after {round_ + 1} replies: {' | '.join(wrong)}"[:400]
            conversation = self.sent_back(
                conversation,
                batch,
                wrong,
                "These hypotheses are not in the allowed box, so none of them was run: "
                + "; ".join(wrong)
                + f". Propose {count - len(accepted)} corrected set(s) using only the parameters listed, "
                "each value within its allowed range.",
            )
        missing = count - len(accepted)
        if missing > 0:
            for values, why in self.fallback.propose(space, history, missing, baseline):
                accepted.append((values, f"{why} (in place of an LLM hypothesis: {note or 'none proposed'})"))
        return accepted[:count]


def _example(space: SearchSpace) -> str:
    values = {parameter.name: parameter.default for parameter in space.parameters}
    return json.dumps({"hypotheses": [{"values": values, "rationale": "..."}]})
