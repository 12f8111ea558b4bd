"""The kernel check of a proof file against the task's trusted statement, and its independent re-check.

The checker never compiles the user's file as given. It builds its own file: the trusted header,
then the trusted statement as a definition (`labgate_goal : Type`, so that its outermost notation is
read in `type_scope` as a theorem's type is: `nat * nat` is a pair type there, not a product of
numbers, and `forall n : nat, n * 0 = 0` still multiplies), then the user's file (minus the
sentences it shares with the header) inside a module, then a theorem of type `labgate_goal` proved
by exactly the user's theorem (`exact @name`: implicit arguments, from `{A}` or `` `{C A} `` binders,
are not filled in, so the term is compared with the statement as the user wrote it), then `Print
Assumptions` of that theorem between two markers. So the statement is elaborated before anything
the user wrote can change notations, scopes or names, and the kernel must accept the user's proof
term at the trusted type. Names carry a random suffix, so a file cannot refer to them, or print
them, in advance.

A proof is accepted only when three judges agree, cheapest first, stopping at the first refusal:
the text rules (`_lint`), coqc with `Print Assumptions` against the axiom allow-list, and `coqchk`
re-typing the compiled check file from scratch (`_checker`), which catches what Coq 8.16's module
operations hide from `Print Assumptions`.

coqc reads the check file as it goes, so a file written over it while the proof runs is compiled
in place of the rest of it (the trailer, markers and all). Before anything coqc printed is believed,
the check file must still be byte for byte what the gate wrote.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Literal

from sandboxes import SandboxError
from tools.proofs import CoqProver, Diagnostic, ProofProblem
from verifiers.proofs._assumptions import (
    DEFAULT_ALLOWED_AXIOMS,
    Assumption,
    judge_assumptions,
    parse_assumptions,
)
from verifiers.proofs._checker import judge_checker, parse_checker_summary
from verifiers.proofs._lint import ProofFileReport, lint_proof_file

GATE_LIBRARY = "Labgate"
"""The logical name the check file is compiled under (`-Q . Labgate`), so coqchk can name it."""
GATE_COQ_ARGS = ("-q", "-w", "-require-in-module", "-Q", ".", GATE_LIBRARY)
SPROP_OFF = "Unset Allow StrictProp."
"""The check file's first command. Coq 8.16's conversion is unsound on the sort SProp (rocq #22378: a
constructor with SProp let-ins proves `False`, closed under the global context, and coqchk agrees),
and a file can reach SProp without writing it (Ltac reads the sort off `eq_sind`'s type): with the
flag off the kernel refuses every term that mentions SProp. The text rules refuse the flag's option
and `Coq.Logic.StrictProp`, whose compiled SProp types (`Squash`) no new term has to mention."""


@dataclass
class ProofVerdict:
    """The decision on one proof file, with the reasons, assumptions and the prover's messages."""

    decision: Literal["accept", "reject"]
    reasons: list[str]
    assumptions: list[Assumption] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    check_source: str = ""
    seconds: float = 0.0
    checker_seconds: float = 0.0

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
    begin_marker: str
    end_marker: str
    suffix: str

    def assumptions_printout(self, stdout: str) -> str | None:
        """What `Print Assumptions` printed between the two markers, or None when they are missing."""
        begin = stdout.rfind(self.begin_marker)
        end = stdout.rfind(self.end_marker)
        if begin < 0 or end < begin:
            return None
        return stdout[begin + len(self.begin_marker) : end]


def build_check_file(problem: ProofProblem, report: ProofFileReport, suffix: str | None = None) -> CheckFile:
    """The file the kernel checks (see the module docstring)."""
    suffix = suffix or secrets.token_hex(4)
    goal = problem.parsed.goal()
    head = (
        f"{SPROP_OFF}\n{problem.header.rstrip()}\n\nDefinition labgate_goal_{suffix} : Type := {goal}.\n\n"
        f"Module LabgateCandidate_{suffix}.\n"
    )
    body = report.body.rstrip("\n") + "\n"
    trailer = (
        f"End LabgateCandidate_{suffix}.\n\n"
        f"Definition labgate_begin_{suffix} := I.\n"
        f"Definition labgate_end_{suffix} := I.\n"
        f"Theorem labgate_check_{suffix} : labgate_goal_{suffix}.\n"
        f"Proof. exact @LabgateCandidate_{suffix}.{problem.name}. Qed.\n"
        f"Print labgate_begin_{suffix}.\n"
        f"Print Assumptions labgate_check_{suffix}.\n"
        f"Print labgate_end_{suffix}.\n"
    )
    body_first = head.count("\n") + 1
    return CheckFile(
        source=head + body + trailer,
        body_first_line=body_first,
        body_lines=body.count("\n"),
        trailer_first_line=body_first + body.count("\n"),
        begin_marker=f"labgate_begin_{suffix} = I\n     : True\n",
        end_marker=f"labgate_end_{suffix} = I\n",
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
    return re.sub(rf"labgate_(goal|check|begin|end)_{suffix}", r"the task's \1", message)


def check_proof(
    problem: ProofProblem,
    source: str,
    prover: CoqProver,
    *,
    allowed_axioms: tuple[str, ...] | list[str] = DEFAULT_ALLOWED_AXIOMS,
    timeout: float = 120.0,
) -> ProofVerdict:
    """Judge a proof file for `problem`: text rules, then the kernel check (see the module docstring)."""
    started = time.monotonic()
    report = lint_proof_file(problem, source)
    if report.problems or not report.body.strip():
        reasons = report.problems or ["the file is empty"]
        return ProofVerdict("reject", reasons, seconds=time.monotonic() - started)
    verdict = kernel_check(problem, build_check_file(problem, report), prover, allowed_axioms, timeout)
    verdict.seconds = time.monotonic() - started
    return verdict


def kernel_check(
    problem: ProofProblem,
    layout: CheckFile,
    prover: CoqProver,
    allowed_axioms: tuple[str, ...] | list[str],
    timeout: float,
) -> ProofVerdict:
    """coqc on the check file, its `Print Assumptions` against the allow-list, then coqchk on the result.

    The prover must compile with `GATE_COQ_ARGS` (the check file's library name is what coqchk checks).
    """
    started = time.monotonic()
    result = prover.check(layout.source, timeout=timeout)
    diagnostics, reasons = _compile_reasons(result.diagnostics, layout)
    reasons[:0] = scratch_reasons(prover, layout)  # when the file was rewritten, coqc's messages are moot
    if result.timed_out or result.failure:
        reasons.append(f"the prover did not finish the check: {result.failure}")
    elif not result.ok and not reasons:
        reasons.append(f"Coq rejects the file: {result.summary()}")
    verdict = ProofVerdict("reject", reasons, diagnostics=diagnostics, check_source=layout.source)
    if reasons:
        verdict.seconds = time.monotonic() - started
        return verdict
    printout = layout.assumptions_printout(result.stdout)
    parsed = parse_assumptions(printout) if printout is not None else None
    if parsed is None:
        reasons.append("the prover printed no assumption list for the checked theorem")
    else:
        verdict.assumptions = parsed
        reasons.extend(judge_assumptions(parsed, (*allowed_axioms, *problem.assumed)))
    if not reasons:
        reasons.extend(_checker_reasons(prover, problem, timeout, verdict))
    verdict.decision = "reject" if reasons else "accept"
    verdict.seconds = time.monotonic() - started
    return verdict


def scratch_reasons(prover: CoqProver, layout: CheckFile) -> list[str]:
    """Why the check file shows that the proof wrote over it while coqc ran (empty when it did not).

    It must still be byte for byte what the gate wrote: otherwise what coqc compiled, and printed, is not
    the gate's file.
    """
    source = f"{prover.file_stem}.v"
    expected_bytes = layout.source.encode()
    reasons = []
    try:
        size = os.lstat(prover.workdir / source).st_size
        written = prover.sandbox().read_file(source) if size == len(expected_bytes) else b""
    except (OSError, SandboxError) as error:
        return [f"the check file could not be read back after coqc ran: {error}"]
    if written != expected_bytes:
        reasons.append("the check file was changed while coqc read it (the proof wrote over the file being checked)")
    return reasons


def _compile_reasons(items: tuple[Diagnostic, ...], layout: CheckFile) -> tuple[list[Diagnostic], list[str]]:
    """coqc's messages in the user's coordinates, and the reason its first error gives."""
    diagnostics: list[Diagnostic] = []
    located_errors: list[tuple[Diagnostic, str]] = []
    for item in items:
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
    if not located_errors:
        return diagnostics, []
    error, part = located_errors[0]
    if part == "body":
        reason = f"Coq rejects the proof at {error.describe()}"
    elif part == "trailer":
        reason = (
            "the theorem the file proves does not have the task's statement (the kernel could not use it "
            f"as a proof of it): {error.message}"
        )
    elif part == "header":
        reason = f"the task's own header does not compile: {error.message}"
    else:
        reason = f"Coq rejects the file: {error.message}"
    return diagnostics, [reason]


def _checker_reasons(prover: CoqProver, problem: ProofProblem, timeout: float, verdict: ProofVerdict) -> list[str]:
    """The independent re-check: coqchk on the compiled check file (empty list when it agrees)."""
    checked = prover.recheck(GATE_LIBRARY, timeout=timeout)
    verdict.checker_seconds = checked.seconds
    if not checked.ok:
        return [checked.failure or "coqchk refused the compiled proof"]
    summary = parse_checker_summary(checked.stderr + checked.stdout)
    if summary is None:
        return ["coqchk printed no context summary for the compiled proof"]
    return judge_checker(summary, f"{GATE_LIBRARY}.{prover.file_stem}", problem.assumed)
