"""Claims of direction: 'faster', 'improved', 'lower than the default's', 'fell from A to B', 'sped up'.

A verdict that accepts a result says that it passed its gates, not that it is better than anything: the kernel
held-out gate accepts a candidate whose speedup over the seed is 0.995 (it only refuses one that is surely
slower), and a hill candidate may pass with a negative in-sample gain. So a clause that says which way a result
went is checked against what was measured, whatever the numbers around it:

- each metric has a direction (`polarity`: higher or lower is better) and, where it is measured against a
  reference, the value of 'no change' (a speedup against 1, a gain against 0);
- a word of quality ('faster', 'improved', 'beat', 'gained', 'best', 'no loss') must agree with the direction
  of the metric it is about, measured beyond its confidence interval where the gate gives one;
- a word of level ('lower', 'fell', 'above', 'increased') must agree with the order of the metric and what it
  is compared with: the gate's limit where the clause names one, the same quantity of the baseline or seed
  (`baseline_cf_rmse` beside `in_sample_cf_rmse`), of the other cited experiments, or the value of 'no change';
- 'from A to B' must have the order its verb says;
- a negated claim ('not faster') must not be contradicted either: it holds unless the opposite was measured.

Fail closed: a claim about a metric whose direction the record does not say, or that has nothing to be
compared with, is refused. The metric a clause speaks of is the one it names (the most words of its name),
narrowed by the word itself ('faster' speaks of a speedup, 'closer' of an error); a clause that names none
speaks of every cited metric of known direction, and must hold for each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from verifiers._writeup_claims import _negated
from verifiers._writeup_metrics import _QUALIFIERS, Polarity, _name_parts, _spelled_out, _stem, _words_of, polarity
from verifiers._writeup_metrics import metric_roles as _roles


@dataclass(frozen=True)
class Metric:
    """One cited metric, as a clause of direction may speak of it."""

    name: str
    value: float
    experiment: str | None
    verdict: int
    accepting: bool
    siblings: dict[str, float]
    """The verdict's other metrics ('baseline_cf_rmse', 'held-out speedup CI low', 'rmse_max')."""
    roles: dict[str, tuple[str, str]]


@dataclass(frozen=True)
class _Cue:
    index: int
    word: str
    kind: str
    """'quality' (better or worse) or 'level' (higher or lower)."""
    sign: int
    family: str
    """'speed' or 'accuracy' when the word says which kind of metric it speaks of ('faster', 'closer')."""
    noun: bool
    """A noun ('speedup', 'gain', 'loss') that may instead name the metric whose value the clause states."""


