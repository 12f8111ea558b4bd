"""Splitting Coq source into sentences: the unit a prover executes, a gate inspects and a search edits.

Coq's lexer ends a sentence at a `.` (or the `...` of `Proof with`) followed by a blank or the end
of the input, outside comments (which nest, and inside which strings are lexed too) and strings
(where `""` escapes a quote). Bullets (`-`, `+`, `*`, repeated) and braces at the start of a
sentence are sentences of their own, without a dot. The splitter keeps offsets into the original
text so that diagnostics and edits map back to what the user wrote. A gate that judges a sentence
by its words must see the same sentences Coq runs, so every rule here follows Coq's lexer, and
`blank_literals` gives the code with comment and string contents out of the way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from runs import LabgateError

SentenceKind = Literal["sentence", "bullet", "brace"]

_BULLET = re.compile(r"(-+|\++|\*+)(?=\s|$|[^-+*)])")


class UnterminatedSourceError(LabgateError, ValueError):
    """A comment or string is never closed, so the text cannot be split into sentences."""


@dataclass(frozen=True)
class Sentence:
    """One sentence: its raw text (with comments) and where it sits in the source."""

    text: str
    start: int
    end: int
    kind: SentenceKind = "sentence"

    @property
    def code(self) -> str:
        """The text without comments, whitespace collapsed: what two sentences are compared on."""
        return normalize(self.text)

    @property
    def first_word(self) -> str:
        """The leading keyword (`Theorem`, `Require`; `#[local]` and control prefixes such as `Time` stripped),
        or '' for a bullet."""
        code = strip_control(self.code)
        match = re.match(r"[A-Za-z_][A-Za-z0-9_']*", code)
        return match.group(0) if match else ""


def _skip_comment(text: str, index: int) -> int:
    """Index just past the comment opening at `index` (nested comments and strings respected)."""
    depth = 0
    length = len(text)
    while index < length:
        if text.startswith("(*", index):
            depth += 1
            index += 2
        elif text.startswith("*)", index):
            depth -= 1
            index += 2
            if depth == 0:
                return index
        elif text[index] == '"':
            index = _skip_string(text, index)
        else:
            index += 1
    raise UnterminatedSourceError("a comment '(*' is never closed")


def _skip_string(text: str, index: int) -> int:
    """Index just past the string literal opening at `index`."""
    index += 1
    length = len(text)
    while index < length:
        if text[index] == '"':
            if index + 1 < length and text[index + 1] == '"':
                index += 2
                continue
            return index + 1
        index += 1
    raise UnterminatedSourceError("a string '\"' is never closed")


def strip_comments(text: str) -> str:
    """The text with every comment replaced by one space (strings kept verbatim)."""
    out: list[str] = []
    index = 0
    while (found := _COMMENT_OR_STRING.search(text, index)) is not None:
        out.append(text[index : found.start()])  # plain code up to the next comment or string, copied at once
        if found.group() == '"':
            index = _skip_string(text, found.start())
            out.append(text[found.start() : index])
        else:
            index = _skip_comment(text, found.start())
            out.append(" ")
    out.append(text[index:])
    return "".join(out)


_COMMENT_OR_STRING = re.compile(r'\(\*|"')


# What may stand right before a comment for Coq to read it as one, whatever notations are declared: a
# blank or a string's closing quote. Anything else may end a notation symbol that takes the `(` (see
# below): `%(` once, and `a(` too, since a symbol may begin with letters.
COQ_BLANKS = " \t\r\n"
"""What Coq's lexer skips between tokens: nothing else (a vertical tab or form feed is a symbol character)."""
_BEFORE_COMMENT = frozenset(COQ_BLANKS + '"')


