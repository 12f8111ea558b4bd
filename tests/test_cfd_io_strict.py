"""OpenFOAM input read strictly at the source: block counts only outside comments, time directories only
under the names OpenFOAM writes, and field lists only of the length the mesh calls for."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tools.cfd import (
    CavityParams,
    FieldFormatError,
    FieldSizeError,
    mesh_cell_count,
    parse_internal_field,
    profiles_from_fields,
    read_cell_centres,
    read_internal_field,
    read_patch_field,
)
from tools.cfd.cases._generic_control import scale_block_counts
from tools.cfd.openfoam._fields import numbered_directories, time_name_value

CAVITY = Path("/usr/share/doc/openfoam-examples/examples/incompressible/icoFoam/cavity/cavity/system/blockMeshDict")
PLAIN_BLOCK = "hex (0 1 2 3 4 5 6 7) (20 20 1) simpleGrading (1 1 1)"
MACRO_BLOCK = "hex (0 1 2 3 4 5 6 7) ($n $n 1) simpleGrading (1 1 1)"


def _cavity_block_mesh() -> str:
    if CAVITY.is_file():
        return CAVITY.read_text()
    return f"FoamFile {{ format ascii; class dictionary; object blockMeshDict; }}\nblocks\n(\n    {PLAIN_BLOCK}\n);\n"


@pytest.mark.parametrize(
    "commented",
    [f"// {PLAIN_BLOCK}", f"/* {PLAIN_BLOCK} */", f"/*\n    {PLAIN_BLOCK}\n*/"],
    ids=["line", "block", "multiline"],
)
def test_block_counts_in_a_comment_are_not_scaled(commented: str) -> None:
    text = _cavity_block_mesh()
    assert PLAIN_BLOCK in text
    edited = text.replace(PLAIN_BLOCK, f"{commented}\n    {MACRO_BLOCK}").replace("scale", "n 20;\nscale", 1)
    assert scale_block_counts(edited, 1.5) is None


def test_block_counts_after_a_string_holding_slashes_are_scaled() -> None:
    text = _cavity_block_mesh().replace(PLAIN_BLOCK, f'url "http://x/*"; {PLAIN_BLOCK}')
    scaled = scale_block_counts(text, 1.5)
    assert scaled is not None and "(30 30 1)" in scaled and '"http://x/*"' in scaled
    assert scaled.replace("(30 30 1)", "(20 20 1)") == text


def test_commented_blocks_stay_as_written_while_the_real_ones_scale() -> None:
    text = f"blocks\n(\n    // {PLAIN_BLOCK}\n    {PLAIN_BLOCK}\n);\n"
    assert (
        scale_block_counts(text, 2)
        == f"blocks\n(\n    // {PLAIN_BLOCK}\n    {PLAIN_BLOCK.replace('20 20', '40 40')}\n);\n"
    )


def test_a_mix_of_plain_and_macro_counts_is_not_scaled_halfway() -> None:
    text = f"blocks\n(\n    {PLAIN_BLOCK}\n    {MACRO_BLOCK.replace('0 1 2 3', '1 8 9 2')}\n);\n"
    assert scale_block_counts(text, 1.5) is None


@pytest.mark.parametrize(
    "name", ["1_000", " 200", "200 ", "\u0661\u0662", "inf", "-inf", "nan", "Infinity", "1e999", "1e+", "0x10", "1.5.2"]
)
def test_only_decimal_time_names_are_times(tmp_path: Path, name: str) -> None:
    (tmp_path / "0").mkdir()
    (tmp_path / name).mkdir()
    assert time_name_value(name) is None
    assert [folder.name for _, folder in numbered_directories(tmp_path)] == ["0"]


@pytest.mark.parametrize(
    "name,value", [("0", 0.0), ("0.5", 0.5), ("1e-05", 1e-5), ("2e+06", 2e6), ("-1", -1.0), ("1.", 1.0), ("100", 100.0)]
)
def test_time_names_openfoam_writes_are_read(tmp_path: Path, name: str, value: float) -> None:
    (tmp_path / name).mkdir()
    assert numbered_directories(tmp_path) == [(value, tmp_path / name)]


def _vectors(count: int) -> str:
    rows = "\n".join(f"({k} 0 0)" for k in range(count))
    header = "FoamFile { format ascii; class volVectorField; }\n"
    return f"{header}internalField nonuniform List<vector> {count}\n(\n{rows}\n)\n;\n"


def _owner_note(case: Path, cells: int, where: str = "constant") -> None:
    mesh = case / where / "polyMesh"
    mesh.mkdir(parents=True)
    (mesh / "owner").write_text(
        "FoamFile\n{\n    format ascii;\n    class labelList;\n"
        f'    note "nPoints:10 nCells:{cells} nFaces:12 nInternalFaces:2";\n    object owner;\n}}\n'
        "0()\n"
    )
    (mesh / "faces").write_text("FoamFile { class faceList; object faces; }\n0()\n")  # what OpenFOAM looks for


def test_a_list_shorter_than_the_mesh_is_an_error_naming_both_counts() -> None:
    with pytest.raises(FieldSizeError, match=r"0\.5/U holds 3 values, expected 400"):
        parse_internal_field(_vectors(3), "case/0.5/U", expected=400)
    assert parse_internal_field(_vectors(3), "case/0.5/U", expected=3).shape == (3, 3)
    uniform = parse_internal_field("internalField uniform (1 0 0);", "p", n_cells=1, expected=5)
    assert uniform.shape == (5, 3)


def test_cell_centres_are_checked_against_the_mesh_cell_count(tmp_path: Path) -> None:
    _owner_note(tmp_path, 400)
    (tmp_path / "0.5").mkdir()
    (tmp_path / "0.5" / "C").write_text(_vectors(3))
    assert mesh_cell_count(tmp_path, tmp_path / "0.5") == 400
    with pytest.raises(FieldSizeError, match=r"C holds 3 values, expected 400"):
        read_cell_centres(tmp_path, tmp_path / "0.5")


def test_a_mesh_written_at_a_time_is_the_one_its_fields_are_checked_against(tmp_path: Path) -> None:
    _owner_note(tmp_path, 400)
    _owner_note(tmp_path, 3, where="0.2")
    for name in ("0", "0.5"):
        (tmp_path / name).mkdir(exist_ok=True)
    (tmp_path / "0.5" / "C").write_text(_vectors(3))
    assert read_cell_centres(tmp_path, tmp_path / "0.5").shape == (3, 3)
    assert mesh_cell_count(tmp_path, tmp_path / "0") == 400


def test_without_a_cell_note_nothing_is_checked(tmp_path: Path) -> None:
    (tmp_path / "0.5").mkdir()
    (tmp_path / "0.5" / "C").write_text(_vectors(3))
    assert mesh_cell_count(tmp_path, tmp_path / "0.5") is None
    assert read_cell_centres(tmp_path, tmp_path / "0.5").shape == (3, 3)


def test_a_cavity_whose_fields_do_not_fit_its_mesh_is_not_read(tmp_path: Path) -> None:
    """A 400-cell cavity whose latest time holds 4 centres and 4 velocities (consistent with each other)."""
    _owner_note(tmp_path, 400)
    (tmp_path / "0").mkdir()
    (tmp_path / "0.5").mkdir()
    centres = "\n".join(f"({x} {y} 0.005)" for x in (0.025, 0.075) for y in (0.025, 0.075))
    (tmp_path / "0.5" / "C").write_text(f"internalField nonuniform List<vector> 4\n(\n{centres}\n)\n;\n")
    (tmp_path / "0.5" / "U").write_text(_vectors(4))
    with pytest.raises(FieldFormatError, match=r"holds 4 values, expected 400"):
        profiles_from_fields(tmp_path, CavityParams(re=100, cells=20))


def test_a_patch_value_list_must_fit_the_patch(tmp_path: Path) -> None:
    field = tmp_path / "wallShearStress"
    field.write_text(
        "FoamFile { format ascii; }\ninternalField uniform (0 0 0);\nboundaryField\n{\n"
        "    lowerWall\n    {\n        type calculated;\n"
        "        value nonuniform List<vector> 2((1 0 0) (2 0 0));\n    }\n}\n"
    )
    assert read_patch_field(field, "lowerWall", expected=2).shape == (2, 3)
    with pytest.raises(FieldSizeError, match=r"patch lowerWall\) holds 2 values, expected 20"):
        read_patch_field(field, "lowerWall", expected=20)
    assert np.all(read_internal_field(field, expected=6) == 0)
