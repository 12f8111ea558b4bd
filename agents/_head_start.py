"""A new run's plan and first batch, started on a thread while the orchestrator graph is still being built.

Importing LangGraph and opening its checkpointer cost about 1.5 s of one core before the graph's first
node could run, with the run's solvers not started and the other cores idle. A new run's first two nodes
need nothing from the graph (the plan reads the task, the first dispatch runs what was planned), so they
start on this thread at once and the graph's nodes, when the graph reaches them, take their results: the
state each node returns and the checkpoint written after it are what they would have been, only earlier
work overlaps the import. An error either raised is raised by the graph node that takes its result, as if
that node had raised it. A resumed run and a run that waits for plan approval go through the graph as before.

With the Ray executor the first batch's tasks are submitted at once too: the workers start, and import what
an experiment needs, while this process imports LangGraph (a cluster's workers are started anew for each run).
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

State = TypeVar("State")


class HeadStart(Generic[State]):
    """Runs `plan(start)` and then `dispatch(planned)` on a thread; `planned()` and `dispatched()` wait for them."""

    def __init__(self, plan: Callable[[State], State], dispatch: Callable[[State], State], start: State) -> None:
        self._plan = plan
        self._dispatch = dispatch
        self._start = start
        self._planned: State | None = None
        self._dispatched: State | None = None
        self._error: BaseException | None = None
        self._plan_done = threading.Event()
        context = contextvars.copy_context()  # what the caller set (an LLM purpose) holds on the thread too
        self._thread = threading.Thread(target=context.run, args=(self._work,), name="labgate-head-start", daemon=True)
        self.taken = False

    def start(self) -> HeadStart[State]:
        self._thread.start()
        return self

    def _work(self) -> None:
        try:
            self._planned = self._plan(self._start)
            self._plan_done.set()
            self._dispatched = self._dispatch(self._planned)
        except BaseException as error:  # noqa: BLE001 - raised again by the graph node that takes it
            self._error = error
        finally:
            self._plan_done.set()

    def planned(self) -> State:
        """The plan node's result, once the thread has it (or its error)."""
        self._plan_done.wait()
        if self._planned is None:
            self._thread.join()
            assert self._error is not None
            raise self._error
        return self._planned

    def dispatched(self) -> State:
        """The first dispatch node's result, once its batch has run (or its error); taken only once."""
        self.taken = True
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._dispatched is not None
        return self._dispatched

    def abandon(self, stop: Callable[[], None], release: Callable[[], None]) -> None:
        """The graph never took the batch (building it failed): stop the thread's work and wait for it.

        `stop` asks the run's experiments to stop as an interrupt does (so nothing a killed command
        returned is recorded); `release` is called once the thread has ended."""
        if self.taken or not self._thread.is_alive():
            return
        stop()
        try:
            self._thread.join()
        finally:
            release()
