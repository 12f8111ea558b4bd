"""Reading a proof file before any prover runs: what it may contain, and where its proof is.

A proof file is the task's header and statement followed by a proof, optionally with helper
lemmas, definitions and extra imports. The file is split into sentences exactly as Coq's lexer
splits it (`tools.proofs.split_sentences`), every sentence is taken apart into attributes,
prefixes and command (`_vernac`), and the command must be on the allow-list for where it stands
(`_policy`): at top level, or inside a proof, where only tactics and a few read-only commands may
appear. A second net refuses words with no honest use in such a file (`Module`, `Admitted`,
`Checking`, `Redirect`…) wherever they occur in code. Each finding names the line and the reason,
so that the verdict says which way of cheating was tried; the kernel check and the independent
re-check that follow catch whatever text cannot show.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass, field

from tools.proofs import (
    COQ_BLANKS,
    THEOREM_KEYWORDS,
    ProblemFormatError,
    ProofProblem,
    Sentence,
    UnterminatedSourceError,
    blank_literals,
    declared_names,
    glued_comments,
    line_column,
    normalize,
    parse_statement,
    split_sentences,
    top_level_indices,
)
from verifiers.proofs._policy import (
    COMMAND_WORDS,
    DEFINING,
    IN_PROOF,
    PROOF_ENDS,
    QUERIES,
    TOP_LEVEL,
    code_words,
    denied_words,
    is_tactic,
    judge_add,
    judge_option,
    judge_prefixes,
    judge_query,
    judge_require,
    notation_problem,
    token_problem,
)
from verifiers.proofs._vernac import Command, CommandFormatError, read_command

_OBLIGATION_OPENERS = ("Next Obligation", "Final Obligation")
_BOM = "\ufeff"
_INDUCTIVE_KINDS = ("Inductive", "CoInductive", "Variant", "Record", "Structure", "Class")


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


@dataclass
class _Walk:
    """Where the walk through the file stands."""

    problem: ProofProblem
    report: ProofFileReport
    vocabulary: set[str]
    statement_code: str
    in_proof: str | None = None
    main_seen: bool = False
    tactic_names: set[str] = field(default_factory=set)


class _Lines:
    """Line numbers of offsets, from one index of the line starts: a file of a million one-character
    sentences is read in linear time, never rescanned from its start for every sentence."""

    def __init__(self, source: str) -> None:
        self._starts = [0, *(match.end() for match in re.finditer("\n", source))]

    def where(self, sentence: Sentence) -> str:
        return f"line {bisect.bisect_right(self._starts, sentence.start)}"


def lint_proof_file(problem: ProofProblem, source: str) -> ProofFileReport:
    """Check the text of a proof file for `problem`; `report.body` is what a kernel check runs.

    The body is the source with sentences identical to the trusted header's blanked out (lines
    kept, so that a prover's line numbers still point into the user's file). A byte-order mark at
    the start is blanked too: Coq skips it at the start of a file, not inside the gate's module.
    """
    report = ProofFileReport()
    if source.startswith(_BOM):
        source = " " + source[len(_BOM) :]
    try:
        sentences = split_sentences(source)
        code_only = blank_literals(source)
        glued = glued_comments(source)
        trusted = parse_statement(problem.statement)
    except (UnterminatedSourceError, ProblemFormatError) as error:
        report.problems.append(f"the file cannot be read as Coq sentences: {error}")
        return report
    lines = _Lines(source)
    report.problems.extend(_odd_characters(source, code_only))
    for offset in glued[:3]:
        line, column = line_column(source, offset)
        report.problems.append(
            f"line {line}, column {column}: a comment opens right after {source[offset - 1]!r}, which Coq may read "
            "as part of a notation symbol (then the '(' is code and the comment is not one); put a blank before '(*'"
        )
    header_codes = {item.code for item in problem.header_sentences()}
    statement_code = normalize(problem.statement)
    walk = _Walk(problem, report, set(re.findall(r"[A-Za-z_][A-Za-z0-9_']*", statement_code)), statement_code)
    blanked = list(source)
    for sentence in sentences:
        where = lines.where(sentence)
        if sentence.kind != "sentence":
            if walk.in_proof is None:
                report.problems.append(f"{where}: bullet or brace '{sentence.text}' outside a proof")
            continue
        if walk.in_proof is None and sentence.code in header_codes:
            report.header_kept += 1
            for index in range(sentence.start, sentence.end):
                if blanked[index] != "\n":
                    blanked[index] = " "
            continue
        report.problems.extend(f"{where}: {why}" for why in denied_words(code_only[sentence.start : sentence.end]))
        try:
            command = read_command(sentence.code)
        except CommandFormatError as error:
            report.problems.append(f"{where}: {error}")
            continue
        refused = judge_prefixes(command)
        if refused:
            report.problems.append(f"{where}: {refused}")
        if walk.in_proof is not None:
            _proof_sentence(walk, command, where)
        else:
            _top_sentence(walk, command, sentence, trusted.binders, trusted.type, where)
    if walk.in_proof is not None:
        report.problems.append(f"the proof of {walk.in_proof} is never closed (no Qed or Defined)")
        if walk.in_proof == problem.name:
            report.main_end = "open"
    if not walk.main_seen:
        report.problems.append(f"theorem {problem.name} is not stated in the file")
    elif report.main_end not in PROOF_ENDS and report.main_end != "open":
        report.problems.append(f"the proof of {problem.name} does not end with Qed or Defined")
    report.body = "".join(blanked)
    return report


def _odd_characters(source: str, code: str) -> list[str]:
    """Characters Coq and these rules may read differently, at most three named: a control character but
    tab and line breaks anywhere (Coq's blanks are space, tab, CR and LF only; a vertical tab or form feed
    is a symbol character to it, and Python's split and `\\s` call them blanks), and in code a space or
    format character beyond ASCII (U+00A0, U+200B, a BOM past the start)."""
    found: list[str] = []
    for offset, char in enumerate(source):
        category = unicodedata.category(char)
        odd = (category == "Cc" and char not in COQ_BLANKS) or (
            code[offset] == char and char != " " and category in ("Zs", "Zl", "Zp", "Cf")
        )
        if odd:
            line, column = line_column(source, offset)
            found.append(
                f"line {line}, column {column}: the character U+{ord(char):04X} ({unicodedata.name(char, 'control')}), "
                "which Coq does not read as a blank: use spaces, tabs and line breaks only"
            )
            if len(found) == 3:
                break
    return found


def _compare_statement(report: ProofFileReport, command: str, binders: str, type_: str, where: str) -> None:
    try:
        given = parse_statement(command)
    except ProblemFormatError as error:
        report.problems.append(f"{where}: the statement cannot be read: {error}")
        return
    if normalize(given.binders) != normalize(binders) or normalize(given.type) != normalize(type_):
        expected = _shown(f"{binders} : {type_}" if binders else type_)
        found = _shown(f"{given.binders} : {given.type}" if given.binders else given.type)
        report.problems.append(
            f"{where}: the statement of {given.name} differs from the task's: expected `{expected}`, found `{found}`"
        )


def _shown(code: str) -> str:
    """`code` with the blanks Coq does not skip written out (`\u00a0` is part of a name to Coq): two
    statements that differ only there would otherwise read the same in the reason."""
    return "".join(f"\\u{ord(char):04x}" if char.isspace() and char not in COQ_BLANKS else char for char in code)


def _notation_symbols(code: str) -> list[str]:
    """The symbols and names a Notation/Infix command defines."""
    match = re.search(r'"((?:[^"]|"")*)"', code)
    if not match:
        abbreviation = re.match(r"(?:Notation|Infix)\s+([A-Za-z_][\w']*)", code)
        return [abbreviation.group(1)] if abbreviation else []
    tokens = match.group(1).replace("''", "").split()
    return [token.strip("'") for token in tokens if token.strip("'") and not re.fullmatch(r"[A-Za-z_][\w']*", token)]


def _declared_tokens(code: str, keyword: str) -> list[str]:
    """The tokens a notation command adds to Coq's lexer: the parts of a Notation's (or Infix's) string,
    one quote stripped from each end, or every string of a Tactic Notation's grammar (before `:=`)."""
    literal = re.compile(r'"((?:[^"]|"")*)"')
    if keyword == "Tactic":
        grammar = _blank_strings(code).split(":=", 1)[0]
        return [match.group(1) for match in literal.finditer(code[: len(grammar)])]
    match = literal.search(code)
    if match is None:
        return []
    parts = [part for part in match.group(1).split(" ") if part]  # Coq splits a notation at spaces only
    return [part[1:-1] if len(part) >= 2 and part[0] == part[-1] == "'" else part for part in parts]


def _has_body(command: str) -> bool:
    """Whether a definition gives its body with `:=` (so no proof follows).

    Type declarations never open a proof, with or without `:=` (`Class C : Prop.` is an empty
    class); a `:=` inside a string is no body.
    """
    command = _blank_strings(command)
    top = set(top_level_indices(command))
    lets = 0  # `let`s whose `in` has not come yet: a `:=` then binds the let (`Theorem t : let y := 1 in y = 1.`)
    for token in _BODY_TOKENS.finditer(command):
        if token.start() not in top:
            continue
        word = token.group()
        if word == "let":
            lets += 1
        elif word == "in" and lets:
            lets -= 1
        elif word == ":=" and not lets:
            return True
    return command.split(maxsplit=1)[0] in _INDUCTIVE_KINDS


_BODY_TOKENS = re.compile(r"(?<![\w'])(?:let|in)(?![\w'])|:=")
"""The words that tell a definition's body from a `let`'s binding: `let`, `in` (standing alone) and `:=`."""


def _mutual(code: str) -> bool:
    """Whether a definition's code has a `with` outside any `match ... end` (mutual definitions).

    The count grants a `with` only inside a `match` Coq surely reads as the keyword, so a doubtful
    `match` is not counted: only one standing alone (after the start, a blank or `(`, before a blank),
    never the tail of `αmatch` or the head of `matchʹ`; a notation may not declare `match`, `with` or
    `end` (`notation_problem`). A `with` and an `end` are read as `denied_words` reads words (strings
    blanked, a symbol before a word does not hide it), so `⟫with` is the keyword `with` here as for Coq.
    """
    code = _blank_strings(code)
    depth = 0
    for token in code_words(code):
        word, start, end = token.group(0), token.start(), token.end()
        if word == "match":
            alone_before = start == 0 or code[start - 1] in COQ_BLANKS + "("
            alone_after = end < len(code) and code[end] in COQ_BLANKS
            depth += alone_before and alone_after
        elif word == "end":
            depth = max(depth - 1, 0)
        elif word == "with" and depth == 0:
            return True
    return False


def _blank_strings(code: str) -> str:
    """A sentence's code with the inside of its strings blanked (it is a whole sentence: they close)."""
    try:
        return blank_literals(code)
    except UnterminatedSourceError:
        return code


def _exported_option(command: Command) -> Command:
    """`Export Set X` read as `Set X` with the `Export` locality, for the option rules."""
    body = command.body[len(command.keyword) :].lstrip()
    return Command(command.attributes, (*command.prefixes, command.keyword), body, body.split(maxsplit=1)[0])


def _top_refusal(walk: _Walk, command: Command) -> str | None:
    """Why a command outside any proof is refused, or None."""
    keyword = command.keyword
    if keyword not in TOP_LEVEL or keyword == "Proof":
        shown = command.words(2) or command.body[:20]
        return f"command `{shown}` is not allowed in a proof file"
    if keyword in ("Require", "From"):
        return judge_require(command)
    if keyword in ("Set", "Unset"):
        return judge_option(command)
    if keyword in ("Import", "Export") and command.words(2).split()[-1] in ("Set", "Unset"):
        # `Export Set Option.` sets the option here (and wherever the module is imported).
        return judge_option(_exported_option(command))
    if keyword == "Add":
        return judge_add(command)
    if keyword in QUERIES:
        return judge_query(command)
    if keyword in ("Notation", "Infix", "Reserved", "Tactic"):
        shown = command.words(2) if keyword in ("Tactic", "Reserved") else keyword
        tokens = _declared_tokens(command.body, keyword)
        for token in tokens:
            problem = token_problem(token)
            if problem is not None:
                return f"`{shown}` declares a symbol Coq would read differently from these rules: {problem}"
        problem = notation_problem(tokens)
        if problem is not None:
            return f"`{shown}` is refused: {problem}"
    if keyword in ("Notation", "Infix"):
        used = [
            symbol
            for symbol in _notation_symbols(command.body)
            if symbol in walk.vocabulary or (not symbol[0].isalpha() and symbol in walk.statement_code)
        ]
        if used:
            return f"`{keyword}` redefines `{used[0]}`, which the statement uses"
    if keyword == "Function":
        return (
            "`Function` defines a recursive function of the file's own, which Coq builds as a fixpoint "
            "(recursion must come from induction, eliminators or the libraries)"
        )
    if keyword in DEFINING and keyword not in _INDUCTIVE_KINDS and _mutual(command.body):
        return (
            f"`{keyword} ... with ...` states mutual definitions, which Coq proves by a fixpoint of their own "
            "(recursion must come from induction or eliminators)"
        )
    if keyword in ("Ltac", "Tactic"):
        defined = re.match(r'(?:Ltac\s+([A-Za-z_][\w\']*)|Tactic\s+Notation\s+(?:\(.*?\)\s*)?"([^"]+)")', command.body)
        if defined:
            name = defined.group(1) or defined.group(2)
            if name in COMMAND_WORDS:
                shown = "Tactic Notation" if keyword == "Tactic" else keyword
                return f"`{shown}` names a tactic `{name}`, like Coq's command `{name}`, which Coq runs instead"
            walk.tactic_names.add(name)
    return None


def _top_sentence(walk: _Walk, command: Command, sentence: Sentence, binders: str, type_: str, where: str) -> None:
    """Judge one command outside proofs; note when it states the main theorem or opens a proof."""
    report, problem = walk.report, walk.problem
    refused = _top_refusal(walk, command)
    if refused:
        report.problems.append(f"{where}: {refused}")
        return
    keyword = command.keyword
    names = declared_names(Sentence(command.body, sentence.start, sentence.end)) if keyword in DEFINING else []
    if names and names[0] == problem.name:
        if walk.main_seen:
            report.problems.append(f"{where}: theorem {problem.name} is stated twice")
        walk.main_seen = True
        report.main_statement = command.body
        if keyword in THEOREM_KEYWORDS:
            _compare_statement(report, command.body, binders, type_, where)
        else:
            report.problems.append(f"{where}: {problem.name} is declared with `{keyword}`, not as a theorem")
    elif names and names[0] in walk.vocabulary:
        report.problems.append(f"{where}: `{keyword} {names[0]}` redefines `{names[0]}`, which the statement uses")
    opens = (keyword in DEFINING or keyword == "Goal") and not _has_body(command.body)
    program = "Program" in command.prefixes or any(item.name == "program" for item in command.attributes)
    if keyword == "Instance" and program:
        opens = False  # the missing fields become obligations (`Next Obligation`), not a proof
    if command.words(2) in _OBLIGATION_OPENERS or re.match(r"Obligation\s+\d+", command.body):
        opens = True
    if opens:
        walk.in_proof = names[0] if names else "Goal"


def _proof_sentence(walk: _Walk, command: Command, where: str) -> None:
    """Judge one sentence inside a proof: a tactic, a read-only command, or the end of the proof."""
    report, owner = walk.report, walk.in_proof
    keyword = command.keyword
    closes = keyword in PROOF_ENDS
    if re.match(r"Proof\s+Mode(?![A-Za-z0-9_'])", command.body):
        report.problems.append(f"{where}: `Proof Mode` changes how Coq reads the sentences that follow")
        return
    if keyword == "Proof" and not re.fullmatch(r"Proof\s*(\.|using\b.*|with\b.*)", command.body):
        closes = True  # `Proof term.` gives the whole proof and ends it, like `exact term. Qed.`
    if closes:
        if owner == walk.problem.name:
            report.main_end = keyword if keyword in PROOF_ENDS else "Qed"
        walk.in_proof = None
        return
    if keyword in IN_PROOF:
        refused = None
        if keyword in ("Set", "Unset"):
            refused = judge_option(command)
        elif keyword in QUERIES:
            refused = judge_query(command)
        if refused:
            report.problems.append(f"{where}: {refused}")
        return
    if not is_tactic(command, walk.tactic_names):
        shown = command.words(2) or command.body[:20]
        report.problems.append(f"{where}: command `{shown}` is not allowed inside the proof of {owner}")
