"""What the names of a gate's metrics say: which words name a quantity, which role each metric plays in its
verdict (a measurement, a limit, an interval bound, another model's value) and which way is better.

Gates name their metrics for people ('held-out speedup over seed', 'rmse_max', 'baseline_cf_rmse'); the write-up
gate reads those names to decide what a sentence may state a number as, and whether a claim of direction
('faster', 'improved', 'fell') agrees with what was measured. The rules live here, in one table the gate owns,
so that a gate that adds a metric needs no change in the write-up gate unless its name says nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_GREEK = {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "κ": "kappa", "μ": "mu",
          "ν": "nu", "ω": "omega", "τ": "tau", "ϵ": "epsilon"}  # fmt: skip


def _spelled_out(text: str) -> str:
    lowered = text.lower()
    for letter, name in _GREEK.items():
        lowered = lowered.replace(letter, name)
    return lowered


_GENERIC_PARTS = {
    "max", "min", "mean", "ratio", "total", "value", "count", "number", "sum", "avg", "abs", "rel", "relative",
    "absolute", "final", "best", "last", "first", "initial", "per", "the", "and", "non", "percent",
    "over", "out", "for", "from", "with", "into", "than",
}  # fmt: skip
"""Words of a metric's name that name no quantity; the linking words among them ('speedup over seed',
'held-out') are words of any sentence ('it turned out to be 3.2' is not about a held-out value)."""


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _name_parts(name: str) -> set[str]:
    """The words of a metric's name ('rmse_u', 'speedMaxRatio', 'gci'), the generic ones left out."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])", " ", name)
    words = re.split(r"[^A-Za-z0-9]+", spaced.lower())
    return {_stem(word) for word in words if len(word) >= 3 and word not in _GENERIC_PARTS}


_SHORT_WORDS = {
    "a", "i", "an", "as", "at", "be", "by", "do", "go", "he", "if", "in", "is", "it", "me", "my", "no", "of", "on",
    "or", "so", "to", "up", "us", "we",
}  # fmt: skip
_MOST = {"max", "maximum", "maximal", "largest", "highest", "peak", "peaked", "peaking", "worst", "greatest"}
_LEAST = {"min", "minimum", "minimal", "smallest", "lowest"}
_MEAN = {"mean", "average", "averaged", "averaging", "avg"}
_AGGREGATE_WORDS = {
    "max": _MOST,
    "maximum": _MOST,
    "min": _LEAST,
    "minimum": _LEAST,
    "mean": _MEAN,
    "avg": _MEAN,
    "average": _MEAN,
    "final": {"final", "last", "end"},
    "initial": {"initial", "first", "start", "starting"},
}  # fmt: skip


def marking_words(name: str) -> set[str]:
    """The words prose may use to say which of several like-named metrics it means: the words of the name
    (stemmed), a symbol among them ('u' of 'rmse_u'), and the usual words for an aggregate ('largest' for
    'max'). Linking words and common two-letter words are left out: they occur in any sentence."""
    found: set[str] = set()
    for letter, spelled in _GREEK.items():
        name = name.replace(letter, f" {spelled} ")
    words = _words_of(name)
    for word in words:
        if word in _AGGREGATE_WORDS:
            found |= _AGGREGATE_WORDS[word]
        elif len(word) >= 3 and word not in _GENERIC_PARTS:
            found.add(_stem(word))
            found |= _OTHER_SPELLINGS.get(word, set())
        elif len(word) <= 2 and word.isalpha() and word not in _SHORT_WORDS:
            found.add(word)
    if len(words) > 1:
        found.add("".join(words))  # the name as markdown shows `rmse_v`: underscores read as emphasis are gone
    return found


_OTHER_SPELLINGS = {"held": {"heldout", "holdout", "hold", "unseen"}, "distribution": {"indistribution"}}
"""Other ways prose writes a word of a metric's name ('heldout', 'hold-out', 'unseen sizes')."""


_LIMIT_WORDS = {
    "tolerance", "tolerances", "tol", "limit", "limits", "threshold", "thresholds", "allowed", "allowance",
    "allowable", "allows", "permitted", "bound", "bounds", "cap", "ceiling", "budget", "criterion", "required",
}  # fmt: skip
"""Words that make a name, or the words before or after a number, speak of a limit rather than a measurement."""
_EXTREMES = {"max", "min", "maximum", "minimum"}
_AGGREGATES = _EXTREMES | {"mean", "avg", "average", "final", "median", "total", "sum", "std", "last", "worst", "peak"}
KNOWN_LIMITS = frozenset({"rmse_max", "profile_rmse_max", "cf_rmse_max"})
"""Metrics the comparator gates emit that are their limits, not measurements (also caught by the sibling rule of
`metric_roles` wherever the measured value sits beside them)."""
_QUALIFIERS = {
    "baseline": {"baseline", "default", "original", "stock", "standard", "untuned", "uncalibrated"},
    "default": {"baseline", "default", "original", "stock", "standard", "untuned", "uncalibrated"},
    "seed": {"seed", "original", "starting", "baseline"},
    "reference": {"reference", "measured", "measurement", "measurements", "experiment", "experimental", "data",
                  "benchmark", "dns", "literature", "published"},
    "measured": {"reference", "measured", "measurement", "measurements", "experiment", "experimental", "data",
                 "benchmark", "dns", "literature", "published"},
}  # fmt: skip
"""A metric whose name carries one of these words is a value of something else than the experiment (the default
model's error, the experiment's measured reattachment): prose may state it only where it says whose it is."""
_INTERVAL_WORDS = {"ci", "interval", "confidence", "credible"}
_INTERVAL_ENDS = {"low", "high", "lower", "upper", "lo", "hi", "min", "max", "left", "right", "bound"}
"""A name with a word of each ('speedup CI low', 'gain_interval_upper') is a bound of an interval estimate."""