_QUALITY: dict[str, tuple[int, str]] = {
    "better": (1, ""), "best": (1, ""), "improve": (1, ""), "improves": (1, ""), "improved": (1, ""),
    "improving": (1, ""), "improvement": (1, ""), "improvements": (1, ""), "outperform": (1, ""),
    "outperforms": (1, ""), "outperformed": (1, ""), "outperforming": (1, ""), "beat": (1, ""), "beats": (1, ""),
    "beaten": (1, ""), "beating": (1, ""), "surpass": (1, ""), "surpasses": (1, ""), "surpassed": (1, ""),
    "superior": (1, ""), "inferior": (-1, ""), "win": (1, ""), "wins": (1, ""), "won": (1, ""),
    "gain": (1, ""), "gains": (1, ""), "gained": (1, ""), "gaining": (1, ""), "advantage": (1, ""),
    "benefit": (1, ""), "benefits": (1, ""), "benefited": (1, ""), "boost": (1, ""), "boosted": (1, ""),
    "boosts": (1, ""), "enhanced": (1, ""), "enhances": (1, ""), "positive": (1, ""), "negative": (-1, ""),
    "worse": (-1, ""), "worst": (-1, ""), "worsened": (-1, ""), "worsens": (-1, ""), "regressed": (-1, ""),
    "regresses": (-1, ""), "regression": (-1, ""), "degraded": (-1, ""), "degrades": (-1, ""),
    "deteriorated": (-1, ""), "lost": (-1, ""), "lose": (-1, ""), "loses": (-1, ""), "losing": (-1, ""),
    "loss": (-1, ""), "losses": (-1, ""), "penalty": (-1, ""),
    "faster": (1, "speed"), "fastest": (1, "speed"), "quicker": (1, "speed"), "quickest": (1, "speed"),
    "fast": (1, "speed"), "quick": (1, "speed"), "speedup": (1, "speed"), "speed-up": (1, "speed"),
    "speedups": (1, "speed"), "slower": (-1, "speed"), "slowest": (-1, "speed"), "slow": (-1, "speed"),
    "slowed": (-1, "speed"), "slows": (-1, "speed"), "slowdown": (-1, "speed"),
    "closer": (1, "accuracy"), "closest": (1, "accuracy"), "nearer": (1, "accuracy"), "nearest": (1, "accuracy"),
    "further": (-1, "accuracy"), "farther": (-1, "accuracy"), "furthest": (-1, "accuracy"),
    "farthest": (-1, "accuracy"),
    "outpace": (1, "speed"), "outpaces": (1, "speed"), "outpaced": (1, "speed"), "outpacing": (1, "speed"),
    "overtake": (1, ""), "overtakes": (1, ""), "overtook": (1, ""), "overtaken": (1, ""),
    "trail": (-1, ""), "trails": (-1, ""), "trailed": (-1, ""), "trailing": (-1, ""), "lag": (-1, ""),
    "lags": (-1, ""), "lagged": (-1, ""), "lagging": (-1, ""), "underperform": (-1, ""),
    "underperforms": (-1, ""), "underperformed": (-1, ""), "underperforming": (-1, ""),
    "prefer": (1, ""), "prefers": (1, ""), "preferred": (1, ""), "preferable": (1, ""), "recommend": (1, ""),
    "recommends": (1, ""), "recommended": (1, ""), "recommendation": (1, ""),
    "cheaper": (1, "speed"), "cheapest": (1, "speed"), "costlier": (-1, "speed"), "costliest": (-1, "speed"),
    "sooner": (1, "speed"), "efficient": (1, "speed"), "efficiently": (1, "speed"),
    "inefficient": (-1, "speed"),
}  # fmt: skip
"""Words that say a result is better or worse, with the kind of metric they speak of where they say it."""
_LEVEL: dict[str, int] = {
    "higher": 1, "highest": 1, "raised": 1, "raises": 1, "increase": 1, "increased": 1, "increases": 1,
    "increasing": 1, "rose": 1, "risen": 1, "rise": 1, "grew": 1, "grown": 1, "grows": 1, "larger": 1,
    "largest": 1, "greater": 1, "greatest": 1, "bigger": 1, "above": 1, "exceed": 1, "exceeds": 1, "exceeded": 1,
    "exceeding": 1,
    "lower": -1, "lowest": -1, "lowered": -1, "lowers": -1, "reduce": -1, "reduced": -1, "reduces": -1,
    "reducing": -1, "reduction": -1, "decrease": -1, "decreased": -1, "decreases": -1, "decreasing": -1,
    "fell": -1, "fallen": -1, "falls": -1, "dropped": -1, "drops": -1, "drop": -1, "declined": -1, "declines": -1,
    "shrank": -1, "shrunk": -1, "shrinks": -1, "smaller": -1, "smallest": -1, "below": -1, "least": -1,
    "under": -1, "beneath": -1, "underneath": -1,
    "wider": 1, "widest": 1, "narrower": -1, "narrowest": -1, "longer": 1, "longest": 1, "shorter": -1,
    "shortest": -1,
}  # fmt: skip
"""Words that say a value is higher or lower than another, whichever way is better."""
_NOUNS = {"speedup", "speed-up", "speedups", "gain", "gains", "loss", "losses", "improvement", "improvements",
          "increase", "decrease", "reduction", "drop", "rise", "regression", "slowdown", "advantage", "penalty",
          "benefit"}  # fmt: skip
_PHYSICAL = {"pressure", "head", "heat", "energy", "temperature", "thermal", "friction", "kinetic", "voltage",
             "momentum", "mass", "transmission", "insertion", "return", "potential", "total", "linear",
             "signal"}  # fmt: skip
"""'pressure drop', 'head loss', 'heat gain': a physical quantity, not a claim of direction."""
_PLACES = {"half", "wall", "walls", "left", "right", "part", "end", "edge", "corner", "side", "boundary", "region",
           "branch", "bound", "bounds", "lid", "surface", "plate", "third", "quarter", "reynolds", "re",
           "resolution", "order", "orders", "frequency", "frequencies", "mode", "modes", "deck", "layer", "row",
           "level", "levels", "panel", "figure", "plot", "limit", "limits"}  # fmt: skip
