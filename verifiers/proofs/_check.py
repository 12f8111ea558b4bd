"""The kernel check of a proof file against the task's trusted statement, and its independent re-check.

The checker never compiles the user's file as given. It builds its own file: the trusted header,
then the trusted statement as a definition (`labgate_goal : Type`, so that its outermost notation is
read in `type_scope` as a theorem's type is: `nat * nat` is a pair type there, not a product of
numbers, and `forall n : nat, n * 0 = 0` still multiplies), then the user's file (minus the
sentences it shares with the header) inside a module, then a theorem of type `labgate_goal` proved
by exactly the user's theorem (`exact @name`: implicit arguments, from `{A}` or `` `{C A} `` binders,
are not filled in, so the term is compared with the statement as the user wrote it). The restatement is
the gate's own words, and a header may give `Type` or `forall` a meaning the task's theorem never reads
(`Notation "'Type'" := bool`): so the statement is also declared in the task's own form, `Theorem name
binders : type`, as the field of a module type (`Admitted` there declares a field, not an axiom) that the
user's module must match (`<:`), and the second phase's signature states the checked theorem that way. So the
statement is elaborated before anything the user wrote can change notations, scopes or names, and
the kernel must accept the user's proof term at the trusted type. Names carry a random suffix, so a
file cannot refer to them, or print them, in advance.

A proof is accepted only when every judge agrees, cheapest first, stopping at the first refusal:
the text rules (`_lint`), coqc on the check file, then, on the compiled library alone, coqc with
`Print Assumptions` against the axiom allow-list and `coqchk` re-typing the library from scratch
(`_checker`), which catches what Coq 8.16's module operations hide from `Print Assumptions`.

The verdict must hold even if the proof finds a way to run code inside coqc (a plugin's option that
reaches a shell, a bug), since such code can print anything and write anything the sandbox lets it.
So the first coqc run is only believed when it says no. The check file is read-only inside the
sandbox (coqc reads it as it goes: one written over while the proof runs would be compiled in place
of the trailer), and it must still be byte for byte what the gate wrote. The yes comes from a second
phase that takes nothing from the first but the compiled library (`recheck_compiled`: a fresh sandbox
and directory, the library copied in read-only, no writable place where Coq looks for libraries or
plugins). A file of the gate's own (`build_recheck_file`, no text of the proof) states the header and
the statement as a module signature, loads the library, makes the kernel match the library against
that signature, prints the plugins that loading it added and prints the assumptions of the checked
theorem between markers of a new random suffix, then runs the gate's own fixpoint audit on the checked
theorem; then coqchk re-types the library. A library that proves another statement, or the statement
under another header (a definition changed, an inductive type with other constructors), does not
match; one where a postulate of the header became a definition is refused by coqchk's list of axioms;
one that loads an OCaml module no Coq library ships is refused.

Coq 8.16.1's guard checker, in the kernel and in coqchk alike, accepts some non-terminating fixpoints
and cofixpoints (rocq #20455, #22386): with one, a file proves `2 + 2 = 5` under no axiom. `_lint`
keeps proofs from writing recursion, but it reads spelling. The audit (a Coq plugin,
`sandboxes/images/coq/audit`) reads the compiled terms instead: every constant and inductive type of
the checked library that the checked theorem reaches, the header's included, may not be universe
polymorphic or cumulative, mention SProp or hold a cofixpoint (the constructs 8.16.1's other kernel
bugs go through; SProp's unsound conversion, rocq #22378, is also kept off by `SPROP_OFF` in both
files), and each fixpoint may call itself only on a variable bound by a pattern of its decreasing
argument (a guard check far narrower than Coq's, which honest proofs meet: the library fixpoints `cbv`
inlines are of that form). So a recursion the text rules missed, or a library written by code running
inside coqc, is refused on what the kernel would run.
"""

from __future__ import annotations

import bisect
import itertools
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Literal

