"""Opening a harness for one task: a sandboxed worker, this device's ceilings, and clean shutdown."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tools._workload import SandboxFactory, TaskError
from tools.kernels._ceilings import Ceilings
from tools.kernels._client import Worker
from tools.kernels._harness import Harness
from tools.kernels._task import KernelTask
from tools.kernels._user_task import user_kernel_task
from tools.kernels.suite import SUITE


def kernel_task(name: str, definition: Mapping[str, Any] | None = None) -> KernelTask:
    """The suite's task by name (`heat2d` or `kernels/heat2d`), or the one a task file's `definition` declares.

    Raises:
        TaskError: the name is unknown (naming the known ones), a definition reuses a suite task's
            name, or the definition is invalid (naming the field).
    """
    short = name.removeprefix("kernels/")
    if definition is not None:
        if short in SUITE:
            raise TaskError(f"params.kernel: {short!r} is a suite task; give the kernel of a definition its own name")
        return user_kernel_task(short, definition)
    if short not in SUITE:
        raise TaskError(
            f"unknown kernel task {name!r}; known: {', '.join(sorted(SUITE))} "
            "(or define your own with params.definition in a task file)"
        )
    return SUITE[short]


@contextmanager
def open_harness(
    task: KernelTask,
    workdir: Path,
    sandbox_factory: SandboxFactory,
    *,
    cache_dir: Path | None = None,
    backend: str = "opencl",
    timeout: float = 60.0,
    heldout: bool = False,
) -> Iterator[Harness]:
    """A harness whose worker lives in `workdir`; ceilings cover the in-distribution (and held-out) sizes.

    Beside it, in a sandbox of its own, a worker that only ever runs trusted code (the task's seed as
    a rival, the bandwidth yardstick): a candidate can rewrite its own worker's memory, not that one's.
    """
    worker = Worker(sandbox_factory, workdir, backend, runs_candidates=True)
    trusted = Worker(sandbox_factory, workdir.with_name(f"{workdir.name}-trusted"), backend)
    try:
        sizes = task.sizes + (task.heldout if heldout else ())
        ceilings = Ceilings(cache_dir).for_device(worker, [Harness.working_set(task, size) for size in sizes])
        with task.reference_sandbox(workdir.with_name(f"{workdir.name}-reference"), sandbox_factory, backend):
            yield Harness(task, worker, ceilings, timeout=timeout, trusted=trusted)
    finally:
        worker.kill()
        trusted.kill()


def ceilings_record(harness: Harness) -> dict[str, Any]:
    """What a run records about the ceilings its fractions were computed against."""
    ceilings = harness.ceilings or {}
    return {
        "device": ceilings.get("device", {}),
        "fma_gflops": ceilings.get("fma_gflops"),
        "triad_gbps": {str(k): v for k, v in ceilings.get("triad_gbps", {}).items()},
        "update_gbps": {str(k): v for k, v in ceilings.get("update_gbps", {}).items()},
        # What bandwidth fractions were scored against: the probe run beside the candidates (`ceiling_beside`).
        "measured_beside_gbps": harness.measured_ceilings(),
    }
