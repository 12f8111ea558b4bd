"""The Lean 4 proof gate: text rules on tokens, the kernel check of the gate's own file, the axioms, a replay.

The file the gate compiles is its own: the task's header, then the task's statement elaborated as
`def labgate_goal_<suffix> : Prop := ∀ binders, type` before anything the candidate wrote, then the
candidate's text (minus the header it repeats) inside `namespace LabgateCandidate_<suffix>`, then
`theorem labgate_check_<suffix> : labgate_goal_<suffix> := @LabgateCandidate_<suffix>.NAME` and
`#print axioms` of that theorem (exactly one listing for it may appear in Lean's output: a second one was
printed by the proof). The kernel must accept the candidate's proof at the trusted type;
the axioms it rests on must be among propext, Classical.choice and Quot.sound; and the compiled
module is replayed by an independent checker (lean4checker) because `#print axioms` and the
elaborator can be fooled by metaprogramming and kernel-check bypasses.

Text rules (`lint_lean`), on tokens so comments and strings neither hide nor fake anything:
no `sorry`/`admit`, no `native_decide`/`decide +native`/`bv_decide`/`Lean.ofReduceBool` unless
allowed, no new `axiom`,
`opaque`, `constant`, no `unsafe`, `@[implemented_by]`, `@[extern]`, no metaprogramming that can
redefine tactics, notation or the environment (`macro`, `macro_rules`, `syntax`, `elab`,
`elab_rules`, `notation`, infix forms, simprocs, `#eval`, `run_cmd`, `run_tac`, `initialize`, ...),
no `#exit`, no `#` command beyond those that only print (`#eval!`, `#guard_msgs` and the like are refused),
no attribute beyond those that only tag a declaration (`@[tactic]`, `@[command_elab]`, ... register code the
elaborator runs, which could answer the gate's own `#print axioms`), no `by_elab`, `meta` or
`declare_`/`register_`/`run_`/`builtin_`/`unsafe` families,
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
    "ofReduceNat": "uses Lean.ofReduceNat (native evaluation trusted by the kernel)",
    "by_elab": "runs elaboration code (`by_elab`)",
    "meta": "declares meta code (it runs while the file is elaborated)",
    "notation3": "declares notation",
    "binder_predicate": "declares notation (binder predicates)",
    "leading_parser": "defines a parser (metaprogramming)",
    "trailing_parser": "defines a parser (metaprogramming)",
    "elab_stx_quot": "defines an elaborator (metaprogramming)",
    "show_term_elab": "runs elaboration code",
    "tactic_extension": "extends a tactic (metaprogramming)",
    "test_extern": "uses @[extern]",
    "init_quot": "declares the quotient axioms",
    "unlock_limits": "lifts the elaborator's limits",
    "include_str": "reads a file while the file is elaborated",
}
QUALIFIED = ("sorryAx", "ofReduceBool", "ofReduceNat", "trustCompiler")
"""Constants that are refused under any namespace prefix (keywords are refused as bare words only)."""
FORBIDDEN_COMMANDS = {"exit": "#exit (the rest of the file would not be checked)", "eval": "#eval (runs code)"}
ALLOWED_HASH_COMMANDS = frozenset(
    [
        "check",
        "check_failure",
        "print",
        "reduce",
        "synth",
        "find",
        "where",
        "help",
        "version",
        "simp",
        "norm_num",
        "conv",
        "whnf",
        "v",
    ]
)
"""`#` commands that only print (`#v[...]` is a vector literal); any other (`#eval!`, `#guard`, `#guard_msgs`,
which swallows the errors it expects, `#time`, ...) runs code or changes what the file reports."""
META_PREFIXES = ("builtin_", "declare_", "register_", "run_", "unsafe")
"""Command and constant families that declare or run meta code (`declare_config_elab`,
`register_option`, `run_elab`, `builtin_simproc`, `unsafeCast`, ...): refused by prefix, since the list
grows with every Lean release."""
ALLOWED_ATTRIBUTES = frozenset(
    [
        "simp",
        "reducible",
        "irreducible",
        "semireducible",
        "instance",
        "inline",
        "noinline",
        "specialize",
        "ext",
        "norm_cast",
        "push_cast",
        "gcongr",
        "mono",
        "symm",
        "refl",
        "trans",
        "congr",
        "elab_as_elim",
        "nolint",
        "elab_without_expected_type",
        "match_pattern",
        "induction_eliminator",
        "cases_eliminator",
        "deprecated",
        "inherit_doc",
        "simps",
        "to_additive",
        "nontriviality",
        "field_simps",
        "default_instance",
        "coe",
        "grind",
        "continuity",
        "measurability",
        "fun_prop",
        "bound",
        "pp_nodot",
        "mk_iff",
        "class",
    ]
)
"""Attributes that only tag a declaration for existing tactics or the kernel-checked elaborator. An attribute
outside this list can register code the elaborator runs (`@[tactic]`, `@[command_elab]`, `@[term_elab]`,
`@[delab]`, `@[norm_num]`, `@[aesop]` tactic rules, `@[csimp]`, ...): such code can admit goals, add
declarations, or print a forged `#print axioms` answer for the gate's own theorem."""
NATIVE = {
    "native_decide": "uses native_decide",
    "native": "uses native evaluation (`decide +native`)",
    "bv_decide": "uses bv_decide (it trusts compiled code)",
}
ALLOWED_OPTIONS = re.compile(
    r"maxHeartbeats|maxRecDepth|synthInstance\.maxHeartbeats|synthInstance\.maxSize|linter\..+|"
    r"tactic\.hygienic|pp\..+|trace\..+|profiler(\..+)?|autoImplicit|relaxedAutoImplicit"
)


