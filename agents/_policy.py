"""Revision policies: what to try next once the gates have judged a batch of experiments.

The built-in policy is deterministic and offline: a `rerun` verdict means numerical trouble,
which the workload knows how to ease (smaller time step...); a `revise` verdict asks for a new
hypothesis, which only an LLM (or the search policy of the workload's proposer, see
`agents.Proposer.revision_policy`) proposes. Policies see the whole batch so that a search (an
optimiser proposing the next population) fits too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from agents._context import RunContext
from agents.llm import LLM, LLMBudgetExceededError, LLMError, Message
from runs import Decision, ExperimentSpec, GateResult
from tools import TaskError, Workload


@dataclass(frozen=True)
class JudgedExperiment:
    spec: ExperimentSpec
    decision: Decision
    verdicts: list[GateResult]


class RevisionPolicy(Protocol):
    def revise(self, batch: list[JudgedExperiment], history: list[JudgedExperiment]) -> list[ExperimentSpec]:
        """New experiments to run after `batch` (history: every experiment judged so far)."""
        ...


def next_key(spec: ExperimentSpec) -> tuple[str, int]:
    base = spec.parent_key or spec.key
    return base, spec.attempt + 1


def _first_trigger(verdicts: list[GateResult]) -> str:
    trigger = next((v for v in verdicts if v.decision != "accept"), None)
    if trigger is None:
        return "no gate objected"
    return f"{trigger.gate}: {trigger.reasons[0] if trigger.reasons else trigger.decision}"


class BuiltinRevisionPolicy:
    def __init__(self, workload: Workload) -> None:
        self.workload = workload

    def revise_one(self, item: JudgedExperiment) -> ExperimentSpec | None:
        if item.decision != "rerun":
            return None
        variant = self.workload.numerics_variant(item.spec)
        if variant is None:
            return None
        params, why = variant
        base, attempt = next_key(item.spec)
        return ExperimentSpec(
            key=f"{base}-a{attempt}",
            task_id=item.spec.task_id,
            params=params,
            attempt=attempt,
            parent_key=base,
            rationale=f"rerun of {item.spec.key} ({_first_trigger(item.verdicts)}): {why}",
        )

    def revise(self, batch: list[JudgedExperiment], history: list[JudgedExperiment]) -> list[ExperimentSpec]:
        proposals = [self.revise_one(item) for item in batch if item.decision in ("rerun", "revise")]
        return [proposal for proposal in proposals if proposal is not None]


class LLMProposal(BaseModel):
    """What the model answers when asked for the next experiment."""

    action: Literal["run", "stop"] = Field(description="'run' a new experiment, or 'stop' trying")
    params: dict[str, Any] = Field(default_factory=dict, description="the full parameter set of the new experiment")
    rationale: str = Field(default="", description="the hypothesis, in one or two sentences")


_SYSTEM = (
    "You plan the next experiment of a research run in labgate. A verifier gate did not accept an "
    "experiment. Propose one new experiment (a complete parameter set valid under the schema) that "
    "addresses the gates' reasons, or stop if nothing reasonable is left. Only parameters in the schema "
    "exist; the harness, not you, runs the tools and judges the results."
)


class LLMRevisionPolicy:
    """Asks the model for a hypothesis when a gate says `rerun` or `revise`; validates it against the schema."""

    def __init__(self, context: RunContext, llm: LLM, fallback: BuiltinRevisionPolicy) -> None:
        self.context = context
        self.llm = llm
        self.fallback = fallback
        self.exhausted = False

    def _prompt(self, item: JudgedExperiment, history: list[JudgedExperiment]) -> list[Message]:
        task = self.context.task
        related = [h for h in history if (h.spec.parent_key or h.spec.key) == (item.spec.parent_key or item.spec.key)]
        attempts = [
            {
                "key": h.spec.key,
                "params": h.spec.params,
                "decision": h.decision,
                "reasons": [
                    f"{v.gate} {v.decision}: {'; '.join(v.reasons)}" for v in h.verdicts if v.decision != "accept"
                ],
            }
            for h in related
        ]
        schema = self.context.workload.param_schema(task)
        user = (
            f"Task {task.id}: {task.goal}\n"
            f"Parameter schema (JSON schema): {json.dumps(schema, separators=(',', ':'))}\n"
            f"Experiment {item.spec.key} with parameters {json.dumps(item.spec.params)} was judged '{item.decision}'.\n"
            "Gate verdicts:\n"
            + "\n".join(f"- {v.gate}: {v.decision}; {'; '.join(v.reasons)}; metrics {v.metrics}" for v in item.verdicts)
            + f"\nEarlier attempts of this experiment: {json.dumps(attempts)}\n"
            "Propose the next experiment."
        )
        return [Message("system", _SYSTEM), Message("user", user)]

    def revise_one(self, item: JudgedExperiment, history: list[JudgedExperiment]) -> ExperimentSpec | None:
        if self.exhausted:
            return self.fallback.revise_one(item)
        messages = self._prompt(item, history)
        for _ in range(3):
            try:
                proposal = self.llm.structured(messages, LLMProposal)
            except LLMBudgetExceededError:
                self.exhausted = True
                raise
            except LLMError as error:
                self.context.emit("llm", f"{item.spec.key}: the model gave no usable proposal ({error})")
                return self.fallback.revise_one(item)
            if proposal.action == "stop":
                self.context.emit("llm", f"{item.spec.key}: the model proposes to stop: {proposal.rationale}")
                return None
            params = {**proposal.params}
            for fixed in self.context.workload.fixed_params(self.context.task):
                if fixed in item.spec.params:
                    params[fixed] = item.spec.params[fixed]
                else:  # a fixed parameter the experiment left to its default stays at its default
                    params.pop(fixed, None)
            try:
                self.context.workload.validate_revision(self.context.task, item.spec, params)
            except TaskError as error:
                messages = [
                    *messages,
                    Message("assistant", proposal.model_dump_json()),
                    Message("user", f"Those parameters are invalid: {error}. Propose a valid set."),
                ]
                continue
            base, attempt = next_key(item.spec)
            return ExperimentSpec(
                key=f"{base}-a{attempt}",
                task_id=item.spec.task_id,
                params=params,
                attempt=attempt,
                parent_key=base,
                rationale=f"hypothesis from {self.llm.model}: {proposal.rationale}",
            )
        return self.fallback.revise_one(item)

    def revise(self, batch: list[JudgedExperiment], history: list[JudgedExperiment]) -> list[ExperimentSpec]:
        proposals = [self.revise_one(item, history) for item in batch if item.decision in ("rerun", "revise")]
        return [proposal for proposal in proposals if proposal is not None]


def default_policy(context: RunContext) -> RevisionPolicy:
    """The policy of a workload whose proposer has none of its own: the LLM's when the run has one."""
    builtin = BuiltinRevisionPolicy(context.workload)
    if context.llm is not None:
        return LLMRevisionPolicy(context, context.llm, builtin)
    return builtin
