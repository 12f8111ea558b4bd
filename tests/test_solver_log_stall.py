"""A steady run whose residual is still falling gets `rerun` (more iterations); one that has stalled
gets `revise`, since more iterations would only repeat the plateau. Synthetic logs, no solver needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from runs import ExperimentSpec, TaskSpec
from sandboxes import LocalSandbox
from tools import ExperimentOutcome
from verifiers import GateContext, get_gate, run_gate
from verifiers.cfd._solver_log import residual_stalled

ITERATIONS = 400


def _falling(step: int) -> float:
    return 10 ** (-3.0 * step / ITERATIONS)  # reaches only 1e-3 at the last step: still falling


def _stalled(step: int) -> float:
    return max(10 ** (-6.0 * step / ITERATIONS), 2e-3 * (1 + 0.05 * (step % 7)))  # a noisy floor at ~2e-3


def _write_case(directory: Path, residual: list[float]) -> None:
    case = directory / "case"
    (case / "system").mkdir(parents=True)
    (case / "system" / "controlDict").write_text(f"endTime {ITERATIONS};\n")
    (case / str(ITERATIONS)).mkdir()
    lines = []
    for step, value in enumerate(residual, start=1):
        lines += [
            f"Time = {step}",
            f"smoothSolver:  Solving for Ux, Initial residual = {value:.6g}, Final residual = {value / 10:.6g}, "
            "No Iterations 2",
            f"time step continuity errors : sum local = {1e-7:.3g}, global = 1e-9, cumulative = 1e-9",
            "",
        ]
    (directory / "log.simpleFoam").write_text("\n".join([*lines, "End", ""]))


def _judge(directory: Path) -> tuple[str, list[str]]:
    task = TaskSpec(id="cfd/synthetic", workload="cfd", gates=["solver-log"])
    context = GateContext(
        task=task,
        experiment=ExperimentSpec(key="x", task_id=task.id),
        directory=directory,
        outcome=ExperimentOutcome(key="x", status="completed", info={"solver_log": "log.simpleFoam"}),
        options={},
        sandbox_factory=lambda where: LocalSandbox(workdir=where),
        rerun=lambda spec, where: None,  # type: ignore[arg-type,return-value]
        prior=[],
    )
    verdict = run_gate(get_gate("solver-log"), context)
    return verdict.decision, verdict.reasons


@pytest.mark.parametrize(
    ("history", "decision", "phrase"),
    [(_falling, "rerun", "fell only"), (_stalled, "revise", "stalled: more iterations will not help")],
)
def test_a_falling_residual_is_rerun_and_a_stalled_one_revised(
    tmp_path: Path, history: object, decision: str, phrase: str
) -> None:
    assert callable(history)
    _write_case(tmp_path, [history(step) for step in range(ITERATIONS)])
    got, reasons = _judge(tmp_path)
    assert got == decision, reasons
    assert any(phrase in reason for reason in reasons), reasons


def test_stall_needs_a_long_enough_history_and_a_real_plateau() -> None:
    assert not residual_stalled([1e-2] * 50)  # too short to tell
    assert residual_stalled([1e-2] * 400)
    assert not residual_stalled([10 ** (-3.0 * i / 400) for i in range(400)])
    # A plateau that breaks in the last quarter is not a stall.
    assert not residual_stalled([1e-2] * 350 + [1e-4] * 50)
