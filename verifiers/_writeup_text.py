"""Reading model prose the way its reader will see it: visible text, sentences, numbers as written.

The write-up gate judges what a reader of the rendered report sees. So the prose is first folded
to plain text (Unicode compatibility forms, other scripts' digits, markdown escapes and emphasis),
and anything that would make the rendered text differ from the text judged (raw HTML, character
references, links, invisible characters, letters posing as digits) is a problem by itself.
"""

from __future__ import annotations

import bisect
import math
import re
import unicodedata
from collections.abc import Iterable

MAX_PROSE_CHARS = 6000
"""A summary is two paragraphs; anything far longer is not what was asked for."""

_INVISIBLE = {"Cf", "Co", "Cs", "Cn"}
_HTML = re.compile(r"<\s*/?\s*[A-Za-z!?][^>]*>|<!--|&(?:#\d+|#[xX][0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]*);")
_LIST_MARK = r"(?:[-*+]|\d{1,9}[.)])\s+"
_LINK = re.compile(
    rf"!?\[[^\]]*\]\s*\(|!\[[^\]]*\]\[|^\s*(?:{_LIST_MARK})*\[[^\]]+\]:|<https?:|\bhttps?://",
    re.MULTILINE | re.IGNORECASE,
)
"""Inline and reference-style links and images, link definitions (at the top level or inside list items, where
they still apply to the whole document), autolinks and bare URLs, in any letter case."""
_STRUCTURE = re.compile(
    rf"^ {{0,3}}(?:{_LIST_MARK})*(?:#{{1,6}}(?:\s|$)|>|\||(?:[-*_=]\s*){{3,}}$|=+\s*$|-+\s*$)", re.MULTILINE
)
"""Headings, block quotes, table rows and rules: a summary is paragraphs, and these would make it look like
the report's own sections ("## Accepted results") around text the report did not produce."""
_FENCE = re.compile(r"^ {0,3}(?:`{3,}|~{3,})", re.MULTILINE)
"""A code fence: one the summary leaves open turns every section after it (the accepted results, the
experiments not accepted, the notes) into one block of code, so a reader sees none of what the gates said."""
_NUMERIC_TOKEN = re.compile(r"(?<![\w.])[0-9OoIlS]+(?:[.,][0-9OoIlS]+)*(?![\w])")
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_EMPHASIS = re.compile(r"[*_~`]")
_TIMES_TEN = re.compile(r"(\d+(?:\.\d+)?)\s*[×x·*]\s*10\s*\^?\s*\(?([-+−]?\d+)\)?")
_PERCENT_WORD = re.compile(r"\s*\b(?:per\s*cent|percent)\b", re.IGNORECASE)
_CITATION = re.compile(r"\bV(\d+)\b")
_SIGN_WORD = re.compile(r"\b(?:minus|negative)\s+(?=\.?\d)", re.IGNORECASE)
"""'minus 2.5 %', 'negative 0.025': the sign said in words right before the digits is the number's sign."""
_GLUED = re.compile(r"(?<=[A-Za-z])\.?(\d*\.\d+)(?![\d.])|(?<![\w.])[x×](\d+(?:\.\d+)?)(?![\w.])", re.IGNORECASE)
"""Numbers a reader still reads though letters touch them: 'rmse0.31', 'approx.0.31', a factor 'x2'.
(Whole numbers after letters, as in 'L2' or 'k2', are names.)"""
_MULTIPLIED = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(k|M)(?![A-Za-z0-9])")
"""'64k cells', '1.2M cells': the letter multiplies the number it touches, so '64k' is checked as 64,000."""
_MULTIPLIERS = {"k": 3, "M": 6}
_NUMBER = re.compile(r"(?<![\w.])([-+−]?)(\d+(?:[.,]\d+)*|\.\d+)(?:[eE]([-+−]?\d+))?(\s*%)?")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[^a-z\s])")
_ABBREVIATION = re.compile(r"(?:\bet al|\be\.g|\bi\.e|\bcf|\bfig|\beq|\bvs|\bapprox|\bref|\bno|\bca)\.$", re.IGNORECASE)


