"""The write-up gate: model prose may say only what its cited verdicts support.

Checking that each number exists somewhere in the record is not enough: "re=400 passed every gate
[V1]" uses no number at all, and "0.31" exists in the record as the error of a rejected run. So the
prose is judged sentence by sentence against the verdicts it cites:

- every citation names a verdict of this run;
- a sentence that states a number, names an experiment or claims success or failure cites a verdict;
- each number comes from the cited verdicts or their experiments (metrics, parameters), at the
  precision written, a percentage only where the value is a fraction or itself a percentage;
- each experiment the sentence names is one whose verdict it cites;
- a claim of success cites accepting verdicts of accepted experiments only, and one about "all
  experiments" needs every experiment of the run accepted;
- a not-accepted experiment may be cited only by a sentence that plainly says it was not accepted,
  and such a sentence cites no accepting verdict; a claim of success beside it must name what
  succeeded ("re=400 failed [V3] but it passed [V1]": "it" may be read as re=400), and so must a claim
  of success that opens with a pronoun right after such a sentence ("re=400 failed [V3]. It then
  passed every gate [V1].").

Anything that makes the rendered text differ from the judged text (HTML, links, invisible or
disguised characters) rejects the prose on its own (`verifiers._writeup_text`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from runs import GateResult
from verifiers._writeup_claims import claims, clauses, plainly_negative, quantified
from verifiers._writeup_text import (
    MAX_PROSE_CHARS,
    citations,
    numbers_in,
    segments,
    sentences,
    spelled_numbers,
    supported,
    visible_text,
    without_citations,
)

GATE_NAME = "write-up"
_REJECTED_FOR = "rejected for: "


@dataclass(frozen=True)
class ExperimentFacts:
    """What the record says of one experiment: its key, whether every gate accepted it, its parameters."""

    key: str
    accepted: bool
    parameters: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class VerdictFacts:
    """One stored verdict as prose may cite it (`[V<id>]`)."""

    id: int
    experiment: str | None
    gate: str
    accepting: bool
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class WriteupRecord:
    """The part of the run's record that prose may cite."""

    experiments: dict[str, ExperimentFacts]
    verdicts: dict[int, VerdictFacts]

    def values_for(self, cited: list[VerdictFacts], only_metrics: set[str] | None = None) -> list[tuple[float, bool]]:
        """Numbers a sentence citing `cited` may state, each with whether it is itself a percentage;
        `only_metrics`: of the verdicts' metrics only these (the experiments' parameters always)."""
        values: list[tuple[float, bool]] = []
        for verdict in cited:
            metrics = verdict.metrics.items()
            values += [(v, _is_percent(name)) for name, v in metrics if only_metrics is None or name in only_metrics]
            facts = self.experiments.get(verdict.experiment or "")
            if facts is not None:
                values += [(value, _is_percent(name)) for name, value in facts.parameters.items()]
        return values


def _is_percent(name: str) -> bool:
    return bool(re.search(r"percent|pct|%", name, re.IGNORECASE))


_GREEK = {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "κ": "kappa", "μ": "mu",
          "ν": "nu", "ω": "omega", "τ": "tau", "ϵ": "epsilon"}  # fmt: skip
_SEPARATORS = r"[\s_=:/\-–—·]*"


def _key_pattern(key: str) -> re.Pattern[str]:
    """A key as prose may spell it: any case, separators anywhere ('re=400' ~ 'Re 400', 'kEpsilon' ~ 'k-epsilon')."""
    characters = [re.escape(c) for c in key.lower() if c.isalnum()]
    return re.compile(rf"(?<![a-z0-9]){_SEPARATORS.join(characters)}(?![a-z0-9]|\.\d)")


def _spelled_out(text: str) -> str:
    lowered = text.lower()
    for letter, name in _GREEK.items():
        lowered = lowered.replace(letter, name)
    return lowered


def _mentions(text: str, keys: list[str]) -> list[str]:
    """The experiments a piece of prose names.

    Keys that could be ordinary words ('search', 'baseline': short, or lower-case letters only) are
    not looked for; keys with digits, capitals or separators ('re=400', 'kEpsilon') are.
    """
    lowered = _spelled_out(text)
    return [key for key in keys if _distinctive(key) and _key_pattern(key).search(lowered)]


def _distinctive(key: str) -> bool:
    return sum(c.isalnum() for c in key) >= 3 and not (key.isalpha() and key.islower())


@dataclass
class _Findings:
    problems: list[tuple[str, str]] = field(default_factory=list)
    """(kind, detail); the kind is safe to repeat in a report, the detail may quote the prose."""

    def add(self, kind: str, detail: str) -> None:
        self.problems.append((kind, detail))


def _numbers(text: str) -> list[tuple[str, float]]:
    return numbers_in(text) + spelled_numbers(text)


