"""Search loops over kernel candidates: (1+1) and islands of MAP-Elites archives.

Both spend a budget of evaluations and wall time, are deterministic under their random
generator (given the same evaluation results), never re-evaluate a source they have seen, and
stop cleanly when the proposer has nothing more to offer (e.g. the LLM token budget is spent).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from random import Random
from typing import Literal, NamedTuple, Protocol

from runs import LabgateError
from tools.kernels import Evaluation, source_digest

Selection = Literal["best", "surprisal"]
MAX_DUPLICATES = 64


class Proposal(NamedTuple):
    source: str
    note: str
    mean_logprob: float | None = None


@dataclass
class Individual:
    index: int
    source: str
    evaluation: Evaluation
    note: str = ""
    parent: int | None = None
    mean_logprob: float | None = None

    @property
    def fitness(self) -> float:
        return self.evaluation.fitness if self.evaluation.ok else 0.0


class ProposerExhaustedError(LabgateError):
    """The proposer cannot propose any more (token budget spent, endpoint gone)."""


class Proposer(Protocol):
    def propose(self, parent: Individual, history: Sequence[Individual], rng: Random) -> list[Proposal]: ...


@dataclass(frozen=True)
class SearchBudget:
    evaluations: int
    seconds: float = math.inf


@dataclass
class Evaluator:
    """Evaluates proposals within the budget, caches by source, and records every individual."""

    evaluate: Callable[[str], Evaluation]
    budget: SearchBudget
    on_result: Callable[[Individual], None] = lambda _individual: None
    should_stop: Callable[[], bool] = lambda: False
    """The run was cancelled or interrupted: no more evaluations (its worker is being killed under it)."""
    individuals: list[Individual] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    duplicates: int = 0
    _by_source: dict[str, Individual] = field(default_factory=dict)

    def exhausted(self) -> bool:
        return (
            len(self.individuals) >= self.budget.evaluations
            or time.monotonic() - self.started >= self.budget.seconds
            or self.duplicates >= MAX_DUPLICATES
            or self.should_stop()
        )

    def __call__(self, proposal: Proposal, parent: int | None) -> Individual:
        key = source_digest(proposal.source)
        if key in self._by_source:
            self.duplicates += 1
            return self._by_source[key]
        self.duplicates = 0
        evaluation = self.evaluate(proposal.source)
        individual = Individual(
            index=len(self.individuals),
            source=proposal.source,
            evaluation=evaluation,
            note=proposal.note,
            parent=parent,
            mean_logprob=proposal.mean_logprob,
        )
        self.individuals.append(individual)
        self._by_source[key] = individual
        self.on_result(individual)
        return individual

    def best(self, count: int = 1) -> list[Individual]:
        ranked = sorted((i for i in self.individuals if i.fitness > 0), key=lambda i: (-i.fitness, i.index))
        return ranked[:count]


def select(children: Sequence[Individual], rule: Selection) -> Individual | None:
    """Best-of-N: the fittest child, or (surprisal) the least confident correct one when log-probs exist."""
    if not children:
        return None
    correct = [child for child in children if child.fitness > 0]
    if rule == "surprisal":
        scored = [child for child in correct if child.mean_logprob is not None]
        if scored:
            return min(scored, key=lambda child: (child.mean_logprob or 0.0, child.index))
    return max(children, key=lambda child: (child.fitness, -child.index))


def _step(
    evaluator: Evaluator, proposer: Proposer, parent: Individual, rng: Random, rule: Selection
) -> Individual | None:
    try:
        proposals = proposer.propose(parent, evaluator.individuals, rng)
    except ProposerExhaustedError:
        evaluator.duplicates = MAX_DUPLICATES
        return None
    if not proposals:
        evaluator.duplicates += 1  # nothing usable this step: bounded like repeated proposals
        return None
    children = []
    for proposal in proposals:
        if evaluator.exhausted():
            break
        children.append(evaluator(proposal, parent.index))
    return select(children, rule)


def evaluate_starts(evaluator: Evaluator, starts: Sequence[str]) -> list[Individual]:
    """The candidates a search starts from besides its seed (an earlier search's best), within the budget."""
    started = []
    for index, source in enumerate(starts):
        if evaluator.exhausted():
            break
        started.append(evaluator(Proposal(source, f"resumed start {index + 1}"), None))
    return started


def one_plus_one(
    evaluator: Evaluator,
    seed: str,
    proposer: Proposer,
    rng: Random,
    rule: Selection = "best",
    starts: Sequence[str] = (),
) -> Individual:
    """Keep one incumbent; replace it only when a child scores strictly better."""
    incumbent = evaluator(Proposal(seed, "seed"), None)
    for start in evaluate_starts(evaluator, starts):
        if start.fitness > incumbent.fitness:
            incumbent = start
    while not evaluator.exhausted():
        child = _step(evaluator, proposer, incumbent, rng, rule)
        if child is not None and child.fitness > incumbent.fitness:
            incumbent = child
    return incumbent


Descriptor = Callable[[Individual], Hashable]


def islands(
    evaluator: Evaluator,
    seed: str,
    proposer: Proposer,
    rng: Random,
    descriptor: Descriptor,
    *,
    count: int = 2,
    migrate_every: int = 8,
    rule: Selection = "best",
    starts: Sequence[str] = (),
) -> Individual:
    """Islands each holding a MAP-Elites archive (one elite per behaviour cell); the best migrate in a ring.

    Correct `starts` enter every island's archive beside the seed, so a resumed search goes on from them.
    """
    origin = evaluator(Proposal(seed, "seed"), None)
    archives: list[dict[Hashable, Individual]] = [{descriptor(origin): origin} for _ in range(count)]
    for start in evaluate_starts(evaluator, starts):
        if start.fitness > 0:
            for archive in archives:
                _insert(archive, descriptor(start), start)
    step = 0
    while not evaluator.exhausted():
        archive = archives[step % count]
        elites = sorted(archive.values(), key=lambda i: i.index)
        # Tournament of two: pressure towards fit elites while every cell stays reachable.
        first, second = rng.choice(elites), rng.choice(elites)
        parent = first if first.fitness >= second.fitness else second
        child = _step(evaluator, proposer, parent, rng, rule)
        if child is not None and child.fitness > 0:
            _insert(archive, descriptor(child), child)
        step += 1
        if count > 1 and step % migrate_every == 0:
            bests = [max(a.values(), key=lambda i: (i.fitness, -i.index)) for a in archives]
            for index, best in enumerate(bests):
                target = archives[(index + 1) % count]
                _insert(target, descriptor(best), best)
    return max((i for a in archives for i in a.values()), key=lambda i: (i.fitness, -i.index))


def _insert(archive: dict[Hashable, Individual], cell: Hashable, individual: Individual) -> None:
    current = archive.get(cell)
    if current is None or individual.fitness > current.fitness:
        archive[cell] = individual
