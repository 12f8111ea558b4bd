"""Resuming a kernel search: an earlier run's best candidates, read from the run store, start a new one.

Read on the head when the run is submitted (a worker node has no store) from the earlier run's stored
search logs, by digest, so later edits to its experiment directory change nothing. The candidates are
only starting points: the new search evaluates each afresh and the gates judge its winner as any other.
"""

from __future__ import annotations

from runs import ArtifactNotFoundError, RunNotFoundError, RunStore, TaskSpec, json_objects
from tools import TaskError
from tools.kernels import MAX_STARTS, KernelSearchParams, kernel_task, parse_params, source_digest

SEARCH_LOG = "search-log"
"""The role of a search's log among its experiment's files (what a resumed search reads)."""


def best_candidates(store: RunStore, run_id: str, params: KernelSearchParams, count: int = MAX_STARTS) -> list[str]:
    """The `count` fittest distinct correct sources, other than the seed, the earlier run's searches evaluated.

    Raises:
        TaskError: no such run, a run of another kernel task, or one that left no correct candidate.
    """
    try:
        run = store.get_run(run_id)
    except RunNotFoundError:
        raise TaskError(f"params.resume: no run {run_id!r} in this store") from None
    earlier = dict(run.spec.get("params", {}))
    same = earlier.get("kernel") == params.kernel and earlier.get("definition") == params.definition
    if run.workload != "kernels" or not same:
        what = f"kernels/{earlier.get('kernel')}" if run.workload == "kernels" else f"a {run.workload} task"
        raise TaskError(f"params.resume: run {run_id} searched {what}, not kernels/{params.kernel}")
    seed = source_digest(kernel_task(params.kernel, params.definition).seed)  # evaluated by every search anyway
    scored: dict[str, tuple[float, str]] = {}
    for artifact in store.artifacts_of(run_id):
        if artifact.produced_by != f"kernels:{SEARCH_LOG}":
            continue
        try:
            text = store.artifacts.open_path(artifact.sha256).read_text(errors="replace")
        except (ArtifactNotFoundError, OSError):
            continue
        for entry in json_objects(text):
            source, fitness = entry.get("source"), entry.get("fitness")
            if entry.get("status") != "ok" or not isinstance(source, str) or not isinstance(fitness, int | float):
                continue
            digest = source_digest(source)
            if digest != seed and fitness > 0 and fitness > scored.get(digest, (0.0, ""))[0]:
                scored[digest] = (float(fitness), source)
    if not scored:
        raise TaskError(f"params.resume: run {run_id} left no correct candidate besides the seed to resume from")
    ranked = sorted(scored.values(), key=lambda item: -item[0])
    return [source for _, source in ranked[:count]]


def resolve_resume(task: TaskSpec, store: RunStore) -> TaskSpec:
    """`task` with `params.starts` read from the run `params.resume` names (unchanged without one)."""
    resume = task.params.get("resume")
    if resume is None:
        return task
    if "kernel" in task.sweep:
        raise TaskError("params.resume: resumes one kernel task, not a sweep over kernel")
    params = parse_params(task, task.id)  # the parameters themselves are sound before the store is read
    starts = best_candidates(store, str(resume), params)
    return task.model_copy(update={"params": {**task.params, "starts": starts}})