"""'the lower half', 'a higher Reynolds number', 'the lower bound': a place or a setting, not a comparison."""
_LIMITS = {"limit", "limits", "tolerance", "tolerances", "threshold", "thresholds", "bound", "bounds", "maximum",
           "minimum", "criterion", "allowed", "allowable", "permitted", "band", "cap", "ceiling",
           "requirement"}  # fmt: skip
_RATIO = {"times", "x", "fold", "as"}
"""'0.89 times as fast as', 'as slow as': a ratio, which is a number and checked as one."""
_PHRASAL = {"brought", "bring", "brings", "pushed", "push", "drove", "driven", "drive", "went", "go", "goes",
            "came", "come", "comes", "cut", "pulled", "moved", "got", "gone", "dragged", "knocked",
            "shaved", "trimmed"}  # fmt: skip
"""Verbs whose 'up' or 'down' says which way a value went ('brought the RMSE down to 0.003')."""
_GEOMETRY = {"step", "wall", "cylinder", "body", "airfoil", "aerofoil", "obstacle", "plate", "edge", "shock", "bump",
             "hill", "inlet", "outlet", "cavity", "channel", "corner", "lid", "wing", "blade", "nozzle", "throat",
             "front", "leading", "trailing"}  # fmt: skip
"""'behind the step', 'ahead of the shock': a place in the flow, not a ranking."""
_FLOWING = {"flow", "flows", "fluid", "stream", "streams", "jet", "jets", "velocity", "boundary", "layer", "air",
            "water", "gas", "particle", "particles", "wave", "waves", "front", "bubble", "wake", "vortex"}  # fmt: skip
"""'the flow accelerated over the hill': physics, not a speed-up of the experiment."""
_ADJECTIVES: dict[str, tuple[int, str]] = {
    "accurate": (1, "accuracy"), "accurately": (1, "accuracy"), "precise": (1, "accuracy"),
    "precisely": (1, "accuracy"), "faithful": (1, "accuracy"), "reliable": (1, "accuracy"),
    "realistic": (1, "accuracy"), "efficient": (1, "speed"), "efficiently": (1, "speed"),
    "expensive": (-1, "speed"), "costly": (-1, "speed"), "performant": (1, "speed"),
}  # fmt: skip
"""What 'more', 'most', 'less' and 'least' make of the adjective after them: 'the most accurate model'."""
_STRAYING = {"deviate", "deviates", "deviated", "deviating", "differ", "differs", "differed", "differing", "off",
             "errs", "erred", "strays", "strayed", "departs", "departed"}  # fmt: skip
"""'deviates more from the data', 'off by more': a larger error."""
_TIME = {"time", "times", "runtime", "runtimes", "run-time", "duration", "durations", "seconds", "second",
         "took", "takes", "take", "taking", "needed", "needs", "need", "spent", "spends", "spend", "saves",
         "saved", "save"}  # fmt: skip
"""Words after which a shorter or lower value means faster: 'took less time', 'a shorter run time'."""
_SPENDING = {"save", "saves", "saved", "saving", "cost", "costs", "costing", "wastes", "wasted"}
"""'saves time', 'costs time': faster or slower."""
_EQUAL = {"equally", "equal", "par", "pace", "tie", "tied", "ties", "identical", "indistinguishable",
          "comparable", "similar", "similarly", "same"}  # fmt: skip
"""Claims that two results are alike ('as fast as', 'on par with', 'equally accurate'): the gates measure
differences with their own tolerances, never sameness, so such a claim cannot be checked."""
_TOKEN = re.compile(r"[a-z]+(?:['’-][a-z]+)*|\d+(?:\.\d+)?|[,;:()]")
_NUMBER = re.compile(r"\d")
_NUMBER_WORDS = {"zero", "nought", "naught", "nil", "point", "one", "two", "three", "four", "five", "six", "seven",
                 "eight", "nine", "ten", "eleven", "twelve", "twenty", "thirty", "forty", "fifty", "a", "an",
                 "half"}  # fmt: skip


