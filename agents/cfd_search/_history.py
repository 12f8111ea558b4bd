"""What a proposer may know about earlier candidates: their parameters and the in-sample objective only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tools import SearchSpace

CANDIDATE_PREFIX = "cand-"


@dataclass(frozen=True)
class Observation:
    key: str
    values: dict[str, float]
    objective: float | None
    """The objective gate's metric; None when the candidate failed before that gate could score it."""
    rationale: str = ""


def _objective(item: Any, space: SearchSpace) -> float | None:
    for verdict in item.verdicts:
        if verdict.gate == space.objective_gate and space.objective_metric in verdict.metrics:
            return float(verdict.metrics[space.objective_metric])
    return None


def search_history(history: Sequence[Any], space: SearchSpace) -> tuple[list[Observation], float | None]:
    """Candidates judged so far in proposal order, and the baseline's objective.

    `history` holds judged experiments (spec, decision, verdicts). Only the verdict of
    `space.objective_gate` is read, and only its `objective_metric`: the verdicts of other gates
    (held-out flows, profiles) never reach the proposer.
    """
    observations: list[Observation] = []
    baseline = None
    for item in history:
        spec = item.spec
        if spec.key == space.baseline_key:
            baseline = _objective(item, space)
        if not spec.key.startswith(CANDIDATE_PREFIX) or spec.parent_key:
            continue
        observations.append(
            Observation(spec.key, space.values_of(spec.params), _objective(item, space), spec.rationale)
        )
    observations.sort(key=lambda observation: observation.key)
    return observations, baseline
