"""The built-in revision policy: what to try next after a gate asks for a rerun or a revision.

Deterministic and offline. A `rerun` verdict means numerical trouble, which the workload knows
how to ease (smaller time step, more iterations); a `revise` verdict asks for a different
hypothesis, which the built-in policy does not invent: it leaves that to a proposer or an LLM.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runs import Decision, ExperimentSpec, GateResult, combine_decisions
from tools import Workload

SearchStep = Callable[[Any, int], list[ExperimentSpec]]
"""(run context, room in the experiment budget) -> the next candidates of the task's search."""

_SEARCHES: dict[str, SearchStep] = {}


def register_search(workload: str, step: SearchStep) -> None:
    """A workload whose tasks may carry a search (e.g. model coefficients) registers its proposer here."""
    _SEARCHES[workload] = step


class BuiltinRevisionPolicy:
    def __init__(self, workload: Workload) -> None:
        self.workload = workload

    def explore(self, context: Any, room: int) -> list[ExperimentSpec]:
        """New hypotheses of the task's search, each one experiment; none when the task is a plain sweep.

        Called after every round of gates: this is the revise step of a search, where the proposer
        reads the in-sample objective of the candidates judged so far and proposes the next ones.
        """
        step = _SEARCHES.get(self.workload.name)
        if step is None or room <= 0 or self.workload.search_space(context.task) is None:
            return []
        return step(context, room)

    def propose(self, experiment: ExperimentSpec, verdicts: list[GateResult]) -> ExperimentSpec | None:
        decision: Decision = combine_decisions([verdict.decision for verdict in verdicts])
        if decision != "rerun":
            return None
        variant = self.workload.numerics_variant(experiment)
        if variant is None:
            return None
        params, why = variant
        base_key = experiment.parent_key or experiment.key
        attempt = experiment.attempt + 1
        trigger = next((v for v in verdicts if v.decision == "rerun"), None)
        cause = f"{trigger.gate}: {trigger.reasons[0]}" if trigger and trigger.reasons else "gate asked for a rerun"
        return ExperimentSpec(
            key=f"{base_key}-a{attempt}",
            task_id=experiment.task_id,
            params=params,
            attempt=attempt,
            parent_key=base_key,
            rationale=f"rerun of {experiment.key} ({cause}): {why}",
        )
