"""One mesh per case, read where its fields live: a mesh kept in a time folder was solved on while labgate
refined, counted and paired faces with `constant/polyMesh`, and a header note sized host memory."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from tools import TaskError
from tools.cfd import FieldFormatError, mesh_folder, parse_internal_field
from tools.cfd.cases._generic_run import _start_only
from tools.cfd.openfoam._fields import MAX_UNIFORM_VALUES
from verifiers.cfd._same_case import solved_cells
from verifiers.cfd._vision import MeshMismatchError, checkerboard_index

HEADER = 'FoamFile\n{{\n    format ascii;\n    class labelList;\n    note "nCells:{cells}";\n    object {name};\n}}\n'


def _mesh(case: Path, where: str, cells: int, owner: list[int], neighbour: list[int]) -> None:
    mesh = case / where / "polyMesh"
    mesh.mkdir(parents=True)
    for name, labels in (("owner", owner), ("neighbour", neighbour)):
        body = "\n".join(str(label) for label in labels)
        (mesh / name).write_text(HEADER.format(cells=cells, name=name) + f"{len(labels)}\n(\n{body}\n)\n")
    (mesh / "faces").write_text(HEADER.format(cells=cells, name="faces") + "0\n(\n)\n")


def _case(tmp_path: Path, *, block_mesh: bool) -> Path:
    case = tmp_path / "case"
    (case / "0").mkdir(parents=True)
    (case / "0" / "U").write_text("internalField uniform (0 0 0);\n")
    (case / "system").mkdir()
    if block_mesh:
        (case / "system" / "blockMeshDict").write_text(
            "blocks ( hex (0 1 2 3 4 5 6 7) (5 5 1) simpleGrading (1 1 1) );\n"
        )
    return case


def test_a_start_folder_mesh_of_a_case_that_meshes_itself_is_removed(tmp_path: Path) -> None:
    case = _case(tmp_path, block_mesh=True)
    _mesh(case, "0", 36, [0, 1], [1, 2])
    _start_only(case)
    assert not (case / "0" / "polyMesh").exists() and (case / "0" / "U").is_file()


def test_a_mesh_given_only_in_the_start_folder_moves_to_constant(tmp_path: Path) -> None:
    case = _case(tmp_path, block_mesh=False)
    _mesh(case, "0", 36, [0, 1], [1, 2])
    _start_only(case)
    assert not (case / "0" / "polyMesh").exists()
    assert (case / "constant" / "polyMesh" / "owner").is_file()


def test_two_meshes_are_refused_naming_both(tmp_path: Path) -> None:
    case = _case(tmp_path, block_mesh=False)
    _mesh(case, "0", 36, [0, 1], [1, 2])
    _mesh(case, "constant", 25, [0, 1], [1, 2])
    with pytest.raises(TaskError, match=r"both 0/polyMesh and constant/polyMesh"):
        _start_only(case)


def test_the_mesh_gate_counts_the_cells_the_latest_fields_live_on(tmp_path: Path) -> None:
    case = tmp_path / "case"
    _mesh(case, "constant", 25, [0], [1])
    (case / "0").mkdir()
    (case / "0.5").mkdir()
    assert solved_cells(case) == 25
    _mesh(case, "0", 36, [0], [1])
    assert solved_cells(case) == 36, "the mesh the solver read (the start folder's) is the one counted"
    assert mesh_folder(case, case / "0.5") == case / "0" / "polyMesh"


def test_a_time_folder_with_an_owner_list_but_no_faces_is_not_the_mesh_openfoam_reads(tmp_path: Path) -> None:
    """OpenFOAM finds a time's mesh by its `faces` file: an owner list alone (with any cell note) in a time
    folder is not read by the solver, so it is not the mesh labgate counts either."""
    case = tmp_path / "case"
    _mesh(case, "constant", 25, [0], [1])
    (case / "0.5").mkdir(parents=True)
    (case / "0.5" / "polyMesh").mkdir()
    (case / "0.5" / "polyMesh" / "owner").write_text(HEADER.format(cells=9999, name="owner") + "1\n(\n0\n)\n")
    assert mesh_folder(case, case / "0.5") == case / "constant" / "polyMesh"
    assert solved_cells(case) == 25


def test_the_checkerboard_index_reads_the_fields_own_mesh_and_refuses_one_that_does_not_fit(tmp_path: Path) -> None:
    case = tmp_path / "case"
    (case / "0").mkdir(parents=True)
    (case / "0.5").mkdir()
    values = np.array([0.0, 1.0, 0.0, 1.0])
    # constant/ holds a larger mesh the fields do not live on; the start folder's 4-cell chain is theirs.
    _mesh(case, "constant", 64, [0, 10, 40], [10, 40, 63])
    with pytest.raises(MeshMismatchError, match="outside the field's 4"):
        checkerboard_index(case, values, case / "0.5")
    _mesh(case, "0", 4, [0, 1, 2], [1, 2, 3])
    index = checkerboard_index(case, values, case / "0.5")
    assert index > 0.5, "an odd-even field on its own mesh reads as checkerboarded"
    assert issubclass(MeshMismatchError, FieldFormatError)


def test_a_uniform_field_on_a_mesh_claiming_too_many_cells_is_refused_at_once() -> None:
    started = time.monotonic()
    with pytest.raises(FieldFormatError, match="more values than a field labgate reads can hold"):
        parse_internal_field("internalField uniform (0.5 0 0);\n", "case/1/U", n_cells=MAX_UNIFORM_VALUES + 1)
    with pytest.raises(FieldFormatError, match="more values than"):  # a vector's components count, not its cells
        parse_internal_field("internalField uniform (0.5 0 0);\n", "case/1/U", n_cells=MAX_UNIFORM_VALUES // 3 + 1)
    assert time.monotonic() - started < 1.0
    assert parse_internal_field("internalField uniform 2;\n", "case/1/p", n_cells=7).shape == (7,)


def test_without_a_cell_note_the_mesh_gate_counts_the_latest_cell_field(tmp_path: Path) -> None:
    """A mesh written without the note (the airFoil2D tutorial's) is counted by its solved fields' length."""
    case = tmp_path / "case"
    (case / "constant" / "polyMesh").mkdir(parents=True)
    (case / "constant" / "polyMesh" / "owner").write_text("FoamFile { object owner; }\n2\n(\n0\n1\n)\n")
    (case / "0").mkdir()
    (case / "0.5").mkdir()
    assert solved_cells(case) is None, "nothing says how many cells there are"
    rows = "\n".join("(0 0 0)" for _ in range(7))
    (case / "0.5" / "U").write_text(
        f"FoamFile {{ class volVectorField; }}\ninternalField nonuniform List<vector> 7\n(\n{rows}\n);\n"
    )
    assert solved_cells(case) == 7
