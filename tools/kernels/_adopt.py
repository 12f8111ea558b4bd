"""Checking a kernel someone wrote: the file becomes the outcome a search's winner would leave.

A kernel search leaves its winner as `candidate.cl` (role `candidate-kernel`); the kernel gates read
that file and re-measure it themselves next to the task's seed. Adopting a user's kernel writes it
under the same name, so the very same gates judge it the same way. The user's file is only read.
"""

from __future__ import annotations

from pathlib import Path

from runs import ExperimentSpec, TaskSpec
from tools._workload import ExperimentOutcome, OutputFile, read_user_text_file
from tools.kernels._session import kernel_task
from tools.kernels._workload import parse_params

CANDIDATE_FILE = "candidate.cl"
MAX_KERNEL_BYTES = 1 << 20


def adopt_kernel(task: TaskSpec, source: Path, directory: Path) -> tuple[ExperimentSpec, ExperimentOutcome]:
    """The experiment and outcome of a kernel search whose winner is the kernel in `source`.

    Raises:
        TaskError: the task's parameters are invalid, or `source` is not a readable kernel file.
    """
    params = parse_params(task, task.id)
    kernel = kernel_task(params.kernel, params.definition)
    text = read_user_text_file(source, "kernel file", max_bytes=MAX_KERNEL_BYTES)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / CANDIDATE_FILE).write_text(text)
    spec = ExperimentSpec(
        key="search", task_id=task.id, params=dict(task.params), rationale=f"kernel read from {source}"
    )
    outcome = ExperimentOutcome(
        key=spec.key,
        status="completed",
        files=[OutputFile(path=CANDIDATE_FILE, kind="kernel", role="candidate-kernel")],
        info={"adopted": str(source), "kernel": kernel.name},
    )
    return spec, outcome
