"""The CFD gates against output files crafted to look like a good result: synthetic runs, no solver needed.

Each test writes the files a run would leave (solver log, controlDict, time directories, mesh header,
fields) with one thing wrong, and asserts the gate does not accept; an honest control beside each shows
the same files without the fault are accepted.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, cast

import numpy as np
import pytest

import verifiers.cfd._mesh as mesh_gate
from runs import ExperimentSpec, GateResult, TaskSpec
from tools import ExperimentOutcome
from tools.cfd import FieldFormatError
from verifiers import GateContext, get_gate, run_gate
from verifiers._deliverables import field_problem, image_problem
from verifiers.cfd._vision import blank_fraction

END = 100
TASK = TaskSpec(id="cfd/synthetic", workload="cfd", gates=["solver-log", "mesh-independence"])


def _log(steps: int, *, ended: bool = True) -> str:
    lines: list[str] = []
    for step in range(1, steps + 1):
        value = 10 ** (-6.0 * step / steps)
        lines += [
            f"Time = {step}",
            f"smoothSolver:  Solving for Ux, Initial residual = {value:.6g}, Final residual = {value / 10:.6g}, "
            "No Iterations 2",
            "time step continuity errors : sum local = 1e-08, global = 1e-10, cumulative = 1e-10",
            "",
        ]
    return "\n".join([*lines, *(["End", ""] if ended else [])])


def write_run(directory: Path, *, cells: int, quantity: float, steps: int = END, ended: bool = True) -> Path:
    """A finished steady run of `cells` cells whose quantity of interest is `quantity`."""
    case = directory / "case"
    (case / "system").mkdir(parents=True)
    (case / "system" / "controlDict").write_text(f"endTime {END};\n")
    (case / str(steps)).mkdir()
    (case / "constant" / "polyMesh").mkdir(parents=True)
    (case / "constant" / "polyMesh" / "owner").write_text(
        f'FoamFile\n{{\n    class labelList;\n    note "nPoints:10  nCells:{cells}  nFaces:20  nInternalFaces:5";\n'
        "    object owner;\n}\n"
    )
    (case / "quantity").write_text(repr(quantity))
    (directory / "log.simpleFoam").write_text(_log(steps, ended=ended))
    return directory


class Family:
    """A case family reduced to what the mesh-independence gate asks of one."""

    mesh_tolerances: ClassVar[dict[str, float]] = {"quantity": 0.01}
    user_mesh: ClassVar[bool] = False

    def refine(self, params: dict[str, Any], factor: float) -> dict[str, Any]:
        return {**params, "cells": round(params["cells"] * factor)}

    def parse(self, params: dict[str, Any]) -> dict[str, Any]:
        return params

    def quantities(self, case: Path, params: dict[str, Any]) -> dict[str, float]:
        return {"quantity": float((case / "quantity").read_text())}


def _outcome(inputs: str = "the case as given") -> ExperimentOutcome:
    """A completed run; `inputs` stands for the digest of the case it ran (`inputs_digest`)."""
    info = {"solver_log": "log.simpleFoam", "inputs_digest": inputs}
    return ExperimentOutcome(key="x", status="completed", info=info)


def _mesh_verdict(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    original: dict[str, Any],
    refined: dict[str, Any],
    write_refined: Callable[..., Path] = write_run,
    refined_inputs: str = "the case as given",
) -> GateResult:
    monkeypatch.setattr(mesh_gate, "case_family", lambda context: Family())
    directory = write_run(tmp_path / "experiment", cells=100, **original)

    def rerun(spec: ExperimentSpec, where: Path) -> ExperimentOutcome:
        write_refined(where, **refined)
        return _outcome(refined_inputs)

    context = GateContext(
        task=TASK,
        experiment=ExperimentSpec(key="x", task_id=TASK.id, params={"case": "synthetic", "cells": 100}),
        directory=directory,
        outcome=_outcome(),
        options={"factor": 2.0},
        rerun=rerun,
        prior=[],
    )
    return run_gate(get_gate("mesh-independence"), context)


ORIGINAL = {"quantity": 0.5}


@pytest.mark.parametrize("user_mesh", [False, True])
def test_a_refined_run_of_another_case_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, user_mesh: bool
) -> None:
    """The refined run records a different digest of its inputs: the case changed between the runs."""
    monkeypatch.setattr(Family, "user_mesh", user_mesh)
    verdict = _mesh_verdict(
        tmp_path, monkeypatch, ORIGINAL, {"cells": 200, "quantity": 0.5}, refined_inputs="an edited case"
    )
    assert verdict.decision == "reject" and "changed between the original run and the refined one" in verdict.reasons[0]


def test_a_user_mesh_run_that_records_no_inputs_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Family, "user_mesh", True)
    monkeypatch.setattr(mesh_gate, "case_family", lambda context: Family())
    directory = write_run(tmp_path / "experiment", cells=100, quantity=0.5)
    bare = ExperimentOutcome(key="x", status="completed", info={"solver_log": "log.simpleFoam"})

    def rerun(spec: ExperimentSpec, where: Path) -> ExperimentOutcome:
        write_run(where, cells=200, quantity=0.5)
        return _outcome()

    context = GateContext(
        task=TASK,
        experiment=ExperimentSpec(key="x", task_id=TASK.id, params={"case": "synthetic", "cells": 100}),
        directory=directory,
        outcome=bare,
        options={"factor": 2.0},
        rerun=rerun,
        prior=[],
    )
    verdict = run_gate(get_gate("mesh-independence"), context)
    assert verdict.decision == "reject" and "do not both record the case they ran" in verdict.reasons[0]


def test_mesh_independence_accepts_a_real_refinement_that_keeps_the_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    verdict = _mesh_verdict(tmp_path, monkeypatch, ORIGINAL, {"cells": 200, "quantity": 0.5})
    assert verdict.decision == "accept", verdict.reasons


@pytest.mark.parametrize(
    ("refined", "named"),
    [
        ({"cells": 100, "quantity": 0.5}, "not refined"),  # the refinement silently kept the coarse mesh
        ({"cells": 50, "quantity": 0.5}, "not refined"),
        ({"cells": 200, "quantity": math.nan}, "not finite"),  # NaN compares as "unchanged"
        ({"cells": 200, "quantity": math.inf}, "not finite"),
        ({"cells": 200, "quantity": 0.5, "steps": 3, "ended": False}, "solver log"),  # died early
    ],
    ids=["same mesh", "coarser mesh", "NaN on the fine mesh", "inf on the fine mesh", "fine run died"],
)
def test_mesh_independence_rejects_a_refinement_that_proves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refined: dict[str, Any], named: str
) -> None:
    verdict = _mesh_verdict(tmp_path, monkeypatch, ORIGINAL, refined)
    assert verdict.decision == "reject", verdict.reasons
    assert named in " ".join(verdict.reasons)


def test_mesh_independence_rejects_a_refinement_whose_cell_count_cannot_be_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unknown count on either side let the gate pass a "refinement" that may have kept the mesh."""

    def no_note(directory: Path, **run: Any) -> Path:
        written = write_run(directory, **run)
        (written / "case" / "constant" / "polyMesh" / "owner").write_text("FoamFile { object owner; }\n0()\n")
        return written

    verdict = _mesh_verdict(tmp_path, monkeypatch, ORIGINAL, {"cells": 200, "quantity": 0.5}, no_note)
    assert verdict.decision == "reject", verdict.reasons
    assert "whether it was refined cannot be told" in " ".join(verdict.reasons)


