"""Reading OpenFOAM dictionaries back, without OpenFOAM: what `check-case` infers a case's parameters from.

A small tokenizer and recursive-descent parser for the dictionary syntax (keywords, `{ }` blocks,
`( )` lists, `;`). Directives (`#include`, `#codeStream`) and `$` macros are kept as plain text,
never expanded or executed: a user's case is data to be read, not code to be run.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path
from typing import Any

from runs import (
    LabgateError,
    UntrustedFileError,
    UntrustedFileMissingError,
    read_untrusted_path,
    read_untrusted_path_text,
)

_TOKEN = re.compile(
    r'//[^\n]*|/\*.*?(?:\*/|\Z)|"(?:[^"\\]|\\.)*"?|#\{.*?(?:#\}|\Z)|[{}();\[\]]|(?!//|/\*)[^\s{}();\[\]"]+',
    re.DOTALL,
)
"""Comments (dropped), strings, verbatim blocks, brackets and words, in one pass as OpenFOAM reads them: a
comment starts only where a token could (`"http://x"` is a string), and a string, block or comment left
open runs to the end of the file, so no byte is searched again from each of a thousand unclosed `/*`."""
MAX_NESTING = 200
"""Blocks and lists nest a few levels; a file nested thousands deep is not a dictionary."""

FoamDict = dict[str, Any]


class FoamParseError(LabgateError, ValueError):
    """A dictionary file is not valid OpenFOAM syntax (or is truncated)."""


def _tokens(text: str) -> list[str]:
    return [match.group() for match in token_matches(text)]


def token_matches(text: str) -> list[re.Match[str]]:
    """The tokens of a dictionary's text with their positions, comments left out: what an edit of the
    text must go by, so that it never touches a comment and never mistakes `"http://x"` for one."""
    return [match for match in _TOKEN.finditer(text) if not match.group().startswith(("//", "/*"))]


def _value(tokens: list[str], index: int) -> tuple[Any, int]:
    token = tokens[index]
    if token == "{":
        return _block(tokens, index + 1)
    if token == "(":
        items: list[Any] = []
        index += 1
        while index < len(tokens) and tokens[index] != ")":
            item, index = _value(tokens, index)
            items.append(item)
        if index >= len(tokens):
            raise FoamParseError("unbalanced '(': the file is truncated")
        return items, index + 1
    if token == "[":
        try:
            end = tokens.index("]", index)
        except ValueError:
            raise FoamParseError("unbalanced '[': dimensions without their ']'") from None
        return "[" + " ".join(tokens[index + 1 : end]) + "]", end + 1
    return token, index + 1


_POSIX_CLASSES = {
    "alpha": "A-Za-z",
    "digit": "0-9",
    "alnum": "A-Za-z0-9",
    "upper": "A-Z",
    "lower": "a-z",
    "space": " \\t\\n\\r\\f\\v",
    "blank": " \\t",
    "punct": "!-/:-@\\[-`{-~",
    "xdigit": "0-9A-Fa-f",
    "word": "A-Za-z0-9_",
}
"""POSIX bracket classes (`[[:upper:]]`), which OpenFOAM's regular expressions read and Python's do not."""
_POSIX_CLASS = re.compile(r"\[:(\w+):\]")
_QUANTIFIED_GROUP = re.compile(r"\)(?:[*+]|\{\d*,\d*\})")
MAX_PATTERN_CHARS = 200
MAX_PATTERN_REPEATS = 6
"""Unbounded repeats (`*`, `+`, `{n,}`) a pattern may hold: full-matching `".*" * k` against a name costs about
its length to the k-th power (20 of them: 2 s, 30: 86 s, per name and gate); OpenFOAM's keys use one or two."""
_UNBOUNDED_REPEAT = re.compile(r"(?<!\\)(?:[*+]|\{\d*,\})")


class UnreadPatternError(LabgateError, ValueError):
    """A dictionary key is a pattern labgate does not evaluate: it cannot say which names it matches."""


