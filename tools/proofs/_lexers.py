"""Tokenizers for Lean 4 and Isabelle source: what is code, what is a comment, what is a string.

The gates' text rules and the statement comparisons read tokens, never raw text, so that a word
inside a comment or a string neither passes as code (`/- sorry -/` is not a `sorry`) nor hides code
from the rules. Both languages nest block comments (`/- /- -/ -/`, `(* (* *) *)`); an unterminated
comment or string is an error, not something to guess about. Isabelle's inner syntax lives in
strings and cartouches (`"x + 0 = x"`, `‹x + 0 = x›`, `\\<open>...\\<close>`): they are kept as one
token each, and comments in it are outer-syntax comments only.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from tools.proofs._sentences import UnterminatedSourceError

TokenKind = Literal["ident", "symbol", "string", "char", "number", "comment", "cartouche"]


@dataclass(frozen=True)
class Token:
    """One token: kind, its text as written, and where it starts in the source."""

    kind: TokenKind
    text: str
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.text)


_LEAN_NOT_LETTERS = frozenset("λΠΣ")
"""Greek letters Lean keeps as tokens (`λ x => ...`, `Π`, `Σ`), never as part of a name."""


def _ident_start(char: str) -> bool:
    if char in _LEAN_NOT_LETTERS:
        return False
    return char == "_" or char.isalpha() or unicodedata.category(char) in ("Lu", "Ll", "Lt", "Lm", "Lo")


def _ident_rest(char: str) -> bool:
    return _ident_start(char) or char.isdigit() or char in "'!?₀₁₂₃₄₅₆₇₈₉ₐₑₒₓₔₕₖₗₘₙₚₛₜᵢᵣᵤᵥⱼ"


def _nested(source: str, start: int, openers: tuple[str, ...], closers: tuple[str, ...], what: str) -> int:
    """End offset of the nesting block (comment, cartouche) starting at `start`; any spelling opens or closes."""
    depth = 0
    index = start
    while index < len(source):
        opener = next((item for item in openers if source.startswith(item, index)), None)
        closer = next((item for item in closers if source.startswith(item, index)), None)
        if opener is not None:
            depth += 1
            index += len(opener)
        elif closer is not None:
            depth -= 1
            index += len(closer)
            if depth == 0:
                return index
        else:
            index += 1
    raise UnterminatedSourceError(f"unterminated {what} starting at offset {start}")


def _quoted(source: str, start: int, quote: str, what: str) -> int:
    """End offset of the string starting at `start` (backslash escapes honoured)."""
    index = start + 1
    while index < len(source):
        char = source[index]
        if char == "\\":
            index += 2
            continue
        if char == quote:
            return index + 1
        index += 1
    raise UnterminatedSourceError(f"unterminated {what} starting at offset {start}")


_LEAN_NUMBER = re.compile(r"0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|[0-9][0-9_]*(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_LEAN_CHAR = re.compile(r"'(\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)|[^\\'\n])'")


_RAW_STRING = re.compile(r'r(#*)"')


def _raw_string_end(source: str, start: int) -> int | None:
    """End offset of the raw string literal (`r"..."`, `r#"..."#`) starting at `start`, or None when
    none starts there. Backslashes are plain characters in it, unlike in a `"..."` string."""
    match = _RAW_STRING.match(source, start)
    if match is None:
        return None
    closer = '"' + match.group(1)
    end = source.find(closer, match.end())
    if end < 0:
        raise UnterminatedSourceError(f"unterminated raw string starting at offset {start}")
    return end + len(closer)


_INTERPOLATING = ("s!", "m!", "f!")
"""The prefixes that make the string after them an interpolated one."""


def _interpolated(source: str, start: int) -> tuple[int, list[Token]]:
    """End offset of the string at `start` read as an interpolated string (`s!"a {code} b"`), and the
    tokens of the code between its braces (strings and comments inside included)."""
    index = start + 1
    inner: list[Token] = []
    while index < len(source):
        char = source[index]
        if char == "\\":
            index += 2
        elif char == '"':
            return index + 1, inner
        elif char == "{":
            tokens, close = _lean_scan(source, index + 1, in_braces=True)
            inner.extend(tokens)
            index = close + 1
        else:
            index += 1
    raise UnterminatedSourceError(f"unterminated interpolated string starting at offset {start}")


def _lean_string(source: str, start: int, interpolated: bool) -> tuple[int, list[Token]]:
    """End offset of the string at `start` and the code tokens inside it.

    After `s!`, `m!`, `f!` the string is interpolated: `{...}` holds code, which may hold strings.
    Other syntax reads its string as interpolated too (`throwError`, `dbg_trace`, ...), so a plain
    string holding `{` must read the same both ways: its interpolated reading, confined to the plain
    string's span (which keeps the check linear), must end exactly where the plain one does; then the
    code in its braces is checked as well. Otherwise one reading would hide code from the rules, and
    the file is refused."""
    if interpolated:
        return _interpolated(source, start)
    end = _quoted(source, start, '"', "string")
    if "{" not in source[start:end]:
        return end, []
    span = source[start:end]
    try:
        other_end, inner = _interpolated(span, 0)
    except UnterminatedSourceError:
        other_end, inner = -1, []
    if other_end != len(span):
        raise UnterminatedSourceError(
            f"the string starting at offset {start} reads differently as a plain and as an interpolated "
            "string (write `s!` before it and `\\{` for a brace)"
        )
    return end, [Token(token.kind, token.text, token.start + start) for token in inner]


def _lean_ident_end(source: str, index: int) -> int:
    """End offset of the (dotted, possibly «escaped») identifier starting at `index`."""
    end = index
    while True:
        if end < len(source) and source[end] == "«":
            close = source.find("»", end)
            if close < 0:
                raise UnterminatedSourceError(f"unterminated «name» starting at offset {end}")
            end = close + 1
        elif end < len(source) and _ident_start(source[end]):
            while end < len(source) and _ident_rest(source[end]):
                end += 1
        else:
            break
        if end + 1 < len(source) and source[end] == "." and (_ident_start(source[end + 1]) or source[end + 1] == "«"):
            end += 1
            continue
        break
    return end


def _lean_block_comment_end(source: str, start: int) -> int:
    """End offset of the `/- -/` comment starting at `start`, read as Lean reads it: the character after
    `/-` is skipped unexamined (it is the `-` or `!` of a doc comment, or anything else), so `/-/- -/`
    is one whole comment and `/--/` does not close; after that, `/-` and `-/` nest."""
    depth = 1
    index = start + 3
    while index < len(source):
        if source.startswith("-/", index):
            depth -= 1
            index += 2
            if depth == 0:
                return index
        elif source.startswith("/-", index):
            depth += 1
            index += 2
        else:
            index += 1
    raise UnterminatedSourceError(f"unterminated comment starting at offset {start}")


def _lean_scan(source: str, index: int, *, in_braces: bool = False) -> tuple[list[Token], int]:
    """Tokens from `index` to the end, or (`in_braces`) to the `}` closing an interpolation, whose
    offset is returned with them."""
    tokens: list[Token] = []
    depth = 0
    while index < len(source):
        char = source[index]
        if char.isspace():
            index += 1
        elif source.startswith("--", index):
            end = source.find("\n", index)
            end = len(source) if end < 0 else end
            tokens.append(Token("comment", source[index:end], index))
            index = end
        elif source.startswith("/-", index):
            end = _lean_block_comment_end(source, index)
            tokens.append(Token("comment", source[index:end], index))
            index = end
        elif char == '"':
            prefixed = bool(tokens) and tokens[-1].end == index and tokens[-1].text in _INTERPOLATING
            end, inner = _lean_string(source, index, prefixed)
            tokens.append(Token("string", source[index:end], index))
            tokens.extend(inner)
            index = end
        elif char == "r" and (raw_end := _raw_string_end(source, index)) is not None:
            tokens.append(Token("string", source[index:raw_end], index))
            index = raw_end
        elif char == "'" and (match := _LEAN_CHAR.match(source, index)) is not None:
            tokens.append(Token("char", match.group(0), index))
            index = match.end()
        elif char.isdigit():
            match = _LEAN_NUMBER.match(source, index)
            end = match.end() if match else index + 1
            tokens.append(Token("number", source[index:end], index))
            index = end
        elif _ident_start(char) or char == "«":
            end = _lean_ident_end(source, index)
            tokens.append(Token("ident", source[index:end], index))
            index = end
        else:
            if in_braces and char == "}":
                if depth == 0:
                    return tokens, index
                depth -= 1
            elif in_braces and char == "{":
                depth += 1
            tokens.append(Token("symbol", char, index))
            index += 1
    if in_braces:
        raise UnterminatedSourceError("unterminated `{` of an interpolated string")
    return tokens, index


def lean_tokens(source: str) -> list[Token]:
    """Lean 4 tokens: `--` and nested `/- -/` comments (doc comments too), strings (raw `r#"..."#`
    ones too, and the code inside an interpolated string's braces after the string itself), chars,
    `«names»`, dotted identifiers as one token, and every other non-space character as a symbol."""
    try:
        return _lean_scan(source, 0)[0]
    except RecursionError:
        raise UnterminatedSourceError("interpolated strings nested too deeply to read") from None


_OPEN_CARTOUCHES = ("\\<open>", "‹")
_CLOSE_CARTOUCHES = ("\\<close>", "›")


def _cartouche(source: str, start: int) -> int:
    """End offset of the (nesting) cartouche starting at `start`."""
    return _nested(source, start, _OPEN_CARTOUCHES, _CLOSE_CARTOUCHES, "cartouche")


_ISA_SYMBOL = re.compile(r"\\<\^?[A-Za-z][A-Za-z0-9_']*>")
_ISA_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_'.]*[A-Za-z0-9_']|[A-Za-z]")
_COMMENT_MARKERS = ("\\<comment>", "—", "\\<^cancel>", "⌦")


def isabelle_tokens(source: str) -> list[Token]:
    """Isabelle outer-syntax tokens: nested `(* *)` comments, `\\<comment>`/`—` followed by a
    cartouche (a comment too), `"..."` and `` `...` `` strings, `{* *}` verbatim text and cartouches
    (one token each: inner syntax), identifiers, numbers, and other characters as symbols."""
    tokens: list[Token] = []
    index = 0
    while index < len(source):
        char = source[index]
        if char.isspace():
            index += 1
            continue
        if source.startswith("(*", index):
            end = _nested(source, index, ("(*",), ("*)",), "comment")
            tokens.append(Token("comment", source[index:end], index))
            index = end
            continue
        marker = next((item for item in _COMMENT_MARKERS if source.startswith(item, index)), None)
        if marker is not None:
            after = index + len(marker)
            while after < len(source) and source[after].isspace():
                after += 1
            if any(source.startswith(item, after) for item in _OPEN_CARTOUCHES):
                end = _cartouche(source, after)
                tokens.append(Token("comment", source[index:end], index))
                index = end
                continue
        if char in ('"', "`"):
            end = _quoted(source, index, char, "string")
            tokens.append(Token("string", source[index:end], index))
            index = end
        elif source.startswith("{*", index):
            end = source.find("*}", index + 2)
            if end < 0:
                raise UnterminatedSourceError(f"unterminated {{* *}} text starting at offset {index}")
            tokens.append(Token("cartouche", source[index : end + 2], index))
            index = end + 2
        elif any(source.startswith(item, index) for item in _OPEN_CARTOUCHES):
            end = _cartouche(source, index)
            tokens.append(Token("cartouche", source[index:end], index))
            index = end
        elif (match := _ISA_SYMBOL.match(source, index)) is not None:
            tokens.append(Token("symbol", match.group(0), index))
            index = match.end()
        elif char.isdigit():
            end = index
            while end < len(source) and source[end].isdigit():
                end += 1
            tokens.append(Token("number", source[index:end], index))
            index = end
        elif (match := _ISA_IDENT.match(source, index)) is not None:
            tokens.append(Token("ident", match.group(0), index))
            index = match.end()
        else:
            tokens.append(Token("symbol", char, index))
            index += 1
    return tokens


def code_tokens(tokens: list[Token]) -> list[Token]:
    """The tokens that are code (comments dropped)."""
    return [token for token in tokens if token.kind != "comment"]


def token_text(tokens: list[Token]) -> str:
    """Code tokens joined by single spaces: a layout- and comment-insensitive rendering for comparisons."""
    return " ".join(token.text for token in code_tokens(tokens))
