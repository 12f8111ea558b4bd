"""What a sentence claims about a result: acceptance, failure, or neither.

Words of acceptance (passed, accepted, validated, agrees, within tolerance, ✓ …) claim that a result
held; words of failure (failed, rejected, diverged …) claim that it did not. A negation close before
the word ("did not pass", "never failed", "no gate rejected") turns the claim around, and so does a
negating prefix ("unvalidated", "non-accepted", "disagrees"). The lexicon errs on the side of
seeing a claim: a claim must be backed by its citations, so a false alarm costs an honest sentence
its citation at worst, while a missed claim would let a rejected result be praised.
"""

from __future__ import annotations

import itertools
import re
from typing import NamedTuple

_POSITIVE = re.compile(
    r"^(?:pass(?:es|ed|ing)?|accept(?:s|ed|ing|able|ance)?|validat(?:e|es|ed|ing|ion)|valid|"
    r"verif(?:y|ies|ied|ication)|confirm(?:s|ed|ing|ation)?|agree(?:s|d|ing|ment)?|"
    r"match(?:es|ed|ing)?|succe(?:ss|ssful|ssfully|eded|eds|ed)|meet(?:s|ing)?|met|"
    r"satisf(?:y|ies|ied|ying|actory|actorily)|converg(?:e|es|ed|ing|ence)|correct(?:ly)?|"
    r"consistent(?:ly)?|reproduc(?:e|es|ed|ing)|approv(?:e|es|ed|al)|certif(?:y|ies|ied)|"
    r"clear(?:s|ed)|prov(?:en|ed|es)|excellent|good|accurate(?:ly)?|accuracy|reliabl[ey]|robust|"
    r"ok(?:ay)?|perfect(?:ly)?|flawless(?:ly)?|trust(?:ed|worthy)|publishable|work(?:s|ed)|"
    r"sound(?:ly)?|plausibl[ey]|credibl[ey]|great|superb|outstanding|impeccabl[ey]|fine-praise|"
    r"as-(?:expected|predicted|intended|anticipated|hoped|planned|designed|required|desired|specified|promised)|"
    r"in-line|on-(?:target|track|spec)|spot-on|"
    r"best|outperform(?:s|ed|ing)?|beat(?:s|en|ing)?|surpass(?:es|ed|ing)?|superior|unbeaten|unmatched|"
    r"unrivall?ed|unsurpassed|record-breaking|standout|winner|winning|impressive(?:ly)?|remarkabl[ey]|promising|"
    r"exemplary|stellar|headline|"
    r"✓|✔|✅|☑|👍|👌|💯|🎉|🏆|🥇|🙌|🌟|⭐|✨|💪|🟢)$"
)
_NEGATIVE = re.compile(
    r"^(?:fail(?:s|ed|ing|ure|ures)?|reject(?:s|ed|ing|ion)?|diverg(?:e|es|ed|ing|ence)|"
    r"invalid(?:ated)?|mismatch(?:es|ed)?|inconclusive|"
    r"unstable|wrong|poor(?:ly)?|refut(?:e|es|ed)|contradict(?:s|ed)?|"
    r"✗|✘|❌|❎|👎)$"
)
_NEGATING_PREFIX = re.compile(r"^(?:un|non|dis|in|mis)(.+)$")
_NEGATING_PARTS = {"non", "not", "un", "in", "dis", "mis", "no"}
_FAIL = {"fail", "fails", "failed", "failing"}
_NEGATORS = {
    "not", "no", "never", "none", "neither", "nor", "without", "cannot", "nothing", "nobody", "hardly",
    "barely", "lack", "lacks", "lacked", "far", "unable", "instead", "rather", "nowhere",
}  # fmt: skip
_WINDOW = 4
_BARRIERS = {"and", "or", "but", "while", "whereas", "although", "though", "yet", "however", "which", "that"}
_TOKEN = re.compile(r"[a-z]+(?:['’-][a-z]+)*|[✓✔✅☑👍👌💯🎉🏆🥇🙌🌟⭐✨💪🟢✗✘❌❎👎]|[,;:()]")
_QUANTIFIED = re.compile(
    r"\b(?:all|every|each|both|any|none\s+of|no|across)\b((?:\s+(?:of\s+)?[\w'’-]+){0,4}?)\s+"
    r"(?:experiments?|cases?|runs?|configurations?|candidates?|simulations?|results?|variants?|settings?|"
    r"ones?|flows?|reynolds|models?|methods?|schemes?|mesh(?:es)?|grids?|kernels?|proofs?|approach(?:es)?|"
    r"solvers?|closures?|designs?|trials?|attempts?|setups?|options?|choices?|stud(?:y|ies)|sweeps?|"
    r"lemmas?|theorems?|tasks?|range|regimes?|conditions?|parameters?|values?|numbers?)\b|"
    r"\b(?:whole|entire|full)\s+(?:sweep|study|campaign|set|suite|series|range|family|run)\b|"
    r"\b(?:everything|everywhere|throughout|universally|generally|in\s+general|across\s+the\s+board|"
    r"(?:regardless|irrespective|independent(?:ly)?)\s+of)\b",
    re.IGNORECASE,
)


