"""Lean 4 and Isabelle problems: the trusted header and statement, read with each language's tokenizer.

A Lean 4 problem is `imports and definitions` then `theorem name binders : type` (the statement ends
before its top-level `:=`). An Isabelle problem is `theory T imports ... begin` and definitions, then
`theorem name: "..."` (or `assumes ... shows ...`), ending before the first proof command. As for
Coq (`_problems`), everything a gate trusts comes from here, never from a file handed in.
"""

from __future__ import annotations

from tools.proofs._lexers import Token, code_tokens, isabelle_tokens, lean_tokens
from tools.proofs._problems import ProblemFormatError, ProofProblem
from tools.proofs._sentences import UnterminatedSourceError

LEAN_THEOREM_KEYWORDS = ("theorem", "lemma")
ISABELLE_THEOREM_KEYWORDS = ("theorem", "lemma", "corollary", "proposition", "schematic_goal")
ISABELLE_PROOF_STARTS = (
    "by",
    "proof",
    "apply",
    "using",
    "unfolding",
    "including",
    "sorry",
    "oops",
    "supply",
    "apply_end",
    "done",
    "subgoal",
    "defer",
    "prefer",
    "text",
    "txt",
    "nitpick",
    "sledgehammer",
    "try",
    "try0",
    "quickcheck",
    "print_state",
    ".",
    "..",
)
"""Commands that end a theorem's statement (its proof starts, or a document or diagnostic command)."""
_OPEN = {"(": ")", "[": "]", "{": "}", "⟨": "⟩", "⦃": "⦄"}


def lean_statement_end(tokens: list[Token], start: int) -> int | None:
    """Index of the `:` of the top-level `:=` ending the declaration at token `start`, or None."""
    depth = 0
    for index in range(start, len(tokens) - 1):
        text = tokens[index].text
        if tokens[index].kind != "symbol":
            continue
        if text in _OPEN:
            depth += 1
        elif text in _OPEN.values():
            depth -= 1
        elif (
            depth == 0
            and text == ":"
            and tokens[index + 1].text == "="
            and tokens[index + 1].start == tokens[index].end
        ):
            return index
    return None


def lean_problem(problem_id: str, text: str, source: str = "") -> ProofProblem:
    """A Lean 4 problem from `header + theorem name binders : type [:= proof]`.

    Raises:
        ProblemFormatError: no theorem, or one without `: type`.
    """
    try:
        tokens = code_tokens(lean_tokens(text))
    except UnterminatedSourceError as error:
        raise ProblemFormatError(f"{source or problem_id}: {error}") from None
    first = next((i for i, token in enumerate(tokens) if token.text in LEAN_THEOREM_KEYWORDS), None)
    if first is None or first + 1 >= len(tokens) or tokens[first + 1].kind != "ident":
        raise ProblemFormatError(f"{source or problem_id}: no `theorem name ... : type` statement found")
    name = tokens[first + 1].text
    end = lean_statement_end(tokens, first)
    stop = tokens[end].start if end is not None else len(text)
    statement = text[tokens[first].start : stop].rstrip()
    proposition = statement[tokens[first + 1].end - tokens[first].start :].strip().removeprefix(":").strip()
    if not _has_type(tokens[first + 2 : end if end is not None else len(tokens)]):
        raise ProblemFormatError(f"theorem {name} has no ': type' part")
    return ProofProblem(
        id=problem_id,
        name=name,
        header=text[: tokens[first].start].rstrip() + "\n" if tokens[first].start else "",
        statement=statement,
        source=source,
        prover="lean4",
        proposition_text=" ".join(proposition.split()),
    )


def _has_type(tokens: list[Token]) -> bool:
    depth = 0
    for token in tokens:
        if token.kind != "symbol":
            continue
        if token.text in _OPEN:
            depth += 1
        elif token.text in _OPEN.values():
            depth -= 1
        elif token.text == ":" and depth == 0:
            return True
    return False


def isabelle_statement_end(tokens: list[Token], start: int) -> int:
    """Index of the first token after the statement at token `start` (a proof command), or len(tokens)."""
    for index in range(start + 1, len(tokens)):
        token = tokens[index]
        if token.kind in ("ident", "symbol") and token.text in ISABELLE_PROOF_STARTS:
            if token.text == "." and index + 1 < len(tokens) and tokens[index + 1].text == ".":
                return index
            return index
        if token.kind == "ident" and token.text in (*ISABELLE_THEOREM_KEYWORDS, "end", "definition", "fun"):
            return index
    return len(tokens)


def isabelle_problem(problem_id: str, text: str, source: str = "") -> ProofProblem:
    """An Isabelle problem from `theory T imports ... begin`, definitions, then `theorem name: ...`.

    Raises:
        ProblemFormatError: no theory header or no named theorem.
    """
    where = source or problem_id
    try:
        tokens = code_tokens(isabelle_tokens(text))
    except UnterminatedSourceError as error:
        raise ProblemFormatError(f"{where}: {error}") from None
    words = [token.text for token in tokens]
    if "theory" not in words or "begin" not in words:
        raise ProblemFormatError(f"{where}: an Isabelle problem starts with `theory NAME imports ... begin`")
    begin = words.index("begin")
    first = next(
        (
            i
            for i in range(begin + 1, len(tokens))
            if tokens[i].kind == "ident" and words[i] in ISABELLE_THEOREM_KEYWORDS
        ),
        None,
    )
    if first is None or first + 1 >= len(tokens) or tokens[first + 1].kind != "ident":
        raise ProblemFormatError(f'{where}: no named `theorem name: "..."` statement found')
    name = tokens[first + 1].text
    end = isabelle_statement_end(tokens, first)
    if end <= first + 2:
        raise ProblemFormatError(f"theorem {name} states nothing")
    stop = tokens[end].start if end < len(tokens) else len(text)
    statement = text[tokens[first].start : stop].rstrip()
    proposition = statement[tokens[first + 1].end - tokens[first].start :].strip().lstrip(":").strip()
    return ProofProblem(
        id=problem_id,
        name=name,
        header=text[: tokens[first].start].rstrip() + "\n",
        statement=statement,
        source=source,
        prover="isabelle",
        proposition_text=" ".join(proposition.split()),
    )


def isabelle_imports(header: str) -> list[str]:
    """The theories an Isabelle header imports, as written (quotes dropped)."""
    tokens = code_tokens(isabelle_tokens(header))
    words = [token.text for token in tokens]
    if "imports" not in words:
        return []
    start = words.index("imports") + 1
    stop = words.index("begin") if "begin" in words else len(words)
    stop = min([stop, *(i for i in range(start, stop) if words[i] in ("keywords", "abbrevs"))])
    return [word.strip('"') for word in words[start:stop]]


def lean_imports(header: str) -> list[str]:
    """The modules a Lean header imports."""
    tokens = code_tokens(lean_tokens(header))
    return [tokens[i + 1].text for i, token in enumerate(tokens[:-1]) if token.text == "import"]
