"""Counts of experiments in a claim of success, held to the record however they are spelled.

Numbers written in digits are checked against the cited verdicts, but a small count in words was left
alone ("three models"), and a summary then said "Three cases passed every gate" of a run where two of
three were accepted, "The study ran two cases, and both passed" of one that ran three, and "The remaining
case passed as well" of the one that failed. In a clause that claims success, a count attached to
experiments ('three cases', 'two of three runs', 'both', 'three passed') is a claim about the record: one
that says how many succeeded may not count more than the accepted experiments it cites, and one that says
how many ran ('ran two cases', 'of the three cases') must say how many the run has. Words that point at
experiments the sentence does not cite ('the remaining case', 'the others') claim success for them, which
holds only where every one of them was accepted. Counts outside claims of success ('compared two cases')
are not judged: they claim nothing the gates decided.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from verifiers._writeup_text import _TENS, _UNITS

_COUNT_WORDS = {**_UNITS, "twenty": _TENS["twenty"], "both": 2, "none": 0, "no": 0}
"""The number words the prose reader knows (zero to nineteen), twenty, and the words that count without one."""
_EXPERIMENT_NOUNS = {
    "case", "cases", "run", "runs", "experiment", "experiments", "simulation", "simulations", "candidate",
    "candidates", "configuration", "configurations", "variant", "variants", "kernel", "kernels", "proof", "proofs",
    "problem", "problems", "setting", "settings", "flow", "flows", "trial", "trials", "point", "points",
    "value", "values", "numbers", "number", "conditions", "condition", "models", "model", "meshes", "mesh",
}  # fmt: skip
_SUCCESS_VERBS = {
    "passed", "pass", "passes", "passing", "succeeded", "succeed", "succeeds", "accepted", "met", "meet", "meets",
    "cleared", "converged", "validated", "agreed", "agree", "matched", "match", "held", "hold", "survived",
    "qualified", "satisfied", "verified", "confirmed",
}  # fmt: skip
_RUN_VERBS = {
    "ran", "run", "studied", "compared", "simulated", "tested", "performed", "considered", "conducted", "examined",
    "investigated", "evaluated", "explored", "swept", "covered", "included", "spanned", "computed", "launched",
    "executed", "tried", "attempted", "submitted", "proposed", "planned", "analysed", "analyzed", "modelled",
    "modeled", "made", "done", "carried", "involved", "comprised", "contained", "used",
}  # fmt: skip
_NOT_CITED = {"remaining", "other", "others", "rest"}
"""Words naming experiments by what the sentence leaves out; an ordinal ('the third case') names one by place."""
_NOUN_REACH = 3
"""How many words may stand between a count and the experiments it counts ('three cavity flow cases')."""
_TOKEN = re.compile(r"[a-z]+|\d+(?:\.\d+)?")


@dataclass(frozen=True)
class Tally:
    """What the record says a clause may count."""

    total: int
    """Experiments of the run."""
    accepted: int
    """Accepted experiments of the run."""
    cited_accepted: int
    """Accepted experiments among those the clause cites."""
    uncited_all_accepted: bool
    """Whether every experiment the clause does not cite was accepted."""


def count_problems(clause: str, positive: bool, tally: Tally) -> list[tuple[str, str]]:
    """(kind, detail) for each count of experiments in `clause` (citations removed) the record does not
    support; `positive`: the clause claims success."""
    tokens = _TOKEN.findall(clause.lower())
    problems: list[tuple[str, str]] = []
    if not positive:
        return problems
    for index in range(len(tokens)):
        value = _count_value(tokens, index)
        if value is None:
            continue
        role = _role(tokens, index)
        if role is None:
            continue
        shown = f"'{' '.join(tokens[max(0, index - 2) : index + 3])}'"
        if role == "total" and value != tally.total:
            problems.append(
                ("count of experiments not from the record", f"{shown} counts {value}; the run has {tally.total}")
            )
        elif role == "success" and value > tally.cited_accepted:
            problems.append(
                (
                    "count of experiments not from the record",
                    f"{shown} claims {value} succeeded, citing {tally.cited_accepted} accepted",
                )
            )
    if not tally.uncited_all_accepted and _points_past_citations(tokens):
        problems.append(
            (
                "claim of success for experiments not cited",
                "the clause claims success for experiments it does not cite ('the remaining', 'the other', "
                "'the rest'), and not every one of them was accepted",
            )
        )
    return problems


def _count_value(tokens: list[str], index: int) -> int | None:
    token = tokens[index]
    # Digits are numbers the cited verdicts must hold ('3 cases' is refused there); 'no' and 'none' count
    # failures as often as successes ('no case failed'), which the claim readers judge.
    if token in _COUNT_WORDS and token not in {"no", "none", "zero"}:
        if index and tokens[index - 1] in _EXPERIMENT_NOUNS:
            return None  # 'candidate three', 'case two': a name by number, not a count
        return _COUNT_WORDS[token]
    return None


def _counts_experiments(tokens: list[str], index: int) -> bool:
    """Whether experiment nouns follow within reach, before any verb ('three cavity cases', 'two of the runs')."""
    for token in tokens[index + 1 : index + 1 + _NOUN_REACH]:
        if token in _EXPERIMENT_NOUNS:
            return True
        if token in _SUCCESS_VERBS or token in _RUN_VERBS or token in {"and", "but", "were", "was"}:
            return False
    return False


def _role(tokens: list[str], index: int) -> str | None:
    """'total' (how many the run has), 'success' (how many succeeded), or None where the word counts no
    experiments or neither."""
    token = tokens[index]
    before = tokens[max(0, index - 3) : index]
    after = tokens[index + 1 : index + 3]
    if after[:1] in (["of"], ["out"]):
        return "success" if _nearest_verb(tokens, index) in _SUCCESS_VERBS else None  # 'two of three passed'
    if before[-1:] == ["of"] or before[-2:] in (["of", "the"], ["of", "all"]) or before[-2:] == ["out", "of"]:
        return "total"  # 'of the three cases', 'two out of three'
    nouns = _counts_experiments(tokens, index)
    bare = token in _COUNT_WORDS and (
        not after
        or after[0] in _SUCCESS_VERBS
        or after[0] in {"were", "was", "have", "had", "did", "also", "all", "each", "of"}
    )
    if not (nouns or bare):
        return None
    verb = _nearest_verb(tokens, index)
    if verb in _RUN_VERBS:
        return "total"
    if verb in _SUCCESS_VERBS:
        return "success"
    return None


def _nearest_verb(tokens: list[str], index: int) -> str | None:
    """The run or success verb nearest the count, either side (the count's own nouns skipped)."""
    best: tuple[int, str] | None = None
    for position, token in enumerate(tokens):
        if position == index or (token not in _SUCCESS_VERBS and token not in _RUN_VERBS):
            continue
        if token == "run" and position > 0 and tokens[position - 1] in _COUNT_WORDS:
            continue  # 'two run' is a noun
        distance = abs(position - index)
        if best is None or distance < best[0]:
            best = (distance, token)
    return best[1] if best else None


_OTHERS_AS_NOUNS = frozenset({"rest", "others"})


def _points_past_citations(tokens: list[str]) -> bool:
    """'the remaining case', 'the other runs', 'the rest', 'the others': words naming experiments by what the
    sentence has not cited."""
    for index, token in enumerate(tokens):
        if token not in _NOT_CITED:
            continue
        following = tokens[index + 1 : index + 3]
        noun = token in _OTHERS_AS_NOUNS  # 'the rest passed': a noun's next word is its verb, not its adjective
        if not noun and following[:1] and (following[0] in _SUCCESS_VERBS or following[0] in {"successful", "passing"}):
            continue  # 'the other accepted case' speaks only of accepted ones
        if noun or any(t in _EXPERIMENT_NOUNS for t in following):
            return True
    return False