def _judge_unit(index: int, unit: str, record: WriteupRecord, findings: _Findings) -> None:
    where = f"sentence {index}"
    ids = citations(unit)
    unknown = sorted({i for i in ids if i not in record.verdicts})
    if unknown:
        findings.add("citation of no verdict", f"{where} cites {', '.join(f'V{i}' for i in unknown)}: no such verdict")
    body = without_citations(unit)
    keys = list(record.experiments)
    if not ids:
        said = claims(body)
        what = (
            "a number"
            if _numbers(body)
            else "an experiment"
            if _mentions(body, keys)
            else "a claim of success or failure"
            if said.any
            else ""
        )
        if what:
            findings.add("uncited statement", f"{where} states {what} but cites no verdict: {unit[:120]!r}")
        return
    for segment in segments(unit):
        cited = [record.verdicts[i] for i in dict.fromkeys(citations(segment)) if i in record.verdicts]
        _judge_segment(where, without_citations(segment), record, cited, findings)
    _judge_claims(
        where, unit, record, [record.verdicts[i] for i in dict.fromkeys(ids) if i in record.verdicts], findings
    )


def _judge_segment(
    where: str, text: str, record: WriteupRecord, cited: list[VerdictFacts], findings: _Findings
) -> None:
    """Names and numbers bind to the citations that close their segment of the sentence."""
    cited_experiments = {verdict.experiment for verdict in cited}
    mentioned = _mentions(text, list(record.experiments))
    for key in mentioned:
        if key not in cited_experiments:
            findings.add("experiment named without its verdict", f"{where} names {key} but cites none of its verdicts")
    if len(mentioned) == 1:  # numbers next to one named experiment are that experiment's
        cited = [verdict for verdict in cited if verdict.experiment == mentioned[0]]
    allowed = record.values_for(cited)
    numbers = _numbers(text)
    unsupported = [written for written, value in numbers if not supported(written, value, allowed)]
    if unsupported:
        shown = ", ".join(f"V{v.id}" for v in cited) or "none"
        findings.add(
            "number not from the cited verdicts",
            f"{where}: {', '.join(unsupported[:6])} is not a value of the cited verdicts ({shown}) "
            "or of their experiments",
        )
    named = _named_quantities(text, cited)
    if named:
        # Metrics whose names say nothing readable ('xr_h') may be what the prose calls them.
        unreadable = {name for verdict in cited for name in verdict.metrics if not _name_parts(name)}
        own = record.values_for(cited, only_metrics=set(named) | unreadable)
        swapped = [w for w, value in numbers if supported(w, value, allowed) and not supported(w, value, own)]
        if swapped:
            findings.add(
                "number given under another quantity's name",
                f"{where}: {', '.join(swapped[:6])} is a value of the cited verdicts, but not of the quantity "
                f"the sentence names ({', '.join(sorted(named))})",
            )