def _cues(tokens: list[str]) -> list[_Cue]:
    """The words of a clause that claim a direction."""
    found: list[_Cue] = []
    for index, token in enumerate(tokens):
        before = tokens[index - 1] if index else ""
        after = tokens[index + 1] if index + 1 < len(tokens) else ""
        word = token.replace("’", "'")
        if before in _PHYSICAL and word in _NOUNS:
            continue
        if word in {"positive", "negative"} and (_NUMBER.match(after) or after in _NUMBER_WORDS):
            continue  # 'negative 2.5 %': a sign, read with its number
        if word in {"more", "less", "most", "least", "fewer", "fewest"}:
            more = 1 if word in {"more", "most"} else -1
            if after in _ADJECTIVES:
                sign, family = _ADJECTIVES[after]
                found.append(_Cue(index, f"{word} {after}", "quality", more * sign, family, False))
            elif before in _STRAYING or (index >= 2 and tokens[index - 2] in _STRAYING):
                found.append(_Cue(index, f"{before} {word}", "quality", -more, "accuracy", False))
            elif _time_follows(tokens, index):
                found.append(_Cue(index, f"{word} {after}", "quality", -more, "speed", False))
            elif after == "than" and word in {"more", "less", "fewer"}:
                found.append(_Cue(index, word, "level", more, "", False))
            elif word == "least" and before not in {"at"}:
                found.append(_Cue(index, word, "level", -1, "", False))
            continue
        if word == "as" and index + 2 < len(tokens) and tokens[index + 2] == "as" and before not in _RATIO:
            if not _NUMBER.match(before) and before not in _NUMBER_WORDS and before != "twice":
                found.append(_Cue(index, f"as {after} as", "equal", 0, "", False))
            continue
        if word in _EQUAL and not (word == "same" and after not in {"speed", "accuracy", "error", "as"}):
            found.append(_Cue(index, word, "equal", 0, "", False))
            continue
        if word in {"match", "matches", "matched", "matching"} and any(
            token in {"speed", "pace", "accuracy", "performance"} for token in tokens[index + 1 : index + 4]
        ):
            found.append(_Cue(index, word, "equal", 0, "", False))
            continue
        if word in _SPENDING and after == "time":
            found.append(_Cue(index, f"{word} time", "quality", 1 if word.startswith("sav") else -1, "speed", False))
            continue
        if word == "full" and after == "speed":
            found.append(_Cue(index, "full speed", "quality", 1, "speed", False))
            continue
        if word in {"edged", "edges", "edge"} and after == "out":
            found.append(_Cue(index, f"{word} out", "quality", 1, "", False))
            continue
        if word in {"falls", "fell", "fall", "falling"} and after == "short":
            found.append(_Cue(index, f"{word} short", "quality", -1, "", False))
            continue
        if word in {"shorter", "shortest", "longer", "longest", "lower", "higher"} and _time_follows(tokens, index):
            found.append(_Cue(index, f"{word} {after}", "quality", -_LEVEL[word], "speed", False))
            continue
        if word in {"up", "down"} and any(verb in _PHRASAL for verb in tokens[max(0, index - 6) : index]):
            found.append(_Cue(index, f"... {word}", "level", 1 if word == "up" else -1, "", False))
            continue
        if word in {"ahead", "behind"}:
            if not any(token in _GEOMETRY for token in tokens[index + 1 : index + 4]):
                found.append(_Cue(index, word, "quality", 1 if word == "ahead" else -1, "", False))
            continue
        if word in {"accelerated", "accelerates", "accelerating", "acceleration"}:
            if not any(token in _FLOWING for token in tokens):
                found.append(_Cue(index, word, "quality", 1, "speed", False))
            continue
        if word in {"sped", "speed", "speeds", "speeding"} and after == "up":
            found.append(_Cue(index, f"{word} up", "quality", 1, "speed", False))
            continue
        if word in _QUALITY:
            if word in {"fast", "quick", "slow"} and (before in _RATIO or before in {"very", "too", "so"}):
                continue
            sign, family = _QUALITY[word]
            found.append(_Cue(index, word, "quality", sign, family, word in _NOUNS))
        elif word in _LEVEL and not (word in {"lower", "higher", "upper"} and after in _PLACES):
            found.append(_Cue(index, word, "level", _LEVEL[word], "", word in _NOUNS))
    return found


def _time_follows(tokens: list[str], index: int) -> bool:
    """Whether the word at `index` speaks of a duration: 'less time', 'a shorter run time', 'lower wall-clock'."""
    after = tokens[index + 1] if index + 1 < len(tokens) else ""
    return after in _TIME or (after in {"run", "wall", "wall-clock"} and index + 2 < len(tokens))


