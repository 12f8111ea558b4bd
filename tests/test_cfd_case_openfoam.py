"""`cfd/case` on real OpenFOAM: stock tutorials and a snappyHexMesh case, run by hand (adopted) and re-run
by labgate, and the cheats.

Every test here runs OpenFOAM (seconds to a minute each). The user's case directory is never changed,
the user's function objects never run (a `systemCall` would leave a marker file), and a case whose code
or reference cannot be used is bad input (exit 2).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import agent, tree_digest
from tools.cfd import read_solver_log

TUTORIALS = Path("/usr/share/doc/openfoam-examples/examples/incompressible")
BASHRC = "/usr/share/openfoam/etc/bashrc"
DATA = Path(__file__).parent / "data" / "cfd_case"
STOCK = {
    "cavity": ("icoFoam/cavity/cavity", ("blockMesh", "icoFoam")),
    "pitzDaily": ("simpleFoam/pitzDaily", ("blockMesh", "simpleFoam")),
    "airFoil2D": ("simpleFoam/airFoil2D", ("simpleFoam",)),  # its mesh comes as a compressed polyMesh
}

GATES = ("solver-log", "deliverables", "physical-range", "vision", "comparator", "mesh-independence")
ADOPTED = ("reproduction", *GATES)
"""The gates an adopted case meets: the reproduction (`CfdWorkload.adoption_gates`), then the task's."""

pytestmark = [pytest.mark.slow, pytest.mark.openfoam, pytest.mark.usefixtures("openfoam", "bubblewrap")]


def _tutorial(name: str, where: Path) -> Path:
    source = TUTORIALS / STOCK[name][0]
    if not source.is_dir():
        pytest.skip(f"the OpenFOAM tutorial {source} is not installed (apt-get install openfoam-examples)")
    shutil.copytree(source, where)
    for path in [where, *where.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o200)
    return where


def _by_hand(case: Path, *commands: str, check: bool = True) -> None:
    """Run OpenFOAM commands in `case` as the user guide says: source the bashrc, run each in turn."""
    script = f"source {BASHRC} >/dev/null 2>&1; " + ("set -e; " if check else "") + "; ".join(commands)
    result = subprocess.run(["bash", "-c", script], check=False, cwd=case, capture_output=True, text=True, timeout=300)
    assert not check or result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


def _run_stock(name: str, where: Path) -> Path:
    case = _tutorial(name, where)
    _by_hand(case, *(f"{app} > log.{app} 2>&1" for app in STOCK[name][1]))
    return case


def _set(path: Path, name: str, value: str) -> None:
    lines = path.read_text().splitlines()
    replaced = [f"{name} {value};" if line.split() and line.split()[0] == name else line for line in lines]
    if replaced == lines:
        replaced.append(f"{name} {value};")
    path.write_text("\n".join(replaced) + "\n")


def _check(case: Path, home: Path, *options: str) -> tuple[int, dict[str, Any]]:
    result = agent("check", "cfd/case", str(case), "--json", *options, home=home, timeout=600)
    assert result.returncode in (0, 1), result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return result.returncode, report


def _run(case: Path, home: Path, *params: str) -> dict[str, Any]:
    args = [f"--param=case_dir={case}", *(f"--param={p}" for p in params)]
    result = agent("run", "cfd/case", *args, "--json", home=home, timeout=900)
    assert result.returncode in (0, 1), result.stderr
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


