"""Words of goals and task descriptions, normalised so that different spellings of one subject meet.

"n-body", "N body" and "nbody" are one word here; so are "Spalart-Allmaras" and "SpalartAllmaras",
and "fast Fourier transform" also reads as the acronym "fft". Plurals fold to the singular and a few
synonyms fold to the word the catalog uses ("proof" to "prove", "speed-up" to "faster"). What counts as
generic (never enough to choose a task) lives in `_vocabulary`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agents.planner._vocabulary import FILLER, stem

_TOKEN = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")
_ALPHA_PREFIX = re.compile(r"^([a-z]{3,})\d")
_PROBLEM_NUMBER = re.compile(r"^(?:problem|prob)$")
_SUFFIXES = ("ational", "ation", "ional", "ing", "ion", "ed", "al", "ic", "y", "e")
_OMITTED_INITIALS = "mase"
"""Initials of words an acronym may stand for that prose omits: method, model, algorithm, scheme, equation."""


@dataclass(frozen=True)
class Words:
    """The words of one text: `sequence` in order (compounds joined), `parts` of each compound."""

    sequence: tuple[str, ...]
    parts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    surface: dict[str, str] = field(default_factory=dict)
    """Each word as the text first wrote it, to quote back to the user."""

    def spell(self, word: str) -> str:
        return self.surface.get(word, word)

    def content(self) -> list[str]:
        """Words that can carry meaning: no filler, no bare numbers, at least two characters."""
        return [w for w in self.sequence if w not in FILLER and not w.isdigit() and len(w) >= 2]

    def all_parts(self) -> set[str]:
        return {part for parts in self.parts.values() for part in parts}

    def joined(self, longest: int = 3) -> set[str]:
        """Adjacent words written together ("n body" as "nbody", "k omega sst" as "komegasst")."""
        out: set[str] = set()
        for size in range(2, longest + 1):
            for start in range(len(self.sequence) - size + 1):
                out.add("".join(self.sequence[start : start + size]))
        return out

    def acronyms(self, generic: frozenset[str]) -> dict[str, set[str]]:
        """Initials of 2-4 adjacent words with at least one specific word ("fast Fourier transform": "fft"),
        each with the words it stands for.

        An acronym often ends in a word the prose leaves out ("lattice Boltzmann" for LBM, the M of
        "method"), so each is also given with the initial of such a word appended.
        """
        out: dict[str, set[str]] = {}
        spread = [part for word in self.sequence for part in self.parts.get(word, (word,)) or (word,)]
        whole = {part: word for word in self.sequence for part in self.parts.get(word, ())}
        for size in range(2, 5):
            for start in range(len(spread) - size + 1):
                window = spread[start : start + size]
                if all(w.isalpha() and w not in FILLER for w in window) and any(w not in generic for w in window):
                    initials = "".join(w[0] for w in window)
                    for acronym in [initials, *(initials + letter for letter in _OMITTED_INITIALS)]:
                        out.setdefault(acronym, set()).update(whole.get(w, w) for w in window)
        return out


def root(word: str) -> str:
    """The word without a derivational ending ("gravitational" and "gravity" share "gravit")."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def words(text: str) -> Words:
    """Normalised words of `text`: lower case, hyphenated and camel-case compounds as one word.

    Underscores separate words (a problem id `aime_1983_p1` reads as aime, 1983, p1), and "problem 12"
    reads as "p12", the way problem ids abbreviate it.
    """
    sequence: list[str] = []
    parts: dict[str, tuple[str, ...]] = {}
    surface: dict[str, str] = {}
    for raw in _TOKEN.findall(text.replace("_", " ")):
        pieces = [stem(piece) for piece in raw.split("-") if piece]
        joined = stem("".join(piece.lower() for piece in raw.split("-")))
        surface.setdefault(joined, raw)
        for piece in raw.split("-"):
            surface.setdefault(stem(piece), piece)
        if len(pieces) > 1:
            parts[joined] = tuple(pieces)
        elif (prefix := _ALPHA_PREFIX.match(joined)) and prefix.group(1) != joined:
            parts[joined] = (prefix.group(1),)
        if joined.isdigit() and sequence and _PROBLEM_NUMBER.match(sequence[-1]):
            sequence[-1] = f"p{joined}"
            continue
        sequence.append(joined)
    return Words(tuple(sequence), parts, surface)