def glued_comments(text: str) -> list[int]:
    """Offsets of comments opening right after anything but a blank or a string (`%(*`, `.(*`, `a(*`).

    Coq's lexer reads a symbol greedily through the notation symbols declared so far: after `%(` is
    declared, `%(*` is the symbol `%(` and then `*`, code, where this module skips a comment. Text
    rules would then judge less than Coq runs (a `fix` or an option inside the "comment"), so a gate
    refuses such files; a blank before the comment removes the doubt. Comments inside comments are
    not lexed as symbols by Coq either, and are not listed.

    Raises:
        UnterminatedSourceError: a comment or string never closes.
    """
    found: list[int] = []
    index = 0
    length = len(text)
    while index < length:
        if text.startswith("(*", index):
            if index > 0 and text[index - 1] not in _BEFORE_COMMENT:
                found.append(index)
            index = _skip_comment(text, index)
        elif text[index] == '"':
            index = _skip_string(text, index)
        else:
            index += 1
    return found


_STRING_OR_BLANKS = re.compile(r'"(?:[^"]|"")*"|[' + COQ_BLANKS + "]+")


def normalize(text: str) -> str:
    """Comments removed and blanks collapsed: formatting never makes two sentences differ.

    Only what Coq's lexer skips is a blank (`COQ_BLANKS`), and strings are kept as written: the normal form
    is compiled as the task's statement, and Coq reads a no-break space as part of a name (`n` and `n\u00a0`
    are two variables) and `"a    b"` as a string of seven characters.
    """
    collapsed = _STRING_OR_BLANKS.sub(lambda found: found[0] if found[0][0] == '"' else " ", strip_comments(text))
    return collapsed.strip(COQ_BLANKS)


def attribute_end(code: str, index: int) -> int:
    """Index just past the `#[...]` group opening at `index` (strings and nested brackets respected).

    Raises:
        UnterminatedSourceError: the group or a string inside it never closes.
    """
    depth = 0
    length = len(code)
    while index < length:
        char = code[index]
        if char == '"':
            index = _skip_string(code, index)
            continue
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    raise UnterminatedSourceError("an attribute '#[' is never closed")


def split_attributes(code: str) -> tuple[list[str], str]:
    """The leading `#[...]` groups of a sentence's code (their insides) and the code after them.

    Raises:
        UnterminatedSourceError: an attribute group or a string inside it never closes.
    """
    groups: list[str] = []
    index = _past_attributes(code, 0, groups)
    return groups, code[index:]


_BLANKS = re.compile(r"\s*")


def _past_blanks(code: str, index: int) -> int:
    found = _BLANKS.match(code, index)
    assert found is not None  # \s* matches everywhere
    return found.end()


def _past_attributes(code: str, index: int, groups: list[str] | None = None) -> int:
    """The index past the `#[...]` groups (and the blanks around them) from `index` on, each group's inside
    added to `groups`. Indices, not slices: a sentence of 200,000 groups was copied once per group.

    Raises:
        UnterminatedSourceError: an attribute group or a string inside it never closes.
    """
    index = _past_blanks(code, index)
    while code.startswith("#[", index):
        end = attribute_end(code, index + 1)
        if groups is not None:
            groups.append(code[index + 2 : end - 1])
        index = _past_blanks(code, end)
    return index


def _past_attributes_or_blanks(code: str, index: int) -> int:
    """`_past_attributes`, or only past the blanks where a group never closes (it is then left in place)."""
    try:
        return _past_attributes(code, index)
    except UnterminatedSourceError:
        return _past_blanks(code, index)


def strip_attributes(code: str) -> str:
    """A sentence's code without leading `#[...]` attributes (an unclosed group is left as it is)."""
    return code[_past_attributes_or_blanks(code, 0) :]


_CONTROL = re.compile(r"""(?:Time|Fail|Succeed|Instructions|Timeout\s+\d+|Redirect\s+"(?:[^"]|"")*")(?![\w'])\s*""")
"""Control prefixes, which run the command after them: `Time Notation ...` declares the notation as `Notation ...`
does. `Fail` and `Succeed` undo it, but a check that reads the command is the safer for taking it as given."""


def strip_control(code: str) -> str:
    """A sentence's code past its leading attributes and control prefixes (`#[local] Time Timeout 5 Axiom ...`
    is `Axiom ...`): what every check of which command a sentence gives must read. Each of them read `Time`
    as the command, so a header's `Time Notation` was not marked as changing the statement, `Time Ltac` was
    kept in the proof memory and `Time Admitted` was not refused with the task."""
    index = _past_attributes_or_blanks(code, 0)
    while match := _CONTROL.match(code, index):
        index = _past_attributes_or_blanks(code, match.end())
    return code[index:]


