"""The reproduction gate: an OpenFOAM case brought to `agent check` counts only as labgate's re-run computes it.

A red-team pass had four results accepted while its log and fields were taken as the folder held them: a
cavity whose solver never ran (a two-line log, noise fields right only where the comparator reads), a log with
its Courant numbers scaled below the limit, a run stopped after ten steps with its residuals edited down,
and a pressure written by hand beside a reproduced velocity. The payloads here are those, on the stock cavity
run by hand (icoFoam, 20x20 cells, a few seconds each; the Courant one as a laminar pimpleFoam case, whose
outer loop keeps it stable above the gate's limit).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import agent
from tests.test_check_stock_cases import _check_case, _reasons, _run_by_hand, _set_entry, _tutorial, _verdict
from tools.cfd import read_internal_field

pytestmark = [pytest.mark.openfoam, pytest.mark.usefixtures("openfoam", "bubblewrap")]


def _cavity(where: Path, end_time: str = "0.5", write_interval: str = "20") -> Path:
    case = _tutorial("icoFoam/cavity/cavity", where)
    _set_entry(case / "system" / "controlDict", "endTime", end_time)
    _set_entry(case / "system" / "controlDict", "writeInterval", write_interval)
    _run_by_hand(case, "blockMesh", "icoFoam > log.icoFoam")
    return case


def _check(case: Path, home: Path, *extra: str, task: str = "cfd/case") -> dict[str, Any]:
    import json

    result = agent("check", task, str(case), "--json", "--rerun", *extra, home=home, timeout=600)
    assert result.returncode in (0, 1), result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def _latest(case: Path) -> Path:
    times = [p for p in case.iterdir() if p.is_dir() and re.fullmatch(r"[0-9.eE+-]+", p.name) and p.name != "0"]
    return max(times, key=lambda p: float(p.name))


def _replace_internal(path: Path, change: Any) -> None:
    """Rewrite a nonuniform internalField's values through `change` (an array function), keeping the format."""
    text = path.read_text()
    head, rest = text.split("internalField", 1)
    start = rest.index("(") + 1
    end = rest.index("\n)", start)
    lines = rest[start:end].strip().splitlines()
    if lines[0].startswith("("):
        rows = np.array([[float(v) for v in line.strip("()").split()] for line in lines])
        rows = change(rows)
        body = "\n".join("(" + " ".join(f"{v:.6g}" for v in row) + ")" for row in rows)
    else:
        values = change(np.array([float(line) for line in lines]))
        body = "\n".join(f"{v:.6g}" for v in values)
    path.write_text(head + "internalField" + rest[:start] + "\n" + body + rest[end:])


def test_a_case_checked_without_a_rerun_is_at_most_inconclusive(tmp_path: Path) -> None:
    """Its log and fields are the folder's files: without the re-run they are not evidence enough to accept."""
    case = _cavity(tmp_path / "cavity")
    without = _check_case("cfd/case", case, tmp_path / "home")
    assert without["decision"] == "inconclusive" and "reproduction" in without["skipped"], _reasons(without)
    assert all(verdict["gate"] != "reproduction" for verdict in without["verdicts"])


@pytest.mark.slow
def test_an_honest_run_is_accepted_with_a_rerun(tmp_path: Path) -> None:
    case = _cavity(tmp_path / "cavity")
    report = _check(case, tmp_path / "home")
    assert report["decision"] == "accept", _reasons(report)
    reproduction = _verdict(report, "reproduction")
    assert reproduction["decision"] == "accept" and "U, p" in reproduction["reasons"][0], reproduction


@pytest.mark.slow
def test_fields_written_by_hand_are_refused(tmp_path: Path) -> None:
    """Noise in the velocity away from the centrelines, and a pressure scaled by hand: each is not what the
    case computes. Without the reproduction, the scaled pressure passed a reference that named it."""
    noisy = _cavity(tmp_path / "noisy")
    rng = np.random.default_rng(0)
    _replace_internal(_latest(noisy) / "U", lambda rows: rows + rng.uniform(-0.5, 0.5, rows.shape) * [1, 1, 0])
    report = _check(noisy, tmp_path / "home")
    assert report["decision"] == "reject", _reasons(report)
    assert "its U differs by" in " ".join(_verdict(report, "reproduction")["reasons"]), _reasons(report)

    pressure = _cavity(tmp_path / "pressure")
    _replace_internal(_latest(pressure) / "p", lambda values: 10 + 0.01 * values)
    report = _check(pressure, tmp_path / "home")
    assert report["decision"] == "reject", _reasons(report)
    assert "its p differs by" in " ".join(_verdict(report, "reproduction")["reasons"]), _reasons(report)


