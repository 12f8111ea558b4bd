"""Turning a proposer's suggestions into experiments of the run (one candidate, one experiment)."""

from __future__ import annotations

from typing import Protocol

from agents._context import RunContext
from agents.cfd_search._cmaes import CmaesProposer
from agents.cfd_search._history import CANDIDATE_PREFIX, Observation, baseline_objective, search_history
from agents.cfd_search._llm import LlmHypothesisProposer
from runs import ExperimentSpec
from tools import SearchSpace


class SearchProposer(Protocol):
    name: str

    def propose(
        self, space: SearchSpace, history: list[Observation], count: int, baseline: float | None
    ) -> list[tuple[dict[str, float], str]]: ...


def propose_candidates(context: RunContext, room: int) -> list[ExperimentSpec]:
    """The next candidates of the task's search (at most `room`), or none when the search is done."""
    space = context.workload.search_space(context.task)
    if space is None or room <= 0:
        return []
    history, pending = search_history(context.store, context.run_id, space)
    if pending:
        return []
    left = min(room, space.runs - len(history), space.population - len(history) % space.population)
    if left <= 0:
        return []
    proposer: SearchProposer = (
        LlmHypothesisProposer(context.llm, context.task.goal) if context.llm is not None else CmaesProposer()
    )
    baseline = baseline_objective(context.store, context.run_id, space)
    base = {k: v for k, v in context.task.params.items() if k != "search"}
    specs = []
    for offset, (values, why) in enumerate(proposer.propose(space, history, left, baseline)):
        number = len(history) + offset + 1
        specs.append(
            ExperimentSpec(
                key=f"{CANDIDATE_PREFIX}{number:03d}",
                task_id=context.task.id,
                params=space.candidate_params(base, values),
                rationale=why,
            )
        )
    return specs
