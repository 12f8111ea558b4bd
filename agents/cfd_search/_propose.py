"""The search as the orchestrator's revise step: one candidate, one experiment.

A task with `params.search` gets this policy: after every round of gates it proposes the next
candidates from what the objective gate said about the earlier ones, and leaves numerical reruns
to the default policy. Tasks without a search get the default policy unchanged.
"""

from __future__ import annotations

from typing import Protocol

from agents._context import RunContext
from agents._policy import BuiltinRevisionPolicy, JudgedExperiment, LLMRevisionPolicy, RevisionPolicy
from agents.cfd_search._cmaes import CmaesProposer
from agents.cfd_search._history import CANDIDATE_PREFIX, Observation, search_history
from agents.cfd_search._llm import LlmHypothesisProposer
from runs import ExperimentSpec
from tools import SearchSpace


class SearchProposer(Protocol):
    name: str

    def propose(
        self, space: SearchSpace, history: list[Observation], count: int, baseline: float | None
    ) -> list[tuple[dict[str, float], str]]: ...


def _default_policy(context: RunContext) -> RevisionPolicy:
    builtin = BuiltinRevisionPolicy(context.workload)
    return LLMRevisionPolicy(context, context.llm, builtin) if context.llm is not None else builtin


class SearchRevisionPolicy:
    def __init__(self, context: RunContext, space: SearchSpace, fallback: RevisionPolicy) -> None:
        self.context = context
        self.space = space
        self.fallback = fallback
        self.proposer: SearchProposer = (
            LlmHypothesisProposer(context.llm, context.task.goal) if context.llm is not None else CmaesProposer()
        )

    def revise(self, batch: list[JudgedExperiment], history: list[JudgedExperiment]) -> list[ExperimentSpec]:
        reruns = self.fallback.revise([item for item in batch if item.decision == "rerun"], history)
        return reruns + self.candidates(history)

    def candidates(self, history: list[JudgedExperiment]) -> list[ExperimentSpec]:
        space = self.space
        observations, baseline = search_history(history, space)
        left = min(space.runs - len(observations), space.population)
        if left <= 0:
            return []
        base = {k: v for k, v in self.context.task.params.items() if k != "search"}
        specs = []
        for offset, (values, why) in enumerate(self.proposer.propose(space, observations, left, baseline)):
            specs.append(
                ExperimentSpec(
                    key=f"{CANDIDATE_PREFIX}{len(observations) + offset + 1:03d}",
                    task_id=self.context.task.id,
                    params=space.candidate_params(base, values),
                    rationale=why,
                )
            )
        return specs


def search_policy(context: RunContext) -> RevisionPolicy:
    """The policy registered for CFD tasks: a search where the task declares one, the default otherwise."""
    fallback = _default_policy(context)
    space = context.workload.search_space(context.task)
    return fallback if space is None else SearchRevisionPolicy(context, space, fallback)
