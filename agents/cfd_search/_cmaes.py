"""The built-in proposer: CMA-ES (the `cma` package) in multiples of each parameter's default.

A parameter whose default is 0 (a correction amplitude, a form switch) has no multiples: it is searched
in units of its box's width instead, shifted so that 1 is still the default.

A categorical parameter (a model-form switch) is not a coordinate: rounding a continuous one started at
the default explores the switches next to it (with the step of 0.3 of the box, a switch started at 0 never
reached 6 or 7 in eight candidates). Each candidate draws its categories instead: uniformly in the first
generation, then the best candidate's so far with probability `KEEP_BEST`, else uniformly. CMA-ES moves
the continuous parameters only.

Stateless between calls: the optimiser is rebuilt from the seed and replayed through the recorded
generations (ask, then tell the recorded values), and the categories come from a generator keyed by the
seed, generation and member, so a resumed run proposes exactly what an uninterrupted one would.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np

from agents.cfd_search._history import Observation
from tools import SearchParameter, SearchSpace

_numpy_rng = threading.Lock()  # cma draws from numpy's global generator
KEEP_BEST = 0.5
"""Chance that a later candidate keeps the best candidate's category of a switch rather than drawing one."""


class CmaesProposer:
    name = "cma-es"

    def __init__(self, sigma: float = 0.3) -> None:
        self.sigma = sigma

    def propose(
        self, space: SearchSpace, history: list[Observation], count: int, baseline: float | None
    ) -> list[tuple[dict[str, float], str]]:
        import cma

        continuous = [p for p in space.parameters if not p.categorical]
        categorical = [p for p in space.parameters if p.categorical]
        scales = [_scale(p) for p in continuous]
        shifts = [0.0 if p.default != 0 else 1.0 for p in continuous]
        lows = [p.low / c + t for p, c, t in zip(continuous, scales, shifts, strict=True)]
        highs = [p.high / c + t for p, c, t in zip(continuous, scales, shifts, strict=True)]
        finite = [o.objective for o in history if o.objective is not None] + ([baseline] if baseline else [])
        penalty = 2.0 * max(finite) if finite else 1.0
        k = space.population
        generations = len(history) // k
        start = len(history) - generations * k
        asked: list[Any] = [[] for _ in range(start + count)]
        if continuous:
            with _numpy_rng:
                options: dict[str, Any] = {"seed": space.seed + 1, "popsize": k, "bounds": [lows, highs], "verbose": -9}
                es = cma.CMAEvolutionStrategy([1.0] * len(scales), self.sigma, options)
                for g in range(generations):
                    es.ask()
                    block = history[g * k : (g + 1) * k]
                    xs = [[o.values[p.name] / scales[i] + shifts[i] for i, p in enumerate(continuous)] for o in block]
                    es.tell(xs, [_scored(o, penalty) for o in block])
                asked = es.ask()
        best = _best(history)
        proposals = []
        for index, x in enumerate(asked[start : start + count]):
            member = start + index
            values = {p.name: (float(x[i]) - shifts[i]) * scales[i] for i, p in enumerate(continuous)}
            values.update(_categories(categorical, space.seed, generations, member, best))
            shown = ", ".join(
                f"{p.name} x{values[p.name] / p.default:.3f}"
                if p.default != 0 and not p.categorical
                else f"{p.name} = {values[p.name]:.3g}"
                for p in space.parameters
            )
            proposals.append((values, f"CMA-ES generation {generations + 1}, member {member + 1}: {shown}"))
        return proposals


def _scored(observation: Observation, penalty: float) -> float:
    """What CMA-ES is told of a candidate: its objective, or `penalty` where it has none (a failed run)."""
    objective = observation.objective
    return objective if objective is not None and math.isfinite(objective) else penalty


def _best(history: list[Observation]) -> Observation | None:
    """The candidate with the lowest finite objective so far, if any."""
    scored = [o for o in history if o.objective is not None and math.isfinite(o.objective)]
    return min(scored, key=lambda o: float(o.objective or 0.0)) if scored else None


def _categories(
    parameters: list[SearchParameter], seed: int, generation: int, member: int, best: Observation | None
) -> dict[str, float]:
    """One candidate's categories: drawn uniformly, or (after the first generation) often the best one's."""
    rng = np.random.default_rng([seed, generation, member])
    chosen: dict[str, float] = {}
    for parameter in parameters:
        drawn = float(rng.integers(int(parameter.low), int(parameter.high) + 1))
        keep = rng.random() < KEEP_BEST
        if generation > 0 and best is not None and keep and parameter.name in best.values:
            drawn = float(round(best.values[parameter.name]))
        chosen[parameter.name] = drawn
    return chosen


def _scale(parameter: SearchParameter) -> float:
    """The unit a parameter is searched in: its default, or its box's width when the default is 0."""
    if parameter.default != 0:
        return parameter.default
    return (parameter.high - parameter.low) or 1.0