from sandboxes import SandboxError
from tools.proofs import (
    ASSUMPTION_KEYWORDS,
    CheckResult,
    CoqProver,
    Diagnostic,
    ProofProblem,
    UnterminatedSourceError,
    command_word,
    declared_names,
    line_column,
    split_sentences,
)
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
GATE_COQ_ARGS = ("-q", "-w", "-require-in-module", "-time", "-Q", ".", GATE_LIBRARY)
"""coqc's arguments for the check file. `-time` makes coqc print where each sentence it ran starts and
ends (`Chars 22 - 49 [...]`, byte offsets), printed whatever the file sets (`Set Silent` included): the
gate matches those against the sentences its own splitter read (`unread_sentence_reasons`)."""
_RAN_SENTENCE = re.compile(r"Chars (\d+) - (\d+) \[")
RECHECK_COQ_ARGS = ("-q", "-w", "-require-in-module")
"""coqc's arguments for the second phase's file (`recheck_compiled` maps the library itself)."""
AUDIT_PLUGIN = "coq-labgate-audit.plugin"
"""The fixpoint audit's findlib name, loaded by the second phase's file from `CoqConfig.audit_dir()`."""
AUDIT_VERSION = "labgate-audit 1"
"""What the audit prints before its verdict: a plugin of another version is not believed."""
MAX_LIBRARY_BYTES = 256 << 20
"""The most of a compiled check file read back for the second phase (coqc may write no larger file)."""
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
    suffix: str


@dataclass(frozen=True)
class RecheckFile:
    """The second phase's file: the trusted signature, then the compiled proof loaded and matched against it.

    Lines up to `signature_end` are the gate's header and statement; `load_line` loads the library,
    `match_line` matches it against the signature, `plugin_line` loads the fixpoint audit and
    `audit_line` runs it. The four markers fence, in order, the plugins loaded before the library, those
    loaded with it, and the assumptions of the checked theorem; the audit's verdict follows the last.
    """

    source: str
    signature_end: int
    load_line: int
    match_line: int
    plugin_line: int
    audit_line: int
    markers: tuple[str, str, str, str]

    def between(self, stdout: str, first: int) -> str | None:
        """What was printed between marker `first` and the next one (after the last marker: up to the end),
        or None when either is missing."""
        begin = stdout.find(self.markers[first])
        if first + 1 == len(self.markers):
            end = len(stdout) if begin >= 0 else -1
        else:
            end = stdout.find(self.markers[first + 1], begin + 1) if begin >= 0 else -1
        if begin < 0 or end < 0:
            return None
        return stdout[begin + len(self.markers[first]) : end]


def build_recheck_file(
    problem: ProofProblem, layout: CheckFile, library: str, suffix: str | None = None
) -> RecheckFile:
    """The gate's own file for the second phase (see the module docstring): no text of the proof in it.

    `library` is the compiled check file's full name (`Labgate.<file stem>`).

    The header goes inside a module type so that its declarations are fields the library's must match:
    a definition by a convertible body, an inductive type exactly, a postulate or an opaque lemma by its
    type. The flags the kernel checks under are set again after the library is loaded.
    """
    suffix = suffix or secrets.token_hex(4)
    checked = layout.suffix
    # The header's libraries loaded first, outside the module type: loaded inside it, each library's
    # contents become part of the signature and are copied again when it closes (about half a second).
    preload = "".join(
        f"{sentence.text}\n" for sentence in problem.header_sentences() if sentence.first_word in ("Require", "From")
    )
    signature = (
        f"{SPROP_OFF}\n{preload}Module Type LabgateExpected_{suffix}.\n{problem.header.rstrip()}\n"
        f"Definition labgate_goal_{checked} : Type := {problem.parsed.goal()}.\n"
        f"{_as_stated(problem, f'labgate_check_{checked}')}"
        f"End LabgateExpected_{suffix}.\n"
    )
    marks = [f"labgate_mark{index}_{suffix}" for index in range(4)]
    prints = [f"Print {mark}.\n" for mark in marks]
    head = signature + "".join(f"Definition {mark} := I.\n" for mark in marks) + prints[0] + "Print ML Modules.\n"
    head += prints[1]
    load = f"Require {library}.\n"
    # A library carries its `Global` settings into whatever loads it: the kernel's checks and the timeout
    # that would turn unread library proofs into listed axioms are set back before they are relied on.
    flags = "Set Guard Checking.\nSet Positivity Checking.\nSet Universe Checking.\nUnset Default Timeout.\n"
    match = f"Module LabgateVerified_{suffix} : LabgateExpected_{suffix} := {library}.\n"
    tail = f"Print ML Modules.\n{prints[2]}Print Assumptions {library}.labgate_check_{checked}.\n{prints[3]}"
    audit = f'Declare ML Module "{AUDIT_PLUGIN}".\nLabgate Audit Fixpoints {library}.labgate_check_{checked}.\n'
    load_line = head.count("\n") + 1
    match_line = load_line + 1 + flags.count("\n")
    plugin_line = match_line + 1 + tail.count("\n")
    fences = [f"{mark} = I\n     : True\n" for mark in marks]
    return RecheckFile(
        source=head + load + flags + match + tail + audit,
        signature_end=signature.count("\n"),
        load_line=load_line,
        match_line=match_line,
        plugin_line=plugin_line,
        audit_line=plugin_line + 1,
        markers=(fences[0], fences[1], fences[2], fences[3]),
    )


