"""The new CFD tasks end to end with the real OpenFOAM, through the real CLI, on coarse meshes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runs import RunStore
from tests.conftest import agent

pytestmark = [pytest.mark.slow, pytest.mark.openfoam, pytest.mark.usefixtures("openfoam", "bubblewrap")]


def _gates(summary: dict[str, object]) -> dict[tuple[str, str], dict[str, object]]:
    verdicts = summary["verdicts"]
    assert isinstance(verdicts, list)
    return {(v["experiment"], v["gate"]): v for v in verdicts}


def test_poiseuille_matches_the_analytic_solution_and_is_mesh_independent(home: Path) -> None:
    result = agent(
        "run", "cfd/poiseuille", "--param", "re=100", "--param", "cells=16", "--budget", "1", "--json", home=home
    )
    summary = json.loads(result.stdout)
    assert result.returncode == 0, result.stderr
    assert summary["accepted"] == ["re=100"], summary
    gates = _gates(summary)
    for gate in ("solver-log", "deliverables", "physical-range", "comparator", "mesh-independence", "vision"):
        assert gates[("re=100", gate)]["decision"] == "accept", gates[("re=100", gate)]
    store = RunStore(home)
    comparator = next(v for v in store.verdicts(summary["run_id"]) if v.gate == "comparator")
    assert comparator.metrics["profile_rmse"] < 0.01
    assert abs(comparator.metrics["wall_shear_over_analytic"] - 1) < 0.05
    mesh = next(v for v in store.verdicts(summary["run_id"]) if v.gate == "mesh-independence")
    assert mesh.metrics["refinement"] == 2.0 and mesh.metrics["wall_shear_change"] < 0.03


def test_reversed_bulk_flow_request_is_honoured(home: Path) -> None:
    result = agent(
        "run",
        "cfd/poiseuille",
        "--param",
        "re=100",
        "--param",
        "cells=12",
        "--param",
        "bulk_velocity=-1",
        "--budget",
        "1",
        "--json",
        home=home,
    )
    summary = json.loads(result.stdout)
    physical = _gates(summary)[("re=100", "physical-range")]
    assert physical["decision"] == "accept", physical


def test_backward_step_three_models_against_pitz_and_daily(home: Path) -> None:
    result = agent(
        "run",
        "cfd/backward-step",
        "--param",
        "refinement=0.5",
        "--param",
        "iterations=1200",
        "--budget",
        "3",
        "--json",
        home=home,
        timeout=900,
    )
    summary = json.loads(result.stdout)
    assert summary["status"] == "finished", summary["reason"]
    gates = _gates(summary)
    for model in ("kEpsilon", "kOmegaSST", "SpalartAllmaras"):
        key = f"model={model}"
        comparator = gates[(key, "comparator")]
        assert comparator["decision"] in ("accept", "revise"), comparator
        assert "measured by Pitz & Daily (1983)" in comparator["reasons"][0]
        assert gates[(key, "vision")]["decision"] == "accept", gates[(key, "vision")]
    assert "model=kEpsilon" in summary["accepted"]


def test_periodic_hill_search_with_held_out_gate(home: Path, tmp_path: Path) -> None:
    task = tmp_path / "hill.yaml"
    task.write_text(
        "extends: cfd/periodic-hill\n"
        "params: {cells_x: 60, cells_y: 40, iterations: 1500, search: {runs: 2, population: 2}}\n"
        "gate_options:\n"
        "  solver-log: {residual_drop: 0.003}\n"
        "  comparator: {cf_rmse_max: 0.006}\n"
        "  held-out: {plate: {cells_x: 30, cells_y: 40, iterations: 1500}}\n"
        "budget: {experiments: 3, iterations: 3}\n"
    )
    result = agent("run", str(task), "--json", home=home, timeout=900)
    summary = json.loads(result.stdout)
    assert summary["status"] == "finished", summary["reason"]
    gates = _gates(summary)
    assert "default" in summary["accepted"]
    assert {"cand-001", "cand-002"} <= {key for key, _ in gates}
    store = RunStore(home)
    experiments = {e.key: e for e in store.experiments(summary["run_id"])}
    assert "CMA-ES generation 1" in experiments["cand-001"].rationale
    assert experiments["cand-001"].params["sa"] != experiments["default"].params.get("sa")
    held_out = gates[("default", "held-out")]
    assert held_out["decision"] == "accept"
    assert held_out["reasons"][0].startswith("in-sample: Cf RMSE")
    assert any("held-out flat plate" in reason for reason in held_out["reasons"])
    for key in ("cand-001", "cand-002"):
        verdict = gates[(key, "held-out")]
        if gates[(key, "comparator")]["decision"] == "accept" and gates[(key, "solver-log")]["decision"] == "accept":
            assert verdict["reasons"][0].startswith("in-sample:"), verdict
    report = Path(summary["report"]).read_text()
    assert "in-sample: Cf RMSE" in report and "held-out reattachment point" in report
