"""What a proposer may know about earlier candidates: their parameters and the in-sample objective only."""

from __future__ import annotations

from dataclasses import dataclass

from runs import RunStore
from tools import SearchSpace

CANDIDATE_PREFIX = "cand-"


@dataclass(frozen=True)
class Observation:
    key: str
    values: dict[str, float]
    objective: float | None
    """The objective gate's metric; None when the candidate failed before that gate could score it."""
    rationale: str = ""


def search_history(store: RunStore, run_id: str, space: SearchSpace) -> tuple[list[Observation], int]:
    """Candidates of this run in proposal order (baseline excluded) and how many are still unjudged.

    Only the verdict of `space.objective_gate` is read, and only its `objective_metric`: the verdicts
    of other gates (held-out flows, profiles) never reach the proposer.
    """
    observations: list[Observation] = []
    pending = 0
    for experiment in store.experiments(run_id):
        if not experiment.key.startswith(CANDIDATE_PREFIX) or experiment.parent_key:
            continue
        objective = None
        if experiment.id is not None:
            for verdict in store.verdicts(run_id, experiment.id):
                if verdict.gate == space.objective_gate and space.objective_metric in verdict.metrics:
                    objective = float(verdict.metrics[space.objective_metric])
        if not experiment.decision:
            pending += 1
        observations.append(
            Observation(experiment.key, space.values_of(experiment.params), objective, experiment.rationale)
        )
    observations.sort(key=lambda item: item.key)
    return observations, pending


def baseline_objective(store: RunStore, run_id: str, space: SearchSpace) -> float | None:
    for experiment in store.experiments(run_id):
        if experiment.key == space.baseline_key and experiment.id is not None:
            for verdict in store.verdicts(run_id, experiment.id):
                if verdict.gate == space.objective_gate and space.objective_metric in verdict.metrics:
                    return float(verdict.metrics[space.objective_metric])
    return None