def _words_of(name: str) -> list[str]:
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])", " ", name)
    return [word for word in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if word]


def metric_roles(metrics: dict[str, float]) -> dict[str, tuple[str, str]]:
    """The role of each metric of one verdict, with its qualifier: ('measured' | 'limit' | 'bound' | 'qualified',
    word).

    A bound of a confidence interval ('held-out speedup CI high') is neither the estimate nor a limit: written as
    the measured value it overstates (or understates) what was measured, so it has a role of its own, with the
    end it bounds ('low' or 'high') as its qualifier.

    Gates emit their limits beside their measurements under names that read alike ('rmse_max' beside
    'rmse_u'), while a measured extreme is named the same way ('yplus_max', 'courant_max'). So a name with a
    limit word ('*_tolerance', 'limit', 'threshold') is a limit; a name that opens or ends on max/min is a
    limit when it is a known limit or when the same verdict also measures that quantity without an aggregate
    ('rmse_max' beside 'rmse_u', 'cf_rmse_max' beside 'cf_rmse': nothing but a limit needs a max beside the
    value), and a measurement otherwise ('yplus_max' beside 'yplus_mean', 'courant_max' alone).
    """
    roles: dict[str, tuple[str, str]] = {}
    plain = [set(_name_parts(other)) for other in metrics if not set(_words_of(other)) & _AGGREGATES]
    for name in metrics:
        words = _words_of(name)
        qualifier = next(
            (word for i, word in enumerate(words) if word in _QUALIFIERS and (i == 0 or words[i - 1] != "over")), ""
        )
        quantity = _name_parts(name)
        extreme = bool(words) and (words[0] in _EXTREMES or words[-1] in _EXTREMES)
        bounds_a_value = extreme and bool(quantity) and any(quantity <= parts for parts in plain)
        if set(words) & _INTERVAL_WORDS and set(words) & _INTERVAL_ENDS:
            upper = bool(set(words) & {"high", "upper", "hi", "max", "right"})
            roles[name] = ("bound", "high" if upper else "low")
        elif set(words) & _LIMIT_WORDS or name in KNOWN_LIMITS or bounds_a_value:
            roles[name] = ("limit", "")
        elif qualifier:
            roles[name] = ("qualified", qualifier)
        else:
            roles[name] = ("measured", "")
    return roles


@dataclass(frozen=True)
class Polarity:
    """Which way a metric is better, and against what a claim of direction about it is judged."""

    better: int
    """+1: higher is better (speedup, gain, fitness); -1: lower is better (an error, a time)."""
    neutral: float | None
    """The value of 'no change' for a metric measured against a reference ('speedup over seed' 1, a gain 0);
    None for a metric that is compared with another value of the same quantity (the default model's error)."""
    family: str
    """'speed' or 'accuracy' for metrics that words like 'faster' or 'closer' speak of; '' otherwise."""


_SPEEDUP = {"speedup", "speedups"}
_LOWER_IS_BETTER = {
    "rmse", "error", "errors", "err", "residual", "residuals", "disagreement", "mismatch", "deviation", "discrepancy",
    "misfit", "gci", "continuity", "mae", "mse", "regret", "bias",
}  # fmt: skip
_SLOWNESS = {"seconds", "latency", "runtime", "duration", "wall", "walltime", "elapsed", "ms", "milliseconds"}
_THROUGHPUT = {"throughput", "bandwidth", "gflops", "flops", "gbs"}
_HIGHER_IS_BETTER = {"fitness", "accuracy", "score", "efficiency"}


def polarity(name: str) -> Polarity | None:
    """The direction of a metric, read from its name; None where the name does not say (fail closed: a claim
    of direction about such a metric cannot be checked, so it is refused).

    A metric measured against a reference carries the reference in its meaning ('speedup over seed' > 1 is
    faster, 'in_sample_gain' > 0 is better); other metrics are compared with the same quantity elsewhere.
    """
    words = _words_of(name)
    joined = "".join(words)
    present = set(words)
    if present & _SPEEDUP or "speedup" in joined:
        return Polarity(1, 1.0, "speed")
    if "slowdown" in joined:
        return Polarity(-1, 1.0, "speed")
    if present & {"gain", "gains", "improvement"}:
        return Polarity(1, 0.0, "")
    if present & _LOWER_IS_BETTER:
        return Polarity(-1, None, "accuracy")
    if present & _SLOWNESS:
        return Polarity(-1, None, "speed")
    if present & _THROUGHPUT:
        return Polarity(1, None, "speed")
    if present & _HIGHER_IS_BETTER:
        return Polarity(1, None, "accuracy" if "accuracy" in present else "")
    return None
