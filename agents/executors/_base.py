"""Where experiments execute: the orchestrator hands prepared experiments to an executor and
records what comes back. Gates, policies and the store stay on the head; only execution moves.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator

from agents._context import RunContext
from agents._experiments import PreparedExperiment
from runs import LabgateError
from tools import ExperimentOutcome


class ExecutorError(LabgateError, RuntimeError):
    """The executor cannot run experiments (cluster unreachable, a required resource missing)."""


class Executor(ABC):
    name: str = "abstract"
    in_this_process: bool = False
    """Whether experiments run in threads of the run's own process (what they share can start early)."""

    @abstractmethod
    def stream(
        self, context: RunContext, items: list[PreparedExperiment]
    ) -> Iterator[tuple[PreparedExperiment, ExperimentOutcome]]:
        """Submit every item and yield each (item, outcome) as it completes, in completion order."""

    @abstractmethod
    def cancel(self) -> None:
        """Stop what is still running or queued; outcomes not yet yielded are dropped."""

    def describe(self) -> dict[str, object]:
        return {"executor": self.name}

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release workers and connections."""
