"""Numbers as documents write them, made plain before a parameter is read from them.

Research documents come from everywhere, and a number's spelling depends on where: "Re = 5,600" is
five thousand six hundred in an English paper and five point six in a German one, "Re = 5.600" the
other way round, and "Re = 5 600" (a space, a thin space, LaTeX's `\\,`) or "5.6e3" or "5,6 · 10^3"
are the same value again. Reading only the digits before the first space or exponent sets a Reynolds
number 10 or 1000 times off, which is a wrong plan, not a missing one.

So every number is rewritten in one plain spelling ("5600", "5.6") before the prose patterns see it.
A separator that could be either (one group of exactly three digits after a single `,` or `.`) is
read by the convention of the document it comes from: the convention its unambiguous numbers show
("0,25", "1.234.567" or "1.234,5": decimal comma; "0.25", "1,234,567" or "1,234.5": decimal point),
or, where its numbers show none, the language of its words. A document whose numbers show both,
or whose numbers and words disagree, leaves such a number unread rather than guessed; one that shows
neither is read the English way.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Literal

Convention = Literal["point", "comma", "unknown"]
"""How a document writes decimals: with a point, with a comma, or not known (mixed or no evidence)."""

_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20, 0x2212: 0x2D}
"""Full-width forms (CJK text writes `Re＝１０００`) and the minus sign, as their ASCII letters."""

_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")

# Digit groups joined by a character that only ever groups thousands: no-break, thin and narrow
# spaces, LaTeX's thin space. A plain space groups them right after a relation ("Re = 5 600"); elsewhere
# ("Re 5 600", "Table 2 100 cases") it may as well separate two numbers, so such a number is not read.
_GROUPED = re.compile(r"(?<![\d.,])(\d{1,3})((?:(?:[\u00a0\u2009\u202f]|\\,|\\ |~)\d{3})+)(?![\d])")
_SPACE_GROUPED = re.compile(r"(?<![\d.,])(\d{1,3})((?: \d{3})+)(?!\d|[.,]\d)")
_RELATION = re.compile(r"[=≈≃∼:<>≤≥]\s*$")
_CLEAR_MAJORITY = 3
"""How many times more numbers must show one convention than the other for a document to show it."""
UNREAD = "(unread number)"
"""What a number that cannot be read without guessing becomes: no reader takes a value from it."""

_POWER = r"(?:\s*(?:×|x|\\times|·|\\cdot|\*)\s*10\s*(?:\^\s*\{?\s*([-+]?\d{1,3})\s*\}?|([⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]{1,4})))"
_TOKEN = re.compile(rf"(?<![\w.,])(\d(?:[\d.,]*\d)?)(?:[eE]([-+]?\d{{1,3}})(?![\w])|{_POWER})?")

_AMBIGUOUS = re.compile(r"[1-9]\d{0,2}[.,]\d{3}")
_COMMA_EVIDENCE = re.compile(
    r"(?<![\w.,])(?:0,\d+|\d+,\d{1,2}(?!\d)|\d+,\d{4,}|[1-9]\d{0,2}(?:\.\d{3}){2,}|[1-9]\d{0,2}(?:\.\d{3})+,\d+)"
)
_POINT_EVIDENCE = re.compile(
    r"(?<![\w.,])(?:0\.\d+|\d+\.\d{1,2}(?!\d)|\d+\.\d{4,}|[1-9]\d{0,2}(?:,\d{3}){2,}|[1-9]\d{0,2}(?:,\d{3})+\.\d+)"
)
_COMMA_LANGUAGE = frozenset(
    [
        "und",
        "der",
        "die",
        "das",
        "mit",
        "bei",
        "ist",
        "wird",
        "eine",
        "einer",
        "nicht",
        "auf",
        "für",
        "von",
        "le",
        "la",
        "les",
        "et",
        "des",
        "est",
        "une",
        "avec",
        "dans",
        "pour",
        "sur",
        "el",
        "los",
        "las",
        "con",
        "para",
        "por",
        "una",
        "que",
        "uma",
        "il",
        "della",
        "nel",
        "het",
        "een",
        "van",
        "zijn",
        "niet",
    ]
)
"""Common words of languages that write a decimal comma (German, French, Spanish, Portuguese, Italian, Dutch)."""
_ENGLISH = frozenset(
    ["the", "and", "with", "of", "is", "are", "at", "for", "on", "to", "by", "from", "this", "that", "which", "we"]
)


_LATEX_WRAPPER = re.compile(r"\\(?:mathrm|text|textrm|mathit|operatorname|mbox)\s*\{([^{}]{1,40})\}")
_LATEX_SIGNS = {"\\times": " × ", "\\approx": "≈", "\\sim": "∼", "\\leq": "≤", "\\geq": "≥", "$": " "}


def _clean(text: str) -> str:
    """Full-width forms as ASCII, and LaTeX's markup of a value (`$\\mathrm{Re} = 3\\,200$`) as prose."""
    text = _LATEX_WRAPPER.sub(r"\1", text.translate(_FULLWIDTH).replace("{,}", ","))
    for sign, plain in _LATEX_SIGNS.items():
        text = text.replace(sign, plain)
    return text


