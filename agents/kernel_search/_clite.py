"""A tokenizer and kernel-signature reader for the OpenCL C subset the suite uses (no full parser).

Enough structure for rewrites to check their preconditions on tokens, not on raw text: comments,
strings and preprocessor lines are single tokens (so `restrict` inside a comment is not code),
brackets are matched, and each `__kernel` function's parameters are read with their qualifiers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from runs import LabgateError

_TOKEN = re.compile(
    r"""
    (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<directive>^[ \t]*\#(?:\\\n|[^\n])*)
  | (?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')
  | (?P<number>\d+\.?\d*(?:[eE][-+]?\d+)?[fFuUlL]*|\.\d+(?:[eE][-+]?\d+)?[fF]?)
  | (?P<name>[A-Za-z_]\w*)
  | (?P<op><<=|>>=|\+\+|--|->|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^]=|[-+*/%&|^!~<>=?:;,.(){}\[\]])
  | (?P<space>\s+)
    """,
    re.VERBOSE | re.DOTALL | re.MULTILINE,
)
ASSIGNMENTS = frozenset({"=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>=", "++", "--"})


class SourceSyntaxError(LabgateError, ValueError):
    """The source uses syntax outside the subset this reader understands (a rewrite is then not offered)."""


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.text)


def tokenize(source: str) -> list[Token]:
    """Every token with its offset, whitespace dropped; unknown characters are an error."""
    tokens: list[Token] = []
    position = 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None or match.end() == position:
            raise SourceSyntaxError(f"unexpected character {source[position]!r} at offset {position}")
        kind = match.lastgroup or "op"
        if kind != "space":
            tokens.append(Token(kind, match.group(), position))
        position = match.end()
    return tokens


def code(tokens: list[Token]) -> list[Token]:
    """Tokens without comments and preprocessor lines."""
    return [t for t in tokens if t.kind not in ("comment", "directive")]


def matching(tokens: list[Token], index: int) -> int:
    """Index of the bracket closing the one at `index`."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    opening = tokens[index].text
    closing = pairs[opening]
    depth = 0
    for position in range(index, len(tokens)):
        text = tokens[position].text
        if text == opening:
            depth += 1
        elif text == closing:
            depth -= 1
            if depth == 0:
                return position
    raise SourceSyntaxError(f"unbalanced {opening!r} at offset {tokens[index].start}")


@dataclass(frozen=True)
class Parameter:
    """One kernel parameter: its tokens' span in the source, qualifiers and name."""

    name: str
    words: tuple[str, ...]
    start: int
    end: int

    @property
    def is_global_pointer(self) -> bool:
        return "__global" in self.words and "*" in self.words

    @property
    def pointee_const(self) -> bool:
        star = self.words.index("*")
        return "const" in self.words[:star]

    @property
    def restricted(self) -> bool:
        return "restrict" in self.words


@dataclass(frozen=True)
class Kernel:
    name: str
    parameters: tuple[Parameter, ...]
    body: tuple[int, int]
    """Token indices (in the comment-free token list) of the body's braces."""


def kernels(source: str) -> list[Kernel]:
    """Every `__kernel` function in `source` with its parameters and body span."""
    tokens = code(tokenize(source))
    found = []
    for index, token in enumerate(tokens):
        if token.text not in ("__kernel", "kernel"):
            continue
        open_paren = next((i for i in range(index, len(tokens)) if tokens[i].text == "("), None)
        if open_paren is None or open_paren < 2:
            raise SourceSyntaxError("a __kernel without a parameter list")
        close_paren = matching(tokens, open_paren)
        if close_paren + 1 >= len(tokens) or tokens[close_paren + 1].text != "{":
            continue  # a declaration, not a definition
        body_close = matching(tokens, close_paren + 1)
        parameters = []
        group: list[Token] = []
        for inner in tokens[open_paren + 1 : close_paren + 1]:
            if inner.text in (",", ")") and group:
                names = [t for t in group if t.kind == "name"]
                parameters.append(
                    Parameter(names[-1].text, tuple(t.text for t in group), group[0].start, group[-1].end)
                )
                group = []
            elif inner.text not in (",", ")"):
                group.append(inner)
        found.append(Kernel(tokens[open_paren - 1].text, tuple(parameters), (close_paren + 1, body_close)))
    return found


def written_names(source: str, kernel: Kernel) -> set[str]:
    """Names the kernel's body may write through: `name[...] op=`, `*name op=`, `name op=`, `++name`, any name in a
    `vstore*` call, and (conservatively) a name copied or passed to a call without a subscript."""
    tokens = code(tokenize(source))
    first, last = kernel.body
    written: set[str] = set()
    position = first
    while position < last:
        token = tokens[position]
        if token.kind == "name":
            after = position + 1
            if after < last and tokens[after].text == "[":
                after = matching(tokens, after) + 1
            if after < last and tokens[after].text in ASSIGNMENTS:
                written.add(token.text)
            before = tokens[position - 1].text if position > first else ""
            if before in ("++", "--"):
                written.add(token.text)
            statement_start = position >= 2 and tokens[position - 2].text in ("{", ";", "}", ")")
            if before == "*" and statement_start and after < last and tokens[after].text in ASSIGNMENTS:
                written.add(token.text)
            if token.text.startswith("vstore"):
                close = matching(tokens, position + 1)
                written.update(t.text for t in tokens[position + 1 : close] if t.kind == "name")
            subscripted = after != position + 1
            passed = before in ("(", ",") and not subscripted
            if (before == "=" and not subscripted) or passed:
                # a pointer copied or passed to a function may be written through: count it
                written.add(token.text)
        position += 1
    return written
