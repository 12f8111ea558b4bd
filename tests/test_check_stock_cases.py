"""`agent check-case` on OpenFOAM's stock tutorials run by hand, as a new user would bring them.

labgate runs the post-processing its gates read itself (on its copy, with its own function objects),
reads grids written with OpenFOAM's default 6 digits, and compares a case with a reference only at the
reference's own Reynolds number.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from runs import ExperimentSpec, TaskSpec
from tests.conftest import agent, tree_digest
from tools import ExperimentOutcome
from tools.cfd import CfdWorkload, PlateParams, ghia_conditions, read_internal_field, step_conditions
from tools.cfd.openfoam._grid import GridShapeError, structured_2d
from verifiers import GateContext, get_gate, run_gate

TUTORIALS = Path("/usr/share/doc/openfoam-examples/examples/incompressible")
BASHRC = "/usr/share/openfoam/etc/bashrc"


# -- helpers -------------------------------------------------------------------------------------------


def _tutorial(name: str, where: Path) -> Path:
    source = TUTORIALS / name
    if not source.is_dir():
        pytest.skip(f"the OpenFOAM tutorial {name} is not installed (apt-get install openfoam-examples)")
    shutil.copytree(source, where)
    for path in [where, *where.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o200)
    return where


def _run_by_hand(case: Path, *commands: str) -> None:
    """Run OpenFOAM commands in `case` the way the user guide says: source the bashrc, run each in turn."""
    script = f"source {BASHRC} >/dev/null 2>&1; set -e; " + "; ".join(commands)
    result = subprocess.run(["bash", "-c", script], check=False, cwd=case, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


def _set_entry(path: Path, name: str, value: str) -> None:
    lines = path.read_text().splitlines()
    replaced = [f"{name} {value};" if line.split() and line.split()[0] == name else line for line in lines]
    assert replaced != lines, f"no {name} entry in {path}"
    path.write_text("\n".join(replaced) + "\n")


def _check_case(task: str, case: Path, home: Path) -> dict[str, Any]:
    result = agent("check-case", task, str(case), "--json", home=home, timeout=300)
    assert result.returncode in (0, 1), result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def _reasons(report: dict[str, Any]) -> str:
    return " | ".join(reason for verdict in report["verdicts"] for reason in verdict["reasons"])


def _verdict(report: dict[str, Any], gate: str) -> dict[str, Any]:
    verdict: dict[str, Any] = next(v for v in report["verdicts"] if v["gate"] == gate)
    return verdict


def _comparator(task_id: str, params: dict[str, Any], directory: Path) -> tuple[str, list[str]]:
    """The comparator's verdict on an experiment with `params` whose directory holds no solution."""
    task: TaskSpec = next(t for t in CfdWorkload().tasks() if t.id == task_id)
    spec = ExperimentSpec(key="by-hand", task_id=task.id, params=params)
    context = GateContext(
        task=task,
        experiment=spec,
        directory=directory,
        outcome=ExperimentOutcome(key=spec.key, status="completed"),
        options=task.gate_options.get("comparator", {}),
    )
    verdict = run_gate(get_gate("comparator"), context)
    return verdict.decision, verdict.reasons


# -- precision-tolerant grid reading (no solver) -----------------------------------------------------------


def _six_digit_cavity_centres(cells: int = 64, length: float = 0.1) -> np.ndarray:
    """Cell centres of a square cavity as OpenFOAM writes them at writePrecision 6.

    Each centre is computed with a last-bit error of its own (as from the mesh's face areas), so
    centres of one row that lie on a 6-digit rounding boundary are written one digit apart.
    """
    exact = (np.arange(cells) + 0.5) * length / cells
    grid_x, grid_y = np.meshgrid(exact, exact)
    rng = np.random.default_rng(0)
    computed = np.stack([grid_x.ravel(), grid_y.ravel()], axis=1)
    computed *= 1.0 + rng.choice([-2.0, 0.0, 2.0], size=computed.shape) * np.finfo(float).eps
    written = np.array([[float(f"{value:.6g}") for value in row] for row in computed])
    return np.column_stack([written, np.full(len(written), 0.005)])


def test_a_64x64_cavity_written_with_six_digits_reads(tmp_path: Path) -> None:
    centres = _six_digit_cavity_centres()
    # The rounding really splits rows: one row's y is written two ways (what a fixed 1e-7 tolerance refused).
    assert len(np.unique(centres[:, 1])) > 64
    body = "\n".join(f"({x:.6g} {y:.6g} {z:.6g})" for x, y, z in centres)
    field = tmp_path / "C"
    field.write_text(
        "FoamFile\n{\n    version 2.0;\n    format ascii;\n    class volVectorField;\n    object C;\n}\n"
        f"dimensions [0 1 0 0 0 0 0];\ninternalField nonuniform List<vector>\n{len(centres)}\n(\n{body}\n)\n;\n"
        "boundaryField\n{\n}\n"
    )
    read = read_internal_field(field)
    values = read[:, 0] * 1000 + read[:, 1]
    xs, ys, grid = structured_2d(read, values)
    assert xs.shape == (64,) and ys.shape == (64,)
    expected = (np.arange(64) + 0.5) * 0.1 / 64
    assert np.allclose(xs, expected, atol=1e-7) and np.allclose(ys, expected, atol=1e-7)
    assert np.allclose(grid, xs[None, :] * 1000 + ys[:, None], atol=1e-4)


