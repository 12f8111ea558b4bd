"""A user case's start fields given cell by cell: no refined run starts from them, and the mesh gate says why.

The payload is the red-team's: the converged fields of a cavity planted as the start folder of a case that
runs four steps from there. Its log is clean and the reproduction re-run matches it cell by cell; the mesh
gate is what must refuse it, by rule and with the reason, not because refineMesh happens to stumble.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from tests.test_cfd_reproduction import _cavity, _check, _latest
from tests.test_check_stock_cases import _reasons, _run_by_hand, _set_entry, _verdict
from tools.cfd.cases._start_state import given_start_fields, refusal, start_from_originals

_HEADER = "FoamFile\n{\n    version 2.0;\n    format ascii;\n    class volScalarField;\n    object %s;\n}\n"


def _field(folder: Path, name: str, internal: str, *, compressed: bool = False) -> None:
    text = (_HEADER % name) + f"dimensions [0 0 0 0 0 0 0];\ninternalField {internal};\nboundaryField {{}}\n"
    if compressed:
        (folder / f"{name}.gz").write_bytes(gzip.compress(text.encode()))
    else:
        (folder / name).write_text(text)


def _case(tmp_path: Path) -> tuple[Path, Path]:
    case = tmp_path / "case"
    start = case / "0"
    start.mkdir(parents=True)
    (case / "system").mkdir()
    return case, start


def test_fields_listed_cell_by_cell_are_named_and_uniform_ones_are_not(tmp_path: Path) -> None:
    case, start = _case(tmp_path)
    _field(start, "U", "uniform (1 0 0)")
    _field(start, "p", "nonuniform List<scalar> 3(1 2 3)")
    _field(start, "k", "nonuniform List<scalar> 2(1 2)", compressed=True)
    _field(start, "T", "uniform 300 // internalField nonuniform in a comment is no entry")
    (start / "nut").write_text((_HEADER % "nut") + '#include "given"\n')  # its entry lies in a missing file
    (start / "include").mkdir()
    (start / "include" / "settings").write_text("speed 1;\n")
    (start / "include" / "planted").write_text("internalField nonuniform List<scalar> 2(1 2);\n")
    settings = '#include "include/settings"\ninternalField uniform $speed;\n'
    (start / "nuTilda").write_text((_HEADER % "nuTilda") + settings)
    (start / "omega").write_text((_HEADER % "omega") + 'internalField uniform 1;\n#include "include/planted"\n')
    (start / "epsilon").write_text((_HEADER % "epsilon") + '// #include "include/planted"\ninternalField uniform 1;\n')
    (start / "cellDist").write_bytes(b"\x00\xff" * 64)  # no internalField: no field OpenFOAM reads
    _field(start, "alphat.orig", "nonuniform List<scalar> 1(4)")  # an original is not a start field
    (start / "polyMesh").mkdir()
    assert given_start_fields(case, start) == ["k", "nut", "omega", "p"]
    assert "0/ (k, nut, p" in refusal(start, ["k", "nut", "p"])


def test_a_field_two_entries_make_nonuniform_is_named(tmp_path: Path) -> None:
    """OpenFOAM takes the last of two entries: a uniform one first does not make the field uniform."""
    case, start = _case(tmp_path)
    (start / "U").write_text(
        (_HEADER % "U") + "internalField uniform (0 0 0);\ninternalField nonuniform List<vector> 1((1 0 0));\n"
    )
    assert given_start_fields(case, start) == ["U"]


def test_a_list_behind_a_macro_an_optional_include_or_another_directive_is_named(tmp_path: Path) -> None:
    """Only `#include` and `#includeIfPresent` were followed and only a word after internalField read: a list
    given through `$given`, `#sinclude` or a directive the reader does not know passed as uniform."""
    case, start = _case(tmp_path)
    given = "given nonuniform List<scalar> 2(1 2);\n"
    (start / "p").write_text((_HEADER % "p") + given + "internalField $given;\n")
    (start / "planted").write_text("internalField nonuniform List<scalar> 2(1 2);\n")
    (start / "U").write_text((_HEADER % "U") + 'internalField uniform (0 0 0);\n#sinclude "planted"\n')
    (start / "k").write_text((_HEADER % "k") + "internalField uniform 1;\n#eval{ 1 }\n")
    (start / "T").write_text((_HEADER % "T") + '#sinclude "absent"\n#inputMode merge\ninternalField uniform 1;\n')
    assert given_start_fields(case, start) == ["U", "k", "p", "planted"]


def test_a_hand_run_setfields_start_goes_back_to_its_uniform_original(tmp_path: Path) -> None:
    """`cp 0/alpha.orig 0/alpha; setFields` run by hand leaves alpha nonuniform; labgate runs setFields itself."""
    case, start = _case(tmp_path)
    _field(start, "alpha", "nonuniform List<scalar> 3(0 1 1)")
    _field(start, "alpha.orig", "uniform 0")
    _field(start, "p", "nonuniform List<scalar> 3(0 1 1)")
    _field(start, "p.orig", "nonuniform List<scalar> 3(0 1 1)")  # not uniform either: stays given
    assert start_from_originals(case, start) == []  # no setFieldsDict: nothing would set them again
    (case / "system" / "setFieldsDict").write_text("defaultFieldValues (); regions ();\n")
    assert start_from_originals(case, start) == ["alpha"]
    assert "uniform 0" in (start / "alpha").read_text()
    assert given_start_fields(case, start) == ["p"]


@pytest.mark.openfoam
@pytest.mark.usefixtures("openfoam", "bubblewrap")
@pytest.mark.parametrize("mesher", ["refineMesh", "blockMesh"])
def test_a_converged_start_planted_a_few_steps_from_the_end_is_refused_by_rule(tmp_path: Path, mesher: str) -> None:
    """Without a blockMeshDict labgate refines with refineMesh, with one it meshes again: both refuse alike."""
    ran = _cavity(tmp_path / "ran", end_time="0.5", write_interval="100")
    planted = tmp_path / "planted"
    planted.mkdir()
    for name in ("constant", "system"):
        shutil.copytree(ran / name, planted / name)
    start = _latest(ran)
    shutil.copytree(start, planted / start.name, ignore=shutil.ignore_patterns("uniform"))
    if mesher == "refineMesh":
        (planted / "system" / "blockMeshDict").unlink()
    control = planted / "system" / "controlDict"
    _set_entry(control, "startTime", start.name)
    _set_entry(control, "endTime", f"{float(start.name) + 0.02:g}")
    _set_entry(control, "writeInterval", "4")
    _run_by_hand(planted, "icoFoam > log.icoFoam")

    report = _check(planted, tmp_path / "home")
    assert report["decision"] != "accept", _reasons(report)
    assert _verdict(report, "reproduction")["decision"] == "accept", _reasons(report)  # it does reproduce
    mesh = _verdict(report, "mesh-independence")
    assert mesh["decision"] == "reject", _reasons(report)
    assert f"fields given cell by cell in {start.name}/ (U, p" in mesh["reasons"][0], mesh
