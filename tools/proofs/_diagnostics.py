"""Reading what a prover printed: diagnostics (where, how bad, what) and goals.

coqc reports `File "x.v", line L, characters A-B:` followed by `Error: ...` or `Warning: ...`;
A and B are byte offsets from the start of line L (B may run past it for a multi-line span), so
they are converted to character columns against the source the prover was given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning", "info"]

_LOCATION = re.compile(r'^File "(?P<file>[^"]*)", line (?P<line>\d+), characters (?P<start>\d+)-(?P<end>\d+):\s*$')
_SEVERITY = re.compile(r"^(?P<kind>Error|Warning|Anomaly)\s*:?\s*(?P<rest>.*)$", re.DOTALL)


@dataclass(frozen=True)
class Diagnostic:
    """One message: a 1-based line, 0-based character columns (end exclusive), severity and text.

    A message without a location (e.g. "There are pending proofs") has line 0.
    """

    line: int
    column: int
    end_line: int
    end_column: int
    severity: Severity
    message: str
    file: str = ""

    def describe(self) -> str:
        where = f"line {self.line}, columns {self.column}-{self.end_column}" if self.line else "(no location)"
        return f"{where}: {self.severity}: {self.message}"


class _SourceLines:
    """Where each line of the source starts, in bytes, computed once: a file's every diagnostic re-split and
    re-joined the whole source, so 20,000 warnings on a 1 MB file took 4.6 minutes to read."""

    def __init__(self, source: str) -> None:
        self.data = source.encode(errors="surrogatepass")
        self.starts = [0]
        found = self.data.find(b"\n")
        while found != -1:
            self.starts.append(found + 1)
            found = self.data.find(b"\n", found + 1)

    def columns(self, line: int, start: int, end: int) -> tuple[int, int, int]:
        """(start column, end line, end column) in characters, from byte offsets relative to line `line`."""
        if not 1 <= line <= len(self.starts):
            return start, line, end
        first = self.starts[line - 1]
        start_chars = len(self.data[first : first + max(start, 0)].decode(errors="ignore"))
        span = self.data[first : first + max(end, 0)]
        end_line = line + span.count(b"\n")
        end_column = len(span[span.rfind(b"\n") + 1 :].decode(errors="ignore"))
        return start_chars, end_line, end_column


def _severity(text: str) -> tuple[Severity, str]:
    match = _SEVERITY.match(text)
    if not match:
        return "info", text
    kind = match.group("kind")
    message = match.group("rest").strip()
    if kind == "Anomaly":
        return "error", f"Anomaly: {message}"
    return ("error" if kind == "Error" else "warning"), message


def parse_diagnostics(output: str, source: str | None = None) -> list[Diagnostic]:
    """Every located or unlocated Error/Warning block in a coqc stderr stream, in order.

    Linear in the output and the source: both are the candidate's to make long (a message may carry
    its sentence's own blank lines, a file may draw a warning from each of its sentences)."""
    diagnostics: list[Diagnostic] = []
    lines = output.splitlines()
    ahead = _next_text(lines)
    positions = _SourceLines(source) if source is not None else None
    index = 0
    while index < len(lines):
        match = _LOCATION.match(lines[index])
        if match:
            body: list[str] = []
            index += 1
            while index < len(lines) and not _LOCATION.match(lines[index]):
                if not lines[index].strip() and body and _block_ends(lines, ahead[index + 1]):
                    break
                if body and lines[index].startswith(("Error:", "Warning:", "Anomaly")):
                    break
                body.append(lines[index])
                index += 1
            severity, message = _severity("\n".join(body).strip())
            line, start, end = int(match.group("line")), int(match.group("start")), int(match.group("end"))
            column, end_line, end_column = (
                positions.columns(line, start, end) if positions is not None else (start, line, end)
            )
            diagnostics.append(
                Diagnostic(line, column, end_line, end_column, severity, _clean(message), match.group("file"))
            )
            continue
        stripped = lines[index].strip()
        if stripped.startswith(("Error:", "Anomaly")):
            body = [stripped]
            index += 1
            while index < len(lines) and lines[index].strip() and not _LOCATION.match(lines[index]):
                body.append(lines[index].strip())
                index += 1
            severity, message = _severity(" ".join(body))
            diagnostics.append(Diagnostic(0, 0, 0, 0, severity, _clean(message)))
            continue
        index += 1
    return diagnostics