def test_a_mesh_that_is_not_rectilinear_is_still_refused() -> None:
    centres = _six_digit_cavity_centres(cells=16)
    values = np.arange(len(centres), dtype=float)
    sheared = centres.copy()
    sheared[:, 0] += 0.02 * sheared[:, 1]  # columns lean: x changes along every column
    with pytest.raises(GridShapeError, match="rectilinear"):
        structured_2d(sheared, values)
    doubled = centres.copy()
    doubled[1] = doubled[0]  # one cell twice, one missing: as many cells as a 16 x 16 grid
    with pytest.raises(GridShapeError, match="rectilinear"):
        structured_2d(doubled, values)
    drifting = centres.copy()
    row = np.isclose(drifting[:, 1], drifting[0, 1])
    drifting[row, 1] += np.linspace(0.0, 4e-7, row.sum())  # a row whose y creeps beyond the written digits
    with pytest.raises(GridShapeError):
        structured_2d(drifting, values)


# -- the reference's own conditions (no solver) ---------------------------------------------------------------


@pytest.mark.parametrize("reynolds", [11_000.0, 88_000.0])
def test_a_step_at_another_reynolds_number_is_rejected_naming_it(reynolds: float, tmp_path: Path) -> None:
    decision, reasons = _comparator("cfd/backward-step", {"case": "backward-step", "re": reynolds}, tmp_path)
    assert decision == "reject"
    assert f"Re_H = {reynolds:,.0f}" in reasons[0] and "22,000" in reasons[0], reasons
    assert "Pitz & Daily" in reasons[0]


def test_the_reference_conditions_and_their_tolerances() -> None:
    step = step_conditions()
    assert step.nearest(25_400) == 22_000  # the stock pitzDaily tutorial: U = 10 m/s, nu = 1e-5
    assert step.mismatch(11_000) is not None and step.mismatch(25_400) is None
    assert step.mismatch(25_400, tolerance=0.1) is not None
    ghia = ghia_conditions()
    assert ghia.nearest(100.4) == 100 and ghia.nearest(400) == 400 and ghia.nearest(250) is None
    with pytest.raises(ValidationError, match="White's correlation"):
        PlateParams(re_l=2e5)
    assert PlateParams(re_l=5e6).re_l == 5e6


def test_cavity_and_hill_comparisons_check_the_reynolds_number_first(tmp_path: Path) -> None:
    decision, reasons = _comparator("cfd/cavity", {"case": "cavity", "re": 250, "cells": 16}, tmp_path)
    assert decision == "reject" and "Re = 250" in reasons[0] and "Ghia" in reasons[0], reasons
    hill = {"case": "periodic-hill", "re": 10_595, "cells_x": 60, "cells_y": 40}
    decision, reasons = _comparator("cfd/periodic-hill", hill, tmp_path)
    assert decision == "reject" and "Re_h = 10,595" in reasons[0] and "5,600" in reasons[0], reasons


# -- stock tutorials run by hand, then checked --------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.openfoam
@pytest.mark.usefixtures("openfoam", "bubblewrap")
def test_the_stock_pitzdaily_run_by_hand_is_judged_on_its_physics(home: Path, tmp_path: Path) -> None:
    case = _tutorial("simpleFoam/pitzDaily", tmp_path / "pitzDaily")
    _run_by_hand(case, "blockMesh > log.blockMesh 2>&1", "simpleFoam > log.simpleFoam 2>&1")
    latest = max((p for p in case.iterdir() if p.name.isdigit() and p.name != "0"), key=lambda p: int(p.name))
    assert not (latest / "wallShearStress").exists()  # the tutorial never writes it
    before = tree_digest(case)

    report = _check_case("cfd/backward-step", case, home)
    reasons = _reasons(report)
    assert "does not exist" not in reasons and "cannot read" not in reasons, reasons
    assert report["params"]["re"] == pytest.approx(25_400) and report["params"]["model"] == "kEpsilon"
    comparator = _verdict(report, "comparator")
    # The physics decides: the reattachment length against Pitz & Daily, read two ways.
    assert "reattachment x_r/H" in comparator["reasons"][0], comparator
    assert comparator["metrics"]["reattachment"] == pytest.approx(7.0, rel=0.15)
    assert comparator["decision"] == "accept", comparator
    assert report["details"]["post_processing"][0]["returncode"] == 0
    assert tree_digest(case) == before, "the user's case was changed"

    # The same case declared at Re_H 88,000 (the viscosity edited) is not compared with a 22,000 measurement.
    _set_entry(case / "constant" / "transportProperties", "nu", "[0 2 -1 0 0 0 0] 2.886364e-06")
    faster = _check_case("cfd/backward-step", case, home)
    comparator = _verdict(faster, "comparator")
    assert faster["decision"] != "accept"
    assert comparator["decision"] == "reject" and "Re_H = 88,000" in comparator["reasons"][0], comparator


