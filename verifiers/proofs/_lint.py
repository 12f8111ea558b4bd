"""Reading a proof file before any prover runs: what it may contain, and where its proof is.

A proof file is the task's header and statement followed by a proof, optionally with helper
lemmas, definitions and extra imports. The checks here name every way a file can cheat that text
alone reveals — `Admitted`, `admit`, `Abort`, new axioms, options that switch kernel checks off,
commands that leave the file, a changed statement, a redefinition of something the statement
uses — so that the verdict says which one; the kernel check that follows catches what text cannot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tools.proofs import (
    ASSUMPTION_KEYWORDS,
    THEOREM_KEYWORDS,
    ProblemFormatError,
    ProofProblem,
    Sentence,
    UnterminatedSourceError,
    declared_names,
    line_column,
    normalize,
    parse_statement,
    split_sentences,
    strip_attributes,
)

# Commands a proof file may use outside proofs (after `Time`/`Timeout n` prefixes are removed).
_ALLOWED_COMMANDS = frozenset(
    {
        "Require",
        "Import",
        "Export",
        "From",
        "Open",
        "Close",
        "Definition",
        "Fixpoint",
        "CoFixpoint",
        "Inductive",
        "CoInductive",
        "Variant",
        "Record",
        "Structure",
        "Function",
        "Ltac",
        "Tactic",
        "Notation",
        "Infix",
        "Reserved",
        "Hint",
        "Create",
        "Arguments",
        "Implicit",
        "Opaque",
        "Transparent",
        "Check",
        "Print",
        "About",
        "Locate",
        "Search",
        "SearchPattern",
        "SearchRewrite",
        "Compute",
        "Eval",
        "Instance",
        "Existing",
        "Coercion",
        "Canonical",
        "Scheme",
        "Remove",
        "Program",
        "Next",
        "Obligation",
        "Solve",
        "Set",
        "Unset",
        "Add",
        "Goal",
        "Show",
        *THEOREM_KEYWORDS,
    }
)
_MODIFIERS = ("Local", "Global", "Polymorphic", "Monomorphic", "Cumulative", "NonCumulative", "Private")
_ALLOWED_ATTRIBUTES = frozenset({"local", "global", "export", "program", "refine"})
_ADD_ALLOWED = ("Add Ring", "Add Field", "Add Morphism", "Add Parametric", "Add Setoid", "Add Relation")
# Options whose change cannot make a false statement check; everything else is refused.
_SAFE_OPTIONS = (
    "Printing",
    "Implicit Arguments",
    "Strict Implicit",
    "Contextual Implicit",
    "Maximal Implicit Insertion",
    "Reversible Pattern Implicit",
    "Asymmetric Patterns",
    "Bullet Behavior",
    "Default Goal Selector",
    "Default Proof Using",
    "Suggest Proof Using",
    "Firstorder Depth",
    "Firstorder Solver",
    "Hyps Limit",
    "Ltac Backtrace",
    "Ltac Debug",
    "Ltac Batch Debug",
    "Ltac Profiling",
    "Info Level",
    "Nia Cache",
    "Lia Cache",
    "Nra Cache",
    "Hammer",
    "Silent",
    "Warnings",
    "Diffs",
    "Default Timeout",
    "Search Output Name Only",
    "Keyed Unification",
    "Regular Subst Tactic",
    "Structural Injection",
    "Mangle Names",
    "Intuition Negation Unfolding",
    "Intuition Iff Unfolding",
    "Typeclasses Debug",
    "Typeclasses Depth",
    "Typeclasses Strict Resolution",
    "Typeclasses Unique Solutions",
)
_KERNEL_OPTIONS = ("Guard Checking", "Positivity Checking", "Universe Checking", "Type In Type")
_PROOF_ENDS = ("Qed", "Defined", "Admitted", "Abort", "Save")
_CHEAT_TACTICS = re.compile(r"(?<![\w'.])(admit|give_up)(?![\w'])")
_STRING = re.compile(r'"(?:[^"]|"")*"')
_DEFINING = (
    "Definition",
    "Fixpoint",
    "CoFixpoint",
    "Inductive",
    "CoInductive",
    "Variant",
    "Record",
    "Structure",
    "Function",
    "Instance",
    *THEOREM_KEYWORDS,
)


@dataclass
class ProofFileReport:
    """What the text of a proof file says: problems found, and the parts a kernel check needs."""

    problems: list[str] = field(default_factory=list)
    body: str = ""
    main_statement: str = ""
    main_end: str = ""
    header_kept: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _where(source: str, sentence: Sentence) -> str:
    line, _ = line_column(source, sentence.start)
    return f"line {line}"


def _strip_prefixes(code: str) -> str:
    """A command without `Time`, `Timeout n`, attributes and locality modifiers before it."""
    code = strip_attributes(code)
    changed = True
    while changed:
        changed = False
        for prefix in ("Time ", *(f"{word} " for word in _MODIFIERS)):
            if code.startswith(prefix):
                code = strip_attributes(code[len(prefix) :])
                changed = True
        timeout = re.match(r"Timeout\s+\d+\s+", code)
        if timeout:
            code = code[timeout.end() :]
            changed = True
    return code


def _attributes(code: str) -> list[str]:
    names: list[str] = []
    for group in re.findall(r"#\[([^\]]*)\]", code):
        for item in group.split(","):
            name = item.strip().split("(")[0].split("=")[0].strip()
            if name:
                names.append(name)
    return names


def _option_problem(code: str) -> str | None:
    """Why a Set/Unset command is refused, or None when the option is harmless."""
    option = re.sub(r"^(Set|Unset)\s+", "", code).rstrip(".").strip()
    for kernel in _KERNEL_OPTIONS:
        if option.startswith(kernel):
            return f"`{code}` switches off a kernel check ({kernel})"
    if any(option == safe or option.startswith(safe + " ") for safe in _SAFE_OPTIONS):
        return None
    return f"`{code}` changes option '{option.split()[0] if option else ''}...', which is not on the allow-list"


def _notation_symbols(code: str) -> list[str]:
    """The symbols a Notation/Infix command defines (its non-identifier tokens)."""
    match = re.search(r'"((?:[^"]|"")*)"', code)
    if not match:
        return []
    tokens = match.group(1).replace("''", "").split()
    return [token.strip("'") for token in tokens if token.strip("'") and not re.fullmatch(r"[A-Za-z_][\w']*", token)]


def _statement_vocabulary(problem: ProofProblem) -> tuple[set[str], str]:
    code = normalize(problem.statement)
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_']*", code)), code


def lint_proof_file(problem: ProofProblem, source: str) -> ProofFileReport:
    """Check the text of a proof file for `problem`; `report.body` is what a kernel check runs.

    The body is the source with sentences identical to the trusted header's blanked out (lines
    kept, so that a prover's line numbers still point into the user's file).
    """
    report = ProofFileReport()
    try:
        sentences = split_sentences(source)
        trusted = parse_statement(problem.statement)
    except (UnterminatedSourceError, ProblemFormatError) as error:
        report.problems.append(f"the file cannot be read as Coq sentences: {error}")
        return report
    header_codes = {item.code for item in problem.header_sentences()}
    vocabulary, statement_code = _statement_vocabulary(problem)
    blanked = list(source)
    in_proof: str | None = None  # name of the theorem whose proof is open
    main_seen = False
    for sentence in sentences:
        where = _where(source, sentence)
        if sentence.kind != "sentence":
            if in_proof is None:
                report.problems.append(f"{where}: bullet or brace '{sentence.text}' outside a proof")
            continue
        code = sentence.code
        if in_proof is None and code in header_codes:
            report.header_kept += 1
            for index in range(sentence.start, sentence.end):
                if blanked[index] != "\n":
                    blanked[index] = " "
            continue
        for attribute in _attributes(code):
            if attribute not in _ALLOWED_ATTRIBUTES:
                report.problems.append(f"{where}: attribute #[{attribute}] is not allowed")
        command = _strip_prefixes(code)
        word = re.match(r"[A-Za-z_][A-Za-z0-9_']*", command)
        first = word.group(0) if word else ""
        if in_proof is not None:
            in_proof = _proof_sentence(report, problem, sentence, command, first, where, in_proof)
            continue
        problem_text, opens = _top_sentence(command, first, sentence, problem, vocabulary, statement_code)
        if problem_text:
            report.problems.append(f"{where}: {problem_text}")
        if first in THEOREM_KEYWORDS or first in _DEFINING:
            names = declared_names(Sentence(command, sentence.start, sentence.end))
            if names and names[0] == problem.name:
                if main_seen:
                    report.problems.append(f"{where}: theorem {problem.name} is stated twice")
                main_seen = True
                report.main_statement = command
                _compare_statement(report, command, trusted.binders, trusted.type, where)
        if opens:
            names = declared_names(Sentence(command, sentence.start, sentence.end))
            in_proof = names[0] if names else "Goal"
    if in_proof is not None:
        report.problems.append(f"the proof of {in_proof} is never closed (no Qed or Defined)")
        if in_proof == problem.name:
            report.main_end = "open"
    if not main_seen:
        report.problems.append(f"theorem {problem.name} is not stated in the file")
    elif report.main_end not in ("Qed", "Defined") and not any("never closed" in p for p in report.problems):
        report.problems.append(f"the proof of {problem.name} does not end with Qed or Defined")
    report.body = "".join(blanked)
    return report


def _compare_statement(report: ProofFileReport, command: str, binders: str, type_: str, where: str) -> None:
    try:
        given = parse_statement(command)
    except ProblemFormatError as error:
        report.problems.append(f"{where}: the statement cannot be read: {error}")
        return
    if normalize(given.binders) != normalize(binders) or normalize(given.type) != normalize(type_):
        expected = f"{binders} : {type_}" if binders else type_
        found = f"{given.binders} : {given.type}" if given.binders else given.type
        report.problems.append(
            f"{where}: the statement of {given.name} differs from the task's: expected `{expected}`, found `{found}`"
        )


def _top_sentence(
    command: str,
    first: str,
    sentence: Sentence,
    problem: ProofProblem,
    vocabulary: set[str],
    statement_code: str,
) -> tuple[str | None, bool]:
    """(why the command is refused or None, whether it opens a proof)."""
    if first in ASSUMPTION_KEYWORDS:
        return f"`{first}` adds an assumption the proof would rest on; only the task's own are allowed", False
    if first in ("Admitted", "Abort", "Admit"):
        return f"`{first}` outside a proof", False
    if first in ("Set", "Unset"):
        return _option_problem(command), False
    if first == "Add" and not command.startswith(_ADD_ALLOWED):
        return f"`{' '.join(command.split()[:3])}` is not allowed (it changes where Coq loads code from)", False
    if first not in _ALLOWED_COMMANDS:
        shown = " ".join(command.split()[:2]).rstrip(".")
        return f"command `{shown}` is not allowed in a proof file", False
    if first in ("Notation", "Infix"):
        used = [symbol for symbol in _notation_symbols(command) if symbol in statement_code]
        if used:
            return f"`{first}` redefines `{used[0]}`, which the statement uses", False
    names = declared_names(Sentence(command, sentence.start, sentence.end))
    if first in _DEFINING and names and names[0] != problem.name and names[0] in vocabulary:
        return f"`{first} {names[0]}` redefines `{names[0]}`, which the statement uses", False
    opens = (first in THEOREM_KEYWORDS or first == "Goal" or first in _DEFINING) and not _has_body(command)
    if first in ("Next", "Obligation"):
        opens = True
    return None, opens


def _has_body(command: str) -> bool:
    """Whether a definition gives its body with `:=` (so no proof follows)."""
    depth = 0
    for index, char in enumerate(command):
        if char in "({[":
            depth += 1
        elif char in ")}]":
            depth -= 1
        elif char == ":" and depth == 0 and command.startswith(":=", index):
            return True
    return command.split(maxsplit=1)[0] in ("Inductive", "CoInductive", "Variant", "Record", "Structure")


def _proof_sentence(
    report: ProofFileReport,
    problem: ProofProblem,
    sentence: Sentence,
    command: str,
    first: str,
    where: str,
    owner: str,
) -> str | None:
    """Check one sentence inside a proof; returns the owner while the proof stays open."""
    if first in _PROOF_ENDS:
        if owner == problem.name:
            report.main_end = first
        if first in ("Admitted", "Abort", "Save"):
            report.problems.append(f"{where}: the proof of {owner} ends with `{first}`, not Qed or Defined")
        return None
    if first in ("Set", "Unset"):
        problem_text = _option_problem(command)
        if problem_text:
            report.problems.append(f"{where}: {problem_text}")
        return owner
    without_strings = _STRING.sub('""', command)
    cheat = _CHEAT_TACTICS.search(without_strings)
    if cheat:
        report.problems.append(f"{where}: the proof of {owner} uses `{cheat.group(1)}`, which leaves a goal unproved")
    if first in ASSUMPTION_KEYWORDS or first in ("Require", "Declare", "Load", "Drop", "Reset", "Back", "Undo"):
        report.problems.append(f"{where}: command `{first}` is not allowed inside a proof")
    return owner
