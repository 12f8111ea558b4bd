"""Text from runs shown on a terminal: on one line, with control characters escaped and no markup read.

Names and messages in the command line's output come from untrusted places: a file a sandboxed tool left
(its name is in the deliverables gate's reasons), a file in a user's case, a document's name, an LLM's
rationale, a solver's error line. Three things in such a string could make the output say what labgate
did not:

- Control characters. A name holding `ESC [2J ESC [31m ACCEPTED` clears the screen and prints a red
  "ACCEPTED" under a rejected verdict; an OSC sequence retitles the window or, on some terminals, writes to
  the clipboard. Rich drops a few controls (BEL, backspace, CR) but lets ESC through.
- Line breaks. A rationale holding `\\n[    9.1s] re=400: accept` starts a line that looks like labgate's own
  progress line; so does a word-wrapped line that breaks just before it.
- Rich markup. `[link=https://…]`, `[conceal]` or `[green]` in a string rich reads as markup become a
  hyperlink, a hidden verdict or a colour that labgate never chose.

So every string printed from a run goes through `printable`, which writes C0 and C1 controls (tab aside),
DEL, the line and paragraph separators (U+2028, U+2029) and the bidirectional overrides that reorder what a
line appears to say (U+202A-U+202E, U+2066-U+2069) as Python escapes (`\\n`, `\\x1b`): whatever it holds,
it prints on one line. `TerminalConsole` applies it to every string it is given, reads no markup in them,
and does not wrap long lines. labgate's own styling is built with `styled`, whose parts are plain text. The
few multi-line messages labgate writes itself (an error and the log lines it quotes) go through
`printable_block`, which indents every line after the first. The `--json` output is escaped by JSON itself
and the dashboard by HTML.
"""

from __future__ import annotations

import re
from typing import Any

from rich.console import Console
from rich.text import Text

_CONTROLS = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r"}
CONTINUATION = "    "
"""What every line of a `printable_block` after the first starts with: never the left margin."""


def _escaped(match: re.Match[str]) -> str:
    char = match.group(0)
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object) -> str:
    """`text` as one line: control characters (tab aside) and line breaks written as escapes."""
    return _CONTROLS.sub(_escaped, str(text))


def printable_cells(*cells: object) -> list[str]:
    """A table row's cells, each `printable` (rich tables are printed as a whole, past `TerminalConsole.print`)."""
    return [printable(cell) for cell in cells]


def printable_block(text: object) -> str:
    """A multi-line message labgate wrote (an error quoting a build log's last lines): each line `printable`,
    and every line after the first indented, so that no quoted line starts at the left margin as labgate's own
    lines do."""
    first, *rest = str(text).splitlines() or [""]
    return "\n".join([printable(first), *(CONTINUATION + printable(line) for line in rest)])


def styled(*parts: object | tuple[object, str]) -> Text:
    """One line of labgate's own styling around untrusted values: `styled(("run", "bold"), f" {name}")`.

    Each part is plain text, made `printable`; a `(text, style)` pair gives its text the style, which must be
    labgate's own literal. No part is read as markup, whatever brackets it holds: the safe way to colour a line
    that interpolates a name, where an f-string with markup would let the name add links and styles."""
    line = Text()
    for part in parts:
        text, style = part if isinstance(part, tuple) else (part, "")
        line.append(printable(text), style=str(style))
    return line


class TerminalConsole(Console):
    """A rich console for output that holds untrusted text: every string it prints is `printable`, read as plain
    text (no markup, emoji codes or highlighting) and not wrapped, so it stays on one line; a style comes only
    from a `Text` built with `styled`. The styles rich renders itself (tables, a `Text`'s spans) are untouched.

    `markup=True` makes it read markup in strings, as a plain rich console does: only for a console whose every
    caller escapes what it interpolates (`LiveReporter` does, with `rich.markup.escape`). A single call cannot
    turn markup on."""

    def __init__(self, *args: Any, markup: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("emoji", False)
        kwargs.setdefault("highlight", False)
        kwargs.setdefault("soft_wrap", True)
        super().__init__(*args, markup=markup, **kwargs)

    def print(self, *objects: Any, markup: bool | None = None, **kwargs: Any) -> None:
        if markup and not self._markup:
            raise ValueError("TerminalConsole reads no markup in strings: build the line with styled()")
        super().print(
            *(printable(item) if isinstance(item, str) else item for item in objects), markup=markup, **kwargs
        )
