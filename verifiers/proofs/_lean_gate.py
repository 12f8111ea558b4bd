"""The Lean 4 proof gate: text rules on tokens, the kernel check of the gate's own file, the axioms, a replay.

The file the gate compiles is its own: the task's header, then the task's statement elaborated as
`def labgate_goal_<suffix> : Prop := ∀ binders, type` before anything the candidate wrote, then the
candidate's text (minus the header it repeats) inside `namespace LabgateCandidate_<suffix>`, then
`theorem labgate_check_<suffix> : labgate_goal_<suffix> := @LabgateCandidate_<suffix>.NAME` and
`#print axioms` of that theorem. The kernel must accept the candidate's proof at the trusted type;
the axioms it rests on must be among propext, Classical.choice and Quot.sound; and the compiled
module is replayed by an independent checker (lean4checker) because `#print axioms` and the
elaborator can be fooled by metaprogramming and kernel-check bypasses.

Text rules (`lint_lean`), on tokens so comments and strings neither hide nor fake anything:
no `sorry`/`admit`, no `native_decide`/`decide +native`/`bv_decide`/`Lean.ofReduceBool` unless
allowed, no new `axiom`,
`opaque`, `constant`, no `unsafe`, `@[implemented_by]`, `@[extern]`, no metaprogramming that can
redefine tactics, notation or the environment (`macro`, `macro_rules`, `syntax`, `elab`,
`elab_rules`, `notation`, infix forms, simprocs, `#eval`, `run_cmd`, `run_tac`, `initialize`, ...),
no `#exit`,
no import beyond the task's header, and `set_option` only for the options in
`ALLOWED_OPTIONS` (resource limits and linters: `maxHeartbeats 0` is allowed, since it removes a
time limit and weakens no check; the gate has its own wall-clock limit).
"""

from __future__ import annotations

import re
import secrets
import time

from tools.proofs import (
    LeanBatch,
    ProofProblem,
    Token,
    UnterminatedSourceError,
    code_tokens,
    lean_imports,
    lean_statement_end,
    lean_tokens,
    token_text,
)
from verifiers.proofs._foreign_verdict import ForeignVerdict

LEAN_ALLOWED_AXIOMS = ("propext", "Classical.choice", "Quot.sound")
FORBIDDEN_WORDS = {
    "sorry": "uses sorry",
    "admit": "uses admit",
    "sorryAx": "uses sorryAx",
    "axiom": "declares an axiom",
    "axioms": "declares axioms",
    "opaque": "declares an opaque constant",
    "constant": "declares a constant",
    "unsafe": "uses unsafe code",
    "implemented_by": "uses @[implemented_by]",
    "extern": "uses @[extern]",
    "macro": "defines a macro (it can redefine tactics or notation)",
    "macro_rules": "defines macro rules (they can redefine tactics or notation)",
    "syntax": "declares syntax (it can redefine tactics or notation)",
    "elab": "defines an elaborator (metaprogramming)",
    "elab_rules": "defines elaborator rules (metaprogramming)",
    "notation": "declares notation",
    "infix": "declares notation",
    "infixl": "declares notation",
    "infixr": "declares notation",
    "prefix": "declares notation",
    "postfix": "declares notation",
    "declare_syntax_cat": "declares a syntax category",
    "run_cmd": "runs commands at elaboration time",
    "run_elab": "runs elaboration code",
    "run_meta": "runs meta code",
    "run_tac": "runs tactic code",
    "initialize": "runs initialization code",
    "simproc": "defines a simproc (metaprogramming)",
    "dsimproc": "defines a simproc (metaprogramming)",
    "simproc_decl": "declares a simproc (metaprogramming)",
    "builtin_initialize": "runs initialization code",
    "ofReduceBool": "uses Lean.ofReduceBool (native evaluation trusted by the kernel)",
    "Lean.ofReduceBool": "uses Lean.ofReduceBool (native evaluation trusted by the kernel)",
    "trustCompiler": "uses Lean.trustCompiler",
    "Lean.trustCompiler": "uses Lean.trustCompiler",
}
QUALIFIED = ("sorryAx", "ofReduceBool", "trustCompiler")
"""Constants that are refused under any namespace prefix (keywords are refused as bare words only)."""
FORBIDDEN_COMMANDS = {"exit": "#exit (the rest of the file would not be checked)", "eval": "#eval (runs code)"}
NATIVE = {
    "native_decide": "uses native_decide",
    "native": "uses native evaluation (`decide +native`)",
    "bv_decide": "uses bv_decide (it trusts compiled code)",
}
ALLOWED_OPTIONS = re.compile(
    r"maxHeartbeats|maxRecDepth|synthInstance\.maxHeartbeats|synthInstance\.maxSize|linter\..+|"
    r"tactic\.hygienic|pp\..+|trace\..+|profiler(\..+)?|autoImplicit|relaxedAutoImplicit"
)