class Claims(NamedTuple):
    positive: int
    """Claims that a result held (acceptance words, or failure words under a negation)."""
    negative: int
    """Claims that a result did not hold."""

    @property
    def any(self) -> bool:
        return bool(self.positive or self.negative)


def _is_negator(token: str) -> bool:
    return token in _NEGATORS or token.endswith(("n't", "n’t"))


def _negated(tokens: list[str], index: int) -> bool:
    """Whether a negation governs the word at `index`: an odd number of negators shortly before it,
    counting "failed to" as one, and stopping at a conjunction or punctuation."""
    count = 0
    if index >= 2 and tokens[index - 1] == "to" and tokens[index - 2] in _FAIL:
        count += 1
    for token in reversed(tokens[max(0, index - _WINDOW) : index]):
        if token in _BARRIERS or token in {",", ";", ":", "(", ")"}:
            break
        if _is_negator(token):
            count += 1
    return count % 2 == 1


def _polarity(token: str) -> int:
    """+1 for a word of acceptance, -1 for a word of failure, 0 for anything else."""
    if _POSITIVE.match(token):
        return 1
    if _NEGATIVE.match(token):
        return -1
    if token == "within-tolerance":
        return 1
    if "-" in token:  # "well-validated", "non-converged", "self-consistent"
        sign, value = 1, 0
        for part in token.split("-"):
            if part in _NEGATING_PARTS:
                sign = -sign
            elif _polarity(part):
                value = _polarity(part)
        return sign * value
    prefixed = _NEGATING_PREFIX.match(token)
    if prefixed and _POSITIVE.match(prefixed.group(1)):
        return -1
    return 0


_BOUNDS = {"tolerance", "tolerances", "limit", "limits", "bound", "bounds", "band", "threshold", "thresholds",
           "error", "errors", "margin", "margins", "spec", "specification"}  # fmt: skip
_INSIDE = {"within", "inside"}
# "behaved as expected", "in line with theory", "on target": praise whose words are neutral one by one.
_AS_HOPED = {
    "expected", "predicted", "intended", "anticipated", "hoped", "planned", "designed", "required", "desired",
    "specified", "promised",
}  # fmt: skip
_AFTER_PRAISE = {"", ",", ";", ":", ")", "and", "but", "too", "overall", "throughout", "everywhere"}
_PAIRS = {("in", "line"): "in-line", ("on", "target"): "on-target", ("on", "track"): "on-track",
          ("on", "spec"): "on-spec", ("spot", "on"): "spot-on"}  # fmt: skip


_COPULAS = {"is", "was", "are", "were", "be", "been", "being", "it's", "seems", "seem", "looks", "look"}


