"""A theorem of your own: a task file's `params.statement` (and `params.header`) as a proof task.

Two things make such a task read as the user's and not as the catalog's: its title, goal (the
report's question) and, when it extends a catalog task, its id are derived from the statement,
so a task file that extends a miniF2F problem but states another theorem never passes for
miniF2F; and a statement that does not compile is bad input, found before any run starts by one
coqc check of the statement with `Admitted` (in a sandbox, as every prover call), and reported
with Coq's message in the user's own line numbers (of `params.header` or `params.statement`).
"""

from __future__ import annotations

import re
import tempfile
import threading
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Protocol

from runs import TaskSpec
from sandboxes import LocalSandboxConfig, SandboxError, open_sandboxes
from tools._workload import SandboxFactory, TaskError
from tools.proofs._coq import CoqConfig, CoqProver
from tools.proofs._isabelle import IsabelleServer
from tools.proofs._lean import LeanRepl
from tools.proofs._problems import ProofProblem, declared_names
from tools.proofs._prover import CheckResult, Prover, ProverUnavailableError
from tools.proofs._sentences import command_word
from tools.proofs._tasks import parse_params, resolve_problem

EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"
"""Shipped task files of theorems of one's own (`gauss-sum.yaml` is proved, `rev-identity.yaml` is not)."""
TITLE_CHARS = 100
STATEMENT_SECONDS = 60.0
CHECKED_KEPT = 256
"""Statements whose check is remembered (a task is validated when loaded and again when submitted)."""
_CATALOG_PARAMS = ("set", "problem", "limit")
_CHECKED: dict[tuple[str, str], str | None] = {}
_CHECKED_LOCK = threading.Lock()


def _one_line(text: str) -> str:
    return " ".join(text.split())


REREADING_SENTENCES = frozenset(
    {"Notation", "Infix", "Reserved", "Coercion", "Arguments", "Canonical", "Delimit", "Bind", "Number", "String"}
    | {"Ltac", "Tactic", "Hint", "Instance", "Existing", "Declare"}
)
"""Header sentences that change how the statement reads (or what a tactic does) without declaring a name:
`Notation "x = y" := (x <> y)` made `1 + 1 = 3` a theorem whose report read "Prove t: 1 + 1 = 3"."""


def rereading_sentences(problem: ProofProblem) -> list[str]:
    """The header's sentences of `REREADING_SENTENCES`, each on one line, as the report quotes them."""
    return [
        _one_line(sentence.text)
        for sentence in problem.header_sentences()
        if command_word(sentence.text) in REREADING_SENTENCES
    ]


def theorem_title(problem: ProofProblem) -> str:
    """`name: proposition`, cut to TITLE_CHARS: what the report's title and lists call the user's theorem;
    marked when its header changes how the proposition reads (`rereading_sentences`)."""
    own = " (under notations of its own)" if rereading_sentences(problem) else ""
    title = f"{problem.name}: {_one_line(problem.proposition())}"
    if len(title) + len(own) > TITLE_CHARS:
        title = title[: TITLE_CHARS - len(own) - 1].rstrip() + "…"
    return title + own


def theorem_goal(problem: ProofProblem) -> str:
    """The report's question: the theorem, what it lives under, and what counts as proved."""
    header_names = [name for sentence in problem.header_sentences() for name in declared_names(sentence)]
    under = f" (header defines {', '.join(header_names)})" if header_names else ""
    quoted = [text if len(text) <= 160 else text[:159] + "…" for text in rereading_sentences(problem)]
    if quoted:
        under += f" (read under the header's {'; '.join(quoted)})"
    closed = {
        "coq": "closed by Qed, and no axiom beyond the allow-list",
        "lean4": "checked by Lean's kernel with no sorry and no axiom beyond propext, Classical.choice and Quot.sound",
        "isabelle": "built in a clean Isabelle session with quick_and_dirty off, no sorry and no oracle",
    }[problem.prover]
    in_prover = "" if problem.prover == "coq" else f" in {problem.prover}"
    return (
        f"Prove {problem.name}{in_prover}: {_one_line(problem.proposition())}{under}, with the statement "
        f"and header unchanged, {closed}."
    )


