"""The prover interface: every backend (Coq here; Lean 4 and Isabelle through their images) checks a
whole source text and reports diagnostics, and can show the goals open at a point of it.

Keeping this small is what lets the search, the gate and the CLI stay the same across provers.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

from runs import LabgateError
from tools.proofs._diagnostics import Diagnostic, GoalState


@dataclass(frozen=True)
class CheckResult:
    """What one check of one source produced.

    `ok` means the prover accepted the whole file (exit 0, no error). A run killed at its time limit
    or by a crash (stack overflow, out of memory, signal) is never ok, and says why in `failure`.
    """

    ok: bool
    diagnostics: tuple[Diagnostic, ...] = ()
    stdout: str = ""
    stderr: str = ""
    seconds: float = 0.0
    timed_out: bool = False
    failure: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def errors(self) -> list[Diagnostic]:
        return [item for item in self.diagnostics if item.severity == "error"]

    @property
    def first_error(self) -> Diagnostic | None:
        errors = self.errors
        return errors[0] if errors else None

    def summary(self) -> str:
        """One line saying why the check failed, or 'ok'."""
        if self.ok:
            return "ok"
        if self.failure:
            return self.failure
        error = self.first_error
        return error.describe() if error else "the prover rejected the file without a message"


class ProverUnavailableError(LabgateError, RuntimeError):
    """The prover binary (or its image) is not installed where the backend looks for it."""


class Prover(ABC):
    """A proof checker behind one interface: `check(source)` and `goal_at(source, position)`."""

    name: ClassVar[str]

    @abstractmethod
    def check(self, source: str, *, timeout: float | None = None) -> CheckResult:
        """Check a whole source file; never raises for a bad proof, only for a missing prover."""

    @abstractmethod
    def goal_at(self, source: str, position: int, *, timeout: float | None = None) -> GoalState | None:
        """The goals open just before the sentence at character offset `position`, or None when the
        text before that point does not itself check (so no goal can be shown)."""

    @abstractmethod
    def version(self) -> str:
        """The prover's version string, recorded on every run."""

    def close(self) -> None:  # noqa: B027 - a backend without processes has nothing to release
        """Release the backend's processes and sandbox."""
