"""The mesh gate on a user's case: the finer run must run the same case, and the field, not only its
mean, must hold still.

Got through before: (1) the finer re-run copied the user's folder a second time, so a case changed between
the runs was compared as one case; (2) without a reference the only quantity compared was the mean speed,
which continuity pins in a channel: a coarse pitzDaily whose backflow moved 15 % passed at 0.36 %."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from runs import ExperimentSpec, GateResult, TaskSpec
from sandboxes import LocalSandbox
from tests.test_mesh_refinement_local import _field
from tools import ExperimentOutcome
from tools.cfd import CfdWorkload, read_internal_field
from tools.cfd.cases._case_inputs import inputs_digest
from verifiers import GateContext, get_gate, run_gate
from verifiers.cfd._field_change import FieldChange, field_change, interpolated

WORKLOAD = CfdWorkload()


def _labels(values: list[int]) -> str:
    return "FoamFile { version 2.0; format ascii; class labelList; object x; }\n" + (
        f"{len(values)}\n(\n" + "\n".join(map(str, values)) + "\n)\n"
    )


def _faces(case: Path, n: int, blocks: int = 1) -> None:
    """The internal faces of `blocks` unconnected n x n grids, cells numbered x-major, block after block."""
    owner, neighbour = [], []
    for block in range(blocks):
        for i in range(n):
            for j in range(n):
                cell = block * n * n + i * n + j
                for other, fits in ((cell + n, i + 1 < n), (cell + 1, j + 1 < n)):
                    if fits:
                        owner.append(cell)
                        neighbour.append(other)
    mesh = case / "constant" / "polyMesh"
    mesh.mkdir(parents=True, exist_ok=True)
    (mesh / "owner").write_text(_labels(owner))
    (mesh / "neighbour").write_text(_labels(neighbour))


def _grid(case: Path, n: int, speed: object) -> None:
    """An n x n grid over the unit square at time 1, with U = speed(x, y) (a callable giving (n*n, 3))."""
    xs, ys = np.meshgrid((np.arange(n) + 0.5) / n, (np.arange(n) + 0.5) / n, indexing="ij")
    centres = np.column_stack([xs.ravel(), ys.ravel(), np.full(n * n, 0.05)])
    _faces(case, n)
    (case / "1").mkdir(parents=True)
    (case / "1" / "C").write_text(_field("Vector", centres))
    (case / "1" / "V").write_text(_field("Scalar", np.full(n * n, 0.1 / (n * n))))
    (case / "1" / "U").write_text(_field("Vector", speed(centres)))  # type: ignore[operator]
    (case / "1" / "T").write_text(_field("Scalar", 300.0 + centres[:, 0]))


def _shear(centres: np.ndarray) -> np.ndarray:
    return np.column_stack([centres[:, 1], np.zeros(len(centres)), np.zeros(len(centres))])


def test_a_linear_field_resolved_on_both_meshes_has_not_moved(tmp_path: Path) -> None:
    _grid(tmp_path / "a", 10, _shear)
    _grid(tmp_path / "b", 20, _shear)  # each coarse cell holds four fine ones: the average is exact
    found = field_change(tmp_path / "a", tmp_path / "b", "U", (100, 400))
    assert isinstance(found, FieldChange) and found.change < 1e-4


def test_a_field_that_moved_in_one_region_is_measured_there(tmp_path: Path) -> None:
    def bump(centres: np.ndarray) -> np.ndarray:
        moved = _shear(centres)
        moved[(centres[:, 0] > 0.8) & (centres[:, 1] > 0.8), 0] += 0.5
        return moved

    _grid(tmp_path / "a", 10, _shear)
    _grid(tmp_path / "b", 20, bump)
    found = field_change(tmp_path / "a", tmp_path / "b", "U", (100, 400))
    assert isinstance(found, FieldChange)
    # 4 of 100 cells moved by 0.5 against an RMS speed of sqrt(1/3): an RMS change of 0.2 * 0.5 * sqrt(3)
    assert found.change == pytest.approx(0.1 * np.sqrt(3), rel=0.05)
    assert found.where[0] > 0.8 and found.where[1] > 0.8


def test_a_scalar_is_compared_above_its_minimum(tmp_path: Path) -> None:
    """A temperature of 300 K varying by 1 K: in kelvin any change would vanish against 300."""
    _grid(tmp_path / "a", 10, _shear)
    _grid(tmp_path / "b", 20, _shear)
    text = (tmp_path / "b" / "1" / "T").read_text()
    xs = (np.arange(20) + 0.5) / 20
    moved = 300.0 + np.repeat(xs, 20) ** 2  # x^2 where x was: a change of a third of the rise's size
    (tmp_path / "b" / "1" / "T").write_text(_field("Scalar", moved))
    assert text != (tmp_path / "b" / "1" / "T").read_text()
    found = field_change(tmp_path / "a", tmp_path / "b", "T", (100, 400))
    assert isinstance(found, FieldChange) and found.change > 0.2


def test_unreadable_or_mismatched_fields_are_reasons_not_passes(tmp_path: Path) -> None:
    _grid(tmp_path / "a", 10, _shear)
    _grid(tmp_path / "b", 20, _shear)
    (tmp_path / "b" / "1" / "U").write_text(_field("Vector", np.full((400, 3), np.nan)))
    found = field_change(tmp_path / "a", tmp_path / "b", "U", (100, 400))
    assert isinstance(found, str) and "not finite" in found
    (tmp_path / "b" / "1" / "U").write_text(_field("Scalar", np.ones(400)))
    found = field_change(tmp_path / "a", tmp_path / "b", "U", (100, 400))
    assert isinstance(found, str) and "components" in found
    assert isinstance(field_change(tmp_path / "a", tmp_path / "b", "U", (100, 401)), str)


def test_a_linear_field_on_meshes_that_do_not_nest_has_not_moved(tmp_path: Path) -> None:
    """10x10 against 15x15: no refined cell lies inside one original cell, and an average of the refined
    cells nearest each centre was off by the gradient times their mean offset (10.9 % for the stock cavity
    against 2.7 % by a fit). The fit is exact for a linear field."""
    _grid(tmp_path / "a", 10, _shear)
    _grid(tmp_path / "b", 15, _shear)
    found = field_change(tmp_path / "a", tmp_path / "b", "U", (100, 225))
    assert isinstance(found, FieldChange) and found.change < 1e-4


def test_the_fit_stays_within_its_neighbours_values() -> None:
    """Refined cells on one line beside a coarse centre off that line: no gradient across the line can be
    told, and none is invented (unbounded, the fit read 33x the RMS speed at pitzDaily's contraction)."""
    fine_centres = np.column_stack([np.linspace(0, 1, 9), np.linspace(0, 1e-6, 9), np.zeros(9)])
    fine_centres[0, 1] = 0.5  # one cell off the line, so the mesh spans two directions
    values = np.column_stack([np.where(np.arange(9) % 2 == 0, 1.0, 2.0)])
    found = interpolated(np.array([[0.5, 0.3, 0.0]]), fine_centres, values)
    assert 1.0 <= found[0, 0] <= 2.0


# -- the inputs a run recorded ------------------------------------------------------------------------------


def _stock_cavity(where: Path) -> Path:
    from tests.test_cfd_case_openfoam import _tutorial

    return _tutorial("cavity", where)


def test_the_inputs_digest_ignores_results_and_sees_every_input(tmp_path: Path) -> None:
    case = _stock_cavity(tmp_path / "cavity")
    first = inputs_digest(case)
    (case / "0.5").mkdir()
    (case / "0.5" / "U").write_text("results")
    (case / "log.icoFoam").write_text("a log")
    (case / "processor0").mkdir()
    assert inputs_digest(case) == first, "results are not inputs"
    for relative, text in [("0/U", "\n// edited"), ("system/fvSchemes", " "), ("constant/extra", "new file")]:
        path = case / relative
        before = path.read_bytes() if path.exists() else None
        path.write_text((path.read_text() if before is not None else "") + text)
        assert inputs_digest(case) != first, relative
        if before is None:
            path.unlink()
        else:
            path.write_bytes(before)
    assert inputs_digest(case) == first


def _task(case: Path) -> tuple[TaskSpec, ExperimentSpec]:
    task = next(task for task in WORKLOAD.tasks() if task.id == "cfd/case")
    task = task.model_copy(update={"params": {**task.params, "case_dir": str(case)}})
    return task, ExperimentSpec(key="base", task_id=task.id, params=dict(task.params))


def _mesh_verdict(tmp_path: Path, case: Path, before_rerun: object = None) -> GateResult:
    task, spec = _task(case)
    factory = lambda where: LocalSandbox(workdir=where)  # noqa: E731
    directory = tmp_path / "base"
    outcome = WORKLOAD.run(task, spec, directory, factory)
    assert outcome.status == "completed", outcome.error

    def rerun(extra: ExperimentSpec, where: Path) -> ExperimentOutcome:
        if callable(before_rerun):
            before_rerun()
        return WORKLOAD.run(task, extra, where, factory)

    context = GateContext(
        task=task,
        experiment=spec,
        directory=directory,
        outcome=outcome,
        options={},
        sandbox_factory=factory,
        rerun=rerun,
        prior=[],
    )
    return run_gate(get_gate("mesh-independence"), context)


@pytest.mark.slow
@pytest.mark.openfoam
@pytest.mark.usefixtures("openfoam", "bubblewrap")
def test_a_case_changed_between_the_run_and_its_finer_rerun_is_refused(tmp_path: Path) -> None:
    case = _stock_cavity(tmp_path / "cavity")
    honest = _mesh_verdict(tmp_path / "honest", case)
    assert honest.decision == "accept", honest.reasons
    assert honest.metrics["field_change"] > 0

    properties = case / "constant" / "transportProperties"
    edit = lambda: properties.write_text(properties.read_text().replace("0.01", "0.0101"))  # noqa: E731
    changed = _mesh_verdict(tmp_path / "changed", case, edit)
    assert changed.decision == "reject", changed.reasons
    assert "changed between the original run and the refined one" in changed.reasons[0]


def _coarse_laminar_pitz_daily(where: Path) -> Path:
    """pitzDaily meshed 5x coarser than the tutorial, laminar at nu = 1e-3 so that it converges tightly: its
    recirculation differs on the gate's two meshes (backflow peak 15 %, reattachment 18 % apart)."""
    from tests.test_cfd_case_openfoam import _tutorial

    _tutorial("pitzDaily", where)
    block = where / "system" / "blockMeshDict"
    text = block.read_text()
    for fine, coarse in [("18 30 1", "4 6 1"), ("180 27 1", "36 5 1"), ("180 30 1", "36 6 1")]:
        text = text.replace(f"({fine})", f"({coarse})")
    block.write_text(text.replace("(25 27 1)", "(5 5 1)").replace("(25 30 1)", "(5 6 1)"))
    solution = where / "system" / "fvSolution"
    solution.write_text(
        solution.read_text()
        .replace("p               1e-2;", "p               1e-6;")
        .replace("U               1e-3;", "U               1e-7;")
    )
    turbulence = where / "constant" / "turbulenceProperties"
    turbulence.write_text(turbulence.read_text().replace("simulationType RAS;", "simulationType laminar;"))
    transport = where / "constant" / "transportProperties"
    transport.write_text(transport.read_text().replace("nu              1e-05;", "nu              1e-03;"))
    for name in ("epsilon", "f", "k", "nuTilda", "omega", "v2"):
        (where / "0" / name).unlink(missing_ok=True)
    return where


@pytest.mark.slow
@pytest.mark.openfoam
@pytest.mark.usefixtures("openfoam", "bubblewrap")
def test_a_channel_whose_recirculation_moved_is_not_mesh_independent_by_its_mean_speed(tmp_path: Path) -> None:
    """The mean speed moves 0.4 % between the meshes (continuity), the velocity field about 11 %."""
    verdict = _mesh_verdict(tmp_path, _coarse_laminar_pitz_daily(tmp_path / "pitzDaily"))
    assert verdict.decision == "revise", verdict.reasons
    assert verdict.metrics["monitor_change"] < 0.05 < verdict.metrics["field_change"]
    assert any(reason.startswith("U field:") for reason in verdict.reasons)


def test_a_large_mesh_is_fitted_in_pieces_with_the_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    from verifiers.cfd import _field_change

    rng = np.random.default_rng(0)
    fine_centres, centres = rng.random((2000, 3)), 0.1 + 0.8 * rng.random((300, 3))
    values = np.column_stack([fine_centres @ [1.0, 2.0, 3.0], fine_centres[:, 0] ** 2])
    whole = interpolated(centres, fine_centres, values)
    monkeypatch.setattr(_field_change, "CHUNK", 7)
    assert np.array_equal(interpolated(centres, fine_centres, values), whole)
    assert np.allclose(whole[:, 0], centres @ [1.0, 2.0, 3.0], atol=0.02)  # linear: nearly exact inside


def _two_blocks(case: Path, n: int, cavity: object, speed: float) -> None:
    """Two unconnected n x n grids at time 1: a `cavity` (a callable of the centres) on the unit square and
    a block of uniform flow at `speed` 100 times its area beside it."""
    xs, ys = np.meshgrid((np.arange(n) + 0.5) / n, (np.arange(n) + 0.5) / n, indexing="ij")
    unit = np.column_stack([xs.ravel(), ys.ravel(), np.full(n * n, 0.05)])
    block = unit * [10.0, 10.0, 1.0] + [2.0, 0.0, 0.0]
    _faces(case, n, blocks=2)
    (case / "1").mkdir(parents=True)
    (case / "1" / "C").write_text(_field("Vector", np.vstack([unit, block])))
    volumes = np.concatenate([np.full(n * n, 0.1 / n**2), np.full(n * n, 10.0 / n**2)])
    (case / "1" / "V").write_text(_field("Scalar", volumes))
    flow = np.vstack([cavity(unit), np.tile([speed, 0.0, 0.0], (n * n, 1))])  # type: ignore[operator]
    (case / "1" / "U").write_text(_field("Vector", flow))


def test_a_region_that_moved_is_not_diluted_by_an_unconnected_one_that_did_not(tmp_path: Path) -> None:
    """Red team 5's M2: a cavity that moved 9.5 % read 0.48 % beside a block of uniform flow 100 times its size."""

    def moved(centres: np.ndarray) -> np.ndarray:
        return 1.1 * _shear(centres)

    _two_blocks(tmp_path / "a", 10, _shear, 5.0)
    _two_blocks(tmp_path / "b", 20, moved, 5.0)
    found = field_change(tmp_path / "a", tmp_path / "b", "U", (200, 800))
    assert isinstance(found, FieldChange)
    assert found.regions == 2 and found.cells == 100
    assert found.change == pytest.approx(0.1, rel=0.02)  # the cavity's own, not the whole mesh's
    _two_blocks(tmp_path / "c", 20, _shear, 5.0)
    unchanged = field_change(tmp_path / "a", tmp_path / "c", "U", (200, 800))
    assert isinstance(unchanged, FieldChange) and unchanged.change < 1e-4


def test_a_mesh_whose_face_lists_do_not_fit_is_refused(tmp_path: Path) -> None:
    _grid(tmp_path / "a", 10, _shear)
    _grid(tmp_path / "b", 20, _shear)
    _faces(tmp_path / "a", 11)  # the face lists of another mesh
    found = field_change(tmp_path / "a", tmp_path / "b", "U", (100, 400))
    assert isinstance(found, str) and "do not fit" in found
    (tmp_path / "a" / "constant" / "polyMesh" / "neighbour").unlink()
    found = field_change(tmp_path / "a", tmp_path / "b", "U", (100, 400))
    assert isinstance(found, str) and "connected regions cannot be told" in found


_HEAD = "FoamFile {{ version 2.0; format ascii; class {0}; object {1}; }}\n"
_SCALAR_TRANSPORT = {
    "system/blockMeshDict": (
        "convertToMeters 1;\nvertices ( (0 0 0) (1 0 0) (1 0.1 0) (0 0.1 0) (0 0 0.01) (1 0 0.01) (1 0.1 0.01) "
        "(0 0.1 0.01) );\nblocks ( hex (0 1 2 3 4 5 6 7) (10 2 1) simpleGrading (1 1 1) );\nedges ();\nboundary (\n"
        " inlet { type patch; faces ((0 4 7 3)); }\n outlet { type patch; faces ((1 2 6 5)); }\n"
        " walls { type wall; faces ((0 1 5 4) (3 7 6 2)); }\n"
        " frontAndBack { type empty; faces ((0 3 2 1) (4 5 6 7)); }\n"
        ");\nmergePatchPairs ();\n"
    ),
    "system/controlDict": (
        "application scalarTransportFoam;\nstartFrom startTime;\nstartTime 0;\nstopAt endTime;\nendTime 6;\n"
        "deltaT 0.02;\nwriteControl timeStep;\nwriteInterval 300;\nwriteFormat ascii;\nwritePrecision 8;\n"
    ),
    "system/fvSchemes": (
        "ddtSchemes { default Euler; }\ngradSchemes { default Gauss linear; }\n"
        "divSchemes { default none; div(phi,T) Gauss upwind; }\n"
        "laplacianSchemes { default none; laplacian(DT,T) Gauss linear corrected; }\n"
        "interpolationSchemes { default linear; }\nsnGradSchemes { default corrected; }\n"
    ),
    "system/fvSolution": (
        "solvers { T { solver PBiCGStab; preconditioner DILU; tolerance 1e-10; relTol 0; } }\n"
        "SIMPLE { nNonOrthogonalCorrectors 0; }\n"
    ),
    "constant/transportProperties": "DT 0.01;\n",
    "0/U": (
        "dimensions [0 1 -1 0 0 0 0];\ninternalField uniform (1 0 0);\nboundaryField {\n"
        " inlet { type fixedValue; value uniform (1 0 0); }\n outlet { type zeroGradient; }\n"
        " walls { type slip; }\n frontAndBack { type empty; }\n}\n"
    ),
    "0/T": (
        "dimensions [0 0 0 1 0 0 0];\ninternalField uniform 0;\nboundaryField {\n"
        " inlet { type fixedValue; value uniform 1; }\n outlet { type fixedValue; value uniform 0; }\n"
        " walls { type zeroGradient; }\n frontAndBack { type empty; }\n}\n"
    ),
}


@pytest.mark.slow
@pytest.mark.openfoam
@pytest.mark.usefixtures("openfoam", "bubblewrap")
def test_the_field_a_solver_solved_is_compared_not_a_velocity_it_was_given(tmp_path: Path) -> None:
    """Red team 5's M1: scalarTransportFoam carries a given U, which never moves; its T, an outlet layer
    smeared over a cell by upwinding, moved 53 % and was accepted as 'U field: 0.00 %'."""
    case = tmp_path / "scalar-transport"
    for relative, body in _SCALAR_TRANSPORT.items():
        kind = {"0/U": "volVectorField", "0/T": "volScalarField"}.get(relative, "dictionary")
        (case / relative).parent.mkdir(parents=True, exist_ok=True)
        (case / relative).write_text(_HEAD.format(kind, Path(relative).name) + body)
    verdict = _mesh_verdict(tmp_path, case)
    assert verdict.decision == "revise", verdict.reasons
    assert any(reason.startswith("T field:") for reason in verdict.reasons), verdict.reasons
    assert verdict.metrics["field_change_T"] > 0.2 and "field_change_U" not in verdict.metrics


def test_the_same_mesh_compared_with_itself_reads_no_change(tmp_path: Path) -> None:
    """A result and its reproduction share every centre: the fit must give each cell's own value back,
    not a smoothed one (a 6x6 cavity read 1.9 % against an identical copy)."""

    def swirl(centres: np.ndarray) -> np.ndarray:
        x, y = centres[:, 0], centres[:, 1]
        return np.column_stack([np.sin(7 * x) * np.cos(5 * y), x**3 - y**2, np.zeros(len(x))])

    _grid(tmp_path / "a", 6, swirl)
    _grid(tmp_path / "b", 6, swirl)
    found = field_change(tmp_path / "a", tmp_path / "b", "U", (36, 36))
    assert isinstance(found, FieldChange) and found.change == 0.0


@pytest.mark.slow
@pytest.mark.openfoam
@pytest.mark.usefixtures("openfoam", "bubblewrap")
def test_results_in_the_folder_that_the_case_does_not_compute_are_refused(home: Path, tmp_path: Path) -> None:
    """Red team 5's M4: `agent check --rerun` judged the folder's own results, which nothing tied to its
    case; a coarse result replaced by a finer run's read as mesh-independent. The case is now re-run as
    given and must compute them."""
    from tests.conftest import agent
    from tests.test_cfd_case_openfoam import _by_hand

    case = _stock_cavity(tmp_path / "cavity")
    _by_hand(case, "blockMesh > log.blockMesh 2>&1", "icoFoam > log.icoFoam 2>&1")
    result = case / "0.5" / "U"
    text = result.read_text()
    head, body = text.split("(\n", 1)
    rows, tail = body.split("\n)\n", 1)
    scaled = [
        "(" + " ".join(f"{1.1 * float(value):.6g}" for value in row.strip("()").split()) + ")"
        for row in rows.splitlines()
    ]
    result.write_text(head + "(\n" + "\n".join(scaled) + "\n)\n" + tail)  # the lid's flow, 10 % stronger
    ran = agent("check", "cfd/case", str(case), "--rerun", "--json", home=home, timeout=600)
    report = json.loads(ran.stdout)
    reproduction = next(v for v in report["verdicts"] if v["gate"] == "reproduction")
    assert ran.returncode == 1 and reproduction["decision"] == "reject", reproduction
    assert "not what its case computes" in reproduction["reasons"][0], reproduction["reasons"]
    mesh = next(v for v in report["verdicts"] if v["gate"] == "mesh-independence")
    assert mesh["decision"] == "reject" and "reproduction did not accept" in mesh["reasons"][0], mesh


def test_a_reproduction_is_matched_cell_by_cell_by_centre(tmp_path: Path) -> None:
    from verifiers.cfd._same_case import same_mesh_change

    _grid(tmp_path / "a", 6, _shear)
    _grid(tmp_path / "b", 6, _shear)
    assert same_mesh_change(tmp_path / "a", tmp_path / "b", "U", 36) == 0.0
    # The same mesh numbered backwards (renumberMesh) is still the same mesh.
    for name in ("C", "U"):
        path = tmp_path / "b" / "1" / name
        path.write_text(_field("Vector", read_internal_field(path)[::-1]))
    assert same_mesh_change(tmp_path / "a", tmp_path / "b", "U", 36) == 0.0
    _grid(tmp_path / "c", 6, lambda centres: 1.1 * _shear(centres))
    assert same_mesh_change(tmp_path / "a", tmp_path / "c", "U", 36) == pytest.approx(0.1)
    (tmp_path / "c" / "1" / "C").write_text(_field("Vector", read_internal_field(tmp_path / "a" / "1" / "C") + 0.05))
    assert "another mesh" in str(same_mesh_change(tmp_path / "a", tmp_path / "c", "U", 36))
