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


def _ident_start(char: str) -> bool:
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


def lean_tokens(source: str) -> list[Token]:
    """Lean 4 tokens: `--` and nested `/- -/` comments (doc comments too), strings, chars, `«names»`,
    dotted identifiers as one token, and every other non-space character as a symbol."""
    tokens: list[Token] = []
    index = 0
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
            end = _nested(source, index, ("/-",), ("-/",), "comment")
            tokens.append(Token("comment", source[index:end], index))
            index = end
        elif char == '"':
            end = _quoted(source, index, '"', "string")
            tokens.append(Token("string", source[index:end], index))
            index = end
        elif char == "'" and (match := _LEAN_CHAR.match(source, index)) is not None:
            tokens.append(Token("char", match.group(0), index))
            index = match.end()
        elif char.isdigit():
            match = _LEAN_NUMBER.match(source, index)
            end = match.end() if match else index + 1
            tokens.append(Token("number", source[index:end], index))
            index = end
        elif _ident_start(char) or char == "«":
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
                if (
                    end + 1 < len(source)
                    and source[end] == "."
                    and (_ident_start(source[end + 1]) or source[end + 1] == "«")
                ):
                    end += 1
                    continue
                break
            tokens.append(Token("ident", source[index:end], index))
            index = end
        else:
            tokens.append(Token("symbol", char, index))
            index += 1
    return tokens


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
