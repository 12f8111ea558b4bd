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
_PRAGMA = re.compile(r"^[ \t]*#pragma unroll[^\n]*\n", re.MULTILINE)
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
        params = self.task.parse(source).params
        name = rng.choice(movable)
        values = self.task.tunables[name]
        position = values.index(params[name])
        others = [v for v in values if v != params[name]]
        ordered = sorted(values)
        rank = ordered.index(params[name])
        neighbours = [ordered[i] for i in (rank - 1, rank + 1) if 0 <= i < len(ordered)]
        new = rng.choice(neighbours) if neighbours and rng.random() < 0.7 else rng.choice(others)
        del position
        params = {**params, name: new}
        return Proposal(with_params(source, params), f"tunable {name}: {self.task.parse(source).params[name]} -> {new}")

    def _unroll_move(self, source: str, rng: Random) -> Proposal:
        loops = list(_FOR.finditer(source))
        if not loops:
            return Proposal(source, "no loop to unroll")
        match = rng.choice(loops)
        start = match.start()
        before = source[:start]
        previous_line = before.rstrip("\n").rsplit("\n", 1)[-1] if before else ""
        indent = match.group(1)
        if previous_line.strip().startswith("#pragma unroll"):
            line_start = len(before.rstrip("\n")) - len(previous_line)
            if rng.random() < 0.5:
                return Proposal(
                    source[:line_start] + source[start:],
                    f"remove unrolling of the loop at line {source[:start].count(chr(10))}",
                )
            factor = rng.choice(UNROLL_FACTORS)
            return Proposal(
                source[:line_start] + f"{indent}#pragma unroll {factor}\n" + source[start:],
                f"unroll the loop at line {source[:line_start].count(chr(10)) + 2} by {factor}",
            )
        factor = rng.choice(UNROLL_FACTORS)
        line = source[:start].count("\n") + 1
        return Proposal(
            source[:start] + f"{indent}#pragma unroll {factor}\n" + source[start:],
            f"unroll the loop at line {line} by {factor}",
        )