def test_the_held_out_gate_does_not_accept_a_candidate_worse_in_sample() -> None:
    """Within every held-out tolerance but 38 % worse in sample: accepted, listed among the results."""
    from types import SimpleNamespace

    from verifiers.cfd._heldout import HeldOutGate

    context = SimpleNamespace(outcome=SimpleNamespace(files=[]), digests=lambda relative: [])
    baseline = {"cf_rmse": 0.00289, "profile_rmse": 0.050, "reattachment": 7.77}
    plate, step = (0.040, 0.033), (6.80, 7.02, 0.030, 0.003)
    for cf, decision in ((0.00400, "revise"), (0.00289, "revise"), (0.00260, "accept")):
        candidate = {"cf_rmse": cf, "profile_rmse": 0.055, "reattachment": 7.70}
        verdict = HeldOutGate()._judge(cast(Any, context), candidate, baseline, *plate, step=step)
        assert verdict.decision == decision, (cf, verdict.reasons)
    assert "in-sample improvement: FAIL" in " ".join(
        HeldOutGate()._judge(cast(Any, context), {**baseline, "cf_rmse": 0.004}, baseline, *plate, step=step).reasons
    )
    itself = HeldOutGate()._judge(cast(Any, context), baseline, baseline, 0.033, 0.033, step=step, is_baseline=True)
    assert itself.decision == "accept", itself.reasons


