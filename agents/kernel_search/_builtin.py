"""The built-in proposer: semantics-preserving changes to a kernel, no LLM needed.

Two kinds of move on the parent: a tunable the task declares (work-group size, vector width,
local-memory tiling, items per work-item, grid mapping...) stepped to a neighbouring or random
allowed value; or a source transformation that cannot change results (adding, changing or
removing `#pragma unroll N` on a loop).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from random import Random

from agents.kernel_search._loops import Individual, Proposal
from tools.kernels import KernelTask, with_params

_FOR = re.compile(r"^([ \t]*)for\s*\(", re.MULTILINE)
UNROLL_FACTORS = (2, 4, 8)


class BuiltinProposer:
    def __init__(self, task: KernelTask, source_moves: float = 0.25) -> None:
        self.task = task
        self.source_moves = source_moves

    def propose(self, parent: Individual, history: Sequence[Individual], rng: Random) -> list[Proposal]:
        movable = [name for name, values in self.task.tunables.items() if len(values) > 1]
        if movable and (rng.random() >= self.source_moves):
            return [self._tunable_move(parent.source, movable, rng)]
        return [self._unroll_move(parent.source, rng)]

    def _tunable_move(self, source: str, movable: list[str], rng: Random) -> Proposal:
        """One tunable to a neighbouring allowed value (in sorted order) or, less often, any other."""
        params = self.task.parse(source).params
        name = rng.choice(movable)
        current = params[name]
        ordered = sorted(self.task.tunables[name])
        rank = ordered.index(current)
        neighbours = [ordered[i] for i in (rank - 1, rank + 1) if 0 <= i < len(ordered)]
        others = [value for value in ordered if value != current]
        new = rng.choice(neighbours) if neighbours and rng.random() < 0.7 else rng.choice(others)
        return Proposal(with_params(source, {**params, name: new}), f"tunable {name}: {current} -> {new}")

    def _unroll_move(self, source: str, rng: Random) -> Proposal:
        """Add `#pragma unroll N` before a loop, or change or remove the one already there."""
        loops = list(_FOR.finditer(source))
        if not loops:
            return Proposal(source, "no loop to unroll")
        match = rng.choice(loops)
        start, indent = match.start(), match.group(1)
        line = source[:start].count("\n") + 1
        head = source[:start]
        previous_start = head.rstrip("\n").rfind("\n") + 1
        previous = head[previous_start:].strip()
        if previous.startswith("#pragma unroll"):
            if rng.random() < 0.5:
                return Proposal(head[:previous_start] + source[start:], f"stop unrolling the loop at line {line - 1}")
            factor = rng.choice(UNROLL_FACTORS)
            pragma = f"{indent}#pragma unroll {factor}\n"
            return Proposal(
                head[:previous_start] + pragma + source[start:], f"unroll the loop at line {line} by {factor}"
            )
        factor = rng.choice(UNROLL_FACTORS)
        pragma = f"{indent}#pragma unroll {factor}\n"
        return Proposal(head + pragma + source[start:], f"unroll the loop at line {line} by {factor}")