_GENERIC_PARTS = {
    "max", "min", "mean", "ratio", "total", "value", "count", "number", "sum", "avg", "abs", "rel", "relative",
    "absolute", "final", "best", "last", "first", "initial", "per", "the", "and", "non", "percent",
}  # fmt: skip


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _name_parts(name: str) -> set[str]:
    """The words of a metric's name ('rmse_u', 'speedMaxRatio', 'gci'), the generic ones left out."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])", " ", name)
    words = re.split(r"[^A-Za-z0-9]+", spaced.lower())
    return {_stem(word) for word in words if len(word) >= 3 and word not in _GENERIC_PARTS}


def _named_quantities(text: str, cited: list[VerdictFacts]) -> dict[str, set[str]]:
    """The cited metrics the prose names by a word of their name ('the RMSE was ...' names 'rmse_u'),
    each with the words that named it.

    A number is checked against these first: "the RMSE was 2.4 [V5]" is false when 2.4 is V5's error in
    percent, though 2.4 is a value of V5. Only metrics whose names have words of their own can be told
    apart this way; a number of a metric named only by letters ('xr_h') is not questioned.
    """
    words: set[str] = set()
    for token in re.findall(r"[a-z0-9]+(?:[-'’][a-z0-9]+)*", _spelled_out(text)):
        words.update(_stem(part) for part in re.split(r"[-'’]", token))
        words.add(_stem(re.sub(r"[-'’]", "", token)))  # "speed-up" names "speedup"
    named: dict[str, set[str]] = {}
    for verdict in cited:
        for name in verdict.metrics:
            found = _name_parts(name) & words
            if found:
                named[name] = found
    return named


def _judge_claims(where: str, unit: str, record: WriteupRecord, cited: list[VerdictFacts], findings: _Findings) -> None:
    def accepted(verdict: VerdictFacts) -> bool:
        facts = record.experiments.get(verdict.experiment or "")
        return verdict.accepting and facts is not None and facts.accepted

    unit_cited = cited
    mixed = any(not accepted(v) for v in unit_cited)
    keys = list(record.experiments)
    for clause in clauses(unit):
        clause_ids = [i for i in citations(clause) if i in record.verdicts]
        scope = [record.verdicts[i] for i in clause_ids] if clause_ids else unit_cited
        said = claims(without_citations(clause))
        bad = [v for v in scope if not accepted(v)]
        if said.positive and bad:
            findings.add(
                "claim of success for a result not accepted",
                f"{where} claims success citing {', '.join(f'V{v.id}' for v in bad)}, "
                "which is not an accepting verdict of an accepted experiment",
            )
        elif bad and not (said.negative and plainly_negative(without_citations(clause))):
            findings.add(
                "not-accepted result presented as a result",
                f"{where} cites {', '.join(f'V{v.id}' for v in bad)} of a not-accepted experiment "
                "without plainly saying it was not accepted",
            )
        elif said.positive and mixed and not _mentions(without_citations(clause), keys):
            findings.add(
                "claim of success that may be read of a result not accepted",
                f"{where} cites a not-accepted experiment and claims success without naming what succeeded",
            )
        if said.negative and not said.positive and any(accepted(v) for v in scope):
            findings.add(
                "claim of failure for an accepted result",
                f"{where} claims a failure citing an accepting verdict of an accepted experiment",
            )
        if said.positive and quantified(clause) and not all(f.accepted for f in record.experiments.values()):
            findings.add(
                "claim about every experiment",
                f"{where} claims success for all experiments, but not every experiment of the run was accepted",
            )


_ANAPHOR = re.compile(
    r"\b(?:it|its|it's|this|that|these|those|they|them|their|such|same|said|latter|former|"
    r"(?:the|this|that)\s+(?:case|run|experiment|simulation|flow|result|one|configuration))\b"
)
_OPENING_WORDS = 6
"""How far into a sentence a pronoun still reads as its subject ('Nevertheless, in the end it passed')."""


def _cites_not_accepted(unit: str, record: WriteupRecord) -> bool:
    for verdict_id in citations(unit):
        verdict = record.verdicts.get(verdict_id)
        facts = record.experiments.get(verdict.experiment or "") if verdict is not None else None
        if facts is not None and not facts.accepted:
            return True
    return False


def _praise_by_pronoun(unit: str, record: WriteupRecord) -> str | None:
    """The pronoun (or 'the case') a claim of success opens with, naming no experiment; None for any other
    sentence. Read after a sentence about a rejected experiment, such a claim is read of that experiment."""
    body = without_citations(unit)
    if not claims(body).positive or _mentions(body, list(record.experiments)):
        return None
    opening = " ".join(re.findall(r"[\w'’]+", body.lower())[:_OPENING_WORDS])
    found = _ANAPHOR.search(opening)
    return found.group() if found else None


def check_prose(prose: str, record: WriteupRecord) -> GateResult:
    """Judge model prose against the verdicts it cites; every problem found is a reason to reject.

    Returns:
        A `write-up` GateResult: `accept` with a count of what was checked, or `reject` whose first
        reason lists the kinds of problem (safe to show in a report) and whose later reasons give
        the details, which may quote the rejected prose.
    """
    if len(prose) > MAX_PROSE_CHARS:  # judged no further: the length alone rejects, and judging costs time
        problem = f"the prose is {len(prose)} characters long, more than {MAX_PROSE_CHARS}"
        return GateResult(
            gate=GATE_NAME,
            decision="reject",
            reasons=[f"{_REJECTED_FOR}prose too long", problem],
            metrics={"problems": 1.0, "sentences": 0.0},
        )
    text, hidden = visible_text(prose)
    findings = _Findings()
    for problem in hidden:
        findings.add("disguised text", problem)
    units = sentences(text)
    for index, unit in enumerate(units, start=1):
        _judge_unit(index, unit, record, findings)
        subject = _praise_by_pronoun(unit, record)
        if subject and index > 1 and _cites_not_accepted(units[index - 2], record):
            findings.add(
                "claim of success that may be read of a result not accepted",
                f"sentence {index} claims success of '{subject}' right after a sentence about a not-accepted "
                "experiment, without naming what succeeded",
            )
    if findings.problems:
        kinds = list(dict.fromkeys(kind for kind, _ in findings.problems))
        details = [detail for _, detail in findings.problems]
        return GateResult(
            gate=GATE_NAME,
            decision="reject",
            reasons=[f"{_REJECTED_FOR}{'; '.join(kinds)}", *details[:20]],
            metrics={"problems": float(len(details)), "sentences": float(len(units))},
        )
    count = sum(len(_numbers(without_citations(unit))) for unit in units)
    cited = len({i for unit in units for i in citations(unit)})
    return GateResult(
        gate=GATE_NAME,
        decision="accept",
        reasons=[f"{len(units)} sentences, {count} numbers and {cited} cited verdicts checked against the record"],
        metrics={"sentences": float(len(units)), "numbers": float(count)},
    )


def problem_kinds(result: GateResult) -> str:
    """The kinds of problem a rejecting verdict found, without the prose's own words."""
    if result.decision == "accept" or not result.reasons:
        return ""
    first = result.reasons[0]
    return first.removeprefix(_REJECTED_FOR) if first.startswith(_REJECTED_FOR) else "rejected"