def test_mesh_independence_rejects_a_nan_answer_on_both_meshes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    verdict = _mesh_verdict(tmp_path, monkeypatch, {"quantity": math.nan}, {"cells": 200, "quantity": math.nan})
    assert verdict.decision == "reject", verdict.reasons
    assert "original run's quantities are not finite" in " ".join(verdict.reasons)


def _vectors(name: str, rows: Sequence[tuple[float | str, ...]]) -> str:
    body = "\n".join("(" + " ".join(str(value) for value in row) + ")" for row in rows)
    return (
        f"FoamFile\n{{\n    class volVectorField;\n    object {name};\n}}\n"
        f"internalField nonuniform List<vector>\n{len(rows)}\n(\n{body}\n)\n;\n"
    )


def write_cavity(directory: Path, value: str) -> Path:
    """A finished cavity run on an 8 x 8 mesh whose every velocity, in the cells and in the samples, is `value`."""
    case = directory / "case"
    latest = case / "1"
    latest.mkdir(parents=True)
    cells, length = 8, 0.1
    step = length / cells
    centres = [((i + 0.5) * step, (j + 0.5) * step, 0.005) for j in range(cells) for i in range(cells)]
    (latest / "C").write_text(_vectors("C", centres))
    (latest / "U").write_text(_vectors("U", [(value, value, 0)] * len(centres)))
    samples = case / "postProcessing" / "centrelines" / "1"
    samples.mkdir(parents=True)
    points = [length * k / 19 for k in range(20)]
    (samples / "vertical_U.xy").write_text("\n".join(f"{y} {value} {value} 0" for y in points))
    (samples / "horizontal_U.xy").write_text("\n".join(f"{x} {value} {value} 0" for x in points))
    return directory


@pytest.mark.parametrize("value", ["nan", "-nan", "NaN", "inf"])
def test_comparator_rejects_a_solution_of_non_finite_values(tmp_path: Path, value: str) -> None:
    """Every limit test of a NaN is false: 'RMSE nan' and 'readers agree to nan' once read as a pass."""
    task = TaskSpec(id="cfd/synthetic", workload="cfd", gates=["comparator"])
    context = GateContext(
        task=task,
        experiment=ExperimentSpec(key="x", task_id=task.id, params={"case": "cavity", "re": 100, "cells": 8}),
        directory=write_cavity(tmp_path / "experiment", value),
        outcome=ExperimentOutcome(key="x", status="completed"),
        options={},
        prior=[],
    )
    with np.errstate(invalid="ignore"):
        verdict = run_gate(get_gate("comparator"), context)
    assert verdict.decision == "reject", verdict.reasons
    assert "non-finite metrics" in verdict.reasons[0]


def _png(pixels: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8), mode="RGBA").save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_fully_transparent_figure_is_degenerate_whatever_colour_it_hides() -> None:
    """Colour behind an alpha of zero is never seen: the figure shows the blank page under it."""
    noise = np.random.default_rng(0).integers(0, 256, size=(64, 64, 4))
    hidden = noise.copy()
    hidden[..., 3] = 0
    shown = noise.copy()
    shown[..., 3] = 255
    assert image_problem(_png(shown)) is None
    assert image_problem(_png(hidden)) == "is a single flat colour"
    assert blank_fraction(_png(hidden)) == 1.0


