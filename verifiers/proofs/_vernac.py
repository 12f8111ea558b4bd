"""What one Coq sentence asks Coq to do: its attributes, its prefixes and the command under them.

Coq lets a command hide behind attributes (`#[bypass_check(guard)]`), control prefixes
(`Time`, `Timeout 5`, `Instructions`, `Fail`, `Succeed`, `Redirect "file"`) and locality or
universe modifiers (`Local`, `Global`, `Polymorphic`, `Program`…), in any order and any number.
A gate that looks only at the first word of a sentence reads `Time`, not the `Admitted` behind
it; this module peels every layer off so that the allow-list judges the command itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from runs import LabgateError
from tools.proofs import UnterminatedSourceError, attribute_end

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_']*")
_TIMEOUT = re.compile(r"Timeout\s+\d+(?=\s)")
_REDIRECT = re.compile(r'Redirect\s+"(?:[^"]|"")*"')
_CONTROL = ("Time", "Instructions", "Fail", "Succeed")
_MODIFIERS = (
    "Local",
    "Global",
    "Polymorphic",
    "Monomorphic",
    "Cumulative",
    "NonCumulative",
    "Private",
    "Program",
)


class CommandFormatError(LabgateError, ValueError):
    """A sentence's prefixes cannot be read (an attribute or `Redirect` string that never closes)."""


@dataclass(frozen=True)
class Attribute:
    """One attribute of a `#[...]` group: its name and the text in parentheses or after `=`."""

    name: str
    argument: str


@dataclass(frozen=True)
class Command:
    """A sentence taken apart: everything in front of the command, and the command."""

    attributes: tuple[Attribute, ...]
    prefixes: tuple[str, ...]
    body: str
    keyword: str

    def words(self, count: int) -> str:
        """The first `count` words of the command (for two-word commands like `Next Obligation`)."""
        return " ".join(self.body.split()[:count]).rstrip(".")


def _split_top_level(text: str) -> list[str]:
    """`text` split at commas outside parentheses and strings."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == '"':
            end = text.find('"', index + 1)
            while end >= 0 and text.startswith('""', end):
                end = text.find('"', end + 2)
            end = len(text) if end < 0 else end + 1
            current.append(text[index:end])
            index = end
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def _attributes(group: str) -> list[Attribute]:
    found = []
    for part in _split_top_level(group):
        match = _WORD.match(part)
        name = match.group(0) if match else part
        argument = part[len(name) :].strip().removeprefix("=").strip()
        if argument.startswith("(") and argument.endswith(")"):
            argument = argument[1:-1].strip()
        found.append(Attribute(name, argument))
    return found


def _attribute_group_end(code: str, index: int) -> int:
    """Index just past the `#[...]` group opening at `index`.

    Raises:
        CommandFormatError: the group or a string inside it never closes.
    """
    try:
        return attribute_end(code, index)
    except UnterminatedSourceError as error:
        raise CommandFormatError(str(error)) from None


def _skip_blanks(code: str, index: int) -> int:
    while index < len(code) and code[index].isspace():
        index += 1
    return index


def read_command(code: str) -> Command:
    """Peel attributes and prefixes off a sentence's code (comments already removed).

    The sentence is walked with one cursor, never re-sliced per layer, so that a sentence of a
    hundred thousand prefixes is read in linear time.

    Raises:
        CommandFormatError: an attribute group or a `Redirect` file name never closes.
    """
    attributes: list[Attribute] = []
    prefixes: list[str] = []
    index = _skip_blanks(code, 0)
    while True:
        if code.startswith("#[", index):
            end = _attribute_group_end(code, index + 1)
            attributes.extend(_attributes(code[index + 2 : end - 1]))
            index = _skip_blanks(code, end)
            continue
        word = _WORD.match(code, index)
        after = word.end() if word else index
        while word and after < len(code) and not code[after].isascii():
            after += 1  # `Qedα` is one name to Coq (a tactic `Ltac Qedα` may define), never the command `Qed`
        keyword = code[index:after]
        if keyword in _CONTROL or keyword in _MODIFIERS:
            prefixes.append(keyword)
            index = _skip_blanks(code, after)
            continue
        timeout = _TIMEOUT.match(code, index)
        if timeout:
            prefixes.append("Timeout")
            index = _skip_blanks(code, timeout.end())
            continue
        if keyword == "Redirect":
            redirect = _REDIRECT.match(code, index)
            if not redirect:
                raise CommandFormatError("`Redirect` without a file name")
            prefixes.append("Redirect")
            index = _skip_blanks(code, redirect.end())
            continue
        return Command(tuple(attributes), tuple(prefixes), code[index:].rstrip(), keyword)
