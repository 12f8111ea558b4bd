"""The gate interface: a gate reads what the harness produced and returns a verdict with evidence.

Gates are looked up by name from the task's `gates` list. A gate receives the experiment's
directory and the digests of the artifacts recorded from it; it re-reads files itself and
names, as evidence, the digests of exactly the files it read.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import ValidationError

from runs import Decision, ExperimentSpec, GateResult, TaskSpec, read_untrusted, read_untrusted_text, untrusted_kind
from tools import ExperimentOutcome, SandboxFactory, describe_validation_error
from verifiers._options import GateOptions, GateOptionsError
from verifiers._vision_client import VisionJudge

ExperimentRunner = Callable[[ExperimentSpec, Path], ExperimentOutcome]
"""Runs one more experiment of the same task into a directory (a refined mesh, a held-out flow)."""


class UnknownGateError(KeyError):
    """A task names a gate that does not exist."""


OptionsT = TypeVar("OptionsT", bound=GateOptions)


@dataclass
class GateContext:
    task: TaskSpec
    experiment: ExperimentSpec
    directory: Path
    outcome: ExperimentOutcome
    evidence: dict[str, str] = field(default_factory=dict)
    options: GateOptions | Mapping[str, Any] = field(default_factory=dict)
    """The gate's validated options (`run_gate` validates a mapping before the gate reads it)."""
    sandbox_factory: SandboxFactory | None = None
    rerun: ExperimentRunner | None = None
    """Provided by the orchestrator (or `check-case --rerun`); None where no new run is allowed."""
    vision: VisionJudge | None = None
    """A vision model to consult, when one is configured; gates must work without it."""
    prior: list[GateResult] = field(default_factory=list)
    """Verdicts of the gates listed before this one, for gates that only judge accepted results."""

    def path(self, relative: str) -> Path:
        return self.directory / relative

    def settings(self, model: type[OptionsT]) -> OptionsT:
        """The options as the gate's typed model; a plain mapping (a test, a bench script) is validated here."""
        if isinstance(self.options, model):
            return self.options
        if isinstance(self.options, GateOptions):
            raise TypeError(f"options are {type(self.options).__name__}, not {model.__name__}")
        return model.model_validate(dict(self.options))

    # The experiment directory was written by the candidate: read it only through these, which follow
    # no link, read regular files only and cap sizes (`runs.UntrustedFileError` says what was refused).

    def read_bytes(self, relative: str, *, max_bytes: int = 64 << 20) -> bytes:
        return read_untrusted(self.directory, relative, max_bytes=max_bytes)

    def read_text(self, relative: str, *, max_bytes: int = 64 << 20) -> str:
        return read_untrusted_text(self.directory, relative, max_bytes=max_bytes)

    def is_file(self, relative: str) -> bool:
        """A regular file reached without following any link (a link named like a deliverable is not one)."""
        return untrusted_kind(self.directory, relative) == "file"

    def digests(self, relatives: Iterable[str]) -> list[str]:
        """Digests of the recorded artifacts among `relatives` (unrecorded files are skipped)."""
        return [self.evidence[rel] for rel in relatives if rel in self.evidence]


class Gate(ABC):
    name: ClassVar[str]
    needs_run: ClassVar[bool] = False
    """True for gates that execute new experiments (mesh refinement, held-out flows)."""
    Options: ClassVar[type[GateOptions]] = GateOptions
    """The settings this gate reads, with their defaults and bounds; a task may set only these."""

    @abstractmethod
    def check(self, context: GateContext) -> GateResult:
        """Judge one experiment; never raise for a bad experiment, only return a verdict."""

    def verdict(
        self,
        decision: Decision,
        reasons: list[str],
        *,
        evidence: list[str] | None = None,
        metrics: dict[str, float] | None = None,
        confidence: float = 1.0,
    ) -> GateResult:
        return GateResult(
            gate=self.name,
            decision=decision,
            reasons=reasons,
            evidence=sorted(set(evidence or [])),
            metrics=metrics or {},
            confidence=confidence,
        )


_REGISTRY: dict[str, type[Gate]] = {}
GateT = TypeVar("GateT", bound=type[Gate])


def register_gate(cls: GateT) -> GateT:
    _REGISTRY[cls.name] = cls
    return cls


def gate_names() -> list[str]:
    return sorted(_REGISTRY)


def get_gate(name: str) -> Gate:
    return gate_class(name)()


def gate_class(name: str) -> type[Gate]:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownGateError(f"unknown gate {name!r}; known gates: {', '.join(gate_names())}") from None


def gate_options(name: str, options: Mapping[str, Any]) -> GateOptions:
    """The options of gate `name` as its typed model.

    Raises:
        GateOptionsError: the gate does not exist, or an option is unknown or out of bounds.
    """
    try:
        model = gate_class(name).Options
    except UnknownGateError as error:
        raise GateOptionsError(str(error.args[0])) from None
    try:
        return model.model_validate(dict(options))
    except ValidationError as error:
        raise GateOptionsError(f"gate {name!r}: {describe_validation_error(error)}") from None


def validate_gate_options(name: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """Every option of gate `name`, defaults included, as JSON: what the catalog compares and records."""
    return gate_options(name, options).model_dump(mode="json")


def run_gate(gate: Gate, context: GateContext) -> GateResult:
    """A gate that crashes is a gate that did not accept: the crash becomes a `reject` with its cause."""
    if not isinstance(context.options, GateOptions):
        try:
            context.options = gate.Options.model_validate(dict(context.options))
        except ValidationError as error:
            return gate.verdict("reject", [f"invalid gate options: {describe_validation_error(error)}"])
    try:
        return gate.check(context)
    except Exception as error:  # noqa: BLE001 - must become a recorded outcome, never a crash
        return gate.verdict("reject", [f"gate failed while checking: {type(error).__name__}: {error}"])


def blocking_verdict(context: GateContext) -> GateResult | None:
    """The first earlier verdict that did not accept, if any: expensive gates judge only accepted results."""
    return next((result for result in context.prior if result.decision != "accept"), None)


GateFactory = Callable[[], Gate]
