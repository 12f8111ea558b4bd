"""Users' cases that do not solve a velocity and a pressure: heat conduction, a solid, an option price,
a 1-D channel, phase velocities. Before, every gate read `U` and `p` and these failed "U does not exist";
labgate's cell volumes also overwrote financialFoam's own solution field `V`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runs import ExperimentSpec, TaskSpec
from tests.stock_cases import rerun_stock_case
from tools import ExperimentOutcome, OutputFile, TaskError
from tools.cfd.cases._generic_run import labgate_functions
from tools.cfd.cases._own_fields import own_fields
from tools.cfd.cases._solution import detect_solution_fields
from verifiers import GateContext, get_gate, run_gate

HEADER = "FoamFile\n{{\n    version 2.0;\n    format ascii;\n    class {kind};\n    object {name};\n}}\n"


def _field(folder: Path, name: str, kind: str = "volScalarField", dimensions: str = "[0 0 0 1 0 0 0]") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    text = HEADER.format(kind=kind, name=name) + f"dimensions {dimensions};\ninternalField uniform 0;\n"
    (folder / name).write_text(text)


def _folder(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "1"
    for name in names:
        _field(folder, name)
    return folder


@pytest.mark.parametrize(
    ("written", "solved", "vector", "scalar", "given"),
    [
        (("U", "p", "k"), ("Ux", "Uy", "p", "k"), "U", "p", ()),  # every catalog family
        (("U", "T"), ("T",), "U", "T", ("U",)),  # scalarTransportFoam: U carried, T solved
        (("T",), ("T",), None, "T", ()),  # laplacianFoam
        (("D", "sigmaxx"), ("Dx", "Dy"), "D", None, ()),  # solidDisplacementFoam
        # a phase velocity is corrected by the pressure solved, with or without a momentum predictor
        (("U.air", "U.water", "p", "p_rgh"), ("p_rgh", "alpha.air"), "U.air", "p_rgh", ()),
        (("U", "p"), ("p",), "U", "p", ()),  # momentumPredictor no: no "Solving for Ux", U still the solution's
        (("U", "epsilon", "k"), ("Ux", "epsilon", "k"), "U", "epsilon", ()),  # boundaryFoam: no p
        ((), ("Ux", "Uy", "p"), "U", "p", ()),  # solved but not written: still read, so the gates say so
    ],
)
def test_the_solution_fields_are_what_the_solver_solved(
    tmp_path: Path,
    written: tuple[str, ...],
    solved: tuple[str, ...],
    vector: str | None,
    scalar: str | None,
    given: tuple[str, ...],
) -> None:
    found = detect_solution_fields(_folder(tmp_path, *written), solved)
    assert found is not None
    assert (found.vector, found.scalar, found.given) == (vector, scalar, given)


def test_a_velocity_is_never_traded_for_another_field(tmp_path: Path) -> None:
    """A case that solved `U` is judged on `U` even when a phase velocity or another vector is there too."""
    folder = _folder(tmp_path, "U.air", "D", "T")
    found = detect_solution_fields(folder, ("Ux", "Dx", "T"))
    assert found is not None and found.velocity == "U"


def test_a_link_or_a_folder_is_no_field_of_the_result(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "T")
    (folder / "U").symlink_to(folder / "T")
    (folder / "p").mkdir()
    found = detect_solution_fields(folder, ("T",))
    assert found is not None and (found.vector, found.scalar) == (None, "T")
    assert detect_solution_fields(_folder(tmp_path / "empty"), ()) is None


def test_a_field_named_like_the_cell_centres_is_refused_naming_it(tmp_path: Path) -> None:
    """writeCellCentres writes `C` whatever the case calls its fields: a concentration `C` would be overwritten."""
    case = tmp_path / "case"
    _field(case / "0", "C", dimensions="[0 0 0 0 1 0 0]")
    with pytest.raises(TaskError, match=r"field named 'C'.*rename"):
        labgate_functions(case)


def test_centres_and_volumes_openfoam_wrote_are_not_the_cases_own(tmp_path: Path) -> None:
    """A user who ran `postProcess -func writeCellCentres` has a `0/C`: labgate's own output, not a clash."""
    case = tmp_path / "case"
    _field(case / "0", "C", kind="volVectorField", dimensions="[0 1 0 0 0 0 0]")
    _field(case / "0", "V", dimensions="[0  3 0 0 0 0 0]")
    _field(case / "0", "T")
    assert own_fields(case) == {"T"}
    assert set(labgate_functions(case)) == {"labgateCentres", "labgateVolumes"}


def test_a_case_field_named_v_keeps_its_values_and_no_volumes_are_written(tmp_path: Path) -> None:
    case = tmp_path / "case"
    _field(case / "0", "V", dimensions="[0 1 0 0 0 0 0]")
    assert own_fields(case) == {"V"}
    assert set(labgate_functions(case)) == {"labgateCentres"}