def _clause_words(text: str) -> set[str]:
    words: set[str] = set()
    for token in re.findall(r"[a-z0-9]+(?:[-'’][a-z0-9]+)*", _spelled_out(text)):
        words.update(_stem(part) for part in re.split(r"[-'’]", token))
        words.add(_stem(re.sub(r"[-'’]", "", token)))  # "speed-up" names "speedup"
    return words


def _identity(name: str) -> set[str]:
    """The words of a metric's name that say what it measures, without whose value it is or what it is over
    ('in-distribution speedup over seed': distribution, speedup)."""
    words = _words_of(name)
    dropped = {"over"} | {word for i, word in enumerate(words) if i and words[i - 1] == "over"}
    return _name_parts(" ".join(word for word in words if word not in dropped and word not in _QUALIFIERS))


CONTRADICTED = "claim of direction the measurements contradict"
UNCHECKED = "claim of direction the record cannot check"


def judge_directions(
    clause: str, numbers: list[tuple[int, str, float]], metrics: list[Metric], subjects: list[str]
) -> list[tuple[str, str]]:
    """Problems with the claims of direction in one clause, as (kind, detail).

    `clause`: the clause's text without citations and with experiment keys blanked; `numbers`: the numbers it
    states (offset, as written, value); `metrics`: every metric of the verdicts it cites; `subjects`: the
    experiments it names, in order (the first is what it speaks of).
    """
    lowered = _spelled_out(clause)
    # A percentage compares with a fraction ('a gain above 5 %' is a gain above 0.05).
    read = [(offset, value / 100.0 if written.endswith("%") else value) for offset, written, value in numbers]
    matches = list(_TOKEN.finditer(lowered))
    tokens = [match.group() for match in matches]
    problems: list[tuple[str, str]] = _speed_as_time(tokens, read, metrics)
    cues = _cues(tokens)
    # 'a negative gain', 'a larger speedup': the adjective makes the claim, the noun names what it is about.
    cues = [
        c for c in cues if not (c.noun and any(o.index in range(c.index - 3, c.index) and not o.noun for o in cues))
    ]
    if not cues:
        return problems
    moved = _from_to(lowered, matches, read)
    words = _clause_words(clause)
    for cue in cues:
        if cue.kind == "equal":
            problems.append((UNCHECKED, f"'{cue.word}': a claim that two results are alike, which no gate measures"))
            continue
        negated = _negated(tokens, cue.index) or (
            cue.index + 1 < len(tokens) and tokens[cue.index + 1] in {"nothing", "none", "no"}
        )
        if cue.noun and _states_a_number(matches, cue.index, read):
            continue  # 'a speedup of 0.995', 'a gain of -2.5 %': the number is the claim, and is checked as one
        if moved is not None:
            problem = _judge_move(cue, negated, moved, _about(cue, words, metrics, subjects))
        else:
            limit = cue.kind == "level" and any(token in _LIMITS for token in tokens[cue.index + 1 : cue.index + 6])
            limit = limit or cue.word.startswith("exceed")
            about = _about(cue, words, metrics, subjects)
            stated = _stated_reference(matches, cue, read) if cue.kind == "level" and not limit else None
            if stated is not None:
                problem = _judge_against_number(cue, negated, stated, about)
            else:
                problem = _judge_cue(cue, negated, limit, about, metrics, subjects)
        if problem is not None:
            problems.append(problem)
    return problems


def _speed_as_time(tokens: list[str], numbers: list[tuple[int, float]], metrics: list[Metric]) -> list[tuple[str, str]]:
    """A ratio of speeds stated as a share of run time ('needed 0.89 of the seed's time' where 0.89 is the
    speedup): the share of time is its inverse, so the sentence says the opposite of the measurement."""
    if not _TIME & set(tokens) - {"times"} and "run" not in tokens:
        return []
    speeds = [m for m in metrics if (p := polarity(m.name)) is not None and p.family == "speed" and p.better > 0]
    for _, value in numbers:
        for metric in speeds:
            if value > 0 and abs(value - metric.value) <= 0.005 * max(abs(metric.value), 1e-12) + 5e-4:
                detail = (
                    f"{value:g} is {metric.name}, a ratio of speeds, stated beside run time: the share of run time "
                    f"is its inverse, {1 / metric.value:.3g}"
                )
                return [(CONTRADICTED, detail)]
    return []