def convention(text: str) -> Convention:
    """The decimal convention `text` shows: its unambiguous numbers and its language must not disagree.

    Either alone decides ("Re = 5.600 bei 0,001" or German prose); when they disagree ("refs. 3,4" in an
    English paper) or the numbers show both without a clear majority, it is unknown; with no evidence
    at all, English.
    """
    text = _clean(text)
    comma = len(_COMMA_EVIDENCE.findall(text))
    point = len(_POINT_EVIDENCE.findall(text))
    if comma and point and max(comma, point) < _CLEAR_MAJORITY * min(comma, point):
        return "unknown"
    numbers: Convention | None = "comma" if comma > point else "point" if point > comma else None
    language = _language(text)
    if numbers and language and numbers != language:
        return "unknown"
    return numbers or language or "point"


def _language(text: str) -> Convention | None:
    """Whether prose is in a language that writes a decimal comma ("comma"), in English ("point"), or unclear."""
    words = re.findall(r"[^\W\d_]+", text.lower())
    foreign = sum(word in _COMMA_LANGUAGE or "\u0400" <= word[0] <= "\u04ff" for word in words)
    english = sum(word in _ENGLISH for word in words)
    return "comma" if foreign > english else "point" if english > foreign else None


def _plain_digits(core: str, decimals: Convention) -> str | None:
    """`core` ("5,600", "1.234,5", "0,25") as digits with a decimal point, or None if it cannot be read surely."""
    if "," not in core and "." not in core:
        return core
    if _AMBIGUOUS.fullmatch(core):
        if decimals == "unknown":
            return None
        thousands = "." if decimals == "comma" else ","
        return core.replace(thousands, "").replace(",", ".")
    for thousands, point in ((",", "."), (".", ",")):
        if re.fullmatch(rf"[1-9]\d{{0,2}}(?:\{thousands}\d{{3}})+(?:\{point}\d+)?", core):
            return core.replace(thousands, "").replace(point, ".")
    if re.fullmatch(r"\d+\.\d+", core):
        return core
    if re.fullmatch(r"\d+,\d+", core) and decimals == "comma":
        return core.replace(",", ".")
    return None


def _plain(match: re.Match[str], decimals: Convention) -> str:
    core, exponent, power, superscript = match.groups()
    digits = _plain_digits(core, decimals)
    if digits is None:
        return UNREAD
    shift = exponent or power or (superscript.translate(_SUPERSCRIPTS) if superscript else None)
    if not shift:
        return digits
    try:
        value = Decimal(digits) * Decimal(10) ** int(shift)
    except (InvalidOperation, ValueError):
        return UNREAD
    return format(value.normalize(), "f")


def _join_spaced(match: re.Match[str]) -> str:
    after_relation = _RELATION.search(match.string, 0, match.start()) is not None
    return match.group(1) + match.group(2).replace(" ", "") if after_relation else UNREAD


def plain_numbers(text: str, decimals: Convention | None = None) -> str:
    """`text` with every number spelled plainly ("Re = 5 600" -> "Re = 5600"), read by `decimals`.

    `decimals`: the convention of the document the text comes from; None: the text's own.
    """
    text = _clean(text)
    decimals = convention(text) if decimals is None else decimals
    text = _GROUPED.sub(lambda m: m.group(1) + re.sub(r"\D", "", m.group(2)), text)
    text = _SPACE_GROUPED.sub(_join_spaced, text)
    return _TOKEN.sub(lambda m: _plain(m, decimals), text)