@pytest.mark.parametrize("value", ["nan(ind)", "1.#QNAN", "NaN%"])
def test_a_field_of_values_no_float_reads_is_named_not_crashed_on(value: str) -> None:
    field = f"FoamFile\n{{\n    object p;\n}}\ninternalField nonuniform List<scalar>\n2\n(\n1\n{value}\n)\n;\n"
    problem = field_problem(field.encode())
    assert problem is not None and "not a number" in problem


def write_step(directory: Path, yplus: str) -> Path:
    """A finished backward-step run: a sound velocity field, and y+ on its one wall patch as given."""
    case = directory / "case"
    (case / "constant" / "polyMesh").mkdir(parents=True)
    (case / "constant" / "polyMesh" / "boundary").write_text(
        "FoamFile\n{\n    class polyBoundaryMesh;\n    object boundary;\n}\n1\n(\n"
        "    lowerWall\n    {\n        type wall;\n        nFaces 3;\n        startFace 10;\n    }\n)\n"
    )
    latest = case / "100"
    latest.mkdir()
    (latest / "U").write_text(_vectors("U", [(10.0, 0.1, 0.0), (9.0, -0.2, 0.0), (8.0, 0.0, 0.0)]))
    (latest / "yPlus").write_text(
        "FoamFile\n{\n    class volScalarField;\n    object yPlus;\n}\ninternalField uniform 0;\n"
        "boundaryField\n{\n    lowerWall\n    {\n        type calculated;\n"
        f"        value nonuniform List<scalar> 3({yplus});\n    }}\n}}\n"
    )
    return directory


def _step_context(directory: Path) -> GateContext:
    task = TaskSpec(id="cfd/synthetic", workload="cfd", gates=["physical-range"])
    return GateContext(
        task=task,
        experiment=ExperimentSpec(key="x", task_id=task.id, params={"case": "backward-step"}),
        directory=directory,
        outcome=ExperimentOutcome(key="x", status="completed"),
        options={},
        prior=[],
    )


@pytest.mark.parametrize(("yplus", "decision"), [("30 45 60", "accept"), ("30 nan 60", "rerun"), ("inf 1 2", "rerun")])
def test_physical_range_does_not_pass_a_wall_whose_y_plus_is_not_a_number(
    tmp_path: Path, yplus: str, decision: str
) -> None:
    verdict = run_gate(get_gate("physical-range"), _step_context(write_step(tmp_path / "experiment", yplus)))
    assert verdict.decision == decision, verdict.reasons


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        ("missing", "y+ was not written"),
        ("short", "cannot read y+ on the wall patch 'lowerWall'"),
        ("no-wall", "no wall faces"),
    ],
)
def test_physical_range_does_not_pass_a_wall_whose_y_plus_it_cannot_read(
    tmp_path: Path, damage: str, named: str
) -> None:
    """A y+ check skipped is a wall resolution nobody checked: the gate must not accept on the rest."""
    directory = write_step(tmp_path / "experiment", "30 45 60")
    case = directory / "case"
    if damage == "missing":
        (case / "100" / "yPlus").unlink()
    elif damage == "short":
        text = (case / "100" / "yPlus").read_text()
        (case / "100" / "yPlus").write_text(text.replace("3(30 45 60)", "2(30 45)"))
    else:
        boundary = case / "constant" / "polyMesh" / "boundary"
        boundary.write_text(boundary.read_text().replace("type wall;", "type patch;"))
    verdict = run_gate(get_gate("physical-range"), _step_context(directory))
    assert verdict.decision == "rerun", verdict.reasons
    assert any(named in reason for reason in verdict.reasons), verdict.reasons


@pytest.mark.parametrize(("cells", "decision"), [(3, "accept"), (400, "reject")])
def test_physical_range_judges_only_a_velocity_field_that_fits_the_mesh(
    tmp_path: Path, cells: int, decision: str
) -> None:
    """Three velocities on a mesh of 400 cells are not the solution's: the range check would judge the three."""
    directory = write_step(tmp_path / "experiment", "30 45 60")
    (directory / "case" / "constant" / "polyMesh" / "owner").write_text(
        f'FoamFile\n{{\n    class labelList;\n    note "nPoints:10  nCells:{cells}  nFaces:20  nInternalFaces:5";\n'
        "    object owner;\n}\n"
    )
    verdict = run_gate(get_gate("physical-range"), _step_context(directory))
    assert verdict.decision == decision, verdict.reasons
    if decision == "reject":
        assert "3 values, expected 400" in " ".join(verdict.reasons), verdict.reasons


