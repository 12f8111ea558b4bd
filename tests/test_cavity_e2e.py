"""cfd/cavity end to end with the real OpenFOAM, through the real CLI, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runs import RunStore
from tests.conftest import REPO, agent

pytestmark = [pytest.mark.slow, pytest.mark.openfoam, pytest.mark.usefixtures("openfoam", "bubblewrap")]


def test_cavity_accepted_at_re_100_and_400(home: Path) -> None:
    result = agent("run", "cfd/cavity", "--json", home=home)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert set(summary) >= {"run_id", "status", "accepted", "rejected", "report", "verdicts"}
    assert summary["status"] == "finished"
    assert sorted(summary["accepted"]) == ["re=100", "re=400"]
    assert summary["rejected"] == []
    gates = {(v["experiment"], v["gate"]): v for v in summary["verdicts"]}
    for key in ("re=100", "re=400"):
        for gate in ("solver-log", "deliverables", "comparator"):
            assert gates[(key, gate)]["decision"] == "accept", gates[(key, gate)]

    store = RunStore(home)
    run = store.get_run(summary["run_id"])
    assert run.environment["tools"]["openfoam"] == "v1912"
    assert run.environment["sandbox"]["isolation"] == "bubblewrap"
    comparator = [v for v in store.verdicts(run.id) if v.gate == "comparator"]
    for verdict in comparator:
        assert verdict.metrics["rmse_u"] < 0.02 and verdict.metrics["rmse_v"] < 0.02
        assert verdict.metrics["reader_disagreement"] < 0.03
        assert len(verdict.evidence) == 4  # U, C and the two sampled lines
        for sha in verdict.evidence:
            assert store.artifacts.has(sha)

    report = Path(summary["report"]).read_text()
    assert "## Accepted results" in report and "### re=100" in report and "### re=400" in report
    assert "10.1016/0021-9991(82)90058-4" in " ".join(run.environment.values().__repr__()) or "Ghia" in report
    for verdict in comparator:
        assert f"[V{verdict.id}]" in report
    images = [line.split("](")[1].rstrip(")") for line in report.splitlines() if line.startswith("![")]
    assert len(images) == 6
    for image in images:
        assert (Path(summary["report"]).parent / image).is_file()

    shown = agent("show", summary["run_id"], "--json", home=home)
    detail = json.loads(shown.stdout)
    assert detail["status"] == "finished" and len(detail["experiments"]) == 2
    listed = json.loads(agent("runs", "--json", home=home).stdout)
    assert listed[0]["run_id"] == summary["run_id"] and listed[0]["task"] == "cfd/cavity"


def test_diverging_time_step_is_rejected_by_the_solver_log_gate(home: Path) -> None:
    result = agent(
        "run",
        "cfd/cavity",
        "--param",
        "re=100",
        "--param",
        "delta_t=0.1",
        "--budget",
        "1",
        "--json",
        home=home,
    )
    summary = json.loads(result.stdout)
    assert result.returncode == 1
    assert summary["status"] == "failed" and "re=100" in summary["reason"]
    assert summary["accepted"] == [] and summary["rejected"] == ["re=100"]
    solver = next(v for v in summary["verdicts"] if v["gate"] == "solver-log")
    assert solver["decision"] == "rerun"
    assert any("floating-point exception" in reason and "diverged" in reason for reason in solver["reasons"])
    report = Path(summary["report"]).read_text()
    assert "No experiment was accepted" in report


def test_rerun_with_a_smaller_time_step_recovers(home: Path) -> None:
    result = agent(
        "run",
        "cfd/cavity",
        "--param",
        "re=100",
        "--param",
        "cells=24",
        "--param",
        "delta_t=0.03",
        "--param",
        "convective_times=12",
        "--budget",
        "4",
        "--json",
        home=home,
    )
    summary = json.loads(result.stdout)
    keys = [v["experiment"] for v in summary["verdicts"] if v["gate"] == "solver-log"]
    assert keys[0] == "re=100" and len(keys) >= 2, keys
    decisions = {v["experiment"]: v["decision"] for v in summary["verdicts"] if v["gate"] == "solver-log"}
    assert decisions["re=100"] == "rerun"
    assert decisions[keys[-1]] == "accept"


def test_missing_openfoam_fails_the_run_with_the_install_hint(home: Path, tmp_path: Path) -> None:
    result = agent("run", "cfd/cavity", "--json", home=home, env={"LABGATE_OPENFOAM_BIN_DIR": str(tmp_path)})
    assert result.returncode == 1
    summary = json.loads(result.stdout)
    assert summary["status"] == "failed"
    assert "OpenFOAM not found" in summary["reason"] and "scripts/setup" in summary["reason"]


def test_timeout_fails_the_run_and_names_it(home: Path, tmp_path: Path) -> None:
    task = tmp_path / "slow.yaml"
    task.write_text("extends: cfd/cavity\nsweep: {re: [100]}\nparams: {cells: 96}\nbudget: {experiment_seconds: 1}\n")
    result = agent("run", str(task), "--json", home=home)
    summary = json.loads(result.stdout)
    assert result.returncode == 1
    assert summary["status"] == "failed" and "timed out after 1 s" in summary["reason"]
    assert summary["accepted"] == []


def test_two_runs_at_once_keep_the_store_consistent(home: Path) -> None:
    args = [
        "run",
        "cfd/cavity",
        "--param",
        "re=100",
        "--param",
        "cells=16",
        "--param",
        "convective_times=3",
        "--budget",
        "1",
        "--json",
    ]
    env = {**os.environ, "LABGATE_HOME": str(home)}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "api.cli", *args],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=300) for process in processes]
    assert all(process.returncode == 0 for process in processes), [
        (process.returncode, out[-3000:], err[-3000:]) for process, (out, err) in zip(processes, outputs, strict=True)
    ]
    summaries = [json.loads(stdout) for stdout, _ in outputs]
    assert summaries[0]["run_id"] != summaries[1]["run_id"]
    store = RunStore(home)
    for summary in summaries:
        run = store.get_run(summary["run_id"])
        assert run.status == "finished"
        assert [e.key for e in store.experiments(run.id)] == ["re=100"]
        assert len(store.verdicts(run.id)) == 3
    assert sorted(r.id for r in store.list_runs()) == sorted(s["run_id"] for s in summaries)