def _tokens(text: str) -> list[str]:
    """Lower-case words, with 'within (the) tolerance' and its kin folded into one word of acceptance: the
    phrase claims a result held, though neither of its words does alone ('within ten steps', 'the tolerance')."""
    tokens = _TOKEN.findall(text.lower())
    for index, token in enumerate(tokens):
        if token in _INSIDE and any(word in _BOUNDS for word in tokens[index + 1 : index + 4]):
            tokens[index] = "within-tolerance"
        following = tokens[index + 1] if index + 1 < len(tokens) else ""
        if token == "as" and following in _AS_HOPED:
            tokens[index] = f"as-{following}"
        elif token == "fine" and following in _AFTER_PRAISE:
            tokens[index] = "fine-praise"  # "it looks fine", not "the fine mesh"
        elif (token, following) in _PAIRS:
            tokens[index] = _PAIRS[(token, following)]
        elif token == "right" and index and tokens[index - 1] in _COPULAS:
            tokens[index] = "correct"  # "its answer is right", not "the right wall"
    return tokens


def _is_fail_to(tokens: list[str], index: int) -> bool:
    return tokens[index] in _FAIL and index + 1 < len(tokens) and tokens[index + 1] == "to"


def claims(text: str) -> Claims:
    """Count the claims of acceptance and of failure in one sentence or clause."""
    tokens = _tokens(text)
    positive = negative = 0
    for index, token in enumerate(tokens):
        polarity = _polarity(token)
        if polarity == 0 or _is_fail_to(tokens, index):
            continue  # "failed to converge": the claim is the negated verb that follows
        if _negated(tokens, index):
            polarity = -polarity
        if polarity > 0:
            positive += 1
        else:
            negative += 1
    return Claims(positive, negative)


# Verbs between a negation and the praise it governs: "was not accepted", "did not behave as expected".
_LINKING = {"be", "been", "was", "is", "were", "yet", "behave", "perform", "go", "turn", "out"}


def plainly_negative(text: str) -> bool:
    """A clause that says only that something did not hold, with no double negation to untangle.

    Each word of acceptance is negated right before it ("not accepted", "did not pass", "failed to
    converge"), words of failure stand unnegated, and no other negation is present. This is how a
    sentence about a rejected result must read; anything more tangled could be a claim of success.
    """
    tokens = _tokens(text)
    negators = sum(1 for index, token in enumerate(tokens) if _is_negator(token) or _is_fail_to(tokens, index))
    governed = 0
    for index, token in enumerate(tokens):
        polarity = _polarity(token)
        if polarity == 0 or _is_fail_to(tokens, index):
            continue
        if polarity < 0:
            if _negated(tokens, index):
                return False
            continue
        before = [t for t in tokens[max(0, index - 3) : index] if t not in _LINKING]
        if not before or not (
            _is_negator(before[-1]) or (before[-1] == "to" and len(before) > 1 and before[-2] in _FAIL)
        ):
            return False
        governed += 1
    return negators == governed and claims(text).positive == 0 and not _denies_a_statement(tokens)


_DENIALS = {
    "wrong", "false", "untrue", "mistaken", "incorrect", "erroneous", "unfounded", "misleading", "myth",
    "inaccurate", "bogus", "baseless", "unjustified", "overstated", "exaggerated", "premature",
}  # fmt: skip
_REPORTING = {
    "that", "say", "says", "said", "saying", "claim", "claims", "claimed", "claiming", "report", "reports",
    "reported", "suggest", "suggests", "suggested", "call", "called", "calling", "label", "labelled", "labeled",
    "deem", "deemed", "consider", "considered", "think", "believe", "assume", "assumed", "conclude", "whether",
    "impression", "idea", "notion", "verdict", "appearance",
}  # fmt: skip


def _denies_a_statement(tokens: list[str]) -> bool:
    """'It would be wrong to say it failed', 'that it was rejected is false': a failure word inside a statement
    that the sentence itself denies, which claims the opposite while every word of failure stands unnegated."""
    return any(token in _DENIALS for token in tokens) and any(token in _REPORTING for token in tokens)


def quantified(text: str) -> bool:
    """Whether the sentence speaks of all experiments at once ('all cases', 'every run', 'none of the experiments')."""
    for match in _QUANTIFIED.finditer(text):
        qualifier = claims(match.group(1) or "")
        if not (qualifier.positive and not qualifier.negative):
            return True  # "all accepted cases" speaks only of accepted ones; "all cases" of every one
    return False