def _verdicts(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {verdict["gate"]: verdict for verdict in report["verdicts"]}


def _all_reasons(report: dict[str, Any]) -> str:
    return " | ".join(reason for verdict in report["verdicts"] for reason in verdict["reasons"])


# -- the stock tutorials ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(STOCK))
def test_a_stock_tutorial_run_by_hand_is_accepted(name: str, home: Path, tmp_path: Path) -> None:
    case = _run_stock(name, tmp_path / name)
    before = tree_digest(case)
    code, report = _check(case, home, "--rerun")
    verdicts = _verdicts(report)
    assert code == 0 and report["decision"] == "accept", _all_reasons(report)
    assert set(verdicts) == {*ADOPTED}
    mesh = verdicts["mesh-independence"]["metrics"]
    assert mesh["monitor_fine"] > 0 and mesh["refinement"] == (2.0 if name == "airFoil2D" else 1.5)
    assert report["details"]["application"] == STOCK[name][1][-1]
    assert tree_digest(case) == before, "the user's case was changed"
    if name == "pitzDaily":  # its controlDict's #includeFunc is reported, not followed
        assert "not run from the case: system/controlDict functions #includeFunc streamlines" in _all_reasons(report)


@pytest.mark.parametrize("name", sorted(STOCK))
def test_a_stock_tutorial_is_accepted_when_labgate_reruns_it(name: str, home: Path, tmp_path: Path) -> None:
    case = _tutorial(name, tmp_path / name)
    before = tree_digest(case)
    report = _run(case, home)
    assert report["accepted"] == ["base"], _all_reasons(report)
    assert tree_digest(case) == before, "the user's case was changed"


# -- formats: binary; compressed, 4 digits and decomposed ---------------------------------------------------


def test_binary_compressed_and_decomposed_cases_are_read(home: Path, tmp_path: Path) -> None:
    binary = _tutorial("cavity", tmp_path / "binary")
    control = binary / "system" / "controlDict"
    _set(control, "writeFormat", "binary")
    _by_hand(binary, "blockMesh > log.blockMesh 2>&1", "icoFoam > log.icoFoam 2>&1")
    assert b"binary" in (binary / "0.5" / "U").read_bytes()[:1000]
    (binary / "log.icoFoam").rename(binary / "run.log")  # a log saved under a name of the user's own
    code, report = _check(binary, home)
    assert code == 1
    verdicts = _verdicts(report)
    assert report["skipped"] == ["reproduction", "mesh-independence"] and report["decision"] == "inconclusive"
    assert all(v["decision"] == "accept" for v in verdicts.values()), _all_reasons(report)

    decomposed = _tutorial("cavity", tmp_path / "decomposed")
    _set(decomposed / "system" / "controlDict", "writePrecision", "4")
    _set(decomposed / "system" / "controlDict", "writeCompression", "on")
    (decomposed / "system" / "decomposeParDict").write_text(
        "FoamFile { version 2.0; format ascii; class dictionary; object decomposeParDict; }\n"
        "numberOfSubdomains 2;\nmethod simple;\ncoeffs { n (2 1 1); }\n"
    )
    _by_hand(
        decomposed,
        "blockMesh > log.blockMesh 2>&1",
        "icoFoam > log.icoFoam 2>&1",
        "decomposePar -latestTime > log.decomposePar 2>&1",
        "rm -r 0.5",  # only the processors hold the final time
    )
    assert (decomposed / "processor1" / "0.5" / "U.gz").is_file()
    _, report = _check(decomposed, home)
    steps = [step["name"] for step in report["details"]["post_processing"]]
    assert steps == ["reconstruct", "convert", "post-process"]
    assert all(v["decision"] == "accept" for v in _verdicts(report).values()), _all_reasons(report)
    assert not (decomposed / "0.5").exists(), "the user's case was changed"


# -- a compressible solver -----------------------------------------------------------------------------------


def test_a_compressible_case_is_judged_with_the_users_criteria_and_refined(home: Path, tmp_path: Path) -> None:
    """The stock compressible rhoPimpleFoam/RAS/cavity: a transient run whose per-step residuals fall only
    to about 1e-2, so the default drop of 1e-3 asks for a rerun; with the user's stated criterion the log is
    accepted, and labgate's own 1.5x finer re-run finds the mean speed still moving by about 20 %."""
    source = TUTORIALS.parent / "compressible" / "rhoPimpleFoam" / "RAS" / "cavity"
    if not source.is_dir():
        pytest.skip(f"the OpenFOAM tutorial {source} is not installed (apt-get install openfoam-examples)")
    case = tmp_path / "rho-cavity"
    shutil.copytree(source, case)
    for path in [case, *case.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o200)
    _by_hand(case, "blockMesh > log.blockMesh 2>&1", "rhoPimpleFoam > log.rhoPimpleFoam 2>&1")
    before = tree_digest(case)

    _, defaults = _check(case, home)
    solver_log = _verdicts(defaults)["solver-log"]
    assert solver_log["decision"] == "rerun" and "needs 0.001x" in " ".join(solver_log["reasons"]), solver_log

    code, report = _check(case, home, "--rerun", "--gate-option", "solver-log.residual_drop=0.05")
    verdicts = _verdicts(report)
    assert report["details"]["application"] == "rhoPimpleFoam"
    assert set(verdicts) == {*ADOPTED}
    assert {gate: v["decision"] for gate, v in verdicts.items() if gate != "mesh-independence"} == dict.fromkeys(
        set(ADOPTED) - {"mesh-independence"}, "accept"
    ), _all_reasons(report)
    mesh = verdicts["mesh-independence"]
    assert mesh["metrics"]["refinement"] == 1.5 and mesh["metrics"]["monitor_fine"] > 0
    assert mesh["decision"] == "revise" and mesh["metrics"]["monitor_change"] > 0.05, mesh
    assert code == 1 and report["decision"] == "revise"
    assert tree_digest(case) == before, "the user's case was changed"


# -- cheats and failures -----------------------------------------------------------------------------------


def test_a_diverged_case_is_not_accepted(home: Path, tmp_path: Path) -> None:
    case = _tutorial("cavity", tmp_path / "diverged")
    _set(case / "constant" / "transportProperties", "nu", "1e-05")
    _set(case / "system" / "controlDict", "deltaT", "0.05")
    _set(case / "system" / "controlDict", "writeInterval", "2")
    _by_hand(case, "blockMesh > log.blockMesh 2>&1", "icoFoam > log.icoFoam 2>&1", check=False)
    assert max(read_solver_log(case / "log.icoFoam").continuity) > 1e10  # it blew up
    code, report = _check(case, home)
    solver_log = _verdicts(report)["solver-log"]
    assert code == 1 and report["decision"] != "accept"
    assert solver_log["decision"] != "accept" and "diverged" in " ".join(solver_log["reasons"]), solver_log
    rerun = _run(case, home)
    assert rerun["accepted"] == [], _all_reasons(rerun)


def test_a_system_call_in_the_case_never_runs(home: Path, tmp_path: Path) -> None:
    case = _run_stock("cavity", tmp_path / "cavity")
    marker = tmp_path / "MARKER"
    control = case / "system" / "controlDict"
    control.write_text(
        control.read_text()
        + "\nfunctions\n{\n    marker\n    {\n        type systemCall;\n"
        + '        libs ("libutilityFunctionObjects.so");\n'
        + f'        executeCalls ("touch {marker}" "touch MARKER");\n        writeCalls ("touch {marker}");\n'
        + f'        endCalls ("touch {marker}");\n    }}\n}}\n'
    )
    # The marker works: OpenFOAM itself, run on a copy, leaves it (it refuses system calls to root, saying so).
    control_run = shutil.copytree(case, tmp_path / "control")
    _by_hand(control_run, "postProcess -latestTime > log.post 2>&1")
    if os.geteuid() == 0:
        assert (
            "System calls should not be executed by someone with administrator rights"
            in (control_run / "log.post").read_text()
        )
    else:
        assert marker.exists() and (control_run / "MARKER").exists(), "the positive control left no marker"
        marker.unlink()

    _, report = _check(case, home)
    assert "functions/marker (type systemCall): not run" in _all_reasons(report)
    assert all(v["decision"] == "accept" for v in _verdicts(report).values()), _all_reasons(report)
    report = _run(case, home, "end_time=0.1")  # a short re-run: its convergence is not the point here
    assert "functions/marker (type systemCall): not run" in _all_reasons(report)
    assert _verdicts(report)["solver-log"]["metrics"]["end_time"] == 0.1
    assert not marker.exists() and not (case / "MARKER").exists(), "the user's systemCall ran"
    assert not list(home.rglob("MARKER")), "the user's systemCall ran in labgate's copy"


def test_code_in_a_case_is_bad_input(home: Path, tmp_path: Path) -> None:
    case = _run_stock("cavity", tmp_path / "cavity")
    velocity = case / "0" / "U"
    velocity.write_text(velocity.read_text().replace("type            fixedValue;", "type codedFixedValue;", 1))
    result = agent("check", "cfd/case", str(case), home=home, timeout=120)
    assert result.returncode == 2 and "refused: 0/U uses 'codedFixedValue'" in result.stderr, result.stderr


def test_a_user_reference_is_compared_by_labgates_reader(home: Path, tmp_path: Path) -> None:
    case = _tutorial("cavity", tmp_path / "re100")
    _set(case / "constant" / "transportProperties", "nu", "[0 2 -1 0 0 0 0] 0.001")
    _by_hand(case, "blockMesh > log.blockMesh 2>&1", "icoFoam > log.icoFoam 2>&1")
    # At t = 0.5 s the Re 100 cavity is still settling: the user states a looser convergence criterion.
    looser = ("--gate-option", "solver-log.residual_drop=0.01")
    code, report = _check(case, home, "--param", f"reference={DATA / 'cavity_re100_ghia_u.csv'}", *looser)
    comparator = _verdicts(report)["comparator"]
    assert comparator["decision"] == "accept", comparator
    assert "Ux: 14 points" in comparator["reasons"][0] and comparator["metrics"]["Ux_rmse"] < 0.03
    assert (Path(report["workdir"]) / "figures" / "reference.png").is_file()  # the profile drawn against the cells
    assert all(v["decision"] == "accept" for v in _verdicts(report).values()), _all_reasons(report)

    code, report = _check(case, home, "--param", f"reference={DATA / 'cavity_re100_disagrees.csv'}", *looser)
    comparator = _verdicts(report)["comparator"]
    assert code == 1 and report["decision"] == "reject"
    assert comparator["decision"] == "reject" and "14 of 14 points outside their tolerance" in comparator["reasons"][0]

    result = agent("check", "cfd/case", str(case), "--param", f"reference={DATA / 'malformed.csv'}", home=home)
    assert result.returncode == 2 and "malformed.csv: the header must be" in result.stderr, result.stderr


# -- a snappyHexMesh case ----------------------------------------------------------------------------------

_FOAM_HEADER = "FoamFile {{ version 2.0; format ascii; class {kind}; object {name}; }}\n"
_BACKGROUND = (30, 10)  # cells of 0.1 m over a 3 m x 1 m channel, one cell thick (2-D)
_OBSTACLE = ((0.8, 0.35, -1.0), (1.2, 0.65, 1.0))  # covers 4 x 3 background cells, through the whole depth
_SNAPPY_CASE = {
    "system/blockMeshDict": """
vertices ((0 0 0) (3 0 0) (3 1 0) (0 1 0) (0 0 0.1) (3 0 0.1) (3 1 0.1) (0 1 0.1));
blocks (hex (0 1 2 3 4 5 6 7) (30 10 1) simpleGrading (1 1 1));
boundary
(
    inlet { type patch; faces ((0 4 7 3)); }
    outlet { type patch; faces ((1 2 6 5)); }
    walls { type wall; faces ((0 1 5 4) (3 7 6 2)); }
    frontAndBack { type empty; faces ((0 3 2 1) (4 5 6 7)); }
);
""",
    "system/snappyHexMeshDict": """
castellatedMesh true;
snap true;
addLayers false;
geometry { obstacle.stl { type triSurfaceMesh; name obstacle; } }
castellatedMeshControls
{
    maxLocalCells 100000; maxGlobalCells 1000000; minRefinementCells 0; nCellsBetweenLevels 1;
    maxLoadUnbalance 0.1; resolveFeatureAngle 30; allowFreeStandingZoneFaces true;
    features ();
    refinementSurfaces { obstacle { level (0 0); patchInfo { type wall; } } }
    refinementRegions {}
    locationInMesh (0.1 0.1 0.05);
}
snapControls
{
    nSmoothPatch 3; tolerance 2.0; nSolveIter 30; nRelaxIter 5;
    nFeatureSnapIter 10; implicitFeatureSnap true; explicitFeatureSnap false; multiRegionFeatureSnap false;
}
addLayersControls
{
    relativeSizes true; layers {}; expansionRatio 1.2; finalLayerThickness 0.3; minThickness 0.1;
    nGrow 0; featureAngle 60; nRelaxIter 3; nSmoothSurfaceNormals 1; nSmoothNormals 3; nSmoothThickness 10;
    maxFaceThicknessRatio 0.5; maxThicknessToMedialRatio 0.3; minMedialAxisAngle 90; nBufferCellsNoExtrude 0;
    nLayerIter 50;
}
meshQualityControls
{
    maxNonOrtho 65; maxBoundarySkewness 20; maxInternalSkewness 4; maxConcave 80; minVol 1e-13;
    minTetQuality 1e-15; minArea -1; minTwist 0.02; minDeterminant 0.001; minFaceWeight 0.05;
    minVolRatio 0.01; minTriangleTwist -1; nSmoothScale 4; errorReduction 0.75;
}
mergeTolerance 1e-6;
""",
    "system/controlDict": """
application simpleFoam; startFrom startTime; startTime 0; stopAt endTime; endTime 300; deltaT 1;
writeControl timeStep; writeInterval 300; writeFormat ascii; writePrecision 6; writeCompression off;
timeFormat general; timePrecision 6; runTimeModifiable false;
""",
    "system/fvSchemes": """
ddtSchemes { default steadyState; }
gradSchemes { default Gauss linear; }
divSchemes { default none; div(phi,U) bounded Gauss linearUpwind grad(U); div((nuEff*dev2(T(grad(U))))) Gauss linear; }
laplacianSchemes { default Gauss linear corrected; }
interpolationSchemes { default linear; }
snGradSchemes { default corrected; }
""",
    "system/fvSolution": """
solvers
{
    p { solver GAMG; smoother GaussSeidel; tolerance 1e-8; relTol 0.1; }
    U { solver smoothSolver; smoother symGaussSeidel; tolerance 1e-8; relTol 0.1; }
}
SIMPLE { nNonOrthogonalCorrectors 0; consistent yes; }
relaxationFactors { equations { U 0.9; ".*" 0.9; } }
""",
    "constant/transportProperties": "transportModel Newtonian;\nnu 0.02;\n",
    "constant/turbulenceProperties": "simulationType laminar;\n",
    "0/U": """
dimensions [0 1 -1 0 0 0 0];
internalField uniform (0 0 0);
boundaryField
{
    inlet { type fixedValue; value uniform (1 0 0); }
    outlet { type zeroGradient; }
    "(walls|obstacle)" { type noSlip; }
    frontAndBack { type empty; }
}
""",
    "0/p": """
dimensions [0 2 -2 0 0 0 0];
internalField uniform 0;
boundaryField
{
    inlet { type zeroGradient; }
    outlet { type fixedValue; value uniform 0; }
    "(walls|obstacle)" { type zeroGradient; }
    frontAndBack { type empty; }
}
""",
}
# Each face of a box as its outward normal and four corners (x, y, z bits: 0 = low, 1 = high), counter-clockwise.
_BOX_FACES = (
    ((-1, 0, 0), ((0, 0, 0), (0, 0, 1), (0, 1, 1), (0, 1, 0))),
    ((1, 0, 0), ((1, 0, 0), (1, 1, 0), (1, 1, 1), (1, 0, 1))),
    ((0, -1, 0), ((0, 0, 0), (1, 0, 0), (1, 0, 1), (0, 0, 1))),
    ((0, 1, 0), ((0, 1, 0), (0, 1, 1), (1, 1, 1), (1, 1, 0))),
    ((0, 0, -1), ((0, 0, 0), (0, 1, 0), (1, 1, 0), (1, 0, 0))),
    ((0, 0, 1), ((0, 0, 1), (1, 0, 1), (1, 1, 1), (0, 1, 1))),
)


def _box_stl(name: str, low: tuple[float, ...], high: tuple[float, ...]) -> str:
    """An ASCII STL of an axis-aligned box: two triangles per face, normals outward."""
    lines = [f"solid {name}"]
    for normal, corners in _BOX_FACES:
        points = [" ".join(str(high[axis] if bit else low[axis]) for axis, bit in enumerate(c)) for c in corners]
        for triangle in ((points[0], points[1], points[2]), (points[0], points[2], points[3])):
            lines += [f"  facet normal {' '.join(map(str, normal))}", "    outer loop"]
            lines += [f"      vertex {point}" for point in triangle]
            lines += ["    endloop", "  endfacet"]
    return "\n".join([*lines, f"endsolid {name}", ""])


def _snappy_case(where: Path) -> Path:
    """A laminar channel (simpleFoam, Re 15 on the obstacle) round a box that snappyHexMesh cuts out of
    a blockMesh background: castellated and snapped, no layers, no feature extraction."""
    classes = {"0/U": "volVectorField", "0/p": "volScalarField"}
    for relative, body in _SNAPPY_CASE.items():
        path = where / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        header = _FOAM_HEADER.format(kind=classes.get(relative, "dictionary"), name=path.name)
        path.write_text(header + body)
    surface = where / "constant" / "triSurface" / "obstacle.stl"
    surface.parent.mkdir(parents=True)
    surface.write_text(_box_stl("obstacle", *_OBSTACLE))
    return where


def _cells(case: Path) -> int:
    header = (case / "constant" / "polyMesh" / "owner").read_text()[:2000]
    found = re.search(r"nCells:\s*(\d+)", header)
    assert found is not None, header
    return int(found.group(1))


def _patches(case: Path) -> str:
    return (case / "constant" / "polyMesh" / "boundary").read_text()


def test_a_snappy_hex_mesh_case_is_meshed_run_and_refined(home: Path, tmp_path: Path) -> None:
    background = _BACKGROUND[0] * _BACKGROUND[1]
    snapped = background - 12  # the obstacle's 4 x 3 cells are gone

    # Run by hand and checked: labgate's mesh-independence re-run meshes with blockMesh and snappyHexMesh
    # again, then refines the snapped mesh with one refineMesh pass (2-D: 4 times the cells).
    case = _snappy_case(tmp_path / "by-hand")
    _by_hand(
        case,
        "blockMesh > log.blockMesh 2>&1",
        "snappyHexMesh -overwrite > log.snappyHexMesh 2>&1",
        "simpleFoam > log.simpleFoam 2>&1",
    )
    assert _cells(case) == snapped and "obstacle" in _patches(case)
    before = tree_digest(case)
    code, report = _check(case, home, "--rerun")
    verdicts = _verdicts(report)
    assert code == 0 and report["decision"] == "accept", _all_reasons(report)
    mesh = verdicts["mesh-independence"]["metrics"]
    assert mesh["refinement"] == 2.0 and mesh["monitor_change"] < 0.05, mesh
    finer = Path(report["workdir"]) / "mesh-check" / "case"
    assert "Finished meshing without any errors" in (finer / "log.snappyHexMesh").read_text()
    assert "2D case; refining in directions x,y" in (finer / "log.refineMesh.1").read_text()
    assert _cells(finer) == 4 * snapped and "obstacle" in _patches(finer)
    assert tree_digest(case) == before, "the user's case was changed"

    # Re-run by labgate from the case as written: its own blockMesh and snappyHexMesh make the mesh.
    fresh = _snappy_case(tmp_path / "fresh")
    report = _run(fresh, home)
    assert report["accepted"] == ["base"], _all_reasons(report)
    base = home / "runs" / report["run_id"] / "experiments" / "base" / "case"
    assert "Finished meshing without any errors" in (base / "log.snappyHexMesh").read_text()
    assert _cells(base) == snapped and "obstacle" in _patches(base)
    assert not (fresh / "constant" / "polyMesh").exists(), "the user's case was changed"

    # A snappyHexMesh that fails (its surface is missing) fails the experiment, naming the step and the error.
    (fresh / "constant" / "triSurface" / "obstacle.stl").unlink()
    report = _run(fresh, home)
    assert report["status"] == "failed" and report["accepted"] == []
    assert "the re-run: snappy exited with code 1" in report["reason"], report["reason"]
    assert "Cannot find triSurfaceMesh" in report["reason"], report["reason"]