@pytest.mark.slow
def test_a_field_the_case_does_not_compute_is_refused(tmp_path: Path) -> None:
    case = _cavity(tmp_path / "cavity")
    latest = _latest(case)
    (latest / "T").write_text((latest / "p").read_text().replace("object      p;", "object      T;"))
    report = _check(case, tmp_path / "home")
    assert report["decision"] == "reject", _reasons(report)
    assert "a field 'T' that the case re-run as given does not write" in _reasons(report), _reasons(report)


@pytest.mark.slow
def test_an_edited_log_does_not_stand_for_the_run(tmp_path: Path) -> None:
    """Ten steps, residuals still near 1e-2: the edited log reads converged, the re-run's own log does not."""
    case = _cavity(tmp_path / "early", end_time="0.05", write_interval="10")
    log = case / "log.icoFoam"
    step = 0

    def lowered(match: re.Match[str]) -> str:
        return f"Initial residual = {float(match.group(1)) * 10.0 ** (-step / 2):.6g}"

    lines = []
    for line in log.read_text().splitlines():
        if line.startswith("Time = "):
            step += 1
        lines.append(re.sub(r"Initial residual = ([0-9.eE+-]+)", lowered, line))
    log.write_text("\n".join(lines) + "\n")
    report = _check(case, tmp_path / "home")
    assert _verdict(report, "solver-log")["decision"] == "accept", _reasons(report)  # the edited log fools it
    reproduction = _verdict(report, "reproduction")
    assert reproduction["decision"] == "rerun" and report["decision"] != "accept", _reasons(report)
    assert "judged by its own solver log" in reproduction["reasons"][0], reproduction


def _one_cell(rows: np.ndarray) -> np.ndarray:
    """One cell's velocity moved by 15 % of the field's RMS: 0.75 % RMS over the cavity's 400 cells."""
    changed = rows.copy()
    changed[217, 0] += 0.15 * float(np.sqrt(np.mean(np.sum(rows**2, axis=1))))
    return changed


@pytest.mark.slow
def test_one_cell_changed_within_the_rms_tolerance_is_refused(tmp_path: Path) -> None:
    case = _cavity(tmp_path / "cavity")
    _replace_internal(_latest(case) / "U", _one_cell)
    report = _check(case, tmp_path / "home")
    assert report["decision"] == "reject", _reasons(report)
    assert "one cell of its U differs by" in _reasons(report), _reasons(report)


REPRODUCTION_LAST = """extends: cfd/case
gates: [solver-log, deliverables, physical-range, vision, comparator, mesh-independence, reproduction]
"""


@pytest.mark.slow
@pytest.mark.parametrize("listed_last", [False, True])
def test_past_the_reproduction_the_gates_read_the_re_run_not_the_folder(tmp_path: Path, listed_last: bool) -> None:
    """Every velocity raised by 0.9 %: within the reproduction's tolerance (1 % RMS, 5 % in any cell), so it
    passes; the physical-range gate's largest speed must still be the re-run's, not the folder's raised one,
    also where a task file lists the reproduction last. (The red-team form of this: cells beside the
    centrelines nudged toward Ghia's profiles, a "revise" read as an "accept" by the comparator.)"""
    case = _cavity(tmp_path / "cavity")
    honest = float(np.max(_speeds(case)))
    _replace_internal(_latest(case) / "U", lambda rows: rows * 1.009)
    task = tmp_path / "last.yaml"
    task.write_text(REPRODUCTION_LAST)
    report = _check(case, tmp_path / "home", task=str(task) if listed_last else "cfd/case")
    assert report["verdicts"][0]["gate"] == "reproduction"
    assert _verdict(report, "reproduction")["decision"] == "accept", _reasons(report)
    speed = _verdict(report, "physical-range")["metrics"]["speed_max_ratio"]  # over the lid's 1 m/s
    assert abs(speed - honest) <= 1e-4 * honest, (speed, honest)  # the folder's would be 1.009 times it
    judged = Path(report["details"]["judged"])
    assert abs(float(np.max(_speeds(judged / "case"))) - speed) <= 1e-4 * speed  # the re-run's own
    assert report["metrics"]["max_speed_ratio"] == speed
    assert report["decision"] == "accept", _reasons(report)


def _speeds(case: Path) -> np.ndarray:
    """The magnitude of each cell's velocity at the case's latest time."""
    return np.linalg.norm(read_internal_field(_latest(case) / "U", 400, within=case).reshape(400, 3), axis=1)