_CLAUSE_BREAK = re.compile(r"\s*(?:;|\bbut\b|\bwhereas\b|\bwhile\b|\bhowever\b|\balthough\b)\s*", re.IGNORECASE)


def clauses(sentence: str) -> list[str]:
    """A sentence cut where its claims may turn ('A passed [V1], but B failed [V2]')."""
    return [part for part in _CLAUSE_BREAK.split(sentence) if part.strip()]


_RANKING = re.compile(
    r"^(?:best|tops?|topp(?:ed|ing)|most|highest|lowest|largest|smallest|greatest|fewest|strongest|fastest|closest|tightest|"
    r"leading|led|lead|leads|record|records|headline|highlight|highlights|standout|optimal|ideal|peak|"
    r"unbeaten|unmatched|unrivall?ed|unsurpassed|champion|winner|winners|winning|won|win|wins|\w+iest|\w{2,}est)$"
)
_NOT_RANKING = {
    "worst", "test", "tests", "rest", "interest", "request", "suggest", "honest", "modest", "forest", "west",
    "latest", "contest", "protest", "manifest", "digest", "harvest", "invest", "arrest", "attest", "earnest",
    "guest", "quest", "nest", "chest", "est",
}  # fmt: skip
"""'-est' words that rank nothing; 'worst' ranks, but praises nothing."""
_PRAISE_OR_EXCUSE = re.compile(
    r"^(?:better|outperform\w*|beat(?:s|en|ing)?|surpass\w*|superior|ahead|edge|edged|advantage|improv\w*|"
    r"enhanc\w*|boost\w*|progress|breakthrough|impressive\w*|remarkabl\w*|promising|notabl[ey]|noteworthy|"
    r"strong(?:ly)?|encouraging|favou?rabl[ey]|competitive|significant(?:ly)?|substantial(?:ly)?|solid|decent|"
    r"respectable|nice|useful|valuable|success\w*|exemplary|stellar|"
    r"because|due|owing|since|thanks|cause[sd]?|caused|causing|attribut\w*|blam\w*|glitch\w*|bugs?|buggy|"
    r"bookkeeping|clerical|artefacts?|artifacts?|technicality|technical(?:ly)?|spurious(?:ly)?|flukes?|luck|"
    r"lucky|unluck\w*|unfortunate(?:ly)?|merely|mere|only|just|narrow(?:ly)?|slight(?:ly)?|marginal(?:ly)?|"
    r"nearly|almost|minor|trivial|despite|even|still|nonetheless|nevertheless|otherwise|would|could|should|"
    r"might|arguabl[ey]|deserv\w*|unfair\w*|unjust\w*|harsh\w*|strict\w*|overly|conservative|arbitrar\w*|"
    r"pedantic|incorrectly|wrongly|erroneously|mistaken(?:ly)?|mistakes?|pending|provisional(?:ly)?|"
    r"preliminary|temporar\w*|yet|practically|essentially|virtually|effectively|excus\w*|"
    r"reason|reasons|explain\w*|innocuous|harmless|cosmetic|irrelevant|immaterial|negligible|small|smaller|tiny|"
    r"modest|low|acceptable|reasonable|fine|okay|ok|good|great|excellent|accurate|close|tight)$"
)
"""Praise (comparisons with other results, words of quality) and excuses (a cause, a plea, a minimiser): words
that present a not-accepted result as anything else than what its gate found."""
_COMPARING = {
    "higher", "lower", "larger", "smaller", "greater", "more", "less", "fewer", "above", "below", "over", "under",
    "beyond", "outside", "exceed", "exceeds", "exceeded", "exceeding", "past",
}  # fmt: skip
_LIMIT_NOUNS = {"limit", "limits", "tolerance", "tolerances", "threshold", "thresholds", "bound", "bounds",
                "allowed", "allowable", "permitted", "maximum", "minimum", "criterion", "band"}  # fmt: skip


