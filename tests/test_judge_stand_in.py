"""`judge` hands a run of labgate's own to the gates after one that accepts results only as that run computes them.

An adopted OpenFOAM case reproduced within the solvers' tolerance still differs from its re-run by up to that
tolerance, and the folder's side of it is the user's to choose: a red-team pass nudged a cavity's velocity
toward the reference only in the cells beside the centrelines (each by at most 3 % of the field's RMS, 0.98 %
RMS in all), the reproduction accepted it, and the comparator, reading the folder, turned the re-run's
"revise" into an "accept". The gates after the reproduction now judge the re-run (`GateContext.stand_in`).
"""

from __future__ import annotations

from pathlib import Path

from api.cli._check import adoption_first
from runs import Decision, ExperimentSpec, GateResult, TaskSpec
from tools import Catalog, ExperimentOutcome
from tools.cfd import CfdWorkload
from verifiers import Gate, GateContext, StandIn, build_gates, gate_label, judge


class _Adopting(Gate):
    """Stands in a run of its own for the experiment, with the decision it is given."""

    name = "adopting"

    def __init__(self, decision: Decision, stand_in: StandIn) -> None:
        super().__init__()
        self.decision = decision
        self.stand_in = stand_in

    def check(self, context: GateContext) -> GateResult:
        context.stand_in = self.stand_in
        return self.verdict(self.decision, ["as told"])


class _Reading(Gate):
    """Records what it was handed."""

    name = "reading"

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, Path, str, dict[str, str]]] = []

    def check(self, context: GateContext) -> GateResult:
        self.seen.append((context.experiment.key, context.directory, context.outcome.key, dict(context.evidence)))
        return self.verdict("accept", ["read"])


def _parts(tmp_path: Path) -> tuple[TaskSpec, ExperimentSpec, ExperimentOutcome, StandIn]:
    task = TaskSpec(id="cfd/case", workload="cfd")
    spec = ExperimentSpec(key="check-case", task_id=task.id)
    outcome = ExperimentOutcome(key="check-case", status="completed")
    again = StandIn(
        ExperimentSpec(key="check-case-reproduce", task_id=task.id),
        tmp_path / "reproduce",
        ExperimentOutcome(key="check-case-reproduce", status="completed"),
    )
    return task, spec, outcome, again


def test_the_gates_after_an_accepting_adoption_gate_judge_its_run(tmp_path: Path) -> None:
    task, spec, outcome, again = _parts(tmp_path)
    before, after = _Reading(), _Reading()
    asked: list[tuple[Path, str]] = []

    def evidence_of(directory: Path, judged: ExperimentOutcome) -> dict[str, str]:
        asked.append((directory, judged.key))
        return {"case/log": "rerun-digest"}

    judgement = judge(
        task,
        spec,
        tmp_path,
        outcome,
        gates=[before, _Adopting("accept", again), after],
        evidence={"case/log": "folder-digest"},
        evidence_of=evidence_of,
    )
    assert judgement.decision == "accept" and judgement.judged == again
    assert before.seen == [("check-case", tmp_path, "check-case", {"case/log": "folder-digest"})]
    assert after.seen == [
        ("check-case-reproduce", tmp_path / "reproduce", "check-case-reproduce", {"case/log": "rerun-digest"})
    ]
    assert asked == [(tmp_path / "reproduce", "check-case-reproduce")]


def test_a_run_that_did_not_reproduce_the_results_stands_in_for_nothing(tmp_path: Path) -> None:
    """Not accepted, the results handed in are what the later gates judge (for their reasons), never the run."""
    task, spec, outcome, again = _parts(tmp_path)
    for decision in ("reject", "revise", "rerun"):
        after = _Reading()
        judgement = judge(task, spec, tmp_path, outcome, gates=[_Adopting(decision, again), after], evidence={"a": "b"})
        assert judgement.decision == decision and judgement.judged is None
        assert after.seen == [("check-case", tmp_path, "check-case", {"a": "b"})]


def test_the_adoption_gates_judge_first_wherever_a_task_lists_them() -> None:
    """A task file listed `reproduction` after the comparator, which then read the folder: a velocity nudged
    toward Ghia beside the centrelines was accepted again, "custom gates: reproduction added" its only note."""
    workload = CfdWorkload()
    catalog = Catalog([workload])
    task = catalog.from_mapping(
        {"extends": "cfd/cavity", "gates": ["solver-log", "deliverables", "comparator", "reproduction"]}
    )
    built = build_gates(task, workload)
    ordered = adoption_first(built, workload)
    assert [gate_label(gate) for gate in ordered] == ["reproduction", "solver-log", "deliverables", "comparator"]
    assert ordered[0] is built[-1]  # the task's own instance, with its options
    plain = adoption_first(build_gates(catalog.get("cfd/cavity"), workload), workload)
    assert [gate_label(gate) for gate in plain] == ["reproduction", "solver-log", "deliverables", "comparator"]
