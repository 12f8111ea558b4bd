"""A red-team pass on how labgate reads OpenFOAM dictionaries where OpenFOAM reads them otherwise.

Relaxation factors written under `default`, a POSIX class (`"[[:upper:]]"`) or a second `equations { }` were
read as absent, so a stalled pitzDaily 62 % RMS from its converged velocity was accepted; a `#remove`d patch
entry set the physical-range gate's speed scale to 100 m/s in a cavity whose walls OpenFOAM ran as noSlip; a
patch key `"(a+)+b"` kept `agent check` busy without end; a leftover `-1/` beside `0/` made an honest case fail
its reproduction; and a cavity with both `scale` and `convertToMeters` was read at the wrong Reynolds number.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import within_seconds
from tools.cfd.cases._generic_run import _start_folder
from tools.cfd.cases._generic_speed import imposed_speed
from tools.cfd.openfoam._foamread import UnreadPatternError, foam_pattern, parse_foam_dict
from tools.cfd.openfoam._relaxation import equation_relaxation

HEADER = "FoamFile { version 2.0; format ascii; class dictionary; object x; }\n"


@pytest.fixture
def alarm() -> Iterator[None]:
    with within_seconds(10):
        yield


@pytest.mark.parametrize(
    "relaxation",
    [
        'equations { "[[:upper:]]" 1e-2; default 1e-6; }',
        'equations { U 1e-2; ".*" 1e-6; } equations { }',
        'equations { "[[:alpha:]]+" 1e-2; } fields { p 0.3; }',
    ],
)
def test_relaxation_factors_are_read_as_openfoam_applies_them(tmp_path: Path, relaxation: str) -> None:
    fv_solution = tmp_path / "fvSolution"
    fv_solution.write_text(HEADER + f"relaxationFactors {{ {relaxation} }}\n")
    factor_of = equation_relaxation(fv_solution)
    assert factor_of("Ux") == pytest.approx(1e-2)
    assert factor_of("epsilon") <= 1e-2


def test_stock_relaxation_factors_read_as_before(tmp_path: Path) -> None:
    fv_solution = tmp_path / "fvSolution"
    fv_solution.write_text(HEADER + 'relaxationFactors { fields { p 0.3; } equations { U 0.7; "(k|epsilon).*" 0.5; } }')
    factor_of = equation_relaxation(fv_solution)
    assert (factor_of("Ux"), factor_of("k"), factor_of("epsilon"), factor_of("p")) == (0.7, 0.5, 0.5, 1.0)


def test_a_second_dictionary_of_one_name_merges_into_the_first_and_remove_removes() -> None:
    parsed = parse_foam_dict('a { x 1; y 2; } a { y 3; } b { p 1; q 2; #remove (p q) r 3; } c { s 1; #remove "s.*" }')
    assert parsed["a"] == {"x": "1", "y": "3"}
    assert {key: value for key, value in parsed["b"].items() if not key.startswith("#")} == {"r": "3"}
    assert "s" not in parsed["c"]


@pytest.mark.usefixtures("alarm")
@pytest.mark.parametrize("pattern", ["(a+)+b", "(a|aa)*c", "((ab)*)+"])
def test_a_pattern_that_backtracks_without_end_is_refused(pattern: str) -> None:
    with pytest.raises(UnreadPatternError, match="exponential"):
        foam_pattern(pattern)
    assert foam_pattern("[[:upper:]]").fullmatch("U") and foam_pattern("(inlet|outlet).*").fullmatch("outlet1")


def test_a_pattern_of_many_unbounded_repeats_is_refused() -> None:
    """`".*"` thirty times and a letter took 86 s to full-match one patch name (a power of the name's length)."""
    with within_seconds(10), pytest.raises(UnreadPatternError, match="repeats without bound 30 times"):
        foam_pattern(".*" * 30 + "Q")
    assert foam_pattern("(U|k|epsilon).*Final").fullmatch("UFinal") and foam_pattern(r"a\*b").fullmatch("a*b")


BOUNDARY = """3
(
    movingWall { type wall; inGroups 1(wall); nFaces 40; startFace 3120; }
    FIXED { type wall; inGroups 1(wall); nFaces 120; startFace 3160; }
    frontAndBack { type empty; inGroups 1(empty); nFaces 3200; startFace 3280; }
)
"""


def _cavity_case(tmp_path: Path, walls: str) -> Path:
    case = tmp_path / "case"
    (case / "constant" / "polyMesh").mkdir(parents=True)
    (case / "0").mkdir()
    (case / "system").mkdir()
    (case / "constant" / "polyMesh" / "boundary").write_text(HEADER + BOUNDARY)
    (case / "0" / "U").write_text(
        HEADER + "dimensions [0 1 -1 0 0 0 0];\ninternalField uniform (0 0 0);\nboundaryField\n{\n"
        "    movingWall { type fixedValue; value uniform (1 0 0); }\n"
        f"{walls}\n    frontAndBack {{ type empty; }}\n}}\n"
    )
    return case


def test_a_removed_patch_entry_sets_no_speed(tmp_path: Path) -> None:
    walls = '    FIXED { type fixedValue; value uniform (100 0 0); }\n    #remove FIXED\n    "FIX.*" { type noSlip; }'
    speed = imposed_speed(_cavity_case(tmp_path, walls))
    assert speed.speed == pytest.approx(1.0), speed.basis
    assert "movingWall" in speed.basis


@pytest.mark.usefixtures("alarm")
def test_a_patch_pattern_that_backtracks_without_end_is_not_evaluated(tmp_path: Path) -> None:
    case = _cavity_case(tmp_path, '    "a+" { type noSlip; }\n    "(a+)+b" { type fixedValue; value uniform (9 0 0); }')
    boundary = case / "constant" / "polyMesh" / "boundary"
    boundary.write_text(boundary.read_text().replace("FIXED", "a" * 40))
    speed = imposed_speed(case)
    assert "cannot be read" in speed.basis and "set u_ref" in speed.basis


def test_the_reproduction_starts_from_the_folder_the_control_dict_names(tmp_path: Path) -> None:
    case = tmp_path / "case"
    for name in ("-1", "0", "0.5"):
        (case / name).mkdir(parents=True)
    (case / "system").mkdir()
    (case / "system" / "controlDict").write_text(HEADER + "startFrom startTime;\nstartTime 0;\nendTime 1;\n")
    times = [(-1.0, case / "-1"), (0.0, case / "0"), (0.5, case / "0.5")]
    assert _start_folder(case, times) == case / "0"
    (case / "system" / "controlDict").write_text(HEADER + "startTime 7;\n")
    assert _start_folder(case, times) == case / "-1"  # no folder at 7: the earliest, as before


def test_a_cavity_mesh_scaled_by_scale_is_read_at_that_scale(tmp_path: Path) -> None:
    from tests.test_check_stock_cases import _tutorial
    from tools.cfd.cases._cavity_task import CavityCase

    case = _tutorial("icoFoam/cavity/cavity", tmp_path / "cavity")
    mesh = case / "system" / "blockMeshDict"
    text = mesh.read_text()
    assert "scale   0.1;" in text
    mesh.write_text(text.replace("scale   0.1;", "convertToMeters 1;\nscale 0.1;"))
    inferred = CavityCase().infer(case)
    assert inferred["length"] == pytest.approx(0.1) and inferred["re"] == pytest.approx(10.0)
    shutil.rmtree(case)
