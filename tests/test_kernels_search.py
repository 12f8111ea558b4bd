"""Search loops and proposers without a device: fitness comes from a deterministic stand-in."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from random import Random
from typing import cast

import pytest
from pydantic import BaseModel

from agents.kernel_search import (
    BuiltinProposer,
    Evaluator,
    Individual,
    LLMProposer,
    Proposal,
    ReplyError,
    SearchBudget,
    SearchStoppedError,
    apply_reply,
    islands,
    one_plus_one,
    run_search,
    select,
)
from agents.llm import Completion, LLMBudgetExceededError, Message, Usage
from tools.kernels import SUITE, CandidateError, Evaluation, Harness, KernelSearchParams, source_digest, with_params

SAXPY = SUITE["saxpy"]


def fake_evaluate(source: str) -> Evaluation:
    """Fitness rises with VEC and LOCAL; a source containing BROKEN is incorrect."""
    candidate = SAXPY.parse(source)
    if "BROKEN" in source:
        return Evaluation(
            task="saxpy", source_sha256=source_digest(source), status="incorrect", params=candidate.params
        )
    fitness = 0.01 * candidate.params["VEC"] + 0.0001 * candidate.params["LOCAL"] + 0.001 * source.count("#pragma")
    return Evaluation(
        task="saxpy", source_sha256=source_digest(source), status="ok", fitness=fitness, params=candidate.params
    )


def run(kind: str, seed: int, evaluations: int = 20) -> list[tuple[str, float]]:
    evaluator = Evaluator(fake_evaluate, SearchBudget(evaluations))
    proposer = BuiltinProposer(SAXPY)
    if kind == "one-plus-one":
        one_plus_one(evaluator, SAXPY.seed, proposer, Random(seed))
    else:
        islands(
            evaluator,
            SAXPY.seed,
            proposer,
            Random(seed),
            lambda i: i.evaluation.params["VEC"],
            count=2,
            migrate_every=3,
        )
    return [(i.note, i.fitness) for i in evaluator.individuals]


@pytest.mark.parametrize("kind", ["one-plus-one", "islands"])
def test_searches_are_deterministic_under_a_seed_and_improve(kind: str) -> None:
    first, again, other = run(kind, 7), run(kind, 7), run(kind, 8)
    assert first == again
    assert first != other
    assert len(first) == 20
    assert max(f for _, f in first) > first[0][1]


def test_one_plus_one_replaces_only_on_strictly_better() -> None:
    evaluator = Evaluator(fake_evaluate, SearchBudget(25))
    winner = one_plus_one(evaluator, SAXPY.seed, BuiltinProposer(SAXPY), Random(3))
    best = max(i.fitness for i in evaluator.individuals)
    assert winner.fitness == best
    first_best = min(i.index for i in evaluator.individuals if i.fitness == best)
    assert winner.index == first_best


def test_builtin_proposals_stay_within_the_declared_tunables() -> None:
    proposer = BuiltinProposer(SAXPY)
    rng = Random(1)
    parent = Individual(0, SAXPY.seed, fake_evaluate(SAXPY.seed))
    for _ in range(60):
        (proposal,) = proposer.propose(parent, [], rng)
        candidate = SAXPY.parse(proposal.source)
        for name, value in candidate.params.items():
            assert value in SAXPY.tunables[name]
        parent = Individual(parent.index + 1, proposal.source, fake_evaluate(proposal.source))
    assert "#pragma unroll" in parent.source or any(
        v != d for v, d in zip(candidate.params.values(), SAXPY.defaults().values(), strict=True)
    )


def test_params_line_is_validated() -> None:
    with pytest.raises(CandidateError, match="VEC=3 is not allowed"):
        SAXPY.parse(SAXPY.seed.replace("VEC=1", "VEC=3"))
    with pytest.raises(CandidateError, match="more than one"):
        SAXPY.parse("//@params VEC=2\n" + SAXPY.seed)
    with pytest.raises(CandidateError, match="unknown tunable 'TILE'"):
        SAXPY.parse("//@params TILE=2\n")
    assert SAXPY.parse(with_params(SAXPY.seed, {"LOCAL": 128, "VEC": 4})).params == {"LOCAL": 128, "VEC": 4}


def test_budget_stops_on_repeated_proposals() -> None:
    class Same:
        def propose(self, parent: Individual, history: Sequence[Individual], rng: Random) -> list[Proposal]:
            return [Proposal(parent.source, "same")]

    evaluator = Evaluator(fake_evaluate, SearchBudget(1000))
    one_plus_one(evaluator, SAXPY.seed, Same(), Random(0))
    assert len(evaluator.individuals) == 1


def test_apply_reply_diffs_and_rewrites() -> None:
    parent = "a\nb\nc\n"
    diff = "make it faster\n<<<<<<< SEARCH\nb\n=======\nB\n>>>>>>> REPLACE\n"
    assert apply_reply(diff, parent, "diff") == "a\nB\nc\n"
    assert apply_reply("note\n```c\nnew kernel\n```\n", parent, "rewrite") == "new kernel\n"
    with pytest.raises(ReplyError, match="not found"):
        apply_reply("<<<<<<< SEARCH\nzzz\n=======\nB\n>>>>>>> REPLACE", parent, "diff")
    with pytest.raises(ReplyError, match="neither"):
        apply_reply("I cannot help", parent, "diff")


class ScriptedLLM:
    """A small LLM implementing the protocol: replies in turn, with chosen mean log-probabilities."""

    def __init__(self, replies: list[tuple[str, float]], budget: int = 1000) -> None:
        self.replies = replies
        self.calls: list[list[Message]] = []
        self._usage = Usage()
        self.budget = budget

    @property
    def model(self) -> str:
        return "scripted"

    @property
    def usage(self) -> Usage:
        return self._usage

    def complete(
        self,
        messages: Sequence[Message],
        *,
        temperature: float = 0.0,
        max_tokens: int = 2048,
        logprobs: bool = False,
        seed: int | None = None,
    ) -> Completion:
        if len(self.calls) >= self.budget:
            raise LLMBudgetExceededError("token budget spent")
        self.calls.append(list(messages))
        text, logprob = self.replies[(len(self.calls) - 1) % len(self.replies)]
        self._usage.calls += 1
        return Completion(text=text, model="scripted", completion_tokens=10, token_logprobs=(logprob, logprob))

    def structured(self, messages: Sequence[Message], schema: type[BaseModel], **_: object) -> BaseModel:
        raise NotImplementedError


def _edit(old: str, new: str) -> str:
    return f"change {old} to {new}\n<<<<<<< SEARCH\n//@params {old}\n=======\n//@params {new}\n>>>>>>> REPLACE\n"


def test_llm_best_of_n_with_surprisal_selection_and_budget_stop() -> None:
    replies = [
        (_edit("LOCAL=64 VEC=1", "LOCAL=64 VEC=16"), -0.1),  # best fitness, confident
        (_edit("LOCAL=64 VEC=1", "LOCAL=64 VEC=2"), -2.5),  # correct, least confident
        (_edit("LOCAL=64 VEC=1", "LOCAL=64 VEC=4\n// BROKEN"), -3.0),  # least confident, but incorrect
        ("no code at all", -0.5),
    ]
    llm = ScriptedLLM(replies, budget=4)
    proposer = LLMProposer(SAXPY, llm, samples=4, edit="diff")
    evaluator = Evaluator(fake_evaluate, SearchBudget(50))
    seed = evaluator(Proposal(SAXPY.seed, "seed"), None)
    proposals = proposer.propose(seed, evaluator.individuals, Random(0))
    assert len(proposals) == 3 and proposer.reply_problems
    children = [evaluator(p, seed.index) for p in proposals]
    assert select(children, "best").evaluation.params["VEC"] == 16
    assert select(children, "surprisal").evaluation.params["VEC"] == 2
    prompt = llm.calls[0][1].content
    assert "saxpy" in prompt and "fitness" in prompt and "heldout" not in prompt
    # The budget is spent: the next step stops the search instead of raising.
    winner = one_plus_one(evaluator, SAXPY.seed, proposer, Random(0))
    assert winner.fitness >= seed.fitness


def test_surprisal_falls_back_to_best_without_logprobs(tmp_path: Path) -> None:
    a = Individual(0, "a", fake_evaluate(SAXPY.seed))
    b = Individual(1, "b", fake_evaluate(with_params(SAXPY.seed, {"LOCAL": 64, "VEC": 8})))
    assert select([a, b], "surprisal") is b


@pytest.mark.parametrize("kind", ["one-plus-one", "islands"])
def test_a_resumed_search_starts_from_the_given_candidates(kind: str) -> None:
    strong = with_params(SAXPY.seed, {"VEC": 8, "LOCAL": 256})
    broken = SAXPY.seed.replace("{", "{ /* BROKEN */", 1)
    evaluator = Evaluator(fake_evaluate, SearchBudget(6))
    proposer = BuiltinProposer(SAXPY)
    if kind == "one-plus-one":
        one_plus_one(evaluator, SAXPY.seed, proposer, Random(0), starts=[broken, strong])
    else:
        islands(
            evaluator, SAXPY.seed, proposer, Random(0), lambda i: i.evaluation.params["VEC"], starts=[broken, strong]
        )
    notes = [i.note for i in evaluator.individuals]
    assert notes[:3] == ["seed", "resumed start 1", "resumed start 2"]
    children = evaluator.individuals[3:]
    assert children and children[0].parent == 2  # the correct start, fitter than the seed, is the first parent
    assert all(child.parent != 1 for child in children)  # the incorrect start never is one
    assert len(evaluator.individuals) == 6  # the starts count against the budget


def test_starts_beyond_the_budget_are_not_evaluated() -> None:
    starts = [with_params(SAXPY.seed, {"VEC": vec, "LOCAL": 64}) for vec in (2, 4, 8)]
    evaluator = Evaluator(fake_evaluate, SearchBudget(2))
    one_plus_one(evaluator, SAXPY.seed, BuiltinProposer(SAXPY), Random(0), starts=starts)
    assert [i.note for i in evaluator.individuals] == ["seed", "resumed start 1"]


@pytest.mark.parametrize("kind", ["one-plus-one", "islands"])
def test_a_stopping_run_ends_its_search_at_the_next_evaluation(kind: str) -> None:
    """A cancel or Ctrl-C kills the harness's worker under the search: before, the search went on through
    its whole budget of evaluations that crashed, then measured its finalists again on a dead worker."""
    evaluated: list[str] = []

    class Counting:
        def evaluate(self, source: str, *, seed: int | None = None) -> Evaluation:
            evaluated.append(source)
            return fake_evaluate(source)

    params = KernelSearchParams(kernel="saxpy", search=kind, evaluations=40)
    with pytest.raises(SearchStoppedError, match="after 3 evaluations"):
        run_search(
            SAXPY,
            params,
            cast(Harness, Counting()),
            BuiltinProposer(SAXPY),
            seed=1,
            seconds=60.0,
            should_stop=lambda: len(evaluated) >= 3,
        )
    assert len(evaluated) == 3, "no finalist was measured again"