def _forbidden(tokens: list[Token], allow_native: bool) -> list[str]:
    reasons: list[str] = []
    for index, token in enumerate(tokens):
        words = set()
        if token.kind == "ident":
            name = token.text.replace("«", "").replace("»", "")  # «sorryAx» names sorryAx
            words.add(name)
            last = name.rsplit(".", 1)[-1]
            if last in QUALIFIED:
                words.add(last)
        for word in sorted(words):
            if word in FORBIDDEN_WORDS:
                reasons.append(f"the file {FORBIDDEN_WORDS[word]} (`{token.text}`)")
            if word in NATIVE and not allow_native:
                reasons.append(f"the file {NATIVE[word]} (not allowed by the gate's options)")
        if token.text == "#" and index + 1 < len(tokens) and tokens[index + 1].start == token.end:
            command = tokens[index + 1].text
            if command in FORBIDDEN_COMMANDS:
                reasons.append(f"the file uses {FORBIDDEN_COMMANDS[command]}")
        if token.text == "set_option" and index + 1 < len(tokens):
            option = tokens[index + 1].text
            if not ALLOWED_OPTIONS.fullmatch(option):
                reasons.append(f"the file sets option {option} (it can weaken checking; allowed: limits and linters)")
    return list(dict.fromkeys(reasons))


def lint_lean(problem: ProofProblem, source: str, *, allow_native: bool = False) -> tuple[list[str], str]:
    """Why the file is refused before any check (empty when it passes), and its body after the header."""
    try:
        tokens = code_tokens(lean_tokens(source))
        header_tokens = code_tokens(lean_tokens(problem.header))
    except UnterminatedSourceError as error:
        return [f"the file cannot be read as Lean: {error}"], ""
    reasons: list[str] = []
    allowed_imports = set(lean_imports(problem.header))
    prefix = [token.text for token in tokens[: len(header_tokens)]]
    if header_tokens and prefix == [token.text for token in header_tokens]:
        body_start = tokens[len(header_tokens) - 1].end
    else:
        # A file that does not repeat the header verbatim: its own imports are dropped (the gate's file
        # has the header's), and what it defines again lives in the candidate's namespace.
        index = 0
        while index + 1 < len(tokens) and tokens[index].text == "import":
            index += 2
        body_start = tokens[index - 1].end if index else 0
    body_tokens = [token for token in tokens if token.start >= body_start]
    for index, token in enumerate(tokens):
        if token.text == "import" and index + 1 < len(tokens):
            module = tokens[index + 1].text
            if module not in allowed_imports:
                reasons.append(f"the file imports {module}, beyond the task's header")
    reasons.extend(_forbidden(body_tokens, allow_native))
    if reasons:
        return reasons, ""
    body = source[body_start:]
    stated = _statement_of(body_tokens, problem.name, body, body_start)
    if stated is None:
        return [f"the file has no theorem {problem.name}"], ""
    # `lemma` and `theorem` are the same declaration; everything from the name on must be the task's.
    if token_text(lean_tokens(stated)[1:]) != token_text(lean_tokens(problem.statement)[1:]):
        return [f"the statement of {problem.name} is not the task's (changed or weakened)"], ""
    return [], body


def _statement_of(tokens: list[Token], name: str, body: str, offset: int) -> str | None:
    for index, token in enumerate(tokens[:-1]):
        if token.text in ("theorem", "lemma") and tokens[index + 1].text == name:
            end = lean_statement_end(tokens, index)
            if end is None:
                return None
            return body[token.start - offset : tokens[end].start - offset]
    return None


def _binders_and_type(problem: ProofProblem) -> tuple[str, str]:
    tokens = code_tokens(lean_tokens(problem.statement))
    depth = 0
    for index, token in enumerate(tokens[2:], start=2):
        if token.kind != "symbol":
            continue
        if token.text in "([{⟨⦃":
            depth += 1
        elif token.text in ")]}⟩⦄":
            depth -= 1
        elif token.text == ":" and depth == 0:
            binders = problem.statement[tokens[2].start : token.start].strip() if index > 2 else ""
            return binders, problem.statement[token.end :].strip()
    return "", problem.statement


