"""The built-in revision policy: what to try next after a gate asks for a rerun or a revision.

Deterministic and offline. A `rerun` verdict means numerical trouble, which the workload knows
how to ease (smaller time step, more iterations); a `revise` verdict asks for a different
hypothesis, which the built-in policy does not invent: it leaves that to a proposer or an LLM.
"""

from __future__ import annotations

from runs import Decision, ExperimentSpec, GateResult, combine_decisions
from tools import Workload


class BuiltinRevisionPolicy:
    def __init__(self, workload: Workload) -> None:
        self.workload = workload

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