@pytest.mark.slow
@pytest.mark.openfoam
@pytest.mark.usefixtures("openfoam", "bubblewrap")
def test_an_option_price_case_is_judged_on_its_own_v(home: Path, tmp_path: Path) -> None:
    """financialFoam solves for `V` (an option's price) and has no velocity: labgate's cell volumes, also
    named `V`, overwrote the result, and the gates failed reading `U`."""
    _, _, verdicts = rerun_stock_case("financial/financialFoam/europeanCall", home, tmp_path, "end_time=0.004")
    for gate in ("deliverables", "physical-range", "vision"):
        assert verdicts[gate]["decision"] == "accept", (gate, verdicts[gate]["reasons"])
    assert "no velocity field" in " ".join(verdicts["physical-range"]["reasons"])
    result = next(home.rglob("experiments/base/case/0.004/V")).read_text()
    assert "[0 1 0 0 0 0 0]" in " ".join(result.split()), "the solver's V, not labgate's cell volumes"


@pytest.mark.slow
@pytest.mark.openfoam
@pytest.mark.usefixtures("openfoam", "bubblewrap")
def test_a_one_dimensional_case_is_drawn_as_profiles(home: Path, tmp_path: Path) -> None:
    """boundaryFoam's channel has its cells on a line: no triangulation takes it (qhull failed, and the
    deliverables gate rejected the run); it is drawn as profiles, which the blank-area check leaves alone."""
    relative = "incompressible/boundaryFoam/boundaryLaunderSharma"
    _, report, verdicts = rerun_stock_case(relative, home, tmp_path, "end_time=2")
    for gate in ("deliverables", "physical-range", "vision"):
        assert verdicts[gate]["decision"] == "accept", (gate, verdicts[gate]["reasons"])
    assert report["status"] != "failed", report["reason"]
    figures = list(home.rglob("experiments/base/figures/fields.png"))
    assert figures and figures[0].stat().st_size > 10_000


def _solved_case(directory: Path, speeds: tuple[float, ...] | None, log: str) -> Path:
    """A finished user run: three cells of T, a velocity U with `speeds` along x (None: no U written), the log."""
    case = directory / "case"
    latest = case / "1"
    latest.mkdir(parents=True)
    (latest / "T").write_text(
        HEADER.format(kind="volScalarField", name="T")
        + "dimensions [0 0 0 1 0 0 0];\ninternalField nonuniform List<scalar> 3(300 310 320);\n"
    )
    if speeds is not None:
        rows = " ".join(f"({speed} 0 0)" for speed in speeds)
        (latest / "U").write_text(
            HEADER.format(kind="volVectorField", name="U")
            + f"dimensions [0 1 -1 0 0 0 0];\ninternalField nonuniform List<vector> 3({rows});\n"
        )
    (case / "log.solver").write_text(log)
    return directory


def _physical_range(directory: Path) -> Any:
    task = TaskSpec(id="cfd/case", workload="cfd", gates=["physical-range"])
    context = GateContext(
        task=task,
        experiment=ExperimentSpec(key="x", task_id=task.id, params={"case": "case", "u_ref": 1.0}),
        directory=directory,
        outcome=ExperimentOutcome(key="x", status="completed"),
        options={},
        prior=[],
    )
    return run_gate(get_gate("physical-range"), context)


SOLVED_T = "DICPCG:  Solving for T, Initial residual = 1, Final residual = 1e-07, No Iterations 3\n"
SOLVED_U = "smoothSolver:  Solving for Ux, Initial residual = 1, Final residual = 1e-07, No Iterations 3\n"


def test_a_run_cannot_dodge_the_speed_check_by_solving_another_field(tmp_path: Path) -> None:
    """The log solved only T, but the result holds a U at 100 times U_ref: the speed check still reads it."""
    verdict = _physical_range(_solved_case(tmp_path, (100.0, 90.0, 80.0), SOLVED_T))
    assert verdict.decision == "revise", verdict.reasons
    assert any("100 times the reference velocity" in reason for reason in verdict.reasons)


def test_a_velocity_the_solver_solved_but_did_not_write_is_a_rejection_not_a_skipped_check(tmp_path: Path) -> None:
    """Without a U on disk the gate would read T alone and accept 'no velocity field'; the log says U was solved."""
    verdict = _physical_range(_solved_case(tmp_path, None, SOLVED_U + SOLVED_T))
    assert verdict.decision == "reject", verdict.reasons
    assert "cannot read the velocity" in " ".join(verdict.reasons)
    honest = _physical_range(_solved_case(tmp_path / "heat", None, SOLVED_T))
    assert honest.decision == "accept" and "no velocity field" in " ".join(honest.reasons)


@pytest.mark.parametrize(
    ("roles", "produced"),
    [
        ({"solution-T"}, True),
        ({"solution-"}, False),  # the bare prefix names no field
        ({"field-U", "field-C"}, False),  # fields only carried, none solved
        ({"solutions"}, False),
    ],
)
def test_a_required_role_pattern_is_met_only_by_a_role_it_names(roles: set[str], produced: bool) -> None:
    required = {"required": ["solution-*", "field-figure|profile-figure"]}
    task = TaskSpec(id="cfd/case", workload="cfd", gates=["deliverables"])
    files = [OutputFile(path=f"{role}.txt", kind="log", role=role, required=False) for role in roles]
    files.append(OutputFile(path="figures/fields.png", kind="image", role="profile-figure", required=False))
    context = GateContext(
        task=task,
        experiment=ExperimentSpec(key="x", task_id=task.id, params={}),
        directory=Path("/nonexistent"),
        outcome=ExperimentOutcome(key="x", status="completed", files=files),
        options=required,
        prior=[],
    )
    verdict = run_gate(get_gate("deliverables"), context)
    assert (verdict.decision == "accept") is produced, verdict.reasons