def visible_text(prose: str) -> tuple[str, list[str]]:
    """The prose as a reader sees it, and what in it hides or disguises content.

    Returns:
        The folded text (NFKC, ASCII digits, markdown escapes and emphasis removed) and a list of
        problems; any problem rejects the prose, because the text judged would not be the text read.
    """
    problems: list[str] = []
    hidden = sorted({f"U+{ord(c):04X}" for c in prose if _hides(c)})
    if hidden:
        problems.append(f"invisible, private or control characters in the prose ({', '.join(hidden[:5])})")
    disguised_digits = sorted({c for c in prose if not c.isascii() and _folds_to_digit(c)})
    if disguised_digits:
        problems.append(f"digits written outside ASCII ({''.join(disguised_digits[:5])})")
    text = unicodedata.normalize("NFKC", prose)
    text = "".join(str(unicodedata.digit(c, 0)) if c.isdigit() and not c.isascii() else c for c in text)
    if _HTML.search(text):
        problems.append("raw HTML, comments or character references in the prose")
    if _LINK.search(text):
        problems.append("links or link definitions in the prose")
    if _STRUCTURE.search(text):
        problems.append("headings, tables, block quotes or rules in the prose (a summary is paragraphs)")
    if _FENCE.search(text):
        problems.append("code fences in the prose (``` or ~~~; a summary is paragraphs)")
    text = _EMPHASIS.sub("", _ESCAPE.sub(r"\1", text))
    posing = [token for token in _NUMERIC_TOKEN.findall(text) if _letters_posing_as_digits(token)]
    if posing:
        problems.append(f"letters written as digits ({', '.join(posing[:3])})")
    mixed = sorted({word for word in re.findall(r"\w+", text) if _mixed_script(word)})
    if mixed:
        problems.append(f"words mixing Latin with look-alike letters of other scripts ({', '.join(mixed[:3])})")
    inside = sorted(
        {
            c
            for c in text
            if not c.isascii() and c.isalnum() and re.search(rf"[\d.]{re.escape(c)}|{re.escape(c)}[\d.]", text)
        }
    )
    if inside:
        problems.append(f"non-ASCII characters inside numbers ({''.join(inside[:5])})")
    text = text.replace("\u2212", "-")
    text = _SIGN_WORD.sub("-", text)
    text = _TIMES_TEN.sub(lambda m: f"{m.group(1)}e{m.group(2)}", text)
    text = _PERCENT_WORD.sub(" %", text)
    return text, problems


def _hides(character: str) -> bool:
    """An invisible, private or control character, or a line or paragraph separator (U+2028, U+2029, form
    feed, vertical tab) that cuts the text judged where the rendered text runs on."""
    category = unicodedata.category(character)
    return category in _INVISIBLE or category in {"Zl", "Zp"} or (category == "Cc" and character not in "\n\r\t")


def _folds_to_digit(character: str) -> bool:
    """A digit or numeral of another script or form (fullwidth, superscript, circled, mathematical, Roman
    numerals such as 'Ⅳ', fractions) a reader reads as a number."""
    return (
        character.isdigit()
        or unicodedata.numeric(character, None) is not None
        or any(c.isdigit() for c in unicodedata.normalize("NFKC", character))
    )


def _mixed_script(word: str) -> bool:
    """'kЕpsilon' (a Cyrillic Е): a word a reader reads as Latin but no Latin text search would find."""
    latin = any(c.isascii() and c.isalpha() for c in word)
    other = any(c.isalpha() and not c.isascii() and "LATIN" not in unicodedata.name(c, "") for c in word)
    return latin and other


def _letters_posing_as_digits(token: str) -> bool:
    """'O.OO31', '1OO', 'l.5': letters shaped like digits in a token that is otherwise a number."""
    letters = any(c in "OoIlS" for c in token)
    return letters and (any(c.isdigit() for c in token) or "." in token or "," in token)


