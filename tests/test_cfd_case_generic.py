"""`cfd/case` without OpenFOAM: the reference CSV, the independent probe, what is refused and stripped."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import agent
from tools import TaskError
from tools.cfd import CfdWorkload, ReferenceFormatError, compare_reference, parse_reference, read_reference
from tools.cfd.cases._generic_control import refuse_code, scale_block_counts, solve_control, stripped
from tools.cfd.openfoam._foamread import parse_foam_dict

DATA = Path(__file__).parent / "data" / "cfd_case"
HEADER = "quantity,x,y,z,value,tolerance\n"


# -- the reference CSV ----------------------------------------------------------------------------------


def test_a_reference_reads_absolute_and_relative_tolerances() -> None:
    points = parse_reference("# a comment\n" + HEADER + "Ux,0.05,0.02,0.005,-0.1,0.01\np,1,2,3,10,5%\n", "r.csv")
    assert [p.quantity for p in points] == ["Ux", "p"]
    assert points[0].allowed() == pytest.approx(0.01)
    assert points[1].relative and points[1].allowed() == pytest.approx(0.5)
    assert len(read_reference(DATA / "cavity_re100_ghia_u.csv")) == 14


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "holds no rows"),
        ("quantity,x,y,value\nUx,1,2,3\n", "the header must be"),
        (HEADER, "no data row"),
        (HEADER + "Ux,1,2,3,4\n", "5 columns, expected 6"),
        (HEADER + "Ux,1,2,3,four,0.1\n", "row 2: non-numeric"),
        (HEADER + "Ux,1,2,3,4,-1\n", "tolerance >= 0"),
        (HEADER + "Ux,1,2,1e999,4,1\n", "finite"),
        (HEADER + "Ux,1,2,nan,4,1\n", "non-numeric"),
        (HEADER + "U x,1,2,3,4,1\n", "not a field name"),
        (HEADER + "U\u0445,1,2,3,4,1\n", "not a field name"),  # a Cyrillic x: no field of any case
        (HEADER + "Ux,1_000,2,3,4,1\n", "non-numeric"),  # float() reads 1000
        (HEADER + "Ux,\u0661,2,3,4,1\n", "non-numeric"),  # an Arabic-Indic one
        (HEADER + "Ux,1,2,3,4,1\nUx,1,2,3,5,1\n", "row 3: Ux at \\(1, 2, 3\\) is given already, in row 2"),
    ],
)
def test_a_malformed_reference_is_named_with_its_row(text: str, message: str) -> None:
    with pytest.raises(ReferenceFormatError, match=message):
        parse_reference(text, "r.csv")


def test_a_reference_saved_with_a_byte_order_mark_is_read() -> None:
    """Spreadsheets write one before a "CSV UTF-8" file; the header was refused as if misspelled."""
    (point,) = parse_reference("\ufeff" + HEADER + "Ux,1,2,3,4,1\n", "r.csv")
    assert point.quantity == "Ux" and point.value == 4.0


def _field(path: Path, kind: str, rows: list[str]) -> None:
    body = "\n".join(rows)
    path.write_text(
        f"FoamFile\n{{\n    format ascii;\n    class vol{kind.capitalize()}Field;\n}}\n"
        f"internalField nonuniform List<{kind}>\n{len(rows)}\n(\n{body}\n)\n;\nboundaryField\n{{\n}}\n"
    )


def test_the_probe_interpolates_the_raw_cells_of_a_2d_mesh(tmp_path: Path) -> None:
    folder = tmp_path / "1"
    folder.mkdir()
    xs, ys = np.meshgrid((np.arange(10) + 0.5) / 10, (np.arange(8) + 0.5) / 8)
    centres = [f"({x:.6g} {y:.6g} 0.05)" for x, y in zip(xs.ravel(), ys.ravel(), strict=True)]
    # A linear field is interpolated exactly: Ux = 2x + y, p = 3 - x.
    velocity = [f"({2 * x + y:.8g} 0 0)" for x, y in zip(xs.ravel(), ys.ravel(), strict=True)]
    pressure = [f"{3 - x:.8g}" for x in xs.ravel()]
    _field(folder / "C", "vector", centres)
    _field(folder / "U", "vector", velocity)
    _field(folder / "p", "scalar", pressure)
    rows = ["Ux,0.5,0.5,0.05,1.5,0.001", "Ux,0.33,0.41,0.05,1.07,0.001", "p,0.7,0.2,0.05,2.3,1%"]
    rows.append("magU,0.5,0.5,0,1.5,0")
    text = HEADER + "\n".join(rows) + "\n"
    results = {r.quantity: r for r in compare_reference(tmp_path, folder, parse_reference(text, "r.csv"))}
    assert results["Ux"].failed == 0 and results["Ux"].worst_error < 1e-6
    assert results["p"].failed == 0 and results["magU"].worst_error < 1e-6
    far = parse_reference(HEADER + "Ux,5,0.5,0.05,1,0.1\nUx,0.5,0.5,0.05,9,0.1\n", "r.csv")
    (result,) = compare_reference(tmp_path, folder, far)
    assert result.outside == 1 and result.failed == 1  # off the mesh, and a value out of tolerance
    with pytest.raises(ValueError, match="no field 'k'"):
        compare_reference(tmp_path, folder, parse_reference(HEADER + "k,0.5,0.5,0,1,1\n", "r.csv"))
    # The magnitude of a scalar is named, not taken row by row of the wrong shape (an IndexError deep in the probe).
    with pytest.raises(ValueError, match="p is a scalar field: compare p itself"):
        compare_reference(tmp_path, folder, parse_reference(HEADER + "magp,0.5,0.5,0,1,1\n", "r.csv"))


# -- what is refused and what is stripped ---------------------------------------------------------------------


def _case(root: Path) -> Path:
    for folder in ("system", "constant", "0"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "system" / "controlDict").write_text(
        "application icoFoam;\nstartTime 0;\nendTime 0.5;\ndeltaT 0.005;\nwriteControl timeStep;\n"
        'writeInterval 20;\nlibs ("libmine.so");\n#include "extra"\n'
        'functions\n{\n    marker\n    {\n        type systemCall;\n        executeCalls ("touch pwned");\n    }\n'
        "    #includeFunc streamlines\n}\n"
    )
    (root / "0" / "U").write_text("// hard-coded inlet, no code here\ninternalField uniform (0 0 0);\n")
    return root


def test_code_in_the_case_is_refused_naming_the_file(tmp_path: Path) -> None:
    case = _case(tmp_path / "case")
    refuse_code(case)  # the controlDict is replaced, never scanned; a comment saying "hard-coded" is not code
    for relative, text in [
        ("0/U", "boundaryField { lid { type codedFixedValue; name x; code #{ #}; } }"),
        ("constant/transportProperties", "nu #codeStream { code #{ os << 1; #}; };"),
        ("system/blockMeshDict", 'convertToMeters #calc "0.1*1";'),
        ("system/fvSolution", 'libs ("libevil.so");'),
    ]:
        original = (case / relative).read_text() if (case / relative).exists() else None
        (case / relative).write_text(text)
        with pytest.raises(TaskError, match=f"refused: {relative} uses"):
            refuse_code(case)
        if original is None:
            (case / relative).unlink()
        else:
            (case / relative).write_text(original)


@pytest.mark.parametrize(
    "relative",
    [
        "0/log.bc",
        "system/log.evil",
        "log.included",
        "constant/postProcessing/evil",
        "postProcessing/x/evil",
        "dynamicCode/evil",
        "0/dynamicCode/evil",
    ],
)
def test_code_is_refused_whatever_the_file_is_named(tmp_path: Path, relative: str) -> None:
    """`#include` reads any file of the case as a dictionary: files named like results were not scanned, and a
    coded condition in `0/log.bc`, included from `0/U`, reached OpenFOAM's own switch."""
    case = _case(tmp_path / "case")
    (case / "0" / "U").write_text(f'internalField uniform (0 0 0);\n#include "{Path(relative).name}"\n')
    (case / relative).parent.mkdir(parents=True, exist_ok=True)
    (case / relative).write_text('lid { type codedFixedValue; name x; code #{ system("id"); #}; }\n')
    with pytest.raises(TaskError, match=f"refused: {relative} uses 'codedFixedValue'"):
        refuse_code(case)
    (case / relative).write_text('libs ("/usr/lib/x86_64-linux-gnu/libgfortran.so.5");\n')
    with pytest.raises(TaskError, match=relative):
        refuse_code(case)