def _solver_log_verdict(directory: Path) -> GateResult:
    context = GateContext(
        task=TASK,
        experiment=ExperimentSpec(key="x", task_id=TASK.id),
        directory=directory,
        outcome=_outcome(),
        options={},
        prior=[],
    )
    return run_gate(get_gate("solver-log"), context)


def test_solver_log_accepts_a_finished_run(tmp_path: Path) -> None:
    verdict = _solver_log_verdict(write_run(tmp_path / "experiment", cells=100, quantity=0.5))
    assert verdict.decision == "accept", verdict.reasons


@pytest.mark.parametrize("name", ["5000", "1_000", " 200", "\u0661\u0660\u0660\u0660", "100_0"])
def test_solver_log_rejects_a_latest_time_the_solver_never_wrote(tmp_path: Path, name: str) -> None:
    """The physical-range, comparator and vision gates read the latest time directory: one beyond the log's
    last time, or one Python reads as a time though OpenFOAM does not ('1_000'), holds fields of no run."""
    directory = write_run(tmp_path / "experiment", cells=100, quantity=0.5)
    (directory / "case" / name).mkdir()
    verdict = _solver_log_verdict(directory)
    assert verdict.decision == "reject", verdict.reasons


@pytest.mark.parametrize("time", ["1e999", "1e400"])
def test_solver_log_rejects_a_last_time_that_is_no_number(tmp_path: Path, time: str) -> None:
    """'inf < endTime' is false, so a log ending at an infinite time once read as having reached its end."""
    directory = write_run(tmp_path / "experiment", cells=100, quantity=0.5, steps=3)
    (directory / "case" / str(END)).mkdir()  # the end time's directory, as if the run had reached it
    log = directory / "log.simpleFoam"
    log.write_text(log.read_text().replace("End\n", f"Time = {time}\n\nEnd\n"))
    verdict = _solver_log_verdict(directory)
    assert verdict.decision == "reject", verdict.reasons


@pytest.mark.slow
@pytest.mark.openfoam
@pytest.mark.usefixtures("openfoam", "bubblewrap")
def test_a_refinement_that_only_edits_a_comment_refines_the_mesh_for_real(home: Path, tmp_path: Path) -> None:
    """The cavity tutorial with its block counts behind a macro and a plain `hex` line left in a comment: the
    1.5x refinement once scaled the comment, blockMesh meshed the same 20 x 20 cells, and the identical answer
    on the 'finer' mesh passed for mesh independence. Comments are left alone now, so the counts cannot be
    scaled and the case is refined by refineMesh instead: the verdict compares two different meshes."""
    from tests.test_cfd_case_openfoam import _by_hand, _check, _tutorial, _verdicts

    case = _tutorial("cavity", tmp_path / "cavity")
    block = case / "system" / "blockMeshDict"
    text = block.read_text()
    plain = "hex (0 1 2 3 4 5 6 7) (20 20 1) simpleGrading (1 1 1)"
    assert plain in text
    block.write_text(
        text.replace("blocks", "cells 20;\n\nblocks", 1).replace(
            plain, f"// {plain}\n    hex (0 1 2 3 4 5 6 7) ($cells $cells 1) simpleGrading (1 1 1)"
        )
    )
    _by_hand(case, "blockMesh > log.blockMesh 2>&1", "icoFoam > log.icoFoam 2>&1")
    _, report = _check(case, home, "--rerun")
    mesh = _verdicts(report)["mesh-independence"]
    reasons = " ".join(mesh["reasons"])
    assert mesh["metrics"]["refinement"] == 2.0, mesh["reasons"]  # refineMesh, not a scaled comment
    assert "(0.00 %)" not in reasons, mesh["reasons"]  # the answer moved a little: two meshes were compared