def paragraphs(prose: str) -> list[str]:
    """The prose as the report prints it: blocks between blank lines, each one line (its lines joined by a space).

    Markdown joins a paragraph's lines into one run of text, so a claim split at a line break ("X was not
    accepted, and then / reached 0.0118 [V9], passing every gate") is read whole; the gate judges these
    joined paragraphs, and the writer prints exactly them, escaped, so nothing markdown could reassemble
    or restructure differs from what was judged.
    """
    blocks: list[list[str]] = [[]]
    for line in prose.splitlines():
        if line.strip():
            blocks[-1].append(line.strip())
        elif blocks[-1]:
            blocks.append([])
    return [" ".join(block) for block in blocks if block]


def sentences(text: str) -> list[str]:
    """Units a claim cannot cross: each paragraph as it renders (`paragraphs`), then each sentence in it."""
    units: list[str] = []
    for paragraph in paragraphs(text):
        stripped = paragraph.lstrip("#>").strip()
        if not stripped.strip("|-: "):
            continue
        pieces: list[str] = []
        for part in _SENTENCE_END.split(stripped):
            if pieces and _ABBREVIATION.search(pieces[-1]):
                pieces[-1] = f"{pieces[-1]} {part}"  # "Ghia et al. (1982)" does not end a sentence
            else:
                pieces.append(part)
        units += [piece.strip() for piece in pieces if piece.strip()]
    return units


_CITATION_GROUP = re.compile(r"(?:[\[(]\s*V\d+(?:\s*[,;]\s*V\d+)*\s*[\])]\s*)+|\bV\d+\b")


def segments(unit: str) -> list[str]:
    """The unit cut after each group of citations: a number or a name binds to the citations that follow it.

    "kEpsilon failed [V12], kOmegaSST reached 0.214 [V13]" is two segments, so 0.214 must be a value
    of V13, not of V12. Text after the last citation belongs to the last segment.
    """
    pieces: list[str] = []
    start = 0
    for match in _CITATION_GROUP.finditer(unit):
        pieces.append(unit[start : match.end()])
        start = match.end()
    tail = unit[start:]
    if pieces and not citations(tail):
        pieces[-1] += tail
    elif tail.strip() or not pieces:
        pieces.append(tail)
    return pieces


def citations(unit: str) -> list[int]:
    """Verdict ids cited in a unit (`[V12]`, `[V3, V4]`, `V5`)."""
    return [int(match) for match in _CITATION.findall(unit)]


_AUTHOR_YEAR = re.compile(r"\bet al\.?,?\s*\(?(?:1[89]\d\d|20\d\d)[a-z]?\)?")


def without_citations(unit: str) -> str:
    """The unit without verdict citations, nor the year of a cited paper ('Ghia et al. (1982)')."""
    return _AUTHOR_YEAR.sub("et al. ", _CITATION.sub(" ", unit))


def numbers_in(text: str) -> list[tuple[str, float]]:
    """(as written, value) for each number in `text`; '1,000' is a thousand, '12 %' is 12."""
    return [(written, value) for _, written, value in numbers_at(text)]


def numbers_at(text: str) -> list[tuple[int, str, float]]:
    """(offset in `text`, as written, value) for each number written in digits, in order of offset.

    The offset lets the gate tell which words stand next to a number: 'a limit of 0.02' states a
    limit, 'an RMSE of 0.02' a measured value, and '64 cells' a parameter.
    """
    found: list[tuple[int, str, float]] = []
    for match in _NUMBER.finditer(text):
        sign, core, exponent, percent = match.groups()
        if re.fullmatch(r"\d{1,3}(,\d{3})+", core):
            core = core.replace(",", "")
        elif "," in core:
            offset = match.start(2)
            for part in core.split(","):
                found.append((offset, part, float(part)))  # "100,400" is a list: each part is a number
                offset += len(part) + 1
            continue
        written = f"{sign}{core}" + (f"e{exponent}" if exponent else "") + ("%" if percent else "")
        try:
            value = float(f"{sign.replace('−', '-')}{core}" + (f"e{exponent.replace('−', '-')}" if exponent else ""))
        except ValueError:
            value = math.nan  # '0.31.2' reads as a number but is none: nothing supports it
        found.append((match.start(), written, value))
    for match in _GLUED.finditer(text):
        index = 1 if match.group(1) else 2
        found.append((match.start(index), match.group(index), float(match.group(index))))
    for match in _MULTIPLIED.finditer(text):
        core, power = match.group(1), _MULTIPLIERS[match.group(2)]
        found.append((match.start(), f"{core}e{power}", float(core) * 10.0**power))
    return sorted(found, key=lambda item: item[0])