def test_the_users_controldict_is_replaced_and_what_was_dropped_is_listed(tmp_path: Path) -> None:
    case = _case(tmp_path / "case")
    control = parse_foam_dict((case / "system" / "controlDict").read_text())
    notes = stripped(control)
    assert any("functions/marker (type systemCall): not run" in note for note in notes), notes
    assert any("#includeFunc streamlines" in note for note in notes), notes
    assert any("libs: not loaded" in note for note in notes) and any("#include" in note for note in notes)
    text, end = solve_control(control, "icoFoam", end_time=0.1, functions={})
    assert end == 0.1 and "systemCall" not in text and "libmine" not in text and "#include" not in text
    written = parse_foam_dict(text)
    assert written["InfoSwitches"] == {"allowSystemOperations": "0"} and written["writeFormat"] == "ascii"
    assert written["writeInterval"] == "20" and written["functions"] == {}  # 0.1 / 0.005: one write, at the end


@pytest.mark.parametrize(
    "times",
    [
        "startTime 0; endTime 0.5; deltaT 1e-320;",
        "startTime -1e308; endTime 1e308; deltaT 1;",
        "startTime 0; endTime 1e300; deltaT 1e-300;",
    ],
)
def test_a_step_count_past_any_usable_one_is_named_not_a_traceback(times: str) -> None:
    control = parse_foam_dict(f"application icoFoam; {times}")
    with pytest.raises(TaskError, match="time steps, not a usable count"):
        solve_control(control, "icoFoam", end_time=None, functions={})