def build_lean_check(problem: ProofProblem, body: str, suffix: str | None = None) -> tuple[str, str, int]:
    """The gate's file, its suffix, and the line where the candidate's body starts."""
    suffix = suffix or secrets.token_hex(4)
    binders, type_ = _binders_and_type(problem)
    goal = f"∀ {binders}, {type_}" if binders else type_
    head = (
        f"{problem.header.rstrip()}\n\n"
        f"def labgate_goal_{suffix} : Prop :=\n  {goal}\n\n"
        f"namespace LabgateCandidate_{suffix}\n"
    )
    trailer = (
        f"\nend LabgateCandidate_{suffix}\n\n"
        f"theorem labgate_check_{suffix} : labgate_goal_{suffix} := @LabgateCandidate_{suffix}.{problem.name}\n\n"
        f"#print axioms labgate_check_{suffix}\n"
    )
    return head + body.strip("\n") + "\n" + trailer, suffix, head.count("\n") + 1


def parse_axioms(output: str, theorem: str) -> list[str] | None:
    """The axioms `#print axioms THEOREM` listed (the last such answer), or None when it printed none."""
    found: list[str] | None = None
    quoted = re.escape(f"'{theorem}'")
    for match in re.finditer(
        rf"{quoted} (depends on axioms: \[(?P<names>[^\]]*)\]|does not depend on any axioms)", output
    ):
        names = match.group("names")
        found = [] if names is None else [name.strip() for name in names.split(",") if name.strip()]
    return found


def check_lean_proof(
    problem: ProofProblem,
    source: str,
    batch: LeanBatch,
    *,
    allow_native: bool = False,
    allowed_axioms: tuple[str, ...] = LEAN_ALLOWED_AXIOMS,
    timeout: float = 300.0,
) -> ForeignVerdict:
    """Lint, compile the gate's file, judge `#print axioms`, replay the module (first refusal wins)."""
    started = time.monotonic()
    reasons, body = lint_lean(problem, source, allow_native=allow_native)
    if reasons:
        return ForeignVerdict("reject", reasons, seconds=time.monotonic() - started)
    check_source, suffix, body_line = build_lean_check(problem, body)
    compiled = batch.compile(check_source, "Check", timeout)
    verdict = ForeignVerdict("reject", [], check_source=check_source)
    if not compiled.ok:
        error = compiled.first_error
        if error is None:
            verdict.reasons.append(f"Lean did not check the file: {compiled.summary()}")
        else:
            message = error.message.replace(f"LabgateCandidate_{suffix}.", "")
            message = re.sub(rf"labgate_(goal|check)_{suffix}", r"the task's \1", message)
            body_lines = body.strip("\n").count("\n") + 1
            if body_line <= error.line < body_line + body_lines:
                # Back to the file's own lines: what precedes the body, and the blank lines dropped from it.
                before = source[: len(source) - len(body)].count("\n") + len(body) - len(body.lstrip("\n"))
                line = error.line - body_line + 1 + before
                verdict.reasons.append(f"Lean rejects the proof at line {line}: {message}")
            elif error.line >= body_line + body_lines:
                verdict.reasons.append(
                    f"the theorem the file proves does not have the task's statement (the kernel could not use it "
                    f"as a proof of it): {message}"
                )
            else:
                verdict.reasons.append(f"the task's own header does not compile: {message}")
        verdict.seconds = time.monotonic() - started
        return verdict
    axioms = parse_axioms(compiled.stdout + "\n" + compiled.stderr, f"labgate_check_{suffix}")
    if axioms is None:
        verdict.reasons.append("Lean printed no axiom list for the checked theorem")
    else:
        verdict.assumptions = axioms
        extra = [name for name in axioms if name not in allowed_axioms]
        if extra:
            verdict.reasons.append(f"the proof rests on {', '.join(extra)} (allowed: {', '.join(allowed_axioms)})")
    if not verdict.reasons:
        replayed = batch.replay("Check", timeout)
        verdict.checker_seconds = replayed.seconds
        if not replayed.ok:
            detail = (replayed.stderr or replayed.stdout).strip().splitlines()
            verdict.reasons.append(
                f"the independent replay ({batch.checker}) refuses the compiled module: "
                f"{detail[-1] if detail else replayed.summary()}"
            )
    verdict.decision = "reject" if verdict.reasons else "accept"
    verdict.seconds = time.monotonic() - started
    return verdict