def _decimals(written: str) -> int:
    mantissa = re.split(r"[eE]", written.rstrip("%"))[0]
    return len(mantissa.split(".")[1]) if "." in mantissa else 0


def supported(written: str, value: float, allowed: Iterable[tuple[float, bool]]) -> bool:
    """Whether a written number is an allowed value, rounded to the precision it was written with.

    Args:
        written: the number as the prose wrote it ('0.42%', '-1.5e-3').
        value: its value.
        allowed: (value, is_percent) pairs; a percent written for a fraction must be scaled by 100,
            and a fraction written for a percent is not the same number.

    A value written as 0 supports only a zero, and the sign must agree: a number written with a minus
    ('-2.5 %', '−0.025', 'minus 2.5 %') supports only a negative value, and a number written without one
    only a value of zero or more. Words of direction ('a loss of 2.5 %', 'fell by 2.5 %') never stand in for
    the sign: whether a fall is good or bad depends on what the metric measures (a fall in an error is a
    gain), so a negative value must be written with its sign, or it is not supported.
    """
    percent = written.endswith("%")
    exponent = re.search(r"[eE]([-+]?\d+)", written)
    scale = 10.0 ** int(exponent.group(1)) if exponent else 1.0
    half_step = 0.5 * 10.0 ** (-_decimals(written)) * scale
    signed = written.startswith("-")
    for candidate, is_percent in allowed:
        if not math.isfinite(candidate):
            continue
        target = candidate * 100.0 if percent and not is_percent else candidate
        if is_percent and not percent:
            continue  # a percentage metric written without '%' is a different number
        if value == 0 and target != 0:
            continue
        if signed != (target < 0):
            continue
        if abs(abs(value) - abs(target)) <= half_step * (1 + 1e-9) + 1e-15:
            return True
    return False


_UNITS = {
    word: value
    for value, word in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
        ]
    )
}
_TENS = {
    word: 10 * (index + 2)
    for index, word in enumerate(["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"])
}
_SCALES = {"dozen": 12, "hundred": 100, "thousand": 1000, "million": 1_000_000, "billion": 1_000_000_000}
_WORD = re.compile(r"[a-z]+|%|\S", re.IGNORECASE)
COUNT_WORDS_MAX = 12
"""Numbers in words up to twelve are counts ("two models"); larger ones, decimals and percentages are checked."""


_ZERO_WORDS = {"nought", "naught", "nil"}
_ARTICLES = {"a", "an"}
_COMPARATIVES = {"more", "less", "fewer", "larger", "smaller", "faster", "slower", "higher", "lower", "better",
                 "worse", "greater", "as", "the", "bigger", "cheaper", "quicker", "closer"}  # fmt: skip
"""'two-fold', 'three times faster', 'a factor of two': a ratio, checked whatever its size ('ran three times' is
a count)."""
_PARTS = {"half": 2, "third": 3, "thirds": 3, "quarter": 4, "quarters": 4, "fifth": 5, "fifths": 5,
          "sixth": 6, "sixths": 6, "seventh": 7, "sevenths": 7, "eighth": 8, "eighths": 8, "ninth": 9, "ninths": 9,
          "tenth": 10, "tenths": 10, "eleventh": 11, "elevenths": 11, "twelfth": 12, "twelfths": 12,
          "hundredth": 100, "hundredths": 100, "thousandth": 1000, "thousandths": 1000,
          "millionth": 1_000_000, "millionths": 1_000_000}  # fmt: skip
for _word, _value in [*_UNITS.items(), *_TENS.items()]:  # 'thirteenth', 'fortieth', 'ninetieths'
    if _value >= 13:
        _ordinal = f"{_word[:-1]}ieth" if _word.endswith("y") else f"{_word}th"
        _PARTS[_ordinal], _PARTS[f"{_ordinal}s"] = _value, _value
