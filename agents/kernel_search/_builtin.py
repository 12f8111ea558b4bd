"""The built-in proposer: code transformations and tunable moves, no LLM needed.

Two kinds of move on the parent: a tunable the task declares (work-group size, vector width,
tiling...) stepped to a neighbouring or random value the parent's variant allows; or a typed
rewrite of the source (see `_transforms`): a structural variant (vectorisation, work per item,
local-memory tiling, fused updates), `restrict`/`const` qualifiers, or `#pragma unroll`. Only
rewrites whose preconditions hold on the parent are offered. Every structural variant is tried
once before anything else, from whichever parent is current and in the library's order (the
strongest first), since the largest gains come from them; tunable moves then tune the winners.
"""

from __future__ import annotations

from collections.abc import Sequence
from random import Random

from agents.kernel_search._library import variant_of
from agents.kernel_search._loops import Individual, Proposal
from agents.kernel_search._transforms import Transformation, UseVariant, allowed_values, transformations
from tools.kernels import KernelTask, with_params


class BuiltinProposer:
    def __init__(
        self, task: KernelTask, source_moves: float = 0.25, *, rewrites: bool = True, backend: str = "opencl"
    ) -> None:
        """`source_moves`: share of moves that rewrite code; `rewrites=False` keeps to tunables and unrolling;
        `backend`: variants written for another backend are not offered."""
        self.task = task
        self.source_moves = source_moves
        all_moves = transformations(task, backend)
        self.transformations: list[Transformation] = (
            all_moves if rewrites else [t for t in all_moves if t.kind == "unroll"]
        )

    def applicable(self, source: str) -> list[Transformation]:
        """The rewrites whose preconditions hold on `source`."""
        return [t for t in self.transformations if t.why_not(source) is None]

    def propose(self, parent: Individual, history: Sequence[Individual], rng: Random) -> list[Proposal]:
        movable = [name for name in self.task.tunables if len(allowed_values(self.task, parent.source, name)) > 1]
        tried = {variant_of(h.source) for h in history}
        fresh = [t for t in self.applicable(parent.source) if isinstance(t, UseVariant) and t.variant.name not in tried]
        if fresh:
            # Every structural variant once, in the library's order (strongest first), before tuning any:
            # an island's tournament rarely picks the seed again, so waiting for it would leave some untried.
            rewrite = fresh[0].apply(parent.source, rng)
            return [Proposal(rewrite.source, rewrite.note)]
        if movable and rng.random() >= self.source_moves:
            return [self._tunable_move(parent.source, movable, rng)]
        options = self.applicable(parent.source)
        if not options:
            return [self._tunable_move(parent.source, movable, rng)] if movable else []
        return [self._rewrite(parent.source, options, rng)]

    def _rewrite(self, source: str, options: Sequence[Transformation], rng: Random) -> Proposal:
        kinds = sorted({t.kind for t in options})
        kind = rng.choice(kinds)
        rewrite = rng.choice([t for t in options if t.kind == kind]).apply(source, rng)
        return Proposal(rewrite.source, rewrite.note)

    def _tunable_move(self, source: str, movable: list[str], rng: Random) -> Proposal:
        """One tunable to a neighbouring allowed value (in sorted order) or, less often, any other."""
        params = self.task.parse(source).params
        name = rng.choice(movable)
        current = params[name]
        ordered = sorted(allowed_values(self.task, source, name))
        rank = ordered.index(current) if current in ordered else 0
        neighbours = [ordered[i] for i in (rank - 1, rank + 1) if 0 <= i < len(ordered) and ordered[i] != current]
        others = [value for value in ordered if value != current]
        new = rng.choice(neighbours) if neighbours and rng.random() < 0.7 else rng.choice(others)
        return Proposal(with_params(source, {**params, name: new}), f"tunable {name}: {current} -> {new}")
