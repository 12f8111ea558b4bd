"""The default executor: a pool of threads on this machine (the work itself runs in sandboxes).

While experiments run, the executor polls the store for a cancellation (`agent cancel` and the API
write it from another process). A cancelled run stops promptly: outcomes not yet recorded are
dropped, and the sandboxed commands still running are killed until every experiment thread has
returned, so no solver outlives its run and the run's process can exit.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path

from agents._context import RunContext
from agents._experiments import PreparedExperiment, run_driver
from agents.executors._base import Executor
from agents.executors._stop import stop_commands
from agents.llm import llm_purpose
from tools import ExperimentOutcome

POLL_SECONDS = 1.0
"""How often a running batch looks for a cancellation in the store."""

STOP_SECONDS = 30.0
"""How long a cancelled batch keeps killing its commands while waiting for its threads to return."""


def _run_experiment(context: RunContext, item: PreparedExperiment) -> ExperimentOutcome:
    """One experiment in a pool thread; the model calls its proposer makes are accounted as "proposer"."""
    with llm_purpose("proposer"):
        return run_driver(context, item.spec, item.directory)


class LocalExecutor(Executor):
    name = "local"
    in_this_process = True

    def __init__(
        self,
        max_workers: int,
        *,
        on_cancel: Callable[[], None] | None = None,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        """`on_cancel` releases what the run's sandboxes hold (closing a docker pool ends its commands)."""
        self.max_workers = max(1, max_workers)
        self.on_cancel = on_cancel
        self.poll_seconds = poll_seconds
        self._futures: list[Future[ExperimentOutcome]] = []
        self._root: Path | None = None
        self._cancelled = False
        self._stopped = 0

    def stream(
        self, context: RunContext, items: list[PreparedExperiment]
    ) -> Iterator[tuple[PreparedExperiment, ExperimentOutcome]]:
        if not items:
            return
        self._root = context.run_dir / "experiments"
        workers = min(self.max_workers, len(items))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="experiment") as pool:
            futures = {pool.submit(_run_experiment, context, item): item for item in items}
            self._futures = list(futures)
            pending: set[Future[ExperimentOutcome]] = set(futures)
            try:
                while pending:
                    done, pending = wait(pending, timeout=self.poll_seconds, return_when=FIRST_COMPLETED)
                    if context.cancelled():
                        # What a killed command returns is not the experiment's outcome: nothing more is recorded.
                        self.cancel()
                        context.check_cancelled()
                    for future in done:
                        yield futures[future], future.result()
            finally:
                if self._cancelled:
                    stopped = self._stop_running()
                    what = "interrupted" if context.interrupted() else "cancelled"
                    context.emit("cancel", f"run {what}: stopped {stopped} running command(s)", stopped=stopped)

    def cancel(self) -> None:
        self._cancelled = True
        for future in self._futures:
            future.cancel()
        if self._root is not None:
            self._stopped += stop_commands(self._root)
        if self.on_cancel is not None:
            self.on_cancel()

    def _stop_running(self) -> int:
        """Kill the batch's commands until its threads return (a driver may start another after a kill)."""
        deadline = time.monotonic() + STOP_SECONDS
        while self._root is not None and time.monotonic() < deadline:
            if all(future.done() for future in self._futures):
                break
            self._stopped += stop_commands(self._root)
            wait(self._futures, timeout=0.2)
        return self._stopped

    def describe(self) -> dict[str, object]:
        return {"executor": self.name, "workers": self.max_workers}