def foam_pattern(key: str) -> re.Pattern[str]:
    """A dictionary key written in quotes, as the regular expression OpenFOAM matches names against in full.

    POSIX bracket classes are translated (`"[[:upper:]]"` never matched in Python, so a case's relaxation
    factors under it were read as absent). A repeated group that itself repeats or alternates (`"(a+)+b"`)
    is refused: matching it backtracks exponentially (a 40-letter patch name kept `agent check` busy without
    end), and OpenFOAM's own matcher takes as long.

    Raises:
        UnreadPatternError: the key is too long, repeats a repeating group, or is no regular expression.
    """
    if len(key) > MAX_PATTERN_CHARS:
        raise UnreadPatternError(f'the pattern "{key[:40]}..." is longer than {MAX_PATTERN_CHARS} characters')
    translated = _POSIX_CLASS.sub(lambda match: _POSIX_CLASSES.get(match.group(1), match.group(0)), key)
    if _POSIX_CLASS.search(translated):
        raise UnreadPatternError(f'the pattern "{key}" uses a character class labgate does not read')
    depth_has_repeat: list[bool] = []
    escaped = False
    for index, char in enumerate(translated):
        if escaped:
            escaped = False
            continue
        if char == "\\":
            escaped = True
        elif char == "(":
            depth_has_repeat.append(False)
        elif char == ")" and depth_has_repeat:
            inner = depth_has_repeat.pop()
            if inner and _QUANTIFIED_GROUP.match(translated, index):
                raise UnreadPatternError(
                    f'the pattern "{key}" repeats a group that repeats or alternates: matching it can take '
                    "exponential time"
                )
            if depth_has_repeat:
                depth_has_repeat[-1] = depth_has_repeat[-1] or inner
        elif char in "*+?{|" and depth_has_repeat:
            depth_has_repeat[-1] = True
    repeats = len(_UNBOUNDED_REPEAT.findall(translated))
    if repeats > MAX_PATTERN_REPEATS:
        raise UnreadPatternError(
            f'the pattern "{key[:40]}" repeats without bound {repeats} times (at most {MAX_PATTERN_REPEATS} are '
            "read): matching it takes time growing as a power of that"
        )
    try:
        return re.compile(translated)
    except RecursionError:
        raise UnreadPatternError(f'the pattern "{key[:40]}..." nests too deeply to be read') from None
    except re.error as error:
        raise UnreadPatternError(f'the pattern "{key}" is not a regular expression ({error})') from None


def _remove_entries(entries: FoamDict, names: Any) -> None:
    """OpenFOAM's `#remove`: the entries named (a word, a quoted pattern, or a list of them) are dropped from
    what was read before it. Kept as written, a value the solver never saw was read as the case's (a patch's
    `fixedValue (100 0 0)` removed and replaced by `noSlip` set the physical-range gate's speed scale)."""
    for name in names if isinstance(names, list) else [names]:
        if not isinstance(name, str):
            continue
        plain = name.strip('"')
        try:
            pattern = foam_pattern(plain) if name.startswith('"') else None
        except UnreadPatternError:
            pattern = None
        for key in [key for key in entries if not key.startswith("#")]:
            if key == plain or (pattern is not None and pattern.fullmatch(key)):
                del entries[key]


def _merged(earlier: Any, later: Any) -> Any:
    """A key written twice: two dictionaries merge (what OpenFOAM's default input mode does), the later entry
    wins where they overlap; anything else is replaced. A second, empty `equations { }` wiped the factors read
    before it while OpenFOAM kept them."""
    if isinstance(earlier, dict) and isinstance(later, dict):
        merged: dict[str, Any] = dict(earlier)
        for key, value in later.items():
            merged[key] = _merged(merged[key], value) if key in merged else value
        return merged
    return later


def _block(tokens: list[str], index: int) -> tuple[FoamDict, int]:
    entries: FoamDict = {}
    while index < len(tokens) and tokens[index] != "}":
        key = tokens[index]
        index += 1
        if key == ";":
            continue
        if key.startswith("#"):
            # A directive and its argument: recorded, never followed (`#remove` is applied: it only removes).
            if index < len(tokens) and tokens[index] not in ("{", "}", ";"):
                argument, index = _value(tokens, index)
                shown = argument if isinstance(argument, str) else " ".join(map(str, argument))
                entries.setdefault("#directives", []).append(f"{key} {shown}")
                if key == "#remove":
                    _remove_entries(entries, argument)
            else:
                entries.setdefault("#directives", []).append(key)
            continue
        parts: list[Any] = []
        while index < len(tokens) and tokens[index] not in (";", "}"):
            if tokens[index] == "{":
                value, index = _block(tokens, index + 1)
                parts.append(value)
                break
            value, index = _value(tokens, index)
            parts.append(value)
        if index < len(tokens) and tokens[index] == ";":
            index += 1
        entry = parts[0] if len(parts) == 1 else parts
        name = key.strip('"')
        if name.startswith("#"):
            # Keys of the reader's own (`#directives`) begin so: a quoted one would overwrite them.
            raise FoamParseError(f"the quoted key {key[:60]!r} begins with '#', as no entry OpenFOAM reads does")
        entries[name] = _merged(entries[name], entry) if name in entries else entry
    if index >= len(tokens):
        return entries, index
    return entries, index + 1


