"""How a run's progress looks in a terminal (a live rich display) and in a pipe (plain lines)."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from rich.console import Console
from rich.markup import escape
from rich.status import Status

from api._terminal import printable


class LineReporter:
    """One timestamped line per event: readable in a log file, easy to grep, no escape codes."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.start = time.monotonic()

    def event(self, kind: str, message: str, data: dict[str, Any]) -> None:
        if kind in ("step",):
            return
        print(printable(f"[{time.monotonic() - self.start:7.1f}s] {message}"), file=self.stream, flush=True)


class LiveReporter:
    """A spinner with the latest event, and a permanent line for each result.

    Messages carry text from tasks, tools and models (`pip install -e '.[cuda]'`): they are escaped,
    never read as rich markup, so brackets print as written."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.status: Status | None = None
        self.start = time.monotonic()

    def __enter__(self) -> LiveReporter:
        self.status = self.console.status("starting", spinner="dots")
        self.status.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.status is not None:
            self.status.__exit__(None, None, None)

    def event(self, kind: str, message: str, data: dict[str, Any]) -> None:
        elapsed = f"{time.monotonic() - self.start:6.1f}s"
        if kind in ("decision", "revise", "plan") or (kind == "experiment" and "status" in data):
            style = {"accept": "green", "reject": "red"}.get(str(data.get("decision", "")), "")
            self.console.print(
                f"[dim]{elapsed}[/dim] {escape(printable(message))}", style=style or None, highlight=False
            )
        if self.status is not None:
            self.status.update(f"{escape(printable(message))} [dim]({elapsed})[/dim]")
