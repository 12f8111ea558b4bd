"""miniF2F in Coq (LLM4Rocq/miniF2F-rocq, MIT): the problems, and those Coq 8.16 cannot state.

The statement files are shipped verbatim under `data/minif2f/{valid,test}/` with the upstream
licence and citation (`data/minif2f/SOURCE.md`). `data/minif2f/excluded.json` lists the statements
that do not compile on the installed Coq with the error and its explanation; it is produced by
`audit_split` (run `python -m tools.proofs.audit`) and read here so that exclusions are visible in
the catalog, in every plan, and in the README, never silent.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

from tools.proofs._problems import ProofProblem, problem_from_text
from tools.proofs._prover import Prover

DATA_DIR = Path(__file__).resolve().parent / "data" / "minif2f"
SPLITS = ("valid", "test")
EXCLUDED_FILE = DATA_DIR / "excluded.json"

# Known causes of a statement not compiling on Coq 8.16 (Debian bookworm), matched on coqc's error.
_EXPLANATIONS: tuple[tuple[str, str], ...] = (
    (
        r"Cannot find a physical path bound to logical path \S+ with prefix Stdlib",
        "`From Stdlib Require ...`: `Stdlib` is the Rocq 9 name of the standard library; Coq 8.16 calls it `Coq`",
    ),
    (
        r'has type "C" while it is expected to have type "R"',
        "uses `^` on complex numbers; Coquelicot 3.2.0 (Debian's, for Coq 8.16) has no `^` in C_scope, "
        "so `^` is the real power and a complex operand is a type error",
    ),
)


def set_name(split: str) -> str:
    return f"minif2f-{split}"


def problem_id(split: str, name: str) -> str:
    return f"proofs/{set_name(split)}/{name}"


@functools.cache
def load_split(split: str) -> tuple[ProofProblem, ...]:
    """Every problem of a split (excluded ones included), sorted by name."""
    if split not in SPLITS:
        raise ValueError(f"unknown miniF2F split {split!r}; known: {', '.join(SPLITS)}")
    problems = []
    for path in sorted((DATA_DIR / split).glob("*.v")):
        problems.append(
            problem_from_text(
                problem_id(split, path.stem),
                path.read_text(),
                name=path.stem,
                source=f"data/minif2f/{split}/{path.name}",
            )
        )
    return tuple(problems)


@functools.cache
def excluded() -> dict[str, dict[str, str]]:
    """`{"valid/<name>": {"reason": ..., "error": ..., "coq": version}}` for statements that do not compile."""
    if not EXCLUDED_FILE.is_file():
        return {}
    data: dict[str, Any] = json.loads(EXCLUDED_FILE.read_text())
    return {str(key): dict(value) for key, value in data.get("excluded", {}).items()}


def exclusion_reason(split: str, name: str) -> str | None:
    entry = excluded().get(f"{split}/{name}")
    return entry["reason"] if entry else None


def explain(error: str) -> str:
    """A known cause for a compile error of a statement, or the error itself."""
    for pattern, explanation in _EXPLANATIONS:
        if re.search(pattern, error):
            return explanation
    return error


def audit_problem(problem: ProofProblem, prover: Prover, timeout: float = 120.0) -> str | None:
    """Why the statement does not compile (with an admitted proof), or None when it does."""
    result = prover.check(problem.theorem_file("Proof.\nAdmitted."), timeout=timeout)
    if result.ok:
        return None
    return result.summary()


def audit_split(split: str, prover: Prover, timeout: float = 120.0) -> dict[str, dict[str, str]]:
    """Compile every statement of a split; the entries for those that fail."""
    failures: dict[str, dict[str, str]] = {}
    for problem in load_split(split):
        error = audit_problem(problem, prover, timeout)
        if error is not None:
            failures[f"{split}/{problem.name}"] = {"reason": explain(error), "error": error}
    return failures
