"""Checking a proof someone wrote: the file becomes the outcome a proof search would leave.

A proof search leaves the whole theorem file as `proof.v`; the proof gate re-checks it against the
task's trusted statement. Adopting a user's proof writes it under the same name, so the very same
gate judges it the same way. The user's file is only read.
"""

from __future__ import annotations

from pathlib import Path

from runs import ExperimentSpec, TaskSpec
from tools._workload import ExperimentOutcome, TaskError
from tools.proofs._tasks import parse_params, resolve_problem
from tools.proofs._workload import PROOF_FILE, proof_files

MAX_PROOF_BYTES = 1 << 20


def _read_proof(source: Path) -> str:
    if source.is_dir():
        raise TaskError(f"{source} is a directory, not a proof file")
    try:
        size = source.stat().st_size
        if size > MAX_PROOF_BYTES:
            raise TaskError(f"proof file {source} is {size} bytes; the limit is {MAX_PROOF_BYTES}")
        text = source.read_text()
    except OSError as error:
        raise TaskError(f"cannot read proof file {source}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise TaskError(f"cannot read proof file {source}: not UTF-8 text") from None
    if not text.strip():
        raise TaskError(f"proof file {source} is empty")
    return text


def adopt_proof(task: TaskSpec, source: Path, directory: Path) -> tuple[ExperimentSpec, ExperimentOutcome]:
    """The experiment and outcome of a proof search that found the proof in `source` (a whole .v file).

    Raises:
        TaskError: the task is a set of problems, its statement is unknown, or `source` is unreadable.
    """
    parsed = parse_params(task.params, task.id)
    if parsed.problem is None and parsed.statement is None:
        raise TaskError(f"{task.id} is a set of problems; name one, e.g. {task.id}/<problem>")
    problem = resolve_problem(task.params, task.id)
    text = _read_proof(source)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / PROOF_FILE).write_text(text)
    spec = ExperimentSpec(
        key=problem.name,
        task_id=task.id,
        params={key: value for key, value in task.params.items() if key != "limit"},
        rationale=f"proof read from {source}",
    )
    outcome = ExperimentOutcome(
        key=spec.key,
        status="completed",
        files=proof_files(with_log=False),
        info={"adopted": str(source), "problem": problem.id},
    )
    return spec, outcome