def theorem_task_id(problem: ProofProblem) -> str:
    """`proofs/<name>` in the characters a task id allows."""
    slug = re.sub(r"[^a-z0-9_.-]+", "-", problem.name.lower()).strip("-.") or "theorem"
    return f"proofs/{slug}"


def with_statement_titles(task: TaskSpec, base: TaskSpec | None, taken: Collection[str] = ()) -> TaskSpec:
    """`task` with the title, goal and id it does not state itself derived from its own statement.

    A task that extends `base` inherits base's title, goal and id; when its statement is not
    base's, those describe another theorem and are replaced. A task without a statement, or
    whose statement cannot be read (validation says why), is returned as it is.
    """
    statement, header = task.params.get("statement"), task.params.get("header", "")
    if not isinstance(statement, str):
        return task
    if base is not None and base.params.get("statement") == statement and base.params.get("header", "") == header:
        return task
    try:
        problem = resolve_problem(task.params, task.id)
    except TaskError:
        return task
    inherited = base or TaskSpec(id=task.id, workload=task.workload)
    update: dict[str, object] = {}
    # A title or question of the catalog's (`taken`) names a catalog problem this statement is not: a task file
    # titled "miniF2F valid: aime_1983_p9" proving `True` was reported under that heading and question.
    if not task.title or task.title == inherited.title or task.title in taken:
        update["title"] = theorem_title(problem)
    if not task.goal or task.goal == inherited.goal or task.goal in taken:
        update["goal"] = theorem_goal(problem)
    if base is not None and task.id == base.id:
        update["id"] = theorem_task_id(problem)
    # The catalog problem the task extends is not what it proves: its set and name would only mislead.
    params = {
        key: value
        for key, value in task.params.items()
        if not (base is not None and key in _CATALOG_PARAMS and base.params.get(key) == value)
    }
    return task.model_copy(update={**update, "params": params})


def _check_source(header: str, statement: str, theorem: str) -> tuple[str, int]:
    """The file that states the theorem with `Admitted`, and how many of its lines are the header.

    The header is kept verbatim and the statement up to the end of its theorem sentence, so that a
    located error maps back to a line of the one or the other.
    """
    head = header if not header or header.endswith("\n") else header + "\n"
    end = statement.find(theorem)
    stated = statement[: end + len(theorem)] if end >= 0 else theorem
    return f"{head}{stated}\nProof.\nAdmitted.\n", head.count("\n")


def _describe(result: CheckResult, header_lines: int, prover: str = "coq") -> str | None:
    """The prover's first error in the user's line numbers, or None when there is no located error to blame."""
    error = result.first_error
    if error is None:
        return None
    message = _one_line(error.message)
    if error.line == 0:
        return f"the header and statement do not compile: {message}"
    if error.line <= header_lines:
        part, line = "params.header", error.line
    else:
        part, line = "params.statement", error.line - header_lines
    where = "" if prover == "coq" else f" in {prover}"
    return f"{part} does not compile{where}: line {line}, characters {error.column}-{error.end_column}: {message}"


def statement_error(header: str, statement: str, theorem: str, coq: CoqConfig) -> str | None:
    """Why the user's header and statement do not compile, or None (they do, or it cannot be told here).

    Cannot be told: coqc is not installed here, no sandbox can be started, or the check outlived
    its limit; then the run itself reports it (as the tools check or the search does).
    """
    source, header_lines = _check_source(header, statement, theorem)

    def coq_prover(scratch: Path, factory: SandboxFactory) -> Prover:
        return CoqProver(scratch, factory, coq, file_stem="Statement")

    return _compile_error((coq.coqc, source), source, header_lines, "coq", coq_prover)