def _states_a_number(matches: list[re.Match[str]], index: int, numbers: list[tuple[int, float]]) -> bool:
    """Whether a number stands close to the word at `index` (three words before it to four after it)."""
    start = matches[max(0, index - 3)].start()
    end = matches[min(len(matches) - 1, index + 4)].end()
    return any(start <= offset < end for offset, _ in numbers)


_LEADING = {"the", "a", "an", "of", "than", "that", "at", "to", "just", "about", "around", "roughly", "some"}


def _stated_reference(matches: list[re.Match[str]], cue: _Cue, numbers: list[tuple[int, float]]) -> float | None:
    """The number a word of level compares with where the clause states it ('below 0.002', 'more than 5 %',
    'higher than 1'): the first number after the word, with only linking words between."""
    position = cue.index + 1
    while position < len(matches) and matches[position].group() in _LEADING:
        position += 1
    if position >= len(matches) or not _NUMBER.match(matches[position].group()):
        return None
    start = matches[position].start()
    return next((value for offset, value in numbers if offset >= start - 1 and offset <= matches[position].end()), None)


def _judge_against_number(cue: _Cue, negated: bool, stated: float, about: list[Metric]) -> tuple[str, str] | None:
    if not about:
        return (UNCHECKED, f"'{cue.word}' {stated:g} speaks of no cited metric")
    for metric in about:
        low, high = _bounds(metric)
        holds = low > stated if cue.sign > 0 else high < stated
        if holds == negated:
            return (CONTRADICTED, f"'{cue.word}' {stated:g}: {metric.name} is {metric.value:g}")
    return None


def _from_to(
    lowered: str, matches: list[re.Match[str]], numbers: list[tuple[int, float]]
) -> tuple[float, float] | None:
    """(A, B) of 'from A to B' or 'to B from A', where the clause says so; None otherwise."""
    ends: dict[str, float] = {}
    for position, match in enumerate(matches):
        if match.group() not in {"from", "to"} or match.group() in ends:
            continue
        reach = matches[min(len(matches) - 1, position + 5)].end()
        following = [value for offset, value in numbers if match.end() <= offset <= reach]
        if following:
            ends[match.group()] = following[0]
    return (ends["from"], ends["to"]) if len(ends) == 2 else None


def _about(cue: _Cue, words: set[str], metrics: list[Metric], subjects: list[str]) -> list[Metric]:
    """The measured metrics a word of direction speaks of: those the clause names most fully, of the kind the word
    says ('faster': a speedup), of the experiment the clause names first; every metric of that kind if it names
    none."""
    measured = [m for m in metrics if m.roles[m.name][0] == "measured"]
    if subjects:
        own = [m for m in measured if m.experiment == subjects[0]]
        measured = own or measured
    if cue.family:
        measured = [m for m in measured if (p := polarity(m.name)) is not None and p.family == cue.family]
    scored = [(len(_identity(m.name) & words), m) for m in measured]
    best = max((score for score, _ in scored), default=0)
    if best:
        return [m for score, m in scored if score == best]
    return [m for m in measured if polarity(m.name) is not None]


def _judge_move(cue: _Cue, negated: bool, moved: tuple[float, float], about: list[Metric]) -> tuple[str, str] | None:
    start, end = moved
    if cue.kind == "level":
        holds = (end - start) * cue.sign > 0
    else:
        directions = {p.better for m in about if (p := polarity(m.name)) is not None}
        if len(directions) != 1:
            return (UNCHECKED, f"'{cue.word}' from {start:g} to {end:g}: which way is better is not known for what "
                    "the clause measures")  # fmt: skip
        holds = (end - start) * directions.pop() * cue.sign > 0
    if holds != negated:
        return None
    return (CONTRADICTED, f"'{cue.word}' from {start:g} to {end:g} says the value went the other way")


def _bounds(metric: Metric) -> tuple[float, float]:
    """The metric's confidence interval where its verdict gives one (the bounds named like it), else its value."""
    low, high = metric.value, metric.value
    identity = _identity(metric.name)
    for name, value in metric.siblings.items():
        role, end = metric.roles.get(name, ("", ""))
        if role == "bound" and _identity(name) and _identity(name) - {"low", "high", "lower", "upper"} <= identity:
            low, high = (min(low, value), high) if end == "low" else (low, max(high, value))
    return low, high


