"""Users' cases that do not solve a velocity and a pressure: heat conduction, a solid, an option price,
a 1-D channel, phase velocities. Before, every gate read `U` and `p` and these failed "U does not exist";
labgate's cell volumes also overwrote financialFoam's own solution field `V`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.stock_cases import rerun_stock_case
from tools import TaskError
from tools.cfd.cases._generic_run import labgate_functions
from tools.cfd.cases._own_fields import own_fields
from tools.cfd.cases._solution import detect_solution_fields

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
        (("U.air", "U.water", "p", "p_rgh"), ("p_rgh", "alpha.air"), "U.air", "p_rgh", ("U.air",)),
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