def _attribute_names(tokens: list[Token], open_at: int) -> list[str]:
    """The attribute names in the `[...]` opening at token `open_at` (`@[a, local b x, -c]`: a, b, c)."""
    names: list[str] = []
    depth = 0
    expect_name = True
    for token in tokens[open_at:]:
        if token.kind == "symbol" and token.text in "([{":
            depth += 1
        elif token.kind == "symbol" and token.text in ")]}":
            depth -= 1
            if depth == 0:
                break
        elif depth == 1 and token.text == ",":
            expect_name = True
        elif depth == 1 and expect_name and token.text not in ("local", "scoped", "-"):
            names.append(token.text)
            expect_name = False
    return names


def _attributes(tokens: list[Token]) -> list[str]:
    """Reasons for attributes outside ALLOWED_ATTRIBUTES (`@[...]` and `attribute [...]`)."""
    reasons: list[str] = []
    for index, token in enumerate(tokens[:-1]):
        following = tokens[index + 1]
        opens = following.text == "[" and (
            (token.text == "@" and following.start == token.end)
            or (token.kind == "ident" and token.text == "attribute")
        )
        if not opens:
            continue
        for name in _attribute_names(tokens, index + 1):
            if name.replace("«", "").replace("»", "") not in ALLOWED_ATTRIBUTES:
                reasons.append(
                    f"the file uses the attribute `{name}`, which the gate does not allow (an attribute can "
                    "register code the elaborator runs; allowed: simp, ext, instance, reducible, norm_cast, ...)"
                )
    return reasons


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
            if last.startswith(META_PREFIXES):
                reasons.append(f"the file uses `{token.text}` (its family declares or runs meta code)")
        for word in sorted(words):
            if word in FORBIDDEN_WORDS:
                reasons.append(f"the file {FORBIDDEN_WORDS[word]} (`{token.text}`)")
            if word in NATIVE and not allow_native:
                reasons.append(f"the file {NATIVE[word]} (not allowed by the gate's options)")
        if token.text == "#" and index + 1 < len(tokens) and tokens[index + 1].start == token.end:
            command = tokens[index + 1].text
            if command in FORBIDDEN_COMMANDS:
                reasons.append(f"the file uses {FORBIDDEN_COMMANDS[command]}")
            elif tokens[index + 1].kind == "ident" and command not in ALLOWED_HASH_COMMANDS:
                reasons.append(
                    f"the file uses #{command} (only commands that print are allowed: #check, #print, ...; "
                    "for a finite set's card write Finset.card)"
                )
        if token.text == "set_option" and index + 1 < len(tokens):
            option = tokens[index + 1].text
            if not ALLOWED_OPTIONS.fullmatch(option):
                reasons.append(f"the file sets option {option} (it can weaken checking; allowed: limits and linters)")
    reasons.extend(_attributes(tokens))
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


def axiom_listings(output: str, theorem: str) -> list[list[str]]:
    """Every axiom list `#print axioms THEOREM` printed, in order."""
    listings: list[list[str]] = []
    quoted = re.escape(f"'{theorem}'")
    for match in re.finditer(
        rf"{quoted} (depends on axioms: \[(?P<names>[^\]]*)\]|does not depend on any axioms)", output
    ):
        names = match.group("names")
        listings.append([] if names is None else [name.strip() for name in names.split(",") if name.strip()])
    return listings


def parse_axioms(output: str, theorem: str) -> list[str] | None:
    """The axioms `#print axioms THEOREM` listed (the last such answer), or None when it printed none."""
    listings = axiom_listings(output, theorem)
    return listings[-1] if listings else None


def _judge_axioms(output: str, theorem: str, allowed_axioms: tuple[str, ...], verdict: ForeignVerdict) -> None:
    """The gate's one `#print axioms` answer, judged; more than one answer means the proof printed one."""
    listings = axiom_listings(output, theorem)
    if not listings:
        verdict.reasons.append("Lean printed no axiom list for the checked theorem")
        return
    if len(listings) > 1:
        # The gate prints one listing; the theorem's name is random and declared after the candidate's
        # text, so any other listing was printed by code the proof ran (a forged "no axioms" line on
        # stderr would otherwise be the last one read).
        verdict.reasons.append(
            f"Lean's output holds {len(listings)} axiom lists for the checked theorem where the gate asked for one: "
            "the proof printed one of its own"
        )
        return
    verdict.assumptions = listings[0]
    extra = [name for name in listings[0] if name not in allowed_axioms]
    if extra:
        verdict.reasons.append(f"the proof rests on {', '.join(extra)} (allowed: {', '.join(allowed_axioms)})")


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
    _judge_axioms(compiled.stdout + "\n" + compiled.stderr, f"labgate_check_{suffix}", allowed_axioms, verdict)
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
