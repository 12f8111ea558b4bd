"""Checking a proof someone wrote: the file becomes the outcome a proof search would leave.

A proof search leaves the whole theorem file as `proof.v` (`Proof.lean`, `Proof.thy` for Lean 4 and
Isabelle); the proof gate re-checks it against the task's trusted statement. Adopting a user's proof
writes it under the same name, so the very same gate judges it the same way. The user's file is
only read.
"""

from __future__ import annotations

from pathlib import Path

from runs import ExperimentSpec, TaskSpec
from tools._workload import ExperimentOutcome, TaskError, read_user_text_file
from tools.proofs._tasks import parse_params, resolve_problem
from tools.proofs._workload import experiment_key_of, proof_file_name, proof_files

MAX_PROOF_BYTES = 1 << 20


def adopt_proof(task: TaskSpec, source: Path, directory: Path) -> tuple[ExperimentSpec, ExperimentOutcome]:
    """The experiment and outcome of a proof search that found the proof in `source` (a whole proof file).

    Raises:
        TaskError: the task is a set of problems, its statement is unknown, or `source` is unreadable.
    """
    parsed = parse_params(task.params, task.id)
    if parsed.problem is None and parsed.statement is None:
        raise TaskError(f"{task.id} is a set of problems; name one, e.g. {task.id}/<problem>")
    problem = resolve_problem(task.params, task.id)
    text = read_user_text_file(source, "proof file", max_bytes=MAX_PROOF_BYTES)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / proof_file_name(parsed.prover)).write_text(text)
    spec = ExperimentSpec(
        key=experiment_key_of(problem.name),
        task_id=task.id,
        params={key: value for key, value in task.params.items() if key != "limit"},
        rationale=f"proof read from {source}",
    )
    outcome = ExperimentOutcome(
        key=spec.key,
        status="completed",
        files=proof_files(with_log=False, prover=parsed.prover),
        info={"adopted": str(source), "problem": problem.id},
    )
    return spec, outcome
