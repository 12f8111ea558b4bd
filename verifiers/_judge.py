"""One judging path: a task's gates applied in order to one experiment, by a run and by `agent check`.

A run and a check differ only in what they hand in: a run gives every gate a way to run more
experiments (`rerun`) and the verdicts it stored before an interruption (`done`); a check of an
existing result may have no `rerun`, and then the gates that need new runs are skipped, by name.

The decision, in the task's gate order (`runs.combine_decisions`): the first verdict that does not
accept decides. A skipped gate never lets a result pass as accepted by every gate: when all the gates
that judged accept but some were skipped, the decision is "inconclusive" (not accepted).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from runs import Decision, ExperimentSpec, GateResult, TaskSpec, combine_decisions
from tools import ExperimentOutcome, SandboxFactory, Workload
from verifiers._gate import ExperimentRunner, Gate, GateContext, StandIn, gate_class, gate_options, run_gate
from verifiers._options import GateOptionsError
from verifiers._vision_client import VisionJudge

JudgementDecision = Literal[Decision, "inconclusive"]
"""A gate decision, or "inconclusive": every gate that judged accepts, but some gates were skipped."""


@dataclass(frozen=True)
class Judgement:
    """What the task's gates decided about one experiment."""

    decision: JudgementDecision
    verdicts: list[GateResult] = field(default_factory=list)
    """One per gate that judged (or had judged before), in the task's gate order."""
    skipped: list[str] = field(default_factory=list)
    """Gates that need new runs and were not given any (`rerun` None), in the task's gate order."""
    judged: StandIn | None = None
    """The run of labgate's own that the gates after an adoption gate judged instead of the results handed
    in (see `GateContext.stand_in`); None when every gate judged the experiment as given."""


class _RefusedOptionsGate(Gate):
    """Stands in for a gate whose options are invalid: it rejects, naming the option (never a crash)."""

    name = "refused-options"

    def __init__(self, name: str, reason: str) -> None:
        super().__init__()
        self.gate_name = name
        self.reason = reason

    def check(self, context: GateContext) -> GateResult:
        return self.verdict("reject", [f"invalid gate options: {self.reason}"]).model_copy(
            update={"gate": self.gate_name}
        )


def build_gates(task: TaskSpec, workload: Workload | None = None) -> list[Gate]:
    """Every gate of `task`, in its order, built with its validated options and the task's workload.

    Options are validated when a task is submitted; should invalid ones reach here all the same, that
    gate rejects naming the option instead of stopping the run.

    Raises:
        UnknownGateError: the task names a gate that is not installed.
    """
    gates: list[Gate] = []
    for name in task.gates:
        cls = gate_class(name)
        try:
            options = gate_options(name, task.gate_options.get(name, {}))
        except GateOptionsError as error:
            gates.append(_RefusedOptionsGate(name, str(error).removeprefix(f"gate {name!r}: ")))
            continue
        gates.append(cls(options, workload))
    return gates


def gate_label(gate: Gate) -> str:
    """The name a gate's verdicts carry (the stand-in for a refused gate carries the refused gate's)."""
    return gate.gate_name if isinstance(gate, _RefusedOptionsGate) else gate.name


def judge(
    task: TaskSpec,
    experiment: ExperimentSpec,
    directory: Path,
    outcome: ExperimentOutcome,
    *,
    gates: Sequence[Gate],
    evidence: Mapping[str, str],
    sandbox_factory: SandboxFactory | None = None,
    rerun: ExperimentRunner | None = None,
    vision: VisionJudge | None = None,
    done: Mapping[str, GateResult] | None = None,
    on_verdict: Callable[[GateResult], None] | None = None,
    evidence_of: Callable[[Path, ExperimentOutcome], Mapping[str, str]] | None = None,
) -> Judgement:
    """Apply `gates` (see `build_gates`) in order to the experiment in `directory`.

    Args:
        evidence: relative path -> sha256 of the experiment's recorded files (what verdicts cite).
        rerun: runs one more experiment of the task; None skips the gates that need one.
        done: verdicts stored before, by gate name: reused as they are, never judged twice.
        on_verdict: called once with each new verdict, in order (a run stores it and announces it).
        evidence_of: the digests of a run's recorded files, for a run that stands in for the experiment
            (see `GateContext.stand_in`); without it the later gates cite no digests.
    """
    done = done or {}
    verdicts: list[GateResult] = []
    skipped: list[str] = []
    judged: StandIn | None = None
    for gate in gates:
        name = gate_label(gate)
        if name in done:
            verdicts.append(done[name])
            continue
        if gate.needs_run and rerun is None:
            skipped.append(name)
            continue
        context = GateContext(
            task=task,
            experiment=experiment,
            directory=directory,
            outcome=outcome,
            evidence=dict(evidence),
            sandbox_factory=sandbox_factory,
            rerun=rerun,
            vision=vision,
            prior=list(verdicts),
        )
        result = run_gate(gate, context)
        if on_verdict is not None:
            on_verdict(result)
        verdicts.append(result)
        if result.decision == "accept" and context.stand_in is not None:
            judged = context.stand_in
            experiment, directory, outcome = judged.experiment, judged.directory, judged.outcome
            evidence = evidence_of(directory, outcome) if evidence_of is not None else {}
    return Judgement(decision=_decision(verdicts, skipped), verdicts=verdicts, skipped=skipped, judged=judged)


def _decision(verdicts: list[GateResult], skipped: list[str]) -> JudgementDecision:
    decision = combine_decisions([verdict.decision for verdict in verdicts])
    if skipped and (decision == "accept" or not verdicts):
        return "inconclusive"
    return decision