_FACTOR_WORDS = {"halved": 0.5, "halves": 0.5, "halve": 0.5, "halving": 0.5, "twice": 2.0, "double": 2.0,
                 "doubles": 2.0, "doubled": 2.0, "doubling": 2.0, "triple": 3.0, "tripled": 3.0, "triples": 3.0,
                 "tripling": 3.0, "treble": 3.0, "trebled": 3.0, "thrice": 3.0, "quadruple": 4.0, "quadruples": 4.0,
                 "quadrupled": 4.0, "twofold": 2.0, "threefold": 3.0, "fourfold": 4.0, "fivefold": 5.0,
                 "tenfold": 10.0, "hundredfold": 100.0}  # fmt: skip
"""Ratios said in one word; a ratio of two results is no value of either, so each is checked."""
_HALF_BEFORE = {"the", "as", "its", "their", "that", "his", "her"}
_NOT_A_FACTOR = {"precision", "check", "checked", "checks", "layer", "layers", "counted", "counting", "quotes"}
"""'double precision', 'double-checked': the word names a kind of thing, not a ratio of results."""
_HALF_OF_A_PLACE = {"lower", "upper", "left", "right", "top", "bottom", "first", "second", "other", "front", "back",
                    "inner", "outer", "downstream", "upstream", "eastern", "western", "northern",
                    "southern"}  # fmt: skip
"""'the lower half of the cavity' is a place; 'half of the cells' is a share, checked like 0.5."""
_NOT_BEFORE_POINT = {"this", "that", "the", "a", "one", "some", "which", "what", "each", "every", "no", "any",
                     "same", "another", "starting", "end", "from", "sampling", "probe"}  # fmt: skip
"""'at this point one case failed': 'point' as a noun; 'was point three one' is a decimal."""


def _written(value: float) -> str:
    """A value in digits at the precision a reader takes from a fraction word ('a third' ~ 0.33, 'a half' ~ 0.5,
    'four thousandths' ~ 0.004: two significant digits, so a small fraction never reads as a rounded zero)."""
    if value == int(value):
        return str(int(value))
    return f"{float(f'{value:.2g}'):.12f}".rstrip("0").rstrip(".")


def _starts_number(tokens: list[str], index: int) -> bool:
    token = tokens[index]
    following = tokens[index + 1] if index + 1 < len(tokens) else ""
    if token in _UNITS or token in _TENS or token in _SCALES or token in _ZERO_WORDS:
        return True
    if token == "oh" and following == "point":
        return True
    if token == "point" and (following in _ZERO_WORDS or following == "oh" or _UNITS.get(following, 10) < 10):
        return index == 0 or tokens[index - 1] not in _NOT_BEFORE_POINT
    return token in _ARTICLES and (
        following in _SCALES or (following in _PARTS and following not in {"half", "halves"})
    )


def _word_factors(tokens: list[str]) -> list[tuple[int, str, float]]:
    """Ratios said in words alone: 'halved', 'twice', 'threefold', 'half the error of', 'by half' (with the index
    of their token)."""
    found = []
    for index, token in enumerate(tokens):
        before = tokens[index - 1] if index else ""
        after = tokens[index + 1] if index + 1 < len(tokens) else ""
        if token in _FACTOR_WORDS and after not in _NOT_A_FACTOR:
            found.append((index, _written(_FACTOR_WORDS[token]), _FACTOR_WORDS[token]))
        elif token == "half" and (
            after in _HALF_BEFORE or before == "by" or (after == "of" and before not in _HALF_OF_A_PLACE)
        ):
            found.append((index, "0.5", 0.5))
        elif token in {"order", "orders"} and tokens[index + 1 : index + 3] == ["of", "magnitude"]:
            power = _UNITS.get(before, 1) if token == "orders" else 1
            found.append((index, _written(10.0**power), 10.0**power))  # 'an order of magnitude' is a factor of ten
    return found


