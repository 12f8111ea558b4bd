"""The built-in proposer: CMA-ES (the `cma` package) in multiples of each parameter's default.

A parameter whose default is 0 (a correction amplitude, a form switch) has no multiples: it is searched
in units of its box's width instead, shifted so that 1 is still the default.

Stateless between calls: the optimiser is rebuilt from the seed and replayed through the recorded
generations (ask, then tell the recorded values), so a resumed run proposes exactly what an
uninterrupted one would.
"""

from __future__ import annotations

import math
import threading
from typing import Any

from agents.cfd_search._history import Observation
from tools import SearchParameter, SearchSpace

_numpy_rng = threading.Lock()  # cma draws from numpy's global generator


class CmaesProposer:
    name = "cma-es"

    def __init__(self, sigma: float = 0.3) -> None:
        self.sigma = sigma

    def propose(
        self, space: SearchSpace, history: list[Observation], count: int, baseline: float | None
    ) -> list[tuple[dict[str, float], str]]:
        import cma

        scales = [_scale(p) for p in space.parameters]
        shifts = [0.0 if p.default != 0 else 1.0 for p in space.parameters]
        lows = [p.low / c + t for p, c, t in zip(space.parameters, scales, shifts, strict=True)]
        highs = [p.high / c + t for p, c, t in zip(space.parameters, scales, shifts, strict=True)]
        finite = [o.objective for o in history if o.objective is not None] + ([baseline] if baseline else [])
        penalty = 2.0 * max(finite) if finite else 1.0
        k = space.population
        with _numpy_rng:
            options: dict[str, Any] = {"seed": space.seed + 1, "popsize": k, "bounds": [lows, highs], "verbose": -9}
            es = cma.CMAEvolutionStrategy([1.0] * len(scales), self.sigma, options)
            generations = len(history) // k
            for g in range(generations):
                es.ask()
                block = history[g * k : (g + 1) * k]
                xs = [[o.values[p.name] / scales[i] + shifts[i] for i, p in enumerate(space.parameters)] for o in block]
                ys = [o.objective if o.objective is not None and math.isfinite(o.objective) else penalty for o in block]
                es.tell(xs, ys)
            asked = es.ask()
        start = len(history) - generations * k
        proposals = []
        for index, x in enumerate(asked[start : start + count]):
            values = {p.name: (float(x[i]) - shifts[i]) * scales[i] for i, p in enumerate(space.parameters)}
            shown = ", ".join(
                f"{p.name} x{float(x[i]):.3f}" if p.default != 0 else f"{p.name} = {values[p.name]:.3g}"
                for i, p in enumerate(space.parameters)
            )
            proposals.append((values, f"CMA-ES generation {generations + 1}, member {start + index + 1}: {shown}"))
        return proposals


def _scale(parameter: SearchParameter) -> float:
    """The unit a parameter is searched in: its default, or its box's width when the default is 0."""
    if parameter.default != 0:
        return parameter.default
    return (parameter.high - parameter.low) or 1.0
