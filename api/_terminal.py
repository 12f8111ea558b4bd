"""Text from runs shown on a terminal: control characters escaped, so nothing recorded can drive the terminal.

Names and messages in the command line's output come from untrusted places: a file a sandboxed tool left
(its name is in the deliverables gate's reasons), an LLM's rationale, a solver's error line. A name holding
`ESC [2J ESC [31m ACCEPTED` clears the screen and prints a red "ACCEPTED" under a rejected verdict; an OSC
sequence retitles the window or, on some terminals, writes to the clipboard. Rich drops a few controls (BEL,
backspace, CR) but lets ESC through. Every string the command line prints from a run therefore goes through
`printable`, which writes C0 and C1 controls (newline and tab kept), DEL, and the bidirectional overrides
that reorder what a line appears to say (U+202A-U+202E, U+2066-U+2069) as Python escapes (`\\x1b`). The
`--json` output is escaped by JSON itself and the dashboard by HTML.
"""

from __future__ import annotations

import re
from typing import Any

from rich.console import Console

_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object) -> str:
    """`text` as a string whose control characters (newline and tab aside) are written as escapes."""
    return _CONTROLS.sub(_escaped, str(text))


def printable_cells(*cells: object) -> list[str]:
    """A table row's cells, each `printable` (rich tables are printed as a whole, past `TerminalConsole.print`)."""
    return [printable(cell) for cell in cells]


class TerminalConsole(Console):
    """A rich console that escapes control characters in the strings it is given (see `printable`); the
    styles rich renders itself are untouched."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        super().print(*(printable(item) if isinstance(item, str) else item for item in objects), **kwargs)