def _as_stated(problem: ProofProblem, name: str) -> str:
    """The task's theorem under `name`, in the task's own form (`Theorem name binders : type.`), as a field of
    a module type (`Admitted` there declares a field, not an axiom).

    The gate's `forall binders, type` restatement is words of its own: a header may give `Type` or
    `forall` a meaning of its own (`Notation "'Type'" := bool`) that the task's theorem never reads, and
    the restatement then asks for another proposition. The candidate, and in the second phase the compiled
    library, must also match the theorem read as Coq reads the task's."""
    statement = problem.parsed
    binders = f" {statement.binders}" if statement.binders else ""
    return f"Theorem {name}{binders} : {statement.type}.\nAdmitted.\n"


def build_check_file(problem: ProofProblem, report: ProofFileReport, suffix: str | None = None) -> CheckFile:
    """The file the kernel checks (see the module docstring)."""
    suffix = suffix or secrets.token_hex(4)
    goal = problem.parsed.goal()
    head = (
        f"{SPROP_OFF}\n{problem.header.rstrip()}\n\nDefinition labgate_goal_{suffix} : Type := {goal}.\n"
        f"Module Type LabgateStated_{suffix}.\n{_as_stated(problem, problem.name)}End LabgateStated_{suffix}.\n\n"
        f"Module LabgateCandidate_{suffix} <: LabgateStated_{suffix}.\n"
    )
    body = report.body.rstrip("\n") + "\n"
    trailer = (
        f"End LabgateCandidate_{suffix}.\n\n"
        f"Theorem labgate_check_{suffix} : labgate_goal_{suffix}.\n"
        f"Proof. exact @LabgateCandidate_{suffix}.{problem.name}. Qed.\n"
    )
    body_first = head.count("\n") + 1
    return CheckFile(
        source=head + body + trailer,
        body_first_line=body_first,
        body_lines=body.count("\n"),
        trailer_first_line=body_first + body.count("\n"),
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
    message = message.replace(f"LabgateCandidate_{suffix}.", "").replace(
        f"LabgateStated_{suffix}", "the task's statement"
    )
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
    try:
        source.encode()
    except UnicodeEncodeError as error:
        reason = f"the proof is not Unicode text: {error.reason} at character {error.start}"
        return ProofVerdict("reject", [reason], seconds=time.monotonic() - started)
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
    if not reasons:
        reasons.extend(unread_sentence_reasons(layout, result.stdout))
    verdict = ProofVerdict("reject", reasons, diagnostics=diagnostics, check_source=layout.source)
    if not reasons:  # so far only coqc's word: the second phase decides on the compiled library alone
        reasons.extend(_recheck_reasons(problem, layout, prover, allowed_axioms, timeout, verdict))
    verdict.decision = "reject" if reasons else "accept"
    verdict.seconds = time.monotonic() - started
    return verdict


def unread_sentence_reasons(layout: CheckFile, stdout: str) -> list[str]:
    """Why coqc ran a sentence the gate's splitter did not read as one (empty when every one matches).

    The text rules judge sentences and words as the splitter sees them, so Coq must run exactly those.
    Where its lexer and the splitter disagree, a sentence can run that no rule saw: a notation symbol
    ending in `(` (`%(`) makes Coq read the `(*` after it as code while the splitter skips a comment,
    and everything up to the next `*)` (the guard checker's or SProp's known unsoundness, for
    instance) ran unread. So every span coqc reports (`-time`) must be one of the splitter's. A span a
    proof prints itself only adds a span to match; none of coqc's own can be hidden or left out.
    """
    try:
        sentences = split_sentences(layout.source)
    except UnterminatedSourceError as error:
        return [f"the check file cannot be split into sentences: {error}"]
    encoded = [0, *itertools.accumulate(len(char.encode("utf-8", "surrogatepass")) for char in layout.source)]
    read = {(encoded[item.start], encoded[item.end]) for item in sentences}
    ran = [(int(start), int(end)) for start, end in _RAN_SENTENCE.findall(stdout)]
    if not ran:
        return [
            "the prover reported no sentence positions (coqc -time), so what it ran cannot be matched "
            "with what the gate read"
        ]
    unread = [span for span in ran if span not in read]
    if not unread:
        return []
    start, _ = unread[0]
    character = bisect.bisect_left(encoded, start)
    line, _ = line_column(layout.source, character)
    where = f"line {line - layout.body_first_line + 1} of the proof" if line >= layout.body_first_line else "the header"
    return [
        f"Coq ran {len(unread)} sentence(s) that the gate read as part of a comment, a string or another "
        f"sentence (the first at {where}); a notation symbol next to '(*' or '*)' makes Coq and the gate "
        "read the text differently - put a blank between them"
    ]


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


def _recheck_reasons(
    problem: ProofProblem,
    layout: CheckFile,
    prover: CoqProver,
    allowed_axioms: tuple[str, ...] | list[str],
    timeout: float,
    verdict: ProofVerdict,
) -> list[str]:
    """The second phase (see the module docstring) on the library coqc wrote; empty when it accepts.

    `verdict.assumptions` becomes this phase's list, the header's postulates named as the header names them.
    """
    library = f"{GATE_LIBRARY}.{prover.file_stem}"
    recheck = build_recheck_file(problem, layout, library)
    try:
        compiled = prover.compiled_library(MAX_LIBRARY_BYTES)
    except (OSError, SandboxError) as error:
        return [f"coqc left no compiled proof to check again: {error}"]
    try:
        loaded, checked = prover.recheck_compiled(
            compiled,
            GATE_LIBRARY,
            recheck.source,
            coqc_args=RECHECK_COQ_ARGS,
            ml_dirs=(prover.config.audit_dir(),),
            timeout=timeout,
        )
    except SandboxError as error:
        return [f"the compiled proof could not be checked again: {error}"]
    verdict.checker_seconds = checked.seconds
    reasons = _loaded_reasons(loaded, recheck)
    if reasons:
        return reasons
    before, after = (_ml_modules(recheck.between(loaded.stdout, index)) for index in (0, 1))
    if before is None or after is None:
        return ["the check of the compiled proof printed no list of loaded plugins"]
    reasons = [
        f"loading the compiled proof loads the OCaml module {name}, which is no plugin of Coq or of a Coq library"
        for name in after
        if name not in before and not _is_coq_plugin(name)
    ]
    printout = recheck.between(loaded.stdout, 2)
    parsed = parse_assumptions(printout) if printout is not None else None
    if parsed is None:
        return [*reasons, "the prover printed no assumption list for the checked theorem"]
    header_axioms = {f"{prefix}{name}": name for name in problem.assumed for prefix in _qualifiers(library)}
    verdict.assumptions = [
        Assumption(header_axioms.get(entry.name, entry.name), entry.kind, entry.text) for entry in parsed
    ]
    reasons.extend(judge_assumptions(verdict.assumptions, (*allowed_axioms, *problem.assumed)))
    reasons.extend(_audit_reasons(loaded, recheck, layout.suffix, library))
    return reasons or _checker_reasons(checked, problem, library)


def _audit_reasons(loaded: CheckResult, recheck: RecheckFile, suffix: str, library: str) -> list[str]:
    """Why the fixpoint audit gave no acceptance (empty when it accepted).

    A refusal or a plugin that does not load stops coqc at the audit's own lines; when coqc got past them,
    the audit must have said `ok` in the version the gate was written for. Names in a refusal are shown as
    the proof wrote them (`suffix`: the check file's, `library`: its compiled name).
    """
    error = loaded.first_error
    install = "install it: sandboxes/images/coq/audit/install, which ./scripts/setup runs"
    if error is not None and error.line == recheck.plugin_line:
        return [
            f"the gate's fixpoint audit could not be loaded, so the proof cannot be accepted: "
            f"{error.message.strip()} ({install})"
        ]
    if error is not None and error.line == recheck.audit_line:
        marker = f"{AUDIT_VERSION}: refused: "
        refused = [line.split(marker, 1)[1] for line in error.message.splitlines() if marker in line]
        if not refused:
            return [f"the gate's fixpoint audit failed: {error.message.strip()}"]
        return [
            "the gate's fixpoint audit refuses a term of the compiled proof (Coq 8.16's kernel wrongly accepts some "
            f"such terms): {_clean(entry, suffix).replace(f'{library}.', '')}"
            for entry in refused
        ]
    printout = recheck.between(loaded.stdout, 3)
    if printout is not None and f"{AUDIT_VERSION}: ok:" in printout:
        return []
    found = re.search(r"labgate-audit [^:\n]*", printout or "")
    seen = f"it printed '{found.group(0)}'" if found else "it printed no verdict"
    return [
        f"the gate's fixpoint audit did not accept the compiled proof: {seen}, where '{AUDIT_VERSION}: ok' was "
        f"expected ({install})"
    ]


def _qualifiers(library: str) -> list[str]:
    """The prefixes a name of `library` may be printed with when it is loaded, not imported (`Check.`, ...)."""
    parts = library.split(".")
    return [".".join(parts[index:]) + "." for index in range(len(parts))]


def _checker_reasons(checked: CheckResult, problem: ProofProblem, library: str) -> list[str]:
    """coqchk's verdict on the compiled library (empty list when it agrees)."""
    if not checked.ok:
        return [checked.failure or "coqchk refused the compiled proof"]
    summary = parse_checker_summary(checked.stderr + checked.stdout)
    if summary is None:
        return ["coqchk printed no context summary for the compiled proof"]
    return judge_checker(summary, library, problem.assumed, header_postulates(problem))


def header_postulates(problem: ProofProblem) -> tuple[str, ...]:
    """The names the header declares as axioms outside any section or module (so axioms for certain).

    A `Variable` inside a section is no axiom once the section ends, and one inside a module has a longer
    name: both are left out, as are postulates the gate refuses anyway (`judge_checker` allows only the
    header's top-level names).
    """
    names: list[str] = []
    depth = 0
    for sentence in problem.header_sentences():
        keyword = command_word(sentence.code)
        if keyword == "End":
            depth = max(depth - 1, 0)
        elif keyword == "Section" or (keyword == "Module" and ":=" not in sentence.code):
            depth += 1
        elif keyword in ASSUMPTION_KEYWORDS and depth == 0:
            names.extend(declared_names(sentence))
    return tuple(dict.fromkeys(names))


def _loaded_reasons(loaded: CheckResult, recheck: RecheckFile) -> list[str]:
    """Why the second phase's file did not compile, by the part of it that failed (empty when it did)."""
    if loaded.timed_out or loaded.failure:
        return [f"the check of the compiled proof did not finish: {loaded.failure}"]
    error = loaded.first_error
    if error is None:
        return [] if loaded.ok else [f"the check of the compiled proof failed: {loaded.summary()}"]
    if 0 < error.line <= recheck.signature_end:
        return [
            f"the task's header and statement could not be stated as a signature to check the proof by: {error.message}"
        ]
    if error.line == recheck.load_line:
        return [f"the compiled proof could not be loaded to be checked again: {error.message}"]
    if error.line == recheck.match_line:
        return [
            "the compiled proof is not a proof of the task's statement under the task's header (its library "
            f"does not match them): {error.message}"
        ]
    if error.line in (recheck.plugin_line, recheck.audit_line):
        return []  # the audit's own lines: `_audit_reasons` reads them, after the assumptions
    return [f"the check of the compiled proof failed: {error.describe()}"]


_LEGACY_PLUGIN = re.compile(r"[a-z0-9_]+_plugin\.cmxs \(using legacy method\)")


def _ml_modules(printout: str | None) -> list[str] | None:
    """The entries of a `Print ML Modules` printout, or None when it is not one."""
    if printout is None:
        return None
    heading, _, rest = printout.partition("\n")
    if heading.strip() != "Loaded ML Modules:":
        return None
    return [line.strip() for line in rest.splitlines() if line.strip()]


def _is_coq_plugin(name: str) -> bool:
    """A plugin of Coq (Coq resolves a legacy plugin name only for its own) or of an installed Coq library.

    Coq loads what a library declares from its installation's findlib packages; the second phase has no
    writable directory where it looks, so this only tells a Coq plugin from any other OCaml package.
    """
    return bool(_LEGACY_PLUGIN.fullmatch(name)) or name.split(".", 1)[0].startswith("coq-")
