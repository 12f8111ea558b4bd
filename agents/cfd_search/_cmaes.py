"""The built-in proposer: CMA-ES (the `cma` package) in multiples of each parameter's default.

Stateless between calls: the optimiser is rebuilt from the seed and replayed through the recorded
generations (ask, then tell the recorded values), so a resumed run proposes exactly what an
uninterrupted one would.
"""

from __future__ import annotations

import math
import threading
from typing import Any

from agents.cfd_search._history import Observation
from tools import SearchSpace

_numpy_rng = threading.Lock()  # cma draws from numpy's global generator


class CmaesProposer:
    name = "cma-es"

    def __init__(self, sigma: float = 0.3) -> None:
        self.sigma = sigma

    def propose(
        self, space: SearchSpace, history: list[Observation], count: int, baseline: float | None
    ) -> list[tuple[dict[str, float], str]]:
        import cma

        defaults = [p.default for p in space.parameters]
        lows = [p.low / p.default for p in space.parameters]
        highs = [p.high / p.default for p in space.parameters]
        finite = [o.objective for o in history if o.objective is not None] + ([baseline] if baseline else [])
        penalty = 2.0 * max(finite) if finite else 1.0
        k = space.population
        with _numpy_rng:
            options: dict[str, Any] = {"seed": space.seed + 1, "popsize": k, "bounds": [lows, highs], "verbose": -9}
            es = cma.CMAEvolutionStrategy([1.0] * len(defaults), self.sigma, options)
            generations = len(history) // k
            for g in range(generations):
                es.ask()
                block = history[g * k : (g + 1) * k]
                xs = [[o.values[p.name] / p.default for p in space.parameters] for o in block]
                ys = [o.objective if o.objective is not None and math.isfinite(o.objective) else penalty for o in block]
                es.tell(xs, ys)
            asked = es.ask()
        start = len(history) - generations * k
        proposals = []
        for index, x in enumerate(asked[start : start + count]):
            values = {p.name: float(x[i]) * p.default for i, p in enumerate(space.parameters)}
            multipliers = ", ".join(f"{p.name} x{float(x[i]):.3f}" for i, p in enumerate(space.parameters))
            proposals.append(
                (values, f"CMA-ES generation {generations + 1}, member {start + index + 1}: {multipliers}")
            )
        return proposals
