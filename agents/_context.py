"""Everything one run needs while it executes, and the one place its progress is announced.

`RunContext` is the head's implementation of `agents.Execution`: what a proposer sees of the run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from agents.llm import LLM
from runs import GateResult, LabgateError, RecordedVerdict, RunStore, TaskSpec
from tools import SandboxFactory, Workload


class ProgressReporter(Protocol):
    """Receives every event of a run as it happens (a terminal display, a log, an SSE stream)."""

    def event(self, kind: str, message: str, data: dict[str, Any]) -> None: ...


class SilentReporter:
    def event(self, kind: str, message: str, data: dict[str, Any]) -> None:
        return None


class RunCancelledError(LabgateError):
    """The run was cancelled from outside (CLI, API) while it executed."""


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

    def cancelled(self) -> bool:
        return self.store.get_run(self.run_id).status == "cancelled"

    def should_stop(self) -> bool:
        return self.cancelled()

    def check_cancelled(self) -> None:
        if self.cancelled():
            raise RunCancelledError(f"run {self.run_id} was cancelled")
