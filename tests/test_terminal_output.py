"""What the command line prints from runs cannot drive the terminal: control characters arrive escaped."""

from __future__ import annotations

import pytest

from api._terminal import TerminalConsole, printable, printable_cells, styled
from api.cli._check import _print

HOSTILE = "x\x1b[2J\x1b[1;31mACCEPTED\x1b[0m\x1b]0;pwned\x07\x9b2J\u202edetcepxe"


def test_controls_are_escaped_and_ordinary_text_is_kept() -> None:
    shown = printable(HOSTILE)
    assert "\x1b" not in shown and "\x07" not in shown and "\x9b" not in shown and "\u202e" not in shown
    assert shown == "x\\x1b[2J\\x1b[1;31mACCEPTED\\x1b[0m\\x1b]0;pwned\\x07\\x9b2J\\u202edetcepxe"
    kept = "\ttabbed — Δp = 3 µm, 日本語"
    assert printable(kept) == kept
    assert printable("line one\nline two") == "line one\\nline two"  # one line, whatever it holds
    assert printable_cells(1, "\x1b") == ["1", "\\x1b"]


def test_a_check_result_naming_a_hostile_file_prints_no_escape(capsys: pytest.CaptureFixture[str]) -> None:
    """The deliverables gate names the files a sandboxed tool left; `agent check` prints those names."""
    result = {
        "task": "cfd/case",
        "source": "/tmp/case",
        "decision": "reject",
        "gate_deviations": [],
        "params": {"name": HOSTILE},
        "verdicts": [{"gate": "deliverables", "decision": "reject", "reasons": [f"{HOSTILE} is a link"]}],
        "refused": [HOSTILE],
        "skipped": [],
        "workdir": "/tmp/work",
    }
    _print(result)
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert out.count("\\x1b[2J") == 3 and "reject" in out


def test_the_console_escapes_strings_but_renders_its_own_styles() -> None:
    console = TerminalConsole(force_terminal=True, color_system="standard", width=200)
    with console.capture() as captured:
        console.print(styled(("rejected", "red"), f" {HOSTILE}"))
    out = captured.get()
    assert "\x1b[31m" in out  # rich's own colour
    assert "\x1b[2J" not in out and "\\x1b[2J" in out
