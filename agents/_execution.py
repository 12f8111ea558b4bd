"""What executing one experiment may use: the one interface between the orchestrator and proposers.

On the head a run's `RunContext` provides it; on a Ray worker node the executor's remote context
does, with no store behind it (its events are collected and replayed on the head). Proposers and
`run_driver` are typed against this protocol alone, so an experiment runs the same way wherever it
runs, and nothing probes a context for what it happens to have.
"""

from __future__ import annotations

from typing import Any, Protocol

from agents.llm import LLM
from runs import TaskSpec
from tools import SandboxFactory, Workload


class Execution(Protocol):
    """The task, the tools and the clock of one experiment's execution."""

    @property
    def task(self) -> TaskSpec: ...

    @property
    def workload(self) -> Workload: ...

    @property
    def sandbox_factory(self) -> SandboxFactory: ...

    @property
    def llm(self) -> LLM | None:
        """The run's model, or None when the run has no LLM (proposers fall back to their built-in ones)."""
        ...

    def emit(self, kind: str, message: str, **data: Any) -> None:
        """Announce progress: recorded as an event of the run and shown to whoever watches it."""
        ...

    def should_stop(self) -> bool:
        """True once the run was cancelled: a long search stops at its next step and returns what it has."""
        ...

    def remaining_seconds(self) -> float:
        """Wall-clock seconds left in the run's budget (may be negative once it is spent)."""
        ...
