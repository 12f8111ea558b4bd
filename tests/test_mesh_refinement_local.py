"""The mesh gate checks that every region of a user's mesh was refined, not only that the count rose.

Got through before: a blockMeshDict reading the flow's block through an `#include`d macro beside a
disconnected "ballast" block labgate could scale. Only the ballast was refined, the whole mesh had 1.62x
the cells (enough for the count rule at 1.5x), and the unchanged cavity was read as mesh-independent."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tools.cfd.cases._generic_control import scale_block_counts
from verifiers.cfd._refinement import UNREFINED_LIMIT, Refinement, measure_refinement, unrefined_problem

CAVITY = Path("/usr/share/doc/openfoam-examples/examples/incompressible/icoFoam/cavity/cavity")


def _field(kind: str, values: np.ndarray) -> str:
    rows = (
        "\n".join(f"({' '.join(f'{v:.9g}' for v in row)})" for row in values)
        if values.ndim == 2
        else "\n".join(f"{v:.9g}" for v in values)
    )
    return (
        f"FoamFile {{ version 2.0; format ascii; class vol{kind}Field; object x; }}\n"
        f"dimensions [0 0 0 0 0 0 0];\ninternalField nonuniform List<{kind.lower()}> {len(values)}\n(\n{rows}\n);\n"
        "boundaryField { }\n"
    )


def _rectangles(case: Path, time: str, regions: list[tuple[float, int, int]]) -> None:
    """Cell centres and volumes of nx x ny grids over unit squares starting at x0, written at `time`."""
    centres, volumes = [], []
    for x0, nx, ny in regions:
        xs, ys = np.meshgrid(x0 + (np.arange(nx) + 0.5) / nx, (np.arange(ny) + 0.5) / ny, indexing="ij")
        centres.append(np.column_stack([xs.ravel(), ys.ravel(), np.full(nx * ny, 0.05)]))
        volumes.append(np.full(nx * ny, 0.1 / (nx * ny)))
    (case / time).mkdir(parents=True, exist_ok=True)
    (case / time / "C").write_text(_field("Vector", np.vstack(centres)))
    (case / time / "V").write_text(_field("Scalar", np.concatenate(volumes)))


def _case(root: Path, regions: list[tuple[float, int]]) -> Path:
    """A result at time 1 of n x n grids over unit squares starting at x0."""
    _rectangles(root, "1", [(x0, n, n) for x0, n in regions])
    return root


def _measure(tmp_path: Path, before: list[tuple[float, int]], after: list[tuple[float, int]]) -> Refinement | str:
    original, refined = _case(tmp_path / "a", before), _case(tmp_path / "b", after)
    count = sum(n * n for _, n in before), sum(n * n for _, n in after)
    return measure_refinement(original, refined, 1.5, count)


def test_a_mesh_refined_everywhere_is_refined(tmp_path: Path) -> None:
    found = _measure(tmp_path, [(0, 20), (2, 20)], [(0, 30), (2, 30)])
    assert isinstance(found, Refinement) and found.worst == 0.0
    assert unrefined_problem(found, 1.5) is None


def test_a_mesh_refined_in_one_region_only_is_not(tmp_path: Path) -> None:
    """The ballast case's shape: 400 + 400 cells became 400 + 900, 1.62x in all."""
    found = _measure(tmp_path, [(0, 20), (2, 20)], [(0, 20), (2, 30)])
    assert isinstance(found, Refinement)
    assert found.cells == pytest.approx(0.5) and found.volume == pytest.approx(0.5)
    problem = unrefined_problem(found, 1.5)
    assert problem is not None and "50.0 % of the original mesh's cells" in problem and "not refined" in problem


def test_a_region_refined_by_far_less_than_asked_counts_as_unrefined(tmp_path: Path) -> None:
    found = _measure(tmp_path, [(0, 20), (2, 20)], [(0, 21), (2, 40)])
    assert isinstance(found, Refinement) and found.cells == pytest.approx(0.5)


def test_a_small_unrefined_share_within_the_limit_passes(tmp_path: Path) -> None:
    found = Refinement(cells=UNREFINED_LIMIT / 2, volume=UNREFINED_LIMIT / 3)
    assert unrefined_problem(found, 1.5) is None


def test_missing_volumes_are_a_reason_not_a_pass(tmp_path: Path) -> None:
    original, refined = _case(tmp_path / "a", [(0, 4)]), _case(tmp_path / "b", [(0, 6)])
    (refined / "1" / "V").unlink()
    found = measure_refinement(original, refined, 1.5, (16, 36))
    assert isinstance(found, str) and "refined run's cell centres and volumes" in found


