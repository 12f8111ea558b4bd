"""The gate interface: a gate reads what the harness produced and returns a verdict with evidence.

Gates are found by name through the `labgate.gates` entry-point group (labgate's own gates register
exactly as a third-party package's would) and constructed with their validated options and the
workload of the task, which carries the settings a gate needs (the proof gate's coqc). A gate
receives the experiment's directory and the digests of the artifacts recorded from it; it re-reads
files itself and names, as evidence, the digests of exactly the files it read.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import ValidationError

from runs import (
    Decision,
    ExperimentSpec,
    GateResult,
    LabgateError,
    TaskSpec,
    read_untrusted,
    read_untrusted_text,
    untrusted_kind,
)
from tools import (
    GATES,
    ExperimentOutcome,
    PluginError,
    SandboxFactory,
    Workload,
    describe_validation_error,
    load_plugin,
    plugin_names,
)
from verifiers._options import GateOptions, GateOptionsError
from verifiers._vision_client import VisionJudge

ExperimentRunner = Callable[[ExperimentSpec, Path], ExperimentOutcome]
"""Runs one more experiment of the same task into a directory (a refined mesh, a held-out flow)."""


class UnknownGateError(LabgateError, KeyError):
    """A task names a gate that does not exist."""


OptionsT = TypeVar("OptionsT", bound=GateOptions)


@dataclass(frozen=True)
class StandIn:
    """An experiment labgate ran itself whose results the later gates judge in place of the ones handed in."""

    experiment: ExperimentSpec
    directory: Path
    outcome: ExperimentOutcome


@dataclass
class GateContext:
    task: TaskSpec
    experiment: ExperimentSpec
    directory: Path
    outcome: ExperimentOutcome
    evidence: dict[str, str] = field(default_factory=dict)
    options: GateOptions | Mapping[str, Any] | None = None
    """Options handed with the context instead of at construction (tests, bench scripts): `run_gate`
    validates them and judges with a gate built with them. `judge` never sets them."""
    sandbox_factory: SandboxFactory | None = None
    rerun: ExperimentRunner | None = None
    """Provided by a run (or `agent check --rerun`); None where no new run is allowed."""
    vision: VisionJudge | None = None
    """A vision model to consult, when one is configured; gates must work without it."""
    prior: list[GateResult] = field(default_factory=list)
    """Verdicts of the gates listed before this one, for gates that only judge accepted results."""
    stand_in: StandIn | None = None
    """Set by a gate that accepts results brought from elsewhere only as labgate's own run of them computes them
    (the reproduction of an adopted case): `judge` then hands that run, not the folder, to the later gates. A
    re-run that matches the folder within the solvers' tolerance still differs from it, and the folder's side
    of that slack is the user's to choose: edited where the comparator reads, it turned a "revise" into an
    "accept" while reproducing within tolerance."""

    def path(self, relative: str) -> Path:
        return self.directory / relative

    def settings(self, model: type[OptionsT]) -> OptionsT:
        """The context's options as `model` (its defaults when none were handed with the context)."""
        if isinstance(self.options, model):
            return self.options
        if isinstance(self.options, GateOptions):
            raise TypeError(f"options are {type(self.options).__name__}, not {model.__name__}")
        return model.model_validate(dict(self.options or {}))

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
    options: GateOptions
    """This gate's settings (subclasses narrow the type to their `Options`)."""
    workload: Workload | None
    """The task's workload, holding the settings the gate needs (a prover's path); None in bare tests."""

    def __init__(self, options: GateOptions | None = None, workload: Workload | None = None) -> None:
        """A gate with its options (the `Options` defaults when None) and the task's workload.

        Raises:
            TypeError: `options` is another gate's model.
        """
        if options is None:
            options = self.Options()
        elif not isinstance(options, self.Options):
            raise TypeError(f"gate {self.name!r} takes {self.Options.__name__}, not {type(options).__name__}")
        self.options = options
        self.workload = workload

    def configured(self, options: GateOptions) -> Gate:
        """The same gate with other options (the same workload)."""
        return type(self)(options, self.workload)

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


def _as_gate_class(loaded: object) -> type[Gate]:
    if not (isinstance(loaded, type) and issubclass(loaded, Gate)):
        raise TypeError(f"{loaded!r} is not a subclass of verifiers.Gate")
    if not isinstance(getattr(loaded, "name", None), str):
        raise TypeError(f"{loaded.__name__} has no gate name")
    return loaded


def gate_names() -> list[str]:
    """Every installed gate (the `labgate.gates` entry points), sorted."""
    return plugin_names(GATES)


def gate_class(name: str) -> type[Gate]:
    """The class registered as gate `name`.

    Raises:
        UnknownGateError: no gate of that name is installed (the message lists those that are).
        PluginError: the gate is installed but cannot be imported, or is not a `Gate`.
    """
    if name not in gate_names():
        raise UnknownGateError(f"unknown gate {name!r}; known gates: {', '.join(gate_names()) or 'none'}")
    cls = load_plugin(GATES, name, _as_gate_class)
    if cls.name != name:
        raise PluginError(f"{GATES} plugin {name!r} is the gate {cls.name!r}; the names must match")
    return cls


def get_gate(name: str, options: Mapping[str, Any] | None = None, workload: Workload | None = None) -> Gate:
    """Gate `name` built with `options` (validated; defaults when None) and `workload`.

    Raises:
        UnknownGateError: see `gate_class`.
        GateOptionsError: an option is unknown or out of bounds.
    """
    return gate_class(name)(gate_options(name, options or {}), workload)


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
    """A gate that crashes is a gate that did not accept: the crash becomes a `reject` with its cause.

    Options handed with the context (see `GateContext.options`) are validated here and replace the
    gate's own; invalid ones are a `reject` naming the option.
    """
    if context.options is not None:
        if not isinstance(context.options, GateOptions):
            try:
                context.options = gate.Options.model_validate(dict(context.options))
            except ValidationError as error:
                return gate.verdict("reject", [f"invalid gate options: {describe_validation_error(error)}"])
        if context.options != gate.options:
            gate = gate.configured(context.options)
    try:
        return gate.check(context)
    except Exception as error:  # noqa: BLE001 - must become a recorded outcome, never a crash
        return gate.verdict("reject", [f"gate failed while checking: {type(error).__name__}: {error}"])


def blocking_verdict(context: GateContext) -> GateResult | None:
    """The first earlier verdict that did not accept, if any: expensive gates judge only accepted results."""
    return next((result for result in context.prior if result.decision != "accept"), None)