def test_block_counts_scale_except_the_thin_direction() -> None:
    text = (
        "blocks\n(\n    hex (0 1 2 3 4 5 6 7) (20 20 1) simpleGrading (1 1 1)\n"
        "    hex (1 8 9 2 5 10 11 6) zone (7 3 1)\n);"
    )
    scaled = scale_block_counts(text, 1.5)
    assert scaled is not None and "(30 30 1)" in scaled and "zone (10 4 1)" in scaled
    assert scale_block_counts("blocks ( hex (0 1 2 3 4 5 6 7) ($nx $ny 1) );", 2) is None


def test_the_task_is_in_the_catalog_with_its_gates() -> None:
    task = next(t for t in CfdWorkload().tasks() if t.id == "cfd/case")
    assert task.gates == ["solver-log", "deliverables", "physical-range", "vision", "comparator", "mesh-independence"]
    CfdWorkload().validate(task)


@pytest.mark.slow
def test_a_malformed_reference_is_bad_input(home: Path, tmp_path: Path) -> None:
    case = _case(tmp_path / "case")
    result = agent(
        "check", "cfd/case", str(case), "--param", f"reference={DATA / 'malformed.csv'}", home=home, timeout=120
    )
    assert result.returncode == 2, result.stderr
    assert "the header must be quantity,x,y,z,value,tolerance" in result.stderr
    result = agent("run", "cfd/case", "--param", f"case_dir={tmp_path / 'nowhere'}", home=home, timeout=120)
    assert result.returncode == 2 and "not an OpenFOAM case directory" in result.stderr, result.stderr


def test_a_task_file_names_its_case_and_reference_beside_it(tmp_path: Path) -> None:
    case = _case(tmp_path / "mine" / "case")
    (tmp_path / "mine" / "ref.csv").write_text(HEADER + "p,0,0,0,1,1\n")
    base = next(t for t in CfdWorkload().tasks() if t.id == "cfd/case")
    task = base.model_copy(update={"params": {**base.params, "case_dir": "case", "reference": "ref.csv"}})
    resolved = CfdWorkload().read_task_files(task, tmp_path / "mine")
    assert resolved.params["case_dir"] == str(case.resolve())
    assert resolved.params["reference"] == str((tmp_path / "mine" / "ref.csv").resolve())
    CfdWorkload().validate(resolved)


@pytest.mark.parametrize("quantity", ["Cx", "Cy", "Cz", "C", "magC", "V"])
def test_a_reference_of_the_meshs_own_geometry_is_refused(quantity: str) -> None:
    """labgate writes the cell centres and volumes itself: a reference of them agreed with zero error and, as the
    mesh gate's monitor, never moved (accepted before, together with a case whose velocity went unjudged)."""
    with pytest.raises(ReferenceFormatError, match=f"'{quantity}' is the mesh's geometry"):
        parse_reference(HEADER + f"{quantity},0.05,0.02,0.005,0.05,0.01\n", "r.csv")
