"""Claims a report cannot make from its gates: properties no cited gate checked, and reach past the experiments.

A verdict says what its gate checked on one experiment. "The mesh-independent solution [V1]" citing a
comparator, "the kernel stays correct on unseen sizes [V3]" citing the correctness gate, or "the solver is
validated for industrial use [V1]" read as findings of the run while no gate looked at them. Each property
that a gate of its own checks (mesh independence, held-out sizes, reproduction, physical range, the rendered
field) must cite a verdict of such a gate (what it may then say is held to that verdict like any claim), unless
the words around it deny it ("not checked for mesh independence", "mesh independence was not checked"); a claim of
fitness for use, of a guarantee, or of results holding for every flow or input is refused outright.
"""

from __future__ import annotations

import re
from collections.abc import Collection

_DENIED = re.compile(
    r"\b(?:not|no|never|without|nor|neither|unchecked|untested|unverified|lacks?|lacking)\b(?:\W+\w+){0,4}\W*$",
    re.IGNORECASE,
)
"""A negation within the four words before a claim: 'was not checked for mesh independence'."""
_DENIED_AFTER = re.compile(
    r"^\W*(?:was|were|is|are|has\s+been|have\s+been)\s+(?:not|never)\s+(?:checked|tested|assessed|verified|"
    r"studied|examined|evaluated|established|shown|demonstrated|measured)\b",
    re.IGNORECASE,
)
"""The claim's own denial right after it: 'mesh independence was not checked'."""

_PROPERTIES: tuple[tuple[str, re.Pattern[str], frozenset[str]], ...] = (
    (
        "mesh independence",
        re.compile(
            r"\b(?:mesh|grid)[\s-]+(?:independen\w*|converge\w*|insensitiv\w*)|\bindependen\w*\s+of\s+the\s+"
            r"(?:mesh|grid|resolution)\b|\b(?:mesh|grid)[\s-]+refinement\s+(?:study|studies|check)\b",
            re.IGNORECASE,
        ),
        frozenset({"mesh-independence"}),
    ),
    (
        "held-out sizes",
        re.compile(r"\bheld[\s-]*out\b|\bunseen\s+(?:sizes?|inputs?|problems?)\b|\bgenerali[sz]\w*", re.IGNORECASE),
        frozenset({"kernel-heldout", "held-out"}),
    ),
    (
        "reproduction",
        re.compile(r"\breproducib\w*|\bre-?ran\s+(?:it|the\s+case)\b", re.IGNORECASE),
        frozenset({"reproduction"}),
    ),
    (
        "physical range",
        re.compile(r"\bphysically\s+(?:plausible|realistic|consistent|meaningful|sound)\b", re.IGNORECASE),
        frozenset({"physical-range"}),
    ),
)
"""(property, how prose claims it, the gates whose verdicts may speak of it)."""

_REACH = re.compile(
    r"\bindustri(?:al|ally)\b|\bproduction[\s-]+(?:use|ready|grade|quality|settings?|codes?)\b|\bcertifi\w*|"
    r"\bguarant\w*|\buniversal(?:ly)?\b|\bin\s+general\b|\bready\s+for\b|\bsuitable\s+for\b|\bfit\s+for\b|"
    r"\bsafe\s+(?:to|for)\b|\bvalidated\s+for\b|\b(?:for|at|on|in)\s+(?:all|any|every)\s+(?:other\s+)?"
    r"(?:reynolds\s+numbers?|flows?|conditions|geometr\w+|inputs?|sizes?|problems?|devices?|hardware|"
    r"machines?|regimes?|cases?\s+(?:of|like)|applications?|use\s+cases?)\b"
    r"(?!\s+(?:it\s+|we\s+|labgate\s+)?(?:checked|tested|tried|measured|ran|run|judged|planned|studied))",
    re.IGNORECASE,
)
"""Claims past the experiments the run made: fitness for use, guarantees, results for every flow or input."""


def scope_problems(body: str, cited_gates: Collection[str]) -> list[str]:
    """What in a sentence (its text without citations) claims more than the verdicts it cites can support.

    `cited_gates` are the gates of the verdicts the sentence cites.
    """
    problems = [
        f"it speaks of {name} ('{match.group()}') but cites no {' or '.join(sorted(gates))} verdict"
        for name, pattern, gates in _PROPERTIES
        if (match := pattern.search(body))
        and not (gates & set(cited_gates))
        and not _DENIED.search(body[: match.start()])
        and not _DENIED_AFTER.search(body[match.end() :])
    ]
    reach = _REACH.search(body)
    if reach:
        problems.append(f"'{reach.group()}' claims more than the run's experiments showed")
    return problems
