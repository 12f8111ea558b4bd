"""miniF2F in Lean 4 and Isabelle: optional data sets, fetched by `python -m tools.proofs.fetch`.

They are not shipped (their toolchains cannot be installed on every machine, and the sets are
large with Mathlib's or the AFP's licences of their own). `python -m tools.proofs.fetch --prover
lean4|isabelle` downloads them from their public repositories into `LABGATE_PROOF_DATA` (default
`~/.labgate/proof-data`), one statement file per problem under `<prover>/<split>/`: `NAME.lean`
(the set's shared header, then the theorem) or `NAME.thy`. Where they are absent, a task naming
them is refused with the command that fetches them.
"""

from __future__ import annotations

import os
from pathlib import Path

from tools._workload import TaskError
from tools.proofs._foreign import isabelle_problem, lean_problem
from tools.proofs._problems import ProblemFormatError, ProofProblem

DATA_ENV = "LABGATE_PROOF_DATA"
SUFFIXES = {"lean4": ".lean", "isabelle": ".thy"}


def data_dir() -> Path:
    """Where fetched Lean 4 / Isabelle sets live (`LABGATE_PROOF_DATA`, else ~/.labgate/proof-data)."""
    configured = os.environ.get(DATA_ENV, "").strip()
    return Path(configured).expanduser() if configured else Path.home() / ".labgate" / "proof-data"


def foreign_problem(prover: str, problem_id: str, text: str, source: str = "") -> ProofProblem:
    """A problem in `prover`'s language (ProblemFormatError when it has no usable statement)."""
    if prover == "lean4":
        return lean_problem(problem_id, text, source)
    if prover == "isabelle":
        return isabelle_problem(problem_id, text, source)
    raise ProblemFormatError(f"no reader for prover {prover!r}")


def load_foreign_split(prover: str, split: str, set_name: str) -> list[ProofProblem]:
    """Every problem of a fetched split, by name.

    Raises:
        TaskError: the set was not fetched (the message gives the command).
    """
    directory = data_dir() / prover / split
    files = sorted(directory.glob(f"*{SUFFIXES[prover]}")) if directory.is_dir() else []
    if not files:
        raise TaskError(
            f"miniF2F {split} in {prover} is not on this machine ({directory}); fetch it with "
            f"`python -m tools.proofs.fetch --prover {prover}` (needs network), or set {DATA_ENV}"
        )
    problems = []
    for path in files:
        try:
            problems.append(
                foreign_problem(prover, f"proofs/{set_name}/{path.stem}", path.read_text(), source=str(path))
            )
        except ProblemFormatError:
            continue
    return problems
