"""Step memory: the tactics that closed goals in accepted proofs, offered first to similar goals.

The proof memory's whole scripts help only where a new statement looks like an old one. Most proofs
differ in their first steps and end alike: a goal left after `intros; subst` or a case split is closed by
one tactic (`nra`, `field; lra`, a lemma `Search` found, the reconstruction `hammer` printed). Each such
closing step of an accepted proof is kept with the goal it closed, as the search saw it; at a step the
search must fill, the tactics that closed the most similar stored goals (TF-IDF cosine over features of
the goal state: the conclusion's head and operators, the number types and hypothesis shapes in its
context, the constants it names) are tried first, in the same prover run as the automation sweep. A
recalled tactic that is already in the sweep moves to its front; a new one gets a short timeout of its
own, so a recalled tactic that does not apply costs about a second, not a step.

What is recorded is only what the proof gate accepted: a pair is kept when its tactic is a step of the
accepted file (or the tactic a bulk step applies to every goal), and the pair itself was found by the
search's probe, which closed that goal under `solve`. The split filter of the proof memory applies: a
benchmark evaluating a split never reads that split's steps.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from agents.proof_search._library import conclusion_constants, first_goal
from agents.proof_search._memory import NUMBER_TYPES, OPERATORS, TOKEN, ProofMemory, SplitFilter, head_of
from agents.proof_search._script import SINGLE_SENTENCE
from tools.proofs import ProofProblem

MAX_RECALLED = 2
"""New tactics (not already in the sweep) one probe tries from the memory."""
MIN_SIMILARITY = 0.35
"""Below this cosine a stored goal is not like the new one: its tactic is not offered."""
MAX_ENTRIES = 20_000
"""The newest stored steps one search reads: enough for every proof of miniF2F many times over, bounded so that
a memory grown over years costs a search no more than this to load and index."""
MAX_TACTIC = 400
"""Characters of a stored tactic: longer ones are skeleton fragments, not closing steps."""
_GOAL_COUNT = re.compile(r"^goal (\d+):", re.MULTILINE)
_PROOF_COMMAND = re.compile(r"(?:Proof|Qed|Defined)\b")
_BULK = re.compile(r"all:\s*try\s*\(timeout\s+\d+\s*\((?P<tactic>.+)\)\)\.")
_UNSOUND = re.compile(r"\b(?:admit|Admitted|Abort|give_up)\b")


def state_features(state: str) -> Counter[str]:
    """What retrieval compares for a goal state: the conclusion's head relation and operators, the types of
    the variables in context, the head of each hypothesis, the constants of the conclusion, how many goals."""
    parsed = first_goal(state)
    features: Counter[str] = Counter()
    if parsed is None:
        return features
    hypotheses, conclusion = parsed
    features[f"head:{head_of(conclusion)}"] += 2
    for token in TOKEN.findall(conclusion):
        if token in OPERATORS:
            features[f"op:{OPERATORS[token]}"] += 1
    propositions = 0
    for line in hypotheses:
        if ":" not in line:
            continue
        names, kind = line.split(":", 1)
        kind = kind.strip()
        if kind in NUMBER_TYPES:
            features[f"type:{NUMBER_TYPES[kind]}"] += len(names.split(","))
        elif "->" in kind and not re.search(r"[=<>]", kind):
            features["type:function"] += 1
        else:
            propositions += 1
            features[f"hyp:{head_of(kind)}"] += 1
            for token in TOKEN.findall(kind):
                if token in OPERATORS:
                    features[f"hop:{OPERATORS[token]}"] += 1
    features[f"hyps:{min(propositions, 4)}"] += 1
    for name in conclusion_constants(hypotheses, conclusion)[:6]:
        features[f"const:{name}"] += 1
    goals = [int(number) for number in _GOAL_COUNT.findall(state)]
    features[f"goals:{min(max(goals, default=1), 3)}"] += 1
    return features


def closing_tactic(step: str) -> str | None:
    """The tactic a step of an accepted proof applies to close a goal, as a sentence (`nra.`), or None for a
    step that is not one tactic sentence (a bullet, a brace, a selector other than the bulk step's)."""
    text = " ".join(step.split())
    bulk = _BULK.fullmatch(text)
    if bulk is not None:
        text = bulk.group("tactic").strip() + "."
    if len(text) > MAX_TACTIC or _UNSOUND.search(text) or _PROOF_COMMAND.match(text):
        return None
    return text if SINGLE_SENTENCE.fullmatch(text) else None


def accepted_pairs(log: Iterable[dict[str, object]], steps: Iterable[str]) -> list[tuple[str, str]]:
    """(goal, tactic) for each probe of a search log that closed a goal with a tactic the accepted proof
    uses: the closing steps worth remembering. Each pair once, in the order found."""
    used = {tactic for tactic in (closing_tactic(step) for step in steps) if tactic is not None}
    pairs: list[tuple[str, str]] = []
    for entry in log:
        if entry.get("kind") != "probe" or entry.get("ok") is not True:
            continue
        goal, tactic = entry.get("goal"), entry.get("tactic")
        if not isinstance(goal, str) or not isinstance(tactic, str) or first_goal(goal) is None:
            continue
        closing = closing_tactic(tactic)
        if closing is not None and closing in used and (goal, closing) not in pairs:
            pairs.append((goal, closing))
    return pairs


def record_pairs(memory: ProofMemory, problem: ProofProblem, pairs: list[tuple[str, str]], *, run_id: str = "") -> int:
    """Store the pairs with their goals' features; how many were new."""
    rows = [(goal, dict(state_features(goal)), tactic) for goal, tactic in pairs]
    return memory.record_steps(problem, rows, run_id=run_id)


@dataclass(frozen=True)
class StepEntry:
    problem_id: str
    features: dict[str, int]
    tactic: str


class StepRecall:
    """The stored closing steps one search may read (its own problem's left out), ranked per goal by TF-IDF
    cosine, as the proof memory ranks whole proofs; the entries' weights are computed once per search and
    kept in an index by feature, so a probe costs in proportion to the entries sharing its goal's features."""

    def __init__(self, entries: list[StepEntry]) -> None:
        self.entries = entries
        frequency: Counter[str] = Counter()
        for entry in entries:
            frequency.update(entry.features.keys())
        self._idf = {name: math.log((1 + len(entries)) / (1 + count) + 1.0) for name, count in frequency.items()}
        self._index: dict[str, list[tuple[int, float]]] = {}
        self._norms: list[float] = []
        for position, entry in enumerate(entries):
            weights = self._weights(entry.features)
            self._norms.append(math.sqrt(sum(value * value for value in weights.values())) or 1.0)
            for name, value in weights.items():
                self._index.setdefault(name, []).append((position, value))

    @classmethod
    def from_memory(cls, memory: ProofMemory, problem_id: str, splits: SplitFilter | None = None) -> StepRecall:
        rows = memory.step_rows(splits, newest=MAX_ENTRIES)
        return cls([StepEntry(pid, features, tactic) for pid, _split, features, tactic in rows if pid != problem_id])

    def _weights(self, features: dict[str, int] | Counter[str]) -> dict[str, float]:
        return {
            name: (1.0 + math.log(count)) * self._idf.get(name, 0.0)
            for name, count in features.items()
            if count > 0 and name in self._idf
        }

    def tactics(self, state: str, limit: int = 4) -> tuple[str, ...]:
        """The tactics that closed the stored goals most like `state`, most similar first (ties: the older
        entry first), each once."""
        query = self._weights(state_features(state))
        norm = math.sqrt(sum(value * value for value in query.values()))
        if not query or not norm:
            return ()
        dots: dict[int, float] = {}
        for name, value in query.items():
            for position, weight in self._index.get(name, ()):
                dots[position] = dots.get(position, 0.0) + value * weight
        scored = sorted(((-dot / (norm * self._norms[p]), p) for p, dot in dots.items()))
        found: list[str] = []
        for negative, position in scored:
            if -negative < MIN_SIMILARITY or len(found) >= limit:
                break
            tactic = self.entries[position].tactic
            if tactic not in found:
                found.append(tactic)
        return tuple(found)