def test_cell_centres_of_another_mesh_are_a_reason_not_a_pass(tmp_path: Path) -> None:
    original, refined = _case(tmp_path / "a", [(0, 4)]), _case(tmp_path / "b", [(0, 6)])
    found = measure_refinement(original, refined, 1.5, (16, 40))
    assert isinstance(found, str) and "refined run" in found


@pytest.mark.parametrize(
    "directive",
    [
        '#include "realBlock"',
        '#includeEtc "caseDicts/x"',
        "n $cells;",
        '#calc "2*3"',
        "#codeStream { }",
        "grading (1 hex 2); x $grading;",
    ],
)
def test_a_block_dictionary_with_a_directive_or_macro_is_not_scaled_by_its_text(directive: str) -> None:
    """A block read through a directive is not in the text: the mesh is then refined by refineMesh, whole."""
    text = f"{directive}\nblocks ( hex (0 1 2 3 4 5 6 7) (20 20 1) simpleGrading (1 $grading 1) );\n"
    assert scale_block_counts(text, 1.5) is None
    plain = 'blocks ( hex (0 1 2 3 4 5 6 7) (20 20 1) simpleGrading (1 1 1) ); // #include "x"\n'
    assert scale_block_counts(plain, 1.5) == plain.replace("(20 20 1)", "(30 30 1)")


BALLAST_BLOCKS = """FoamFile { version 2.0; format ascii; class dictionary; object blockMeshDict; }
scale 0.1;
#include "realBlock"
vertices
(
    (0 0 0) (1 0 0) (1 1 0) (0 1 0) (0 0 0.1) (1 0 0.1) (1 1 0.1) (0 1 0.1)
    (2 0 0) (3 0 0) (3 1 0) (2 1 0) (2 0 0.1) (3 0 0.1) (3 1 0.1) (2 1 0.1)
);
blocks
(
    $realBlock
    hex (8 9 10 11 12 13 14 15) (20 20 1) simpleGrading (1 1 1)
);
edges ();
boundary
(
    movingWall { type wall; faces ( (3 7 6 2) ); }
    fixedWalls { type wall; faces ( (0 4 7 3) (2 6 5 1) (1 5 4 0)
                                    (8 12 15 11) (10 14 13 9) (9 13 12 8) (11 15 14 10) ); }
    frontAndBack { type empty; faces ( (0 3 2 1) (4 5 6 7) (8 11 10 9) (12 13 14 15) ); }
);
mergePatchPairs ();
"""


@pytest.mark.slow
@pytest.mark.openfoam
@pytest.mark.usefixtures("openfoam", "bubblewrap")
def test_a_flow_block_read_through_a_macro_is_refined_with_the_rest(home: Path, tmp_path: Path) -> None:
    from tests.conftest import agent
    from tools.cfd import latest_time, read_internal_field

    case = tmp_path / "ballast"
    shutil.copytree(CAVITY, case)
    (case / "system" / "PDRblockMeshDict").unlink(missing_ok=True)
    (case / "system" / "realBlock").write_text("realBlock hex (0 1 2 3 4 5 6 7) (20 20 1) simpleGrading (1 1 1);\n")
    (case / "system" / "blockMeshDict").write_text(BALLAST_BLOCKS)
    result = agent("run", "cfd/case", "--param", f"case_dir={case}", "--json", home=home)
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    mesh = next(v for v in summary["verdicts"] if v["gate"] == "mesh-independence")
    runs = sorted(home.glob("runs/*/experiments/*/case")) + sorted(home.glob("runs/*/experiments/*/mesh-check/case"))
    counts = []
    for run_case in runs[:2]:
        found = latest_time(run_case)
        assert found is not None
        centres = read_internal_field(found[1] / "C", within=run_case)
        counts.append((int((centres[:, 0] < 0.1).sum()), int((centres[:, 0] > 0.2).sum())))
    assert counts[0] == (400, 400)
    assert counts[1][0] >= 2 * 400 and counts[1][1] >= 2 * 400, (counts, mesh)  # the cavity refined too


@pytest.mark.parametrize(
    ("refined", "decision"),
    [([(0, 20, 10), (2, 20, 10)], "accept"), ([(0, 10, 5), (2, 20, 15)], "reject")],
    ids=["everywhere", "one region only"],
)
def test_the_gate_refuses_a_user_mesh_refined_in_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refined: list[tuple[float, int, int]], decision: str
) -> None:
    from tests import test_redteam_cfd_gates as gates

    monkeypatch.setattr(gates.Family, "user_mesh", True)
    cells = sum(nx * ny for _, nx, ny in refined)

    def write_refined(where: Path, **values: float) -> Path:
        directory = gates.write_run(where, cells=cells, quantity=0.5)
        _rectangles(directory / "case", str(gates.END), refined)
        return directory

    original = tmp_path / "experiment" / "case" / str(gates.END)
    real_write_run = gates.write_run

    def write_original(directory: Path, **values: float) -> Path:
        written = real_write_run(directory, **values)  # type: ignore[arg-type]
        if directory.name == "experiment":
            _rectangles(written / "case", str(gates.END), [(0, 10, 5), (2, 10, 5)])
        return written

    monkeypatch.setattr(gates, "write_run", write_original)
    verdict = gates._mesh_verdict(tmp_path, monkeypatch, gates.ORIGINAL, {}, write_refined)
    assert original.is_dir()
    assert verdict.decision == decision, verdict.reasons
    if decision == "reject":
        assert "50.0 % of the original mesh's cells" in " ".join(verdict.reasons)


