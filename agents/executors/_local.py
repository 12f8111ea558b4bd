"""The default executor: a pool of threads on this machine (the work itself runs in sandboxes)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed

from agents._context import RunContext
from agents._experiments import PreparedExperiment, run_driver
from agents.executors._base import Executor
from tools import ExperimentOutcome


class LocalExecutor(Executor):
    name = "local"

    def __init__(self, max_workers: int) -> None:
        self.max_workers = max(1, max_workers)
        self._futures: list[Future[ExperimentOutcome]] = []

    def stream(
        self, context: RunContext, items: list[PreparedExperiment]
    ) -> Iterator[tuple[PreparedExperiment, ExperimentOutcome]]:
        if not items:
            return
        workers = min(self.max_workers, len(items))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="experiment") as pool:
            futures = {pool.submit(run_driver, context, item.spec, item.directory): item for item in items}
            self._futures = list(futures)
            for future in as_completed(futures):
                yield futures[future], future.result()

    def cancel(self) -> None:
        for future in self._futures:
            future.cancel()

    def describe(self) -> dict[str, object]:
        return {"executor": self.name, "workers": self.max_workers}
