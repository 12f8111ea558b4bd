"""Resuming a kernel search: an earlier run's best candidates, read from the run store, start a new one.

Read on the head when the run is submitted (a worker node has no store) from the earlier run's stored
search logs, by digest, so later edits to its experiment directory change nothing. The candidates are
only starting points: the new search evaluates each afresh and the gates judge its winner as any other.
"""

from __future__ import annotations

import json
import math
from typing import Any

from runs import ArtifactNotFoundError, RunNotFoundError, RunStore, TaskSpec
from tools import TaskError
from tools.kernels import MAX_STARTS, kernel_task, parse_params, source_digest

SEARCH_LOG_ROLE = "kernels:search-log"


def _same_task(earlier: dict[str, Any], now: dict[str, Any]) -> bool:
    """The same kernel: its name and, for a task of one's own, the same definition."""
    return earlier.get("kernel") == now.get("kernel") and earlier.get("definition") == now.get("definition")


def best_candidates(store: RunStore, run_id: str, params: dict[str, Any], count: int = MAX_STARTS) -> list[str]:
    """The `count` fittest distinct correct sources, other than the seed, the earlier run's searches evaluated.

    Raises:
        TaskError: no such run, a run of another kernel task, or one that left no correct candidate.
    """
    try:
        run = store.get_run(run_id)
    except RunNotFoundError:
        raise TaskError(f"params.resume: no run {run_id!r} in this store") from None
    earlier = dict(run.spec.get("params", {}))
    if run.workload != "kernels" or not _same_task(earlier, params):
        what = f"kernels/{earlier.get('kernel')}" if run.workload == "kernels" else f"a {run.workload} task"
        raise TaskError(f"params.resume: run {run_id} searched {what}, not kernels/{params.get('kernel')}")
    seed = kernel_task(str(params.get("kernel")), params.get("definition")).seed
    scored: dict[str, tuple[float, str]] = {source_digest(seed): (math.inf, seed)}  # evaluated anyway
    for artifact in store.artifacts_of(run_id):
        if artifact.produced_by != SEARCH_LOG_ROLE:
            continue
        try:
            text = store.artifacts.open_path(artifact.sha256).read_text(errors="replace")
        except (ArtifactNotFoundError, OSError):
            continue
        for line in text.splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            source, fitness = entry.get("source"), entry.get("fitness")
            if entry.get("status") != "ok" or not isinstance(source, str) or not isinstance(fitness, int | float):
                continue
            digest = source_digest(source)
            if fitness > 0 and fitness > scored.get(digest, (0.0, ""))[0]:
                scored[digest] = (float(fitness), source)
    del scored[source_digest(seed)]
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
    parse_params(task, task.id)  # the parameters themselves are sound before the store is read
    starts = best_candidates(store, str(resume), task.params)
    return task.model_copy(update={"params": {**task.params, "starts": starts}})
