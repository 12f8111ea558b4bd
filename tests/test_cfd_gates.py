"""Every CFD gate accepts a good case and rejects a planted fault; check-case never touches the case."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from runs import ExperimentSpec, GateResult, TaskSpec
from sandboxes import LocalSandbox
from tests.conftest import agent, tree_digest
from tools import ExperimentOutcome
from tools.cfd import CfdWorkload, latest_time
from verifiers import GateContext, VisionVerdict, get_gate, run_gate

pytestmark = [pytest.mark.slow, pytest.mark.openfoam, pytest.mark.usefixtures("openfoam", "bubblewrap")]

CHANNEL = {"case": "poiseuille", "re": 100, "cells": 16}


class Case:
    def __init__(self, task: TaskSpec, spec: ExperimentSpec, directory: Path, outcome: ExperimentOutcome) -> None:
        self.task, self.spec, self.directory, self.outcome = task, spec, directory, outcome
        self.workload = CfdWorkload()

    def copy(self, where: Path) -> Case:
        shutil.copytree(self.directory, where)
        return Case(self.task, self.spec, where, self.outcome)

    def judge(self, gate: str, prior: list[GateResult] | None = None, **extra: Any) -> GateResult:
        factory = lambda where: LocalSandbox(workdir=where)  # noqa: E731
        options = {**self.task.gate_options.get(gate, {}), **extra.pop("options", {})}
        context = GateContext(
            task=self.task,
            experiment=extra.pop("spec", self.spec),
            directory=self.directory,
            outcome=self.outcome,
            options=options,
            sandbox_factory=factory,
            rerun=lambda spec, where: self.workload.run(self.task, spec, where, factory),
            prior=prior or [],
            **extra,
        )
        return run_gate(get_gate(gate), context)


@pytest.fixture(scope="module")
def channel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Case]:
    workload = CfdWorkload()
    task = next(t for t in workload.tasks() if t.id == "cfd/poiseuille")
    spec = ExperimentSpec(key="good", task_id=task.id, params=CHANNEL)
    directory = tmp_path_factory.mktemp("channel")
    outcome = workload.run(task, spec, directory, lambda where: LocalSandbox(workdir=where))
    assert outcome.status == "completed", outcome.error
    yield Case(task, spec, directory, outcome)


def _latest(case: Case) -> Path:
    latest = latest_time(case.directory / "case")
    assert latest is not None
    return latest[1]


def test_every_offline_gate_accepts_the_good_case(channel: Case) -> None:
    for gate in ("solver-log", "deliverables", "physical-range", "comparator", "vision"):
        verdict = channel.judge(gate)
        assert verdict.decision == "accept", (gate, verdict.reasons)


def test_solver_log_rejects_a_truncated_history(channel: Case, tmp_path: Path) -> None:
    broken = channel.copy(tmp_path / "c")
    shutil.rmtree(_latest(broken))
    assert broken.judge("solver-log").decision == "reject"


def test_deliverables_rejects_a_deleted_figure(channel: Case, tmp_path: Path) -> None:
    broken = channel.copy(tmp_path / "c")
    (broken.directory / "figures" / "fields.png").unlink()
    verdict = broken.judge("deliverables")
    assert verdict.decision == "reject" and "fields.png" in " ".join(verdict.reasons)


def test_physical_range_rejects_flow_against_the_requested_direction(channel: Case) -> None:
    wrong = ExperimentSpec(key="good", task_id=channel.task.id, params={**CHANNEL, "bulk_velocity": -1.0})
    verdict = channel.judge("physical-range", spec=wrong)
    assert verdict.decision == "revise" and "against the requested direction" in verdict.reasons[0]


def test_comparator_rejects_zeroed_samples_and_an_impossible_target(channel: Case, tmp_path: Path) -> None:
    assert channel.judge("comparator", options={"profile_rmse_max": 1e-12}).decision == "revise"
    broken = channel.copy(tmp_path / "c")
    for path in (broken.directory / "case" / "postProcessing").rglob("*.xy"):
        rows = np.loadtxt(path)
        np.savetxt(path, np.column_stack([rows[:, 0], np.zeros((len(rows), 3))]))
    verdict = broken.judge("comparator")
    assert verdict.decision == "reject" and "disagree" in verdict.reasons[0]


def test_vision_flags_nan_checkerboard_and_reversed_flow(channel: Case, tmp_path: Path) -> None:
    nan_case = channel.copy(tmp_path / "nan")
    u = _latest(nan_case) / "U"
    u.write_text(u.read_text().replace("(", "(nan ", 40).replace("(nan (", "((", 1), errors=None)
    assert nan_case.judge("vision").decision in ("rerun", "reject")

    board = channel.copy(tmp_path / "board")
    p = _latest(board) / "p"
    text = p.read_text()
    cells = CHANNEL["cells"] * 4
    values = "\n".join(f"{(-1) ** (i + i // 4):g}" for i in range(cells))
    head = text[: text.index("internalField")]
    tail = text[text.index("boundaryField") :]
    p.write_text(f"{head}internalField nonuniform List<scalar> {cells} (\n{values}\n);\n{tail}")
    verdict = board.judge("vision")
    assert verdict.decision == "rerun" and "checkerboard" in " ".join(verdict.reasons)

    backwards = channel.copy(tmp_path / "back")
    u = _latest(backwards) / "U"
    text = u.read_text()
    start = text.index("(", text.index("List<vector>")) + 1
    body = text[start:]
    first = body.index("(") + 1
    u.write_text(text[:start] + body[:first] + "-" + body[first:])
    verdict = backwards.judge("vision")
    assert verdict.decision == "revise" and "reversed flow" in " ".join(verdict.reasons)


def test_vision_consults_an_injected_model(channel: Case) -> None:
    seen: list[str] = []

    def judge(requirement: str, images: Any) -> VisionVerdict:
        seen.append(requirement)
        return VisionVerdict(decision="revise", reasons=["the profile is skewed towards the upper wall"])

    verdict = channel.judge("vision", vision=judge)
    assert verdict.decision == "revise" and "vision model: the profile is skewed" in verdict.reasons[-1]
    assert "analytic solution" in seen[0] and "mirror-symmetric" in seen[0]


def test_mesh_independence_accepts_a_converged_mesh_and_revises_a_coarse_one(channel: Case, tmp_path: Path) -> None:
    assert channel.judge("mesh-independence").decision == "accept"
    workload = CfdWorkload()
    coarse_spec = ExperimentSpec(key="coarse", task_id=channel.task.id, params={**CHANNEL, "cells": 4})
    directory = tmp_path / "coarse"
    outcome = workload.run(channel.task, coarse_spec, directory, lambda where: LocalSandbox(workdir=where))
    coarse = Case(channel.task, coarse_spec, directory, outcome)
    verdict = coarse.judge("mesh-independence")
    assert verdict.decision == "revise" and "depends on the mesh" in verdict.reasons[0]
    blocked = channel.judge("mesh-independence", prior=[GateResult(gate="comparator", decision="revise")])
    assert blocked.decision == "revise" and blocked.confidence == 0.0


def test_check_case_judges_a_case_without_touching_it(channel: Case, home: Path, tmp_path: Path) -> None:
    user_case = tmp_path / "my-channel"
    shutil.copytree(channel.directory / "case", user_case)
    before = tree_digest(user_case)
    result = agent("check-case", "cfd/poiseuille", str(user_case), "--json", home=home)
    report = json.loads(result.stdout)
    # Every gate that judged accepts, but mesh independence needs new runs: never an acceptance without it.
    assert report["decision"] == "inconclusive", report
    assert result.returncode == 1, result.stderr
    assert report["params"]["re"] == pytest.approx(100) and report["params"]["cells"] == 16
    assert [v["gate"] for v in report["verdicts"]] == [
        "solver-log",
        "deliverables",
        "physical-range",
        "comparator",
        "vision",
    ]
    assert all(v["decision"] == "accept" for v in report["verdicts"]), report["verdicts"]
    assert report["skipped"] == ["reproduction", "mesh-independence"]
    assert tree_digest(user_case) == before

    rerun = agent("check", "cfd/poiseuille", str(user_case), "--rerun", "--json", home=home)
    assert rerun.returncode == 0, rerun.stderr
    full = json.loads(rerun.stdout)
    assert full["decision"] == "accept" and full["skipped"] == []
    assert [v["gate"] for v in full["verdicts"]] == ["reproduction", *channel.task.gates]
    assert tree_digest(user_case) == before

    shutil.rmtree(next(p for p in user_case.iterdir() if p.name.replace(".", "").isdigit() and p.name != "0"))
    broken_run = agent("check-case", "cfd/poiseuille", str(user_case), "--json", home=home)
    broken = json.loads(broken_run.stdout)
    assert broken["decision"] != "accept" and broken_run.returncode == 1
    missing = agent("check-case", "cfd/poiseuille", str(tmp_path / "nope"), home=home)
    assert missing.returncode == 2 and "does not exist" in missing.stderr