def _references(metric: Metric, metrics: list[Metric], subjects: list[str]) -> list[tuple[str, float]]:
    """What a metric may be compared with: the value of 'no change', the baseline's or seed's value of the same
    quantity in its verdict, and the same metric of the other cited experiments."""
    found: list[tuple[str, float]] = []
    known = polarity(metric.name)
    if known is not None and known.neutral is not None:
        found.append(("no change", known.neutral))
    identity = _identity(metric.name)
    for name, value in metric.siblings.items():
        role, qualifier = metric.roles.get(name, ("", ""))
        if role == "qualified" and qualifier in {"baseline", "default", "seed"}:
            other = _identity(name)
            if other and other <= identity:
                found.append((name, value))
    if subjects or len({m.experiment for m in metrics}) > 1:
        found += [(f"{m.experiment}'s {m.name}", m.value) for m in metrics
                  if m.name == metric.name and m.experiment != metric.experiment]  # fmt: skip
    return found


def _judge_cue(
    cue: _Cue, negated: bool, limit: bool, about: list[Metric], metrics: list[Metric], subjects: list[str]
) -> tuple[str, str] | None:
    if not about:
        return (UNCHECKED, f"'{cue.word}' speaks of no cited metric whose direction is known")
    if not limit:
        # 'Re 100 has a lower RMSE than Re 1000': the RMSE that Re 1000 also measured; one that nothing else
        # measured says nothing either way, and only when no metric has a counterpart is the claim unchecked.
        comparable = [metric for metric in about if _references(metric, metrics, subjects)]
        if not comparable:
            return (UNCHECKED, f"'{cue.word}': {about[0].name} has nothing in the cited verdicts to be compared with")
        about = comparable
    for metric in about:
        known = polarity(metric.name)
        if cue.kind == "quality" and known is None:
            return (UNCHECKED, f"'{cue.word}': whether a higher {metric.name} is better is not known")
        # +1: the claim is that the value is above what it is compared with; -1: below.
        wanted = cue.sign * (known.better if cue.kind == "quality" and known is not None else 1)
        if limit:
            problem = _judge_against_limit(cue, negated, wanted, metric, known)
        else:
            problem = _judge_against_references(cue, negated, wanted, metric, metrics, subjects)
        if problem is not None:
            return problem
    return None


def _judge_against_limit(
    cue: _Cue, negated: bool, wanted: int, metric: Metric, known: Polarity | None
) -> tuple[str, str] | None:
    identity = _identity(metric.name)
    limits = [
        (name, value)
        for name, value in metric.siblings.items()
        if metric.roles.get(name, ("", ""))[0] == "limit" and (_identity(name) & identity or not identity)
    ]
    if limits:
        for name, value in limits:
            holds = (metric.value - value) * wanted > 0
            if holds == negated:
                return (CONTRADICTED, f"'{cue.word}' the limit: {metric.name} is {metric.value:g} against "
                        f"{name} {value:g}")  # fmt: skip
        return None
    if known is None:
        return (UNCHECKED, f"'{cue.word}' a limit the record does not hold, of a metric of unknown direction")
    claims_pass = (wanted == known.better) != negated
    if claims_pass != metric.accepting:
        return (CONTRADICTED, f"'{cue.word}' the limit contradicts the gate's decision on {metric.name}")
    return None


def _judge_against_references(
    cue: _Cue, negated: bool, wanted: int, metric: Metric, metrics: list[Metric], subjects: list[str]
) -> tuple[str, str] | None:
    references = _references(metric, metrics, subjects)
    low, high = _bounds(metric)
    for name, value in references:
        uncertain = name == "no change"  # only a speedup or gain over a reference comes with an interval
        above = (low if uncertain else metric.value) > value
        below = (high if uncertain else metric.value) < value
        holds = above if wanted > 0 else below
        if holds == negated:
            shown = f"{metric.value:g}" + (f" (interval {low:g} to {high:g})" if uncertain and low != high else "")
            return (CONTRADICTED, f"'{cue.word}': {metric.name} is {shown} against {name} {value:g}")
    return None


def cited_metrics(verdicts: list[tuple[int, str | None, bool, dict[str, float]]]) -> list[Metric]:
    """The metrics of the cited verdicts, each with its verdict's other metrics and their roles."""
    found: list[Metric] = []
    for verdict, experiment, accepting, values in verdicts:
        roles = _roles(values)
        found += [Metric(name, value, experiment, verdict, accepting, values, roles) for name, value in values.items()]
    return found
