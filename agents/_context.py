"""Everything one run needs while it executes, and the one place its progress is announced.

`RunContext` is the head's implementation of `agents.Execution`: what a proposer sees of the run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from agents.llm import LLM
from runs import GateResult, LabgateError, RecordedVerdict, TaskSpec
from tools import SandboxFactory, Workload

if TYPE_CHECKING:
    from runs import RunStore


class ProgressReporter(Protocol):
    """Receives every event of a run as it happens (a terminal display, a log, an SSE stream)."""

    def event(self, kind: str, message: str, data: dict[str, Any]) -> None: ...


class SilentReporter:
    def event(self, kind: str, message: str, data: dict[str, Any]) -> None:
        return None


class RunCancelledError(LabgateError):
    """The run was cancelled from outside (CLI, API) while it executed."""


class RunInterruptedError(LabgateError):
    """The process executing the run was asked to stop (Ctrl-C, SIGTERM): the run stays resumable."""


_INTERRUPTED: set[str] = set()
"""Runs this process was asked to stop (`interrupt_run`); a set's add is atomic, as a signal's thread needs."""


def interrupt_run(run_id: str) -> None:
    """Stop `run_id` in this process as a cancel would, but leave it to `agent resume`, not ended.

    A Ctrl-C means "stop now", not "throw the run away": the run's sandboxed commands are stopped, what
    finished is kept, and the run stays `running` for a resume once this process has gone (a cancel is
    `cancel_run`, recorded in the store for every process)."""
    _INTERRUPTED.add(run_id)


def interrupt_handled(run_id: str) -> None:
    """The run has stopped for its interrupt: a later execution of it in this process runs again."""
    _INTERRUPTED.discard(run_id)


@dataclass
class RunContext:
    store: RunStore
    run_id: str
    task: TaskSpec
    workload: Workload
    sandbox_factory: SandboxFactory
    reporter: ProgressReporter = field(default_factory=SilentReporter)
    llm: LLM | None = None
    started: float = field(default_factory=time.monotonic)

    @property
    def run_dir(self) -> Path:
        return self.store.run_dir(self.run_id)

    def experiment_dir(self, key: str) -> Path:
        path = self.run_dir / "experiments" / key
        path.mkdir(parents=True, exist_ok=True)
        return path

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def remaining_seconds(self) -> float:
        return self.task.budget.wall_seconds - self.elapsed()

    def emit(self, kind: str, message: str, **data: Any) -> None:
        self.store.emit(self.run_id, kind, message, data)
        self.reporter.event(kind, message, data)

    def record_verdict(self, experiment_id: int | None, label: str, result: GateResult) -> RecordedVerdict:
        """Store a gate's result and announce it: one `verdict` event per verdict.

        `label` names what was judged in the event's message (the experiment's key, or `run`).
        """
        recorded = self.store.add_verdict(self.run_id, experiment_id, result)
        self.emit(
            "verdict",
            f"{label}: {result.gate} {result.decision}",
            key=recorded.experiment or None,
            experiment_id=experiment_id,
            verdict_id=recorded.id,
            gate=result.gate,
            decision=result.decision,
        )
        return recorded

    def interrupted(self) -> bool:
        """Whether this process was asked to stop the run (`interrupt_run`)."""
        return self.run_id in _INTERRUPTED

    def cancelled(self) -> bool:
        """Whether the run must stop now: cancelled in the store, or interrupted in this process."""
        return self.interrupted() or self.store.get_run(self.run_id).status == "cancelled"

    def should_stop(self) -> bool:
        return self.cancelled()

    def check_cancelled(self) -> None:
        if self.interrupted():
            raise RunInterruptedError(f"run {self.run_id} was interrupted")
        if self.cancelled():
            raise RunCancelledError(f"run {self.run_id} was cancelled")