LOCALITY_WORDS = ("Local", "Global", "Export", "Polymorphic", "Monomorphic")


def command_word(sentence: str) -> str:
    """The vernacular command a sentence gives, past its attributes, control and locality prefixes (`#[local]
    Notation ...`, `Time Notation ...` and `Local Ltac ...` are `Notation`, `Notation` and `Ltac`), or "" for an
    empty sentence."""
    words = strip_control(strip_comments(sentence)).split()
    while words[:1] and words[0] in LOCALITY_WORDS:
        words = words[1:]
    return words[0] if words else ""


def blank_literals(text: str) -> str:
    """The text with every comment and the inside of every string replaced by blanks.

    Offsets and line breaks are kept, and each string keeps its quotes, so a scan of the result
    for words sees exactly the words Coq reads as code.

    Raises:
        UnterminatedSourceError: a comment or string never closes.
    """
    out = list(text)
    index = 0
    length = len(text)
    while index < length:
        if text.startswith("(*", index):
            first, end = index, _skip_comment(text, index)
            last = end
        elif text[index] == '"':
            end = _skip_string(text, index)
            first, last = index + 1, end - 1
        else:
            index += 1
            continue
        for position in range(first, last):
            if out[position] != "\n":
                out[position] = " "
        index = end
    return "".join(out)


def _dot_run(text: str, index: int) -> tuple[int, bool]:
    """For the run of dots starting at `index`: where it ends, and whether it ends a sentence.

    Coq reads `.` and `...` followed by a blank or the end of the input as the end of a sentence;
    `..` (recursive notations) and dots inside names or numbers (`Nat.add`, `1.5`, `x.(f)`) are not.
    """
    end = index
    while end < len(text) and text[end] == ".":
        end += 1
    blank_after = end >= len(text) or text[end].isspace()
    return end, blank_after and end - index in (1, 3)


def split_sentences(text: str) -> list[Sentence]:
    """Every sentence of `text` in order; trailing text without a terminating dot is a sentence too.

    Raises:
        UnterminatedSourceError: a comment or string never closes.
    """
    sentences: list[Sentence] = []
    index = 0
    length = len(text)
    start: int | None = None
    while index < length:
        char = text[index]
        if text.startswith("(*", index):
            index = _skip_comment(text, index)
            continue
        if char.isspace():
            index += 1
            continue
        if start is None:
            if char in "{}":
                sentences.append(Sentence(char, index, index + 1, "brace"))
                index += 1
                continue
            bullet = _BULLET.match(text, index)
            if bullet and char in "-+*":
                sentences.append(Sentence(bullet.group(0), index, bullet.end(), "bullet"))
                index = bullet.end()
                continue
            start = index
        if char == '"':
            index = _skip_string(text, index)
            continue
        if char == ".":
            end, terminates = _dot_run(text, index)
            if terminates:
                sentences.append(Sentence(text[start:end], start, end))
                start = None
            index = end
            continue
        index += 1
    if start is not None and text[start:].strip():
        sentences.append(Sentence(text[start:].rstrip(), start, len(text.rstrip())))
    return sentences


def line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and 0-based column of a character offset."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1)
    return line, column


def offset_of(text: str, line: int, column: int) -> int:
    """The character offset of a 1-based line and 0-based column (clamped to the text)."""
    offset = 0
    for _ in range(line - 1):
        newline = text.find("\n", offset)
        if newline < 0:
            return len(text)
        offset = newline + 1
    return min(offset + column, len(text))


def top_level_indices(text: str) -> Iterator[int]:
    """The offsets of `text`'s characters outside parentheses, brackets and braces (the brackets themselves are
    never yielded): where a statement's own colon, arrow or binder stands, not one of a nested term's."""
    depth = 0
    for index, char in enumerate(text):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif depth == 0:
            yield index