def _compile_error(
    key: tuple[str, str],
    source: str,
    header_lines: int,
    prover_name: str,
    make_prover: Callable[[Path, SandboxFactory], Prover],
) -> str | None:
    """Check `source` once per `key` in a fresh sandboxed prover: why it does not compile, or None (it does,
    or it cannot be told here: no prover, no sandbox, or the check outlived its limit)."""
    with _CHECKED_LOCK:
        if key in _CHECKED:
            return _CHECKED[key]
    try:
        with (
            tempfile.TemporaryDirectory(prefix="labgate-statement-") as scratch,
            open_sandboxes(LocalSandboxConfig()) as factory,
        ):
            prover = make_prover(Path(scratch), factory)
            try:
                result = prover.check(source, timeout=STATEMENT_SECONDS)
            finally:
                prover.close()
    except (ProverUnavailableError, SandboxError):
        return None
    if result.timed_out or result.failure:
        return None
    found = None if result.ok else _describe(result, header_lines, prover_name)
    with _CHECKED_LOCK:
        if len(_CHECKED) >= CHECKED_KEPT:
            _CHECKED.clear()
        _CHECKED[key] = found
    return found


class ProverPaths(Protocol):
    """Where the Lean REPL and Isabelle are (the proofs workload's settings)."""

    @property
    def lean_repl(self) -> str: ...
    @property
    def lean_project(self) -> str: ...
    @property
    def isabelle(self) -> str: ...


def foreign_statement_source(problem: ProofProblem, header: str, statement: str) -> tuple[str, int]:
    """Lean / Isabelle: the user's header and statement closed by `sorry`, and the header's line count."""
    head = header if not header or header.endswith("\n") else header + "\n"
    stated = statement.rstrip()
    if problem.prover == "lean4":
        return f"{head}{stated} := by\n  sorry\n", head.count("\n")
    return f"{head}{stated}\n  sorry\nend\n", head.count("\n")


def foreign_statement_error(problem: ProofProblem, header: str, statement: str, paths: ProverPaths) -> str | None:
    """Why a Lean 4 / Isabelle statement does not compile, or None (it does, or no prover here to tell)."""
    source, header_lines = foreign_statement_source(problem, header, statement)

    def foreign_prover(scratch: Path, factory: SandboxFactory) -> Prover:
        if problem.prover == "lean4":
            return LeanRepl(scratch, factory, repl=paths.lean_repl, project=paths.lean_project or None)
        return IsabelleServer(scratch, factory, isabelle=paths.isabelle)

    key = (f"{problem.prover}:{paths.lean_repl}:{paths.isabelle}", source)
    return _compile_error(key, source, header_lines, problem.prover, foreign_prover)


def check_statement(params: dict[str, object], task_id: str, coq: CoqConfig, paths: ProverPaths | None = None) -> None:
    """Refuse a task whose own statement (or header) does not compile.

    Raises:
        TaskError: one line naming the part, the user's line, and the prover's message.
    """
    parsed = parse_params(dict(params), task_id)
    if parsed.statement is None:
        return
    problem = resolve_problem(dict(params), task_id)
    if problem.prover != "coq":
        if paths is not None:
            found = foreign_statement_error(problem, parsed.header, parsed.statement, paths)
            if found is not None:
                raise TaskError(f"{task_id}: {found}")
        return
    admitted = header_admission(problem)
    if admitted:
        raise TaskError(
            f"{task_id}: params.header admits a proof ({admitted}): the gate accepts a proof resting only on the "
            "header's own postulates and the allow-list, and an admitted lemma is neither, so no proof of this "
            "statement could be accepted (prove the lemma, or state it as an Axiom or Hypothesis of the header)"
        )
    error = statement_error(parsed.header, parsed.statement, problem.statement, coq)
    if error is not None:
        raise TaskError(f"{task_id}: {error}")


def header_admission(problem: ProofProblem) -> str:
    """The header's first sentence that admits a proof (`Admitted.`, `Admit Obligations.`), or "".

    A header's own postulates (`Axiom`, `Parameter`, a `Hypothesis`) are the task's assumptions, which the gate
    allows; an admitted lemma is an axiom no one stated, and coqchk refuses every proof in its file, so such a
    task was accepted and no proof of it could ever pass."""
    for sentence in problem.header_sentences():
        if sentence.first_word in ("Admitted", "Admit"):
            return f"`{sentence.code[:60]}`"
    return ""
