"""A proof problem: the trusted header and statement a proof must keep, as the catalog states them.

A problem file is Coq source: a header (imports, scopes, auxiliary definitions) followed by one
theorem statement named after the problem. Everything a gate trusts about a task comes from here,
never from the file a prover or a user hands in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from runs import LabgateError
from tools.proofs._sentences import (
    COQ_BLANKS,
    Sentence,
    normalize,
    split_sentences,
    strip_control,
    top_level_indices,
)

THEOREM_KEYWORDS = ("Theorem", "Lemma", "Fact", "Remark", "Corollary", "Proposition", "Property", "Example")
ASSUMPTION_KEYWORDS = (
    "Axiom",
    "Axioms",
    "Parameter",
    "Parameters",
    "Hypothesis",
    "Hypotheses",
    "Variable",
    "Variables",
    "Conjecture",
    "Context",
)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_']*")


class ProblemFormatError(LabgateError, ValueError):
    """A problem text has no usable theorem statement."""


@dataclass(frozen=True)
class Statement:
    """`Theorem name binders : type.` taken apart (binders may be empty)."""

    keyword: str
    name: str
    binders: str
    type: str

    def goal(self) -> str:
        """The statement as one proposition: `forall binders, type` (or just `type`)."""
        return f"forall {self.binders}, {self.type}" if self.binders else self.type


def parse_statement(sentence: str) -> Statement:
    """Split a theorem sentence into keyword, name, binders and type.

    Raises:
        ProblemFormatError: the sentence is not `Keyword name [binders] : type.`
    """
    code = normalize(sentence)
    if code.endswith("."):
        code = code[:-1].rstrip(COQ_BLANKS)  # only Coq's blanks: a no-break space ends a name
    match = re.match(r"(?P<keyword>[A-Za-z]+) (?P<name>[A-Za-z_][A-Za-z0-9_']*)(?![\w'\u00a0]) ?", code)
    if not match or match.group("keyword") not in THEOREM_KEYWORDS:
        raise ProblemFormatError(_not_a_statement(code))
    rest = code[match.end() :]
    if rest.startswith("@{"):
        raise ProblemFormatError(
            f"theorem {match.group('name')} names its universes ({match.group('name')}@{{...}}), which is not "
            "supported: the statement is re-stated as `forall binders, type`, where they cannot stand; leave "
            "them unnamed (`Type`)"
        )
    for index in top_level_indices(rest):
        if rest[index] == ":" and not rest.startswith(":=", index) and not rest.startswith("::", index):
            if index > 0 and rest[index - 1] == ":":
                continue
            binders = rest[:index].strip(COQ_BLANKS)
            body = rest[index + 1 :].strip(COQ_BLANKS)
            if not body:
                break
            return Statement(match.group("keyword"), match.group("name"), binders, body)
    raise ProblemFormatError(f"theorem {match.group('name')} has no ': type' part")


def _not_a_statement(code: str) -> str:
    """Why `code` is not read as `Theorem name [binders] : type.`, naming what stands in the way.

    A name with a letter beyond ASCII is Coq, but every experiment, file and report is named after
    the theorem, in ASCII: read as far as it is ASCII, `lemma_αβ` would be the theorem `lemma_` with a
    binder `αβ`, so it is refused by name rather than misread.
    """
    unicode_name = re.match(r"([A-Za-z]+)\s+([^\W\d][\w']*)", code)
    if unicode_name and unicode_name.group(1) in THEOREM_KEYWORDS and not unicode_name.group(2).isascii():
        return (
            f"theorem name {unicode_name.group(2)!r} is not ASCII: name the theorem with letters A-Z/a-z, digits, "
            "_ and ' (binders and notations may use any letter)"
        )
    return f"not a theorem statement (`Theorem name [binders] : type.`, without attributes): {code[:80]!r}"


def declared_names(sentence: Sentence) -> list[str]:
    """The names a header or body sentence declares (definitions, axioms, notations' symbols excluded)."""
    code = strip_control(sentence.code)
    words = code.split()
    while words and words[0] in ("Local", "Global", "Program", "Polymorphic", "Monomorphic"):  # attributes: stripped
        words = words[1:]
    if len(words) < 2:
        return []
    keyword = words[0]
    if keyword in ASSUMPTION_KEYWORDS:
        names = []
        for part in re.split(r"[()]", " ".join(words[1:])):
            head = part.split(":")[0] if ":" in part else ""
            names.extend(_IDENT.findall(head))
        return names
    if keyword in (
        "Definition",
        "Fixpoint",
        "CoFixpoint",
        "Inductive",
        "CoInductive",
        "Record",
        "Structure",
        "Class",
        "Let",
        "Function",
        "Instance",
        "Module",
        *THEOREM_KEYWORDS,
    ):
        match = _IDENT.match(words[1])
        return [match.group(0)] if match else []
    return []


@dataclass(frozen=True)
class ProofProblem:
    """One theorem to prove, with the header it lives under.

    `header` and `statement` are kept verbatim; `assumed` lists names the header itself postulates
    (e.g. a floor function given by an axiom), which a proof may rely on without being rejected.
    """

    id: str
    name: str
    header: str
    statement: str
    source: str = ""
    notes: tuple[str, ...] = ()
    assumed: tuple[str, ...] = field(default=())
    prover: str = "coq"
    """Which prover's language the header and statement are in: coq, lean4 or isabelle."""
    proposition_text: str = ""
    """Lean 4 and Isabelle: the statement after its name (binders and type), as written."""

    @property
    def parsed(self) -> Statement:
        return parse_statement(self.statement)

    def proposition(self) -> str:
        """The statement as one proposition, in its prover's syntax (for titles and questions)."""
        return self.parsed.goal() if self.prover == "coq" else self.proposition_text

    def header_sentences(self) -> list[Sentence]:
        return split_sentences(self.header) if self.prover == "coq" else []

    def theorem_file(self, proof: str, *, imports: str = "") -> str:
        """Header, optional extra imports, the statement, then `proof` (which must end the proof)."""
        parts = [self.header.rstrip(), imports.strip(), self.statement.strip(), proof.strip()]
        if self.prover == "isabelle" and proof.strip():
            parts.append("end")  # the theory the header opened
        return "\n\n".join(part for part in parts if part) + "\n"


def problem_from_text(
    problem_id: str, text: str, name: str | None = None, source: str = "", statement_from: int = 0
) -> ProofProblem:
    """Read a problem file: header up to the theorem named `name` (default: the first theorem).

    Only a theorem starting at or after offset `statement_from` is the problem's (a header before it
    may prove lemmas of its own). Text after the theorem sentence (`Proof.`, `Admitted.`, further
    theorems) is not part of the problem; anything beyond a bare `Proof.`/`Admitted.` is recorded in
    `notes`.

    Raises:
        ProblemFormatError: no such theorem, or it cannot be taken apart.
    """
    sentences = split_sentences(text)
    theorem = next(
        (
            item
            for item in sentences
            if item.start >= statement_from
            and item.first_word in THEOREM_KEYWORDS
            and (name is None or parse_statement(item.text).name == name)
        ),
        None,
    )
    if theorem is None:
        wanted = f"theorem {name}" if name else "theorem"
        raise ProblemFormatError(f"{source or problem_id}: no {wanted} statement found")
    statement = parse_statement(theorem.text)
    header_sentences = [item for item in sentences if item.end <= theorem.start]
    after = [item for item in sentences if item.start >= theorem.end]
    notes = []
    trailing = [item for item in after if item.code not in ("Proof.", "Admitted.", "Qed.", "Abort.")]
    if trailing:
        dropped = [
            f"{item.first_word} {declared_names(item)[0] if declared_names(item) else ''}".strip() for item in trailing
        ]
        notes.append("text after the statement is not part of the problem: " + ", ".join(dict.fromkeys(dropped)))
    assumed = tuple(
        name for item in header_sentences if item.first_word in ASSUMPTION_KEYWORDS for name in declared_names(item)
    )
    return ProofProblem(
        id=problem_id,
        name=statement.name,
        header=text[: theorem.start].rstrip() + "\n" if header_sentences else "",
        statement=theorem.text.strip(),
        source=source,
        notes=tuple(notes),
        assumed=assumed,
    )


def problem_from_statement(problem_id: str, header: str, statement: str, source: str = "") -> ProofProblem:
    """A task's own theorem: exactly one theorem stated in `statement`, under `header`.

    The theorem is looked for in the statement only, never in the header: a header that proves a
    lemma of its own would otherwise be taken for the task (and the user's theorem never asked
    for). A statement of two theorems is refused, since only one would be searched and judged and
    the report would call the task proved with the other never looked at; so is a nameless `Goal`,
    and a byte-order mark pasted into either text (Coq reads it as an unknown token).

    Raises:
        ProblemFormatError: the statement states no theorem, several, or one that cannot be read.
    """
    for part, text in (("header", header), ("statement", statement)):
        if "\ufeff" in text:
            raise ProblemFormatError(
                f"{source or problem_id}: the {part} contains a byte-order mark (U+FEFF) at character "
                f"{text.index(chr(0xFEFF))}; Coq skips one only at the start of a file: remove it"
            )
    theorems = [item for item in split_sentences(statement) if item.first_word in THEOREM_KEYWORDS]
    if len(theorems) > 1:
        names = ", ".join(declared_names(item)[0] if declared_names(item) else item.first_word for item in theorems)
        raise ProblemFormatError(
            f"{source or problem_id}: states {len(theorems)} theorems ({names}); a task proves one: state "
            "the others in a task each, or prove them in params.header"
        )
    if not theorems:
        sentences = [item for item in split_sentences(statement) if item.kind == "sentence"]
        if not sentences:
            raise ProblemFormatError(f"{source or problem_id}: the statement is empty")
        first = sentences[0].code
        if sentences[0].first_word == "Goal":
            raise ProblemFormatError(
                f"{source or problem_id}: `Goal` states a theorem without a name; write `Theorem name : ...`"
            )
        raise ProblemFormatError(f"{source or problem_id}: {_not_a_statement(first)}")
    head = f"{header.rstrip()}\n\n" if header.strip() else ""
    return problem_from_text(problem_id, f"{head}{statement.strip()}\n", source=source, statement_from=len(head))