def evaluative(text: str, allowed: set[str]) -> list[str]:
    """The words of a clause about a not-accepted result that rank, praise or excuse it.

    Such a clause may say that the result was not accepted, by which gate, and what the gate found: its
    numbers, and a comparison with the gate's own limit ('its RMSE of 0.31 exceeded the 0.02 limit'). Fail
    closed: any ranking ('best', 'lowest', 'headline', any '-est'), praise or comparison with other results
    ('outperformed', 'beat', 'improved'), any cause or plea ('owing to', 'because', 'a glitch', 'merely',
    'narrowly'), and any comparison not followed closely by a limit ('higher than the default') is reported.
    `allowed`: words of the cited gates' own metric names ('gain' of `in_sample_gain`), which state a number.
    """
    tokens = _tokens(text)
    found = []
    for index, token in enumerate(tokens):
        if token in allowed or token in _NOT_RANKING:
            continue
        compared = token in _COMPARING and not any(word in _LIMIT_NOUNS for word in tokens[index + 1 : index + 5])
        if compared or _RANKING.match(token) or _PRAISE_OR_EXCUSE.match(token):
            found.append(token)
    return found


_JUDGES = {
    "reference", "references", "benchmark", "benchmarks", "data", "dataset", "datasets", "measurement",
    "measurements", "literature", "ghia", "dns", "gate", "gates", "comparator", "verifier", "verifiers", "check",
    "checks", "test", "tests", "criterion", "criteria", "tolerance", "tolerances", "limit", "limits", "threshold",
    "thresholds", "verdict", "verdicts", "judge", "judgement", "judgment", "oracle", "harness", "seed",
}  # fmt: skip
"""What judges a result: the gates and the data or limits they judge against."""
_FAULTS = {
    "wrong", "wrongly", "inaccurate", "inaccuracy", "inaccuracies", "erroneous", "erroneously", "incorrect",
    "incorrectly", "flawed", "flaw", "flaws", "faulty", "buggy", "bug", "bugs", "mistaken", "mistakenly",
    "mistake", "mistakes", "erred", "err", "errs", "unreliable", "dubious", "questionable", "doubtful", "suspect",
    "outdated", "obsolete", "biased", "imprecise", "problematic", "disputed", "contested", "invalid", "unsound",
    "overly", "unfair", "unfairly", "arbitrary", "broken", "misleading", "untrustworthy",
}  # fmt: skip
"""Words that find fault with what they qualify."""
_EXCESSIVE = {"too", "overly", "unduly", "excessively", "unreasonably", "needlessly"}
_SEVERE = {"strict", "harsh", "tight", "demanding", "conservative", "stringent", "severe", "narrow", "loose", "lax"}
"""'Too strict', 'unduly tight': a fault only with the word that says 'more than it should be'."""
_FAULT_REACH = 8


def disputes(text: str) -> list[str]:
    """Where a clause finds fault with what judged the result ('the reference is wrong', 'Ghia's data at Re 400 are
    known to be inaccurate', 'an overly strict gate', 'the benchmark is in error').

    No gate's verdict supports such a sentence: a gate measures a result against its reference and limits, and
    prose that disputes them argues with the verdict instead of reporting it. So a fault word shortly after a
    word naming a gate, its reference or its limit, or just before one, is refused wherever it stands.
    """
    tokens = _tokens(text)
    found: list[str] = []
    for index, token in enumerate(tokens):
        if token not in _JUDGES:
            continue
        after = tokens[index + 1 : index + 1 + _FAULT_REACH]
        after = after[: next((i for i, t in enumerate(after) if t in {";", "("}), len(after))]
        before = tokens[max(0, index - 2) : index]
        near = [*before, *after]
        faults = [t for t in near if t in _FAULTS]
        faults += [f"{a} {b}" for a, b in itertools.pairwise(near) if a in _EXCESSIVE and b in _SEVERE]
        faults += ["in error"] * any(a == "in" and b in {"error", "errors"} for a, b in itertools.pairwise(after))
        if faults:
            found.append(f"{token} ... {faults[0]}")
    return found