@pytest.mark.slow
@pytest.mark.openfoam
@pytest.mark.usefixtures("openfoam", "bubblewrap")
def test_the_stock_cavity_at_re_100_is_sampled_by_labgate(home: Path, tmp_path: Path) -> None:
    case = _tutorial("icoFoam/cavity/cavity", tmp_path / "cavity")
    _set_entry(case / "constant" / "transportProperties", "nu", "0.001")
    _run_by_hand(case, "blockMesh > log.blockMesh 2>&1", "icoFoam > log.icoFoam 2>&1")
    # What the user's own post-processing left is not trusted: a planted sample at the final time, and a
    # function object of the user's (cell volumes) that must not run.
    planted = case / "postProcessing" / "centrelines" / "0.5"
    planted.mkdir(parents=True)
    (planted / "vertical_U.xy").write_text("".join(f"{y:g} 0.5 0 0\n" for y in np.linspace(0, 0.1, 11)))
    (planted / "horizontal_U.xy").write_text("".join(f"{x:g} 0 0.5 0\n" for x in np.linspace(0, 0.1, 11)))
    control = case / "system" / "controlDict"
    control.write_text(
        control.read_text()
        + "\nfunctions\n{\n    userVolumes\n    {\n        type writeCellVolumes;\n"
        + '        libs ("libfieldFunctionObjects.so");\n        writeControl writeTime;\n    }\n}\n'
    )
    before = tree_digest(case)

    report = _check_case("cfd/cavity", case, home)
    reasons = _reasons(report)
    assert "holds no sampled time" not in reasons and "GridShapeError" not in reasons, reasons
    assert report["params"]["re"] == pytest.approx(100) and report["params"]["cells"] == 20
    comparator = _verdict(report, "comparator")
    # Judged on the physics: labgate's own samples agree with the raw cells (the planted 0.5 would not).
    assert "centreline RMSE vs Ghia" in comparator["reasons"][0], comparator
    assert comparator["metrics"]["reader_disagreement"] < 0.03, comparator
    assert comparator["decision"] in ("accept", "revise"), comparator
    copy = Path(report["workdir"]) / "case"
    sampled = (copy / "postProcessing" / "centrelines" / "0.5" / "vertical_U.xy").read_text()
    assert len(sampled.splitlines()) == 129
    assert (copy / "0.5" / "C").is_file()
    assert not (copy / "0.5" / "V").exists(), "the user's function object ran"
    assert tree_digest(case) == before, "the user's case was changed"

    # A case whose mesh is gone cannot be post-processed: said so, never judged on what the user left.
    shutil.rmtree(case / "constant" / "polyMesh")
    broken = _check_case("cfd/cavity", case, home)
    comparator = _verdict(broken, "comparator")
    assert broken["decision"] != "accept" and comparator["decision"] == "reject", comparator
    assert "labgate's post-processing (icoFoam -postProcess) exited with code" in comparator["reasons"][0]


@pytest.mark.slow
@pytest.mark.openfoam
@pytest.mark.usefixtures("openfoam")
def test_a_careful_64x64_cavity_with_six_digit_centres_reads(tmp_path: Path) -> None:
    case = _tutorial("icoFoam/cavity/cavity", tmp_path / "cavity64")
    _set_entry(case / "constant" / "transportProperties", "nu", "0.001")
    mesh = case / "system" / "blockMeshDict"
    mesh.write_text(mesh.read_text().replace("(20 20 1)", "(64 64 1)"))
    _set_entry(case / "system" / "controlDict", "endTime", "0.25")
    _set_entry(case / "system" / "controlDict", "deltaT", "0.00125")
    _set_entry(case / "system" / "controlDict", "writeInterval", "200")
    assert "writePrecision  6" in (case / "system" / "controlDict").read_text()
    _run_by_hand(
        case,
        "blockMesh > log.blockMesh 2>&1",
        "icoFoam > log.icoFoam 2>&1",
        "postProcess -func writeCellCentres -latestTime > log.cellCentres 2>&1",
    )
    centres = read_internal_field(case / "0.25" / "C")
    velocity = read_internal_field(case / "0.25" / "U", n_cells=len(centres))
    assert len(np.unique(centres[:, 1])) > 64  # the 6-digit rounding splits rows
    xs, ys, grid = structured_2d(centres, velocity)
    assert grid.shape == (64, 64, 3)
    assert np.allclose(np.diff(xs), 0.1 / 64, atol=1e-6) and np.allclose(np.diff(ys), 0.1 / 64, atol=1e-6)