ONE_CELL_SET = """FoamFile { version 2.0; format ascii; class cellSet; location "constant/polyMesh/sets"; object c0; }
1
(
0
)
"""
REFINE_ONE_CELL = """FoamFile { version 2.0; format ascii; class dictionary; object refineMeshDict; }
set c0;
coordinateSystem global;
globalCoeffs { tan1 (1 0 0); tan2 (0 1 0); }
directions (tan1 tan2);
useHexTopology yes;
geometricCut no;
writeMesh no;
"""


@pytest.mark.slow
@pytest.mark.openfoam
@pytest.mark.usefixtures("openfoam", "bubblewrap")
def test_a_cases_own_refine_dictionary_does_not_choose_what_the_mesh_gate_refines(home: Path, tmp_path: Path) -> None:
    """Got through before: a case shipping its mesh (no blockMeshDict) and a refineMeshDict naming one cell made
    the re-run's refineMesh refine that cell alone (64 -> 67 cells), and the gate, which asked only for more
    cells, read the unchanged answer as 'unchanged on a 2x finer mesh'. refineMesh now refines every cell
    whatever the case says, and the gate reports the cell ratio it measured."""
    from tests.test_cfd_case_openfoam import _by_hand, _run, _tutorial, _verdicts

    case = _tutorial("cavity", tmp_path / "cavity")
    block = case / "system" / "blockMeshDict"
    block.write_text(block.read_text().replace("(20 20 1)", "(8 8 1)"))
    _by_hand(case, "blockMesh > log.blockMesh 2>&1")
    block.unlink()
    (case / "constant" / "polyMesh" / "sets").mkdir()
    (case / "constant" / "polyMesh" / "sets" / "c0").write_text(ONE_CELL_SET)
    (case / "system" / "refineMeshDict").write_text(REFINE_ONE_CELL)
    report = _run(case, home)
    mesh = _verdicts(report)["mesh-independence"]
    assert mesh["metrics"]["cell_ratio"] == pytest.approx(4.0), mesh  # 8x8 -> 16x16: every cell, both directions
    assert "4x the cells)" in " ".join(mesh["reasons"]), mesh["reasons"]


def test_a_refined_run_with_few_more_cells_than_its_factor_asks_is_rejected(tmp_path: Path) -> None:
    """Whatever made a re-run refine only part of the mesh, the gate counts: 67 cells against 64 is no 2x
    refinement, and the verdict says how many cells a refinement needs."""
    from verifiers.cfd import _mesh

    original, refined = tmp_path / "original", tmp_path / "refined"
    for folder, cells in ((original, 64), (refined / "mesh-check", 67)):
        owner = folder / "case" / "constant" / "polyMesh" / "owner"
        owner.parent.mkdir(parents=True)
        owner.write_text(f'FoamFile {{ note "nPoints:1  nCells:{cells}  nFaces:1  nInternalFaces:1"; }}\n')

    class Context:
        def path(self, relative: str) -> Path:
            return original / relative

    ok = _mesh.ExperimentOutcome(key="k-mesh", status="completed")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_mesh, "finished_run_problem", lambda directory, outcome: None)
        ratio = _mesh.MeshIndependenceGate._refined_cell_ratio(Context(), refined / "mesh-check", ok, 2.0, local=False)  # type: ignore[arg-type]
        assert isinstance(ratio, str) and "1.05x the original's 64" in ratio and "at least 2x" in ratio
        fine = _mesh.MeshIndependenceGate._refined_cell_ratio(Context(), refined / "mesh-check", ok, 1.04, local=False)  # type: ignore[arg-type]
        assert fine == pytest.approx(67 / 64)