def _next_text(lines: list[str]) -> list[int]:
    """For each index (and one past the end), the index of the first line from there that is not blank, or
    len(lines): computed once from the end, where looking ahead from every blank line was quadratic."""
    ahead = [len(lines)] * (len(lines) + 1)
    for index in range(len(lines) - 1, -1, -1):
        ahead[index] = index if lines[index].strip() else ahead[index + 1]
    return ahead


def _block_ends(lines: list[str], following: int) -> bool:
    """A blank line ends a message when what follows (the next line with text, at `following`) is a new
    location, a new message, or nothing."""
    if following >= len(lines):
        return True
    text = lines[following]
    return bool(_LOCATION.match(text)) or text.lstrip().startswith(("Error", "Warning"))


def _clean(message: str) -> str:
    """One message on one line: Coq wraps long messages at 80 columns."""
    return re.sub(r"\s*\n\s*", " ", message).strip()


@dataclass(frozen=True)
class Goal:
    """One open goal: its hypotheses (as printed, `name : type`) and its conclusion."""

    hypotheses: tuple[str, ...]
    conclusion: str

    def render(self) -> str:
        return "\n".join([*self.hypotheses, "=" * 28, self.conclusion])


@dataclass(frozen=True)
class GoalState:
    """The goals open at one point of a proof; `goals` is empty when none remains."""

    goals: tuple[Goal, ...] = ()
    raw: str = ""
    extra: list[str] = field(default_factory=list)

    def render(self) -> str:
        if not self.goals:
            return "No more goals."
        return "\n\n".join(f"goal {i + 1}:\n{goal.render()}" for i, goal in enumerate(self.goals))


_GOAL_COUNT = re.compile(r"^(\d+) (?:focused )?goals?\b")
_SEPARATOR = re.compile(r"^\s*=+\s*$")
_GOAL_HEADER = re.compile(r"^\s*goal (\d+) is:\s*$")


def parse_goals(text: str) -> GoalState | None:
    """The goals in a `Show.` printout (first goal with its context, later goals' conclusions).

    Returns None when the text holds no goal display at all.
    """
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if _GOAL_COUNT.match(line) or line.startswith("No more goals")]
    if not starts:
        return None
    start = starts[-1]
    if lines[start].startswith("No more goals"):
        return GoalState((), text)
    body = lines[start + 1 :]
    goals: list[Goal] = []
    separator = next((i for i, line in enumerate(body) if _SEPARATOR.match(line)), None)
    if separator is None:
        return GoalState((), text)
    hypotheses = _join_hypotheses(body[:separator])
    rest = body[separator + 1 :]
    conclusion_lines: list[str] = []
    index = 0
    while index < len(rest) and not _GOAL_HEADER.match(rest[index]):
        conclusion_lines.append(rest[index])
        index += 1
    goals.append(Goal(tuple(hypotheses), _dedent(conclusion_lines)))
    while index < len(rest):
        index += 1
        chunk: list[str] = []
        while index < len(rest) and not _GOAL_HEADER.match(rest[index]):
            chunk.append(rest[index])
            index += 1
        goals.append(Goal((), _dedent(chunk)))
    return GoalState(tuple(goals), text)


def _join_hypotheses(lines: list[str]) -> list[str]:
    """Hypotheses as printed: a new one starts at the base indentation, continuations are deeper."""
    content = [line for line in lines if line.strip()]
    if not content:
        return []
    base = min(len(line) - len(line.lstrip()) for line in content)
    hypotheses: list[str] = []
    for line in content:
        indent = len(line) - len(line.lstrip())
        if indent == base or not hypotheses:
            hypotheses.append(line.strip())
        else:
            hypotheses[-1] += " " + line.strip()
    return hypotheses


def _dedent(lines: list[str]) -> str:
    return " ".join(line.strip() for line in lines if line.strip())