def parse_foam_dict(text: str) -> FoamDict:
    """Raises:
    FoamParseError: the text is not a dictionary (unbalanced, or nested deeper than MAX_NESTING).
    """
    tokens = _tokens(text)
    depth = 0
    for token in tokens:
        depth += 1 if token in ("{", "(") else -1 if token in ("}", ")") else 0
        if depth > MAX_NESTING:
            raise FoamParseError(f"blocks or lists nested deeper than {MAX_NESTING} levels")
    entries, index = _block(tokens, 0)
    if index < len(tokens):
        raise FoamParseError("unexpected '}' at top level")
    return entries


MAX_DICT_BYTES = 16 << 20
"""A dictionary is a few kilobytes; anything near this is not one."""


def read_foam_text(path: Path, *, within: Path | None = None) -> str:
    """The text of a dictionary file of a case, read without following any link below `within`; as
    OpenFOAM does, `path.gz` (compressed) is read when `path` itself is missing.

    Raises:
        FoamParseError: the file is missing or refused (a link, a special file, too large, compressed
            beyond MAX_DICT_BYTES or not gzip).
    """
    try:
        return read_untrusted_path_text(path, within=within, max_bytes=MAX_DICT_BYTES)
    except UntrustedFileMissingError:
        pass
    except UntrustedFileError as error:
        raise FoamParseError(f"{path} was refused: {error.reason}") from None
    compressed = path.with_name(path.name + ".gz")
    try:
        data = read_untrusted_path(compressed, within=within, max_bytes=MAX_DICT_BYTES)
    except UntrustedFileMissingError:
        raise FoamParseError(f"{path} does not exist") from None
    except UntrustedFileError as error:
        raise FoamParseError(f"{compressed} was refused: {error.reason}") from None
    try:
        text = gunzipped(data, MAX_DICT_BYTES)
    except CompressedTooLargeError:
        raise FoamParseError(f"{compressed} expands to more than {MAX_DICT_BYTES} bytes") from None
    if text is None:
        raise FoamParseError(f"{compressed} is not gzip-compressed")
    return text.decode("utf-8", errors="replace")


class CompressedTooLargeError(LabgateError, ValueError):
    """A compressed file expands past the limit its reader allows (a small file that would fill the memory)."""


def gunzipped(data: bytes, limit: int) -> bytes | None:
    """A gzip file's content, as OpenFOAM's reader (zlib) reads it: every member of a concatenation in
    turn; None when it is not gzip.

    Raises:
        CompressedTooLargeError: it expands past `limit` bytes.
    """
    parts: list[bytes] = []
    size = 0
    while data:
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        try:
            part = inflater.decompress(data, limit + 1 - size)
        except zlib.error:
            return b"".join(parts) if parts else None
        size += len(part)
        if inflater.unconsumed_tail or size > limit:
            raise CompressedTooLargeError(f"expands to more than {limit} bytes")
        parts.append(part)
        data = inflater.unused_data if inflater.eof else b""
    return b"".join(parts)


def read_foam_dict(path: Path, *, within: Path | None = None, text: str | None = None) -> FoamDict:
    """Parse a dictionary file of a case (`text`, when the caller has read it with `read_foam_text`).

    Raises:
        FoamParseError: the file is missing, refused (a link, a special file, too large) or not valid.
    """
    if text is None:
        text = read_foam_text(path, within=within)
    try:
        return parse_foam_dict(text)
    except (FoamParseError, ValueError, IndexError) as error:
        raise FoamParseError(f"{path}: {error}") from None


def _dimensioned(value: list[Any]) -> bool:
    """A dimensioned scalar as the reader leaves it: [name,] '[dimensions]', value."""
    if len(value) not in (2, 3) or not all(isinstance(item, str) for item in value):
        return False
    dimensions = value[-2]
    named = len(value) == 2 or not value[0].startswith("[")
    return named and dimensions.startswith("[") and dimensions.endswith("]")


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def foam_number(value: Any) -> float:
    """A scalar entry, also when written with dimensions (`nu [0 2 -1 0 0 0 0] 1e-5;`, `nu nu [...] 1e-5;`).

    Any other list is no number: `endTime (1 2);`, which OpenFOAM refuses, was read as 2, and `nu ();` was
    an IndexError out of `agent check`."""
    if isinstance(value, list):
        if not _dimensioned(value):
            raise FoamParseError(f"{_shown(value)} is a list, not a number")
        value = value[-1]
    try:
        return float(value)
    except (TypeError, ValueError):
        raise FoamParseError(f"{value!r} is not a number") from None


def foam_vector(value: Any) -> tuple[float, ...]:
    """`uniform (1 0 0)` or `(1 0 0)` as a tuple of floats."""
    if isinstance(value, list) and value and value[0] == "uniform":
        value = value[1]
    if isinstance(value, list) and value and isinstance(value[-1], list):
        value = value[-1]
    if not isinstance(value, list):
        raise FoamParseError(f"{value!r} is not a vector")
    return tuple(float(component) for component in value)