def test_a_held_out_flow_whose_solver_died_is_not_read(tmp_path: Path) -> None:
    """The held-out gate reads the fields its own runs leave: a flow whose solver died part-way (the time limit,
    a fatal error, no 'End') is a failed run, recorded so, not a result to compare."""
    from verifiers.cfd._heldout import _Runs

    experiment = tmp_path / "runs" / "candidate"
    experiment.mkdir(parents=True)
    ran: list[str] = []

    def rerun(spec: ExperimentSpec, where: Path) -> ExperimentOutcome:
        ran.append(spec.key)
        write_run(where, cells=100, quantity=0.5, steps=3, ended=spec.key == "plate-good")
        return _outcome()

    context = GateContext(
        task=TASK,
        experiment=ExperimentSpec(key="candidate", task_id=TASK.id),
        directory=experiment,
        outcome=_outcome(),
        rerun=rerun,
    )
    runs = _Runs(context)
    assert runs.run({"case": "flat-plate"}, runs.shared / "plate-good", "held-out flat plate").is_dir()
    # A failed flow is run once more (a transient failure must not reject every later candidate), from an
    # emptied folder; after that its failure is recorded for the run: the fields are never read, and no third
    # run is made.
    for _ in range(3):
        with pytest.raises(FieldFormatError, match=r"solver log.*stopped early"):
            runs.run({"case": "flat-plate"}, runs.shared / "plate-dead", "held-out flat plate")
    assert ran == ["plate-good", "plate-dead", "plate-dead"]
    assert runs.run({"case": "flat-plate"}, runs.shared / "plate-good", "held-out flat plate").is_dir()
    assert ran == ["plate-good", "plate-dead", "plate-dead"]  # a completed flow is reused


def test_a_held_out_flow_that_failed_once_runs_again_from_an_emptied_folder(tmp_path: Path) -> None:
    """A shared baseline flow that failed once (a timeout under load) is run again for the next candidate, in a
    folder emptied of what the failed attempt, or an interrupted one, left there."""
    from verifiers.cfd._heldout import _Runs

    experiment = tmp_path / "runs" / "candidate"
    experiment.mkdir(parents=True)
    seen: list[list[str]] = []

    def rerun(spec: ExperimentSpec, where: Path) -> ExperimentOutcome:
        where.mkdir(parents=True, exist_ok=True)
        seen.append(sorted(path.name for path in where.iterdir()))
        write_run(where, cells=100, quantity=0.5, steps=3, ended=len(seen) > 1)
        return _outcome()

    context = GateContext(
        task=TASK, experiment=ExperimentSpec(key="candidate", task_id=TASK.id), directory=experiment,
        outcome=_outcome(), rerun=rerun,
    )  # fmt: skip
    runs = _Runs(context)
    folder = runs.shared / "plate-baseline"
    with pytest.raises(FieldFormatError, match=r"stopped early"):
        runs.run({"case": "flat-plate"}, folder, "held-out flat plate")
    (folder / "case" / "planted").write_text("left by the failed attempt")
    assert runs.run({"case": "flat-plate"}, folder, "held-out flat plate").is_dir()
    assert seen == [[], []]  # each attempt started in an empty folder
    assert not (folder / "case" / "planted").exists()


def test_a_held_out_flow_is_reused_only_for_the_same_parameters(tmp_path: Path) -> None:
    """Held-out flows are shared by every candidate with the same parameters, in folders named by their digest.
    Named by 48 bits of it, a candidate whose model source ended in a searched-for comment had another's
    flat-plate run reused as its own; the digest is whole now, and a folder is reused only where the parameters
    recorded in it are the ones asked for."""
    from verifiers.cfd._heldout import _digest, _Runs

    assert len(_digest({"case": "flat-plate"})) == 64
    experiment = tmp_path / "runs" / "candidate"
    experiment.mkdir(parents=True)
    ran: list[dict[str, object]] = []

    def rerun(spec: ExperimentSpec, where: Path) -> ExperimentOutcome:
        ran.append(dict(spec.params))
        write_run(where, cells=100, quantity=0.5, steps=3, ended=True)
        return _outcome()

    context = GateContext(
        task=TASK, experiment=ExperimentSpec(key="candidate", task_id=TASK.id), directory=experiment,
        outcome=_outcome(), rerun=rerun,
    )  # fmt: skip
    runs = _Runs(context)
    folder = runs.shared / "plate-shared-name"
    honest, other = {"case": "flat-plate"}, {"case": "flat-plate", "sa": {"Cproduction": 2.0}}
    runs.run(honest, folder, "held-out flat plate")
    runs.run(honest, folder, "held-out flat plate")
    assert ran == [honest]  # the same parameters: reused
    runs.run(other, folder, "held-out flat plate")  # the same folder name, other parameters: run anew
    assert ran == [honest, other]
