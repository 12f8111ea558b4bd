"""The kernel check of a proof file against the task's trusted statement.

The checker never compiles the user's file as given. It builds its own file: the trusted header,
then the trusted statement as a definition (`labgate_goal`), then the user's file (minus the
sentences it shares with the header) inside a module, then a theorem of type `labgate_goal` proved
by exactly the user's theorem, then `Print Assumptions` of that theorem. So the statement is
elaborated before anything the user wrote can change notations, scopes or names; the kernel must
accept the user's proof term at the trusted type; and every axiom it rests on is listed.
Names carry a random suffix, so a file cannot refer to them in advance.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Literal

from tools.proofs import Diagnostic, ProofProblem, Prover
from verifiers.proofs._assumptions import (
    DEFAULT_ALLOWED_AXIOMS,
    Assumption,
    judge_assumptions,
    parse_assumptions,
)
from verifiers.proofs._lint import ProofFileReport, lint_proof_file


@dataclass
class ProofVerdict:
    """The decision on one proof file, with the reasons, assumptions and the prover's messages."""

    decision: Literal["accept", "reject"]
    reasons: list[str]
    assumptions: list[Assumption] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    check_source: str = ""
    seconds: float = 0.0

    def as_json(self) -> dict[str, object]:
        return {
            "decision": self.decision,
            "reasons": self.reasons,
            "assumptions": [entry.name for entry in self.assumptions],
        }


@dataclass(frozen=True)
class CheckFile:
    """The assembled file and where the user's text sits in it."""

    source: str
    body_first_line: int
    body_lines: int
    trailer_first_line: int
    marker: str
    suffix: str


def build_check_file(problem: ProofProblem, report: ProofFileReport, suffix: str | None = None) -> CheckFile:
    """The file the kernel checks (see the module docstring)."""
    suffix = suffix or secrets.token_hex(4)
    goal = problem.parsed.goal()
    head = (
        f"{problem.header.rstrip()}\n\nDefinition labgate_goal_{suffix} := {goal}.\n\n"
        f"Module LabgateCandidate_{suffix}.\n"
    )
    body = report.body.rstrip("\n") + "\n"
    trailer = (
        f"End LabgateCandidate_{suffix}.\n\n"
        f"Definition labgate_marker_{suffix} := I.\n"
        f"Theorem labgate_check_{suffix} : labgate_goal_{suffix}.\n"
        f"Proof. exact LabgateCandidate_{suffix}.{problem.name}. Qed.\n"
        f"Print labgate_marker_{suffix}.\n"
        f"Print Assumptions labgate_check_{suffix}.\n"
    )
    body_first = head.count("\n") + 1
    return CheckFile(
        source=head + body + trailer,
        body_first_line=body_first,
        body_lines=body.count("\n"),
        trailer_first_line=body_first + body.count("\n"),
        marker=f"labgate_marker_{suffix} = I",
        suffix=suffix,
    )


def _map_diagnostic(item: Diagnostic, layout: CheckFile) -> tuple[Diagnostic, str]:
    """The diagnostic in the user's coordinates, and which part of the check file it came from."""
    if item.line == 0:
        return item, "file"
    if layout.body_first_line <= item.line < layout.trailer_first_line:
        shift = layout.body_first_line - 1
        return (
            Diagnostic(
                item.line - shift,
                item.column,
                item.end_line - shift,
                item.end_column,
                item.severity,
                item.message,
                "proof",
            ),
            "body",
        )
    part = "trailer" if item.line >= layout.trailer_first_line else "header"
    return item, part


def _clean(message: str, suffix: str) -> str:
    message = message.replace(f"LabgateCandidate_{suffix}.", "")
    return re.sub(rf"labgate_(goal|check|marker)_{suffix}", r"the task's \1", message)


def check_proof(
    problem: ProofProblem,
    source: str,
    prover: Prover,
    *,
    allowed_axioms: tuple[str, ...] | list[str] = DEFAULT_ALLOWED_AXIOMS,
    timeout: float = 120.0,
) -> ProofVerdict:
    """Judge a proof file for `problem`: text rules, kernel check at the trusted type, axioms."""
    started = time.monotonic()
    report = lint_proof_file(problem, source)
    reasons = list(report.problems)
    if not report.body:
        return ProofVerdict("reject", reasons or ["the file is empty"], seconds=time.monotonic() - started)
    layout = build_check_file(problem, report)
    result = prover.check(layout.source, timeout=timeout)
    diagnostics: list[Diagnostic] = []
    located_errors: list[tuple[Diagnostic, str]] = []
    for item in result.diagnostics:
        mapped, part = _map_diagnostic(item, layout)
        mapped = Diagnostic(
            mapped.line,
            mapped.column,
            mapped.end_line,
            mapped.end_column,
            mapped.severity,
            _clean(mapped.message, layout.suffix),
            mapped.file,
        )
        if part == "body" or mapped.severity == "error":
            diagnostics.append(mapped)
        if mapped.severity == "error":
            located_errors.append((mapped, part))
    if result.timed_out or result.failure:
        reasons.append(f"the prover did not finish the check: {result.failure}")
    elif located_errors:
        error, part = located_errors[0]
        if part == "body":
            reasons.append(f"Coq rejects the proof at {error.describe()}")
        elif part == "trailer":
            reasons.append(
                f"the theorem the file proves does not have the task's statement (the kernel could not use it "
                f"as a proof of it): {error.message}"
            )
        elif part == "header":
            reasons.append(f"the task's own header does not compile: {error.message}")
        else:
            reasons.append(f"Coq rejects the file: {error.message}")
    elif not result.ok:
        reasons.append(f"Coq rejects the file: {result.summary()}")
    assumptions: list[Assumption] = []
    if result.ok:
        marker_at = result.stdout.rfind(layout.marker)
        parsed = parse_assumptions(result.stdout[marker_at:]) if marker_at >= 0 else None
        if parsed is None:
            reasons.append("the prover printed no assumption list for the checked theorem")
        else:
            assumptions = parsed
            allowed = (*allowed_axioms, *problem.assumed)
            reasons.extend(judge_assumptions(parsed, allowed))
    decision: Literal["accept", "reject"] = "reject" if reasons else "accept"
    return ProofVerdict(
        decision,
        reasons,
        assumptions=assumptions,
        diagnostics=diagnostics,
        check_source=layout.source,
        seconds=time.monotonic() - started,
    )