PIMPLE = """
PIMPLE
{
    nOuterCorrectors 1;
    nCorrectors 2;
    nNonOrthogonalCorrectors 0;
    pRefCell 0;
    pRefValue 0;
}
"""


def _pimple_cavity(where: Path) -> Path:
    """The cavity as a laminar pimpleFoam case whose adjustable time step holds the Courant number at 5.5."""
    case = _tutorial("icoFoam/cavity/cavity", where)
    control = case / "system" / "controlDict"
    _set_entry(control, "application", "pimpleFoam")
    _set_entry(control, "endTime", "1.5")
    _set_entry(control, "writeControl", "adjustableRunTime")
    _set_entry(control, "writeInterval", "0.5")
    control.write_text(control.read_text() + "adjustTimeStep yes;\nmaxCo 5.5;\nmaxDeltaT 1;\n")
    solution = case / "system" / "fvSolution"
    text = solution.read_text()
    text = re.sub(r"\bU\n(\s*)\{", r'"(U|UFinal)"\n\1{', text, count=1)
    text = re.sub(r"PISO\s*\{[^}]*\}", PIMPLE, text)
    solution.write_text(text)
    schemes = case / "system" / "fvSchemes"
    schemes.write_text(
        schemes.read_text().replace(
            "divSchemes\n{", "divSchemes\n{\n    div((nuEff*dev2(T(grad(U))))) Gauss linear;", 1
        )
    )
    transport = case / "constant" / "transportProperties"
    transport.write_text(transport.read_text().replace("nu ", "transportModel Newtonian;\n\nnu ", 1))
    (case / "constant" / "turbulenceProperties").write_text(
        "FoamFile { version 2.0; format ascii; class dictionary; object turbulenceProperties; }\n"
        "simulationType laminar;\n"
    )
    _run_by_hand(case, "blockMesh", "pimpleFoam > log.pimpleFoam")
    return case


@pytest.mark.slow
def test_a_log_with_its_courant_numbers_scaled_down_does_not_stand_for_the_run(tmp_path: Path) -> None:
    """The run really reached Courant 5.5 (limit 5); its log, scaled by 0.8, reads 4.4. The re-run's log does not."""
    case = _pimple_cavity(tmp_path / "pimple")
    log = case / "log.pimpleFoam"
    text, scaled = re.subn(
        r"Courant Number mean: (\S+) max: (\S+)",
        lambda m: f"Courant Number mean: {float(m.group(1)) * 0.8:g} max: {float(m.group(2)) * 0.8:g}",
        log.read_text(),
    )
    assert scaled > 10, "the pimpleFoam log printed no Courant numbers"
    log.write_text(text)
    report = _check(case, tmp_path / "home")
    assert _verdict(report, "solver-log")["decision"] == "accept", _reasons(report)  # the scaled log fools it
    reproduction = _verdict(report, "reproduction")
    assert reproduction["decision"] == "rerun" and report["decision"] != "accept", _reasons(report)
    assert "Courant number reached" in " ".join(reproduction["reasons"]), reproduction


def _planted(folder: Path, name: str, value: float, cells: int, header: str) -> None:
    values = "\n".join(f"{value}" for _ in range(cells))
    (folder / name).write_text(f"{header}internalField nonuniform List<scalar>\n{cells}\n(\n{values}\n)\n;\n")


@pytest.mark.slow
@pytest.mark.parametrize(
    "header",
    ["FoamFile\n{\n    version 2.0;\n    format ascii;\n    class dictionary;\n    object magU;\n}\n", ""],
    ids=["dictionary", "no-header"],
)
def test_a_file_named_like_a_reference_quantity_is_not_read_as_it(tmp_path: Path, header: str) -> None:
    """A `magU` written by hand (|U| = 0.6 everywhere, where a reference asks for 0.6) beside an honest run: the
    comparator read it as the quantity while the reproduction compared only volume fields."""
    case = _cavity(tmp_path / "cavity")
    _planted(_latest(case), "magU", 0.6, 400, header)
    reference = tmp_path / "reference.csv"
    reference.write_text(
        "quantity,x,y,z,value,tolerance\n"
        + "".join(f"magU,{x},{y},0.005,0.6,0.01\n" for x, y in ((0.05, 0.08), (0.05, 0.05), (0.02, 0.05)))
    )
    report = _check(case, tmp_path / "home", "--param", f"reference={reference}")
    assert report["decision"] == "reject", _reasons(report)
    assert "magU" in _reasons(report), _reasons(report)