def test_each_connected_region_is_measured_on_its_own(tmp_path: Path) -> None:
    """A 6x6 region left whole beside a 70x70 one refined: 0.7 % of the mesh, all of its own region."""
    original, refined = _case(tmp_path / "a", [(0, 6), (2, 70)]), _case(tmp_path / "b", [(0, 6), (2, 105)])
    for case, fine in ((original, 70), (refined, 105)):  # the small region: 1 % of the volume
        volumes = np.concatenate([np.full(36, 0.001 / 36), np.full(fine**2, 0.1 / fine**2)])
        (case / "1" / "V").write_text(_field("Scalar", volumes))
    labels = np.concatenate([np.zeros(36, dtype=np.int64), np.ones(4900, dtype=np.int64)])
    whole = measure_refinement(original, refined, 1.5, (36 + 4900, 36 + 105**2))
    assert isinstance(whole, Refinement) and unrefined_problem(whole, 1.5) is None  # the mesh as one: passed
    found = measure_refinement(original, refined, 1.5, (36 + 4900, 36 + 105**2), labels=labels)
    assert isinstance(found, Refinement) and found.cells == 1.0 and found.region_cells == 36
    problem = unrefined_problem(found, 1.5)
    assert problem is not None and "one of the original mesh's 2 unconnected regions (36 cells" in problem


def _cube(front_and_back: str, counts: str = "(20 20 1)") -> str:
    return (
        "vertices ((0 0 0) (1 0 0) (1 1 0) (0 1 0) (0 0 1) (1 0 1) (1 1 1) (0 1 1));\n"
        f"blocks ( hex (0 1 2 3 4 5 6 7) {counts} simpleGrading (1 1 1) );\n"
        "boundary (\n"
        "    lid { type wall; faces ((3 7 6 2)); }\n"
        "    walls { type wall; faces ((0 4 7 3) (2 6 5 1) (1 5 4 0)); }\n"
        f"    frontAndBack {{ type {front_and_back}; faces ((0 3 2 1) (4 5 6 7)); }}\n"
        ");\n"
    )


def test_one_cell_between_walls_is_refined_and_a_2d_thickness_is_not() -> None:
    """A cube meshed 20x20x1 between no-slip walls kept its one cell across the depth on every finer mesh."""
    assert scale_block_counts(_cube("wall"), 1.5) == _cube("wall", "(30 30 2)")
    assert scale_block_counts(_cube("empty"), 1.5) == _cube("empty", "(30 30 1)")
    assert scale_block_counts(_cube("wedge"), 1.5) == _cube("wedge", "(30 30 1)")
    # Faces no patch lists go to defaultPatch: empty unless it says otherwise.
    unlisted = _cube("empty").replace("    frontAndBack { type empty; faces ((0 3 2 1) (4 5 6 7)); }\n", "")
    assert scale_block_counts(unlisted, 1.5) == unlisted.replace("(20 20 1)", "(30 30 1)")
    walled = unlisted + "defaultPatch { name sides; type wall; }\n"
    assert scale_block_counts(walled, 1.5) == walled.replace("(20 20 1)", "(30 30 2)")
    # A face given otherwise than by four vertex labels: which faces are flat cannot be told, refineMesh refines.
    assert scale_block_counts(_cube("empty").replace("(0 3 2 1) (4 5 6 7)", "(0 4)"), 1.5) is None


def test_one_cell_blocks_of_a_flow_region_are_split() -> None:
    """A cavity written as one-cell blocks: the faces between them are inside the mesh, so only the
    2-D thickness (the empty front and back, unlisted here) keeps its one cell."""
    text = (
        "blocks (\n"
        "    hex (0 1 2 3 4 5 6 7) (1 1 1) simpleGrading (1 1 1)\n"
        "    hex (1 8 9 2 5 10 11 6) (1 1 1) simpleGrading (1 1 1)\n"
        ");\n"
        "boundary ( walls { type wall; faces ((0 4 7 3) (8 9 11 10) (1 5 4 0) (1 8 10 5) (3 7 6 2) (2 9 11 6)); } );\n"
    )
    assert scale_block_counts(text, 1.5) == text.replace("(1 1 1) simple", "(2 2 1) simple")