def _one_in(tokens: list[str], index: int) -> int | None:
    """The whole after 'in' in 'one in three' or 'one cell in five' (a share said in words), if the tokens from
    `index` (just after the first number) read so."""
    for skip in (0, 1):
        at = index + skip
        if at + 1 < len(tokens) and tokens[at] == "in" and tokens[at + 1] in _UNITS:
            return _UNITS[tokens[at + 1]] or None
    return None


_SIGN_WORDS = {"minus", "negative"}


def _tokens_at(text: str) -> tuple[list[str], list[int]]:
    """Lower-case word tokens of `text` (hyphens read as spaces) and the offset of each in `text`."""
    matches = list(_WORD.finditer(text.replace("-", " ")))
    return [match.group().lower() for match in matches], [match.start() for match in matches]


def spelled_numbers(text: str) -> list[tuple[str, float]]:
    """Numbers written in words that state a quantity: 'twenty-one percent', 'zero point two one', 'a hundred',
    and fractions and ratios in words ('two thirds', 'three-fold', 'twice', 'halved', 'two and a half').

    Returns (as written in digits, value) for each, to be checked like any number; small counts
    ("three models") are left out. A number in words the reader cannot turn into a value is not
    returned here but by `unread_numbers`, which rejects it.
    """
    return [(written, value) for _, written, value in spelled_numbers_at(text)]


def spelled_numbers_at(text: str) -> list[tuple[int, str, float]]:
    """`spelled_numbers` with the offset in `text` where each number starts."""
    tokens, offsets = _tokens_at(text)
    found = [(offsets[index], written, value) for index, written, value in _word_factors(tokens)]
    index = 0
    while index < len(tokens):
        if not _starts_number(tokens, index):
            index += 1
            continue
        start = index
        sign = -1.0 if start and tokens[start - 1] in _SIGN_WORDS else 1.0  # 'minus two point five'
        factor = index >= 2 and tokens[index - 2 : index] == ["factor", "of"]
        whole, current, decimals, digits = 0, 0, None, ""
        if tokens[index] in _ARTICLES:
            current, index = 1, index + 1
        while index < len(tokens):
            token = tokens[index]
            if decimals is None and token in _UNITS:
                current += _UNITS[token]
            elif decimals is None and (token in _ZERO_WORDS or token == "oh"):
                pass
            elif decimals is None and token in _TENS:
                current += _TENS[token]
            elif decimals is None and token in _SCALES:
                current = max(current, 1) * _SCALES[token]
                if _SCALES[token] >= 1000:
                    whole, current = whole + current, 0
            elif decimals is None and token == "and":
                if _mixed_fraction(tokens, index + 1) is not None:
                    index += 1  # 'one and three quarters': the fraction is added below
                    break
            elif token == "point" and decimals is None:
                decimals = 0
            elif decimals is not None and (token in _ZERO_WORDS or token == "oh"):
                digits += "0"
                decimals += 1
            elif decimals is not None and token in _UNITS and _UNITS[token] < 10:
                digits += str(_UNITS[token])
                decimals += 1
            else:
                break
            index += 1
        value: float = whole + current
        written = f"{int(value)}.{digits}" if digits else str(int(value))
        mixed = _mixed_fraction(tokens, index) if decimals is None else None
        if mixed is not None:  # 'two and a half percent', 'one and three quarters'
            written = f"{int(value)}{_written(mixed)[1:]}"  # the fraction at a fraction word's precision
            value, index = float(written), index + 2
        following = tokens[index] if index < len(tokens) else ""
        percent = following == "%"
        after = tokens[index + 1] if index + 1 < len(tokens) else ""
        ratio = factor or following == "fold" or (following == "times" and after in _COMPARATIVES)
        share = _one_in(tokens, index) if not digits and value >= 1 else None
        at = offsets[start]
        if not digits and mixed is None and following in _PARTS and value >= 1:
            part = value / _PARTS[following]
            found.append((at, _signed(_written(part), sign), sign * part))
            index += 1
        elif share is not None and share > value and mixed is None:
            found.append((at, _written(value / share), value / share))  # 'one in three', 'one cell in five'
            index += 1
        elif (
            digits
            or percent
            or value > COUNT_WORDS_MAX
            or ratio
            or mixed is not None
            or sign < 0
            or (mixed is None and _said_as_a_value(tokens, start, index, value))
        ):
            found.append((at, _signed(written, sign) + ("%" if percent else ""), sign * float(written)))
    return sorted(found, key=lambda item: item[0])


_VALUE_FRAMES = {"of", "was", "is", "were", "are", "be", "been", "equal", "equals", "equalled", "equaled", "to",
                 "reached", "reaching", "=", ":"}  # fmt: skip
"""Words after which a small number in words is the value of what precedes ('a gain of one', 'the RMSE was two')."""


def _said_as_a_value(tokens: list[str], start: int, end: int, value: float) -> bool:
    """Whether a small whole number in words states a value rather than counting things.

    'Zero', 'nil' and 'nought' always state one: 'zero cases' says as much as '0 cases', and 'a gain of zero'
    must be checked like 'a gain of 0'. Another small number states a value when it follows a word that gives
    a quantity its value and no noun follows it ('a gain of one [V1]', not 'one of seven tried', 'at one end').
    """
    if value == 0:
        return True
    before = tokens[start - 1] if start else ""
    following = tokens[end] if end < len(tokens) else ""
    if before not in _VALUE_FRAMES or (following.isalpha() and following not in {"x", "times"}):
        return False
    return not (before == "of" and start >= 2 and (tokens[start - 2] in _UNITS or tokens[start - 2] in _TENS))


def _signed(written: str, sign: float) -> str:
    return f"-{written}" if sign < 0 else written


def _mixed_fraction(tokens: list[str], index: int) -> float | None:
    """The fraction of 'two and a half' or 'one and three quarters' when the whole number before `index` ended
    on 'and' and a fraction in words follows; None otherwise."""
    if index < 1 or tokens[index - 1] != "and" or index + 1 >= len(tokens):
        return None
    count, part = tokens[index], tokens[index + 1]
    if part not in _PARTS or not (count in _ARTICLES or count in _UNITS):
        return None
    return (1 if count in _ARTICLES else _UNITS[count]) / _PARTS[part]


_NUMBER_WORDS = "|".join(sorted({*_UNITS, *_TENS, *_SCALES, *_ZERO_WORDS}, key=len, reverse=True))
_FRACTION_WORDS = "|".join(sorted(_PARTS, key=len, reverse=True))
_UNREAD = [
    (
        re.compile(
            rf"\b(?:{_NUMBER_WORDS}|\d+(?:\.\d+)?)\s+to\s+the\s+(?:power|minus|negative|plus|"
            rf"{_FRACTION_WORDS}|{_NUMBER_WORDS}|\d+)\b"
        ),
        "a power said in words",
    ),
    (
        re.compile(
            r"‰|‱|\bper\s*mill?e?\b|\bpermille\b|\bper\s+(?:ten\s+)?(?:thousand|million|billion)\b|"
            r"\bbasis\s+points?\b|\bbps\b|\bpp[mbt]\b|\bparts?\s+per\b"
        ),
        "a scale the gate does not read (per mille, basis points, parts per ...)",
    ),
    (
        re.compile(
            rf"\b(?:few|several|couple|handful|some|many|multiple|various|fraction|dozens|hundreds|thousands)"
            rf"\s+(?:of\s+)?(?:a\s+|an\s+|the\s+)?(?:{_FRACTION_WORDS}|%)(?!\w)"
        ),
        "a vague quantity of a fraction or a percentage",
    ),
    (
        re.compile(
            rf"\bhalf\s+(?:of\s+)?(?:a|an|one)\s+(?:%|{_FRACTION_WORDS}|hundred|thousand|million)(?!\w)|"
            rf"(?<!and )\b(?:a|an)\s+half\s+(?:%|{_FRACTION_WORDS})(?!\w)"
        ),
        "half of a fraction or a percentage",
    ),
    (
        re.compile(rf"(?:\b(?:{_FRACTION_WORDS})|\d)\s+(?:of\s+)?(?:a|an|one)\s+(?:%|{_FRACTION_WORDS})(?!\w)"),
        "a fraction of a fraction or of a percentage",
    ),
    (
        re.compile(rf"\d\s*(?:{_FRACTION_WORDS})\b|\d\s+and\s+(?:a|an|{_NUMBER_WORDS})\s+(?:{_FRACTION_WORDS})\b"),
        "a fraction in words after digits",
    ),
    (
        re.compile(rf"\b(?:one|a|an|\d+)\s+(?:[a-z]+\s+)?in\s+(?:every|each|a|an)\s+(?:{_NUMBER_WORDS}|\d+)\b"),
        "a share said in words",
    ),
]
"""Numbers said in words that `spelled_numbers` does not turn into a value: each rejects the sentence, since a
number that is not read cannot be checked. Small counts of things ('two cases') match none of these."""


_ROMAN = re.compile(
    r"(?<![\w.])(?=[MDCLXV]|I[IVX])M{0,4}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})(?!\w|\.\w)"
)
"""A Roman numeral in capitals, of one letter or more ('I' alone is the pronoun; 'V1' is a citation, not a numeral)."""
_ROMAN_WORD_BEFORE = re.compile(r"[^\W\d_]+|[=≈~%]")
_ROMAN_WORD_AFTER = re.compile(r"[^\W\d_]+|[=≈~%]|\S")
_ROMAN_AFTER = {"re", "reynolds", "=", "≈", "~", "approximately", "about", "around", "roughly", "nearly", "exactly"}
"""Words after which a Roman numeral can only be a quantity ('at Re CD')."""
_ROMAN_BEFORE = {"%", "percent", "per", "times", "fold", "experiments", "runs", "cases", "cells", "iterations",
                 "steps", "problems", "kernels", "proofs", "candidates", "evaluations", "meshes", "seconds",
                 "minutes", "hours"}  # fmt: skip
"""Words before which a Roman numeral states an amount ('XII percent', 'II runs')."""


def roman_numbers(text: str) -> list[str]:
    """Roman numerals standing where a number would: 'an error of XII percent', 'at Re CD', 'the RMSE was XL.'

    They are not read as values, so they are reported and the sentence rejected (fail closed, as for numbers in
    words). A numeral naming something ('Case II', 'Type I', the drag coefficient 'CD was 1.2', 'the value of
    CD was') is left alone: a value frame ('of', 'was', 'at', 'by') counts only when no word follows the numeral.
    """
    found = []
    words = list(_ROMAN_WORD_BEFORE.finditer(text))  # once: read again before each numeral, it was quadratic
    ends = [word.end() for word in words]
    for match in _ROMAN.finditer(text):
        before = bisect.bisect_right(ends, match.start())
        after = _ROMAN_WORD_AFTER.search(text, match.end())
        previous = words[before - 1].group().lower() if before else ""
        following = after.group().lower() if after else ""
        framed = previous in _VALUE_FRAMES or previous in {"at", "by"}
        if (
            following in _ROMAN_BEFORE
            or previous in _ROMAN_AFTER
            or (framed and not (following.isalpha() or following in {"=", "≈", "~"}))
        ):
            found.append(f"a Roman numeral used as a number: '{match.group()}'")
    return found


def unread_numbers(text: str) -> list[str]:
    """The numbers in words in `text` that no value was read for, each as the words that say it.

    Fail closed: a quantity written so that the gate cannot check it is a problem, never a number skipped
    as a count. 'two and a half' is read (`spelled_numbers`); 'an hour and a half' leaves 'a half' unread.
    """
    tokens, _ = _tokens_at(text)
    spoken = " ".join(tokens)
    problems = [f"{what}: '{match.group()}'" for pattern, what in _UNREAD for match in pattern.finditer(spoken)]
    problems += roman_numbers(text)
    for index in range(1, len(tokens) - 2):
        if tokens[index] == "and" and tokens[index + 1] in {"a", "an", "one"} and tokens[index + 2] == "half":
            before = tokens[index - 1]
            if not (before in _UNITS or before in _TENS or before in _SCALES):
                problems.append(f"a mixed number in words: '{before} and {tokens[index + 1]} half'")
    return problems
