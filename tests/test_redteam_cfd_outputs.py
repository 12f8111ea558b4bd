"""The CFD gates against case outputs a hostile case or model could leave: forged log tails, time
directories named to be "latest", field files whose comments, duplicates or compressed twins say
something other than what OpenFOAM reads. Synthetic files, no solver needed; an honest control beside
each fault shows the same files without it are accepted.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from runs import GateResult
from tests.test_redteam_cfd_gates import _solver_log_verdict, _step_context, _vectors, write_run, write_step
from tools.cfd import FieldFormatError, mesh_cell_count, parse_internal_field, time_directories
from tools.cfd.openfoam._logs import parse_solver_log
from verifiers import get_gate, run_gate

GOOD = [(10.0, 0.1, 0.0), (9.0, -0.2, 0.0), (8.0, 0.0, 0.0)]
NAN = [("nan", "nan", "nan")] * 3


def _residual(value: str) -> str:
    return f"smoothSolver:  Solving for Ux, Initial residual = {value}, Final residual = {value}, No Iterations 2"


def test_an_end_from_an_earlier_run_does_not_close_a_later_one(tmp_path: Path) -> None:
    """A second run appended to a finished one's log stops early: the first run's 'End' is not its end."""
    directory = write_run(tmp_path / "experiment", cells=100, quantity=0.5)
    log = directory / "log.simpleFoam"
    log.write_text(log.read_text() + "".join(f"Time = {step}\n{_residual('1e-9')}\n" for step in range(1, 101)))
    verdict = _solver_log_verdict(directory)
    assert verdict.decision == "reject", verdict.reasons
    assert "does not increase" in " ".join(verdict.reasons)
    assert not parse_solver_log(log.read_text()).ended


def test_two_interleaved_runs_are_not_read_as_one(tmp_path: Path) -> None:
    directory = write_run(tmp_path / "experiment", cells=100, quantity=0.5)
    log = directory / "log.simpleFoam"
    lines = log.read_text().splitlines()
    log.write_text("\n".join(line for pair in zip(lines, lines, strict=True) for line in pair) + "\n")
    verdict = _solver_log_verdict(directory)
    assert verdict.decision == "reject", verdict.reasons
    assert "more than one run" in " ".join(verdict.reasons)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-inf", "1.#QNAN", "0x1p-3", "nan(0x8)"])
def test_a_last_residual_no_number_reads_is_divergence_not_a_skipped_line(tmp_path: Path, value: str) -> None:
    """The residual pattern once knew only 'nan', 'inf' and '-nan': any other spelling dropped the line, and
    the history ended at the last finite step."""
    directory = write_run(tmp_path / "experiment", cells=100, quantity=0.5)
    log = directory / "log.simpleFoam"
    lines = log.read_text().splitlines()
    last = max(index for index, line in enumerate(lines) if "Solving for Ux" in line)
    lines[last] = _residual(value)
    log.write_text("\n".join(lines) + "\n")
    verdict = _solver_log_verdict(directory)
    assert verdict.decision == "rerun", verdict.reasons
    assert "non-finite residuals" in verdict.reasons[0]


def test_a_residual_that_underflows_is_a_converged_residual(tmp_path: Path) -> None:
    directory = write_run(tmp_path / "experiment", cells=100, quantity=0.5)
    log = directory / "log.simpleFoam"
    log.write_text(log.read_text().replace("Initial residual = 1e-06,", "Initial residual = 1e-999,"))
    assert _solver_log_verdict(directory).decision == "accept"


@pytest.mark.parametrize("name", ["100.00001", "100.0000001", "1e2", "1.0e+02"])
def test_a_time_directory_placed_to_be_latest_is_refused(tmp_path: Path, name: str) -> None:
    """Just beyond the log's last time (once within its tolerance), or the same time spelled another way
    (`1e2` sorted after `100`): either became the latest directory the other gates read."""
    directory = write_run(tmp_path / "experiment", cells=100, quantity=0.5)
    (directory / "case" / name).mkdir()
    verdict = _solver_log_verdict(directory)
    assert verdict.decision == "reject", verdict.reasons


def test_two_directories_of_one_time_are_refused_by_the_reader(tmp_path: Path) -> None:
    for name in ("0", "100", "1e2"):
        (tmp_path / name).mkdir()
    with pytest.raises(FieldFormatError, match="names the same time"):
        time_directories(tmp_path)


def _physical(tmp_path: Path, velocity: str, *, yplus: str | None = None) -> GateResult:
    directory = write_step(tmp_path / "experiment", "30 45 60")
    latest = directory / "case" / "100"
    (latest / "U").write_text(velocity)
    if yplus is not None:
        text = (latest / "yPlus").read_text()
        (latest / "yPlus").write_text(text.replace("value nonuniform List<scalar> 3(30 45 60);", yplus))
    return run_gate(get_gate("physical-range"), _step_context(directory))


def test_physical_range_control_accepts(tmp_path: Path) -> None:
    assert _physical(tmp_path, _vectors("U", GOOD)).decision == "accept"


@pytest.mark.parametrize(
    "hidden",
    [
        "/* internalField nonuniform List<vector> 3((1 0 0)(1 0 0)(1 0 0)); */\n",
        "// internalField uniform (1 0 0);\n",
    ],
    ids=["block comment", "line comment"],
)
def test_a_field_in_a_comment_is_not_the_field(tmp_path: Path, hidden: str) -> None:
    """OpenFOAM skips comments; the reader once took the first `internalField` it found, comment or not."""
    verdict = _physical(tmp_path, _vectors("U", NAN).replace("internalField", hidden + "internalField", 1))
    assert verdict.decision == "rerun", verdict.reasons
    assert "non-finite" in verdict.reasons[0]


def test_a_field_quoted_in_the_header_is_not_the_field(tmp_path: Path) -> None:
    quoted = _vectors("U", NAN).replace("object U;", 'object U;\n    note "internalField uniform (1 0 0);";')
    assert _physical(tmp_path, quoted).decision == "rerun"


def test_a_second_internal_field_is_refused(tmp_path: Path) -> None:
    """OpenFOAM reads the last of two entries; the reader read the first."""
    verdict = _physical(tmp_path, _vectors("U", GOOD) + "internalField uniform (nan nan nan);\n")
    assert verdict.decision == "reject", verdict.reasons
    assert "2 internalField entries" in verdict.reasons[0]


def test_a_boundary_value_that_is_not_finite_is_seen(tmp_path: Path) -> None:
    boundary = (
        "boundaryField\n{\n    lowerWall\n    {\n        type calculated;\n"
        "        value nonuniform List<vector> 3((nan nan nan)(1 0 0)(1 0 0));\n    }\n}\n"
    )
    verdict = _physical(tmp_path, _vectors("U", GOOD) + boundary)
    assert verdict.decision == "rerun", verdict.reasons
    assert "boundary" in verdict.reasons[0] and "lowerWall" in verdict.reasons[0]
    assert _physical(tmp_path / "honest", _vectors("U", GOOD) + boundary.replace("nan nan nan", "1 0 0")).decision == (
        "accept"
    )


@pytest.mark.parametrize(
    ("yplus", "decision"),
    [
        ("// value uniform 1;\n value nonuniform List<scalar> 3(nan nan 9000);", "rerun"),
        ("value uniform 1;\n value nonuniform List<scalar> 3(nan nan 9000);", "rerun"),
    ],
    ids=["value in a comment", "two values"],
)
def test_a_wall_value_hidden_behind_another_is_not_read(tmp_path: Path, yplus: str, decision: str) -> None:
    verdict = _physical(tmp_path, _vectors("U", GOOD), yplus=yplus)
    assert verdict.decision == decision, verdict.reasons
    assert "y+ at most 1" not in " ".join(verdict.reasons)


def test_an_empty_velocity_list_is_named(tmp_path: Path) -> None:
    verdict = _physical(tmp_path, "FoamFile\n{\n    object U;\n}\ninternalField nonuniform List<vector> 0();\n")
    assert verdict.decision == "reject", verdict.reasons
    assert verdict.reasons == ["the velocity field holds no values"]


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("U0 (1 0 0);\ninternalField uniform $U0;", "not a number ('$U0')"),
        ('internalField uniform #calc "1";', "not a number ('#calc')"),
        ("internalField uniform ();", "0 components"),
        ("internalField uniform (1 0 0)", "no closing ';'"),
        ("internalField nonuniform List<vector> 1((1 abc 0));", "not a number ('abc')"),
    ],
)
def test_a_field_no_number_reads_gets_a_reason_not_a_crash(tmp_path: Path, value: str, named: str) -> None:
    verdict = _physical(tmp_path, f"FoamFile\n{{\n    object U;\n}}\n{value}\n")
    assert verdict.decision == "reject", verdict.reasons
    assert "cannot read the velocity" in verdict.reasons[0] and named in verdict.reasons[0], verdict.reasons


def test_a_compressed_twin_of_a_field_is_refused(tmp_path: Path) -> None:
    """`U` and `U.gz` side by side can disagree; which one is read is then a reader's lookup order."""
    directory = write_step(tmp_path / "experiment", "30 45 60")
    latest = directory / "case" / "100"
    (latest / "U.gz").write_bytes(gzip.compress(_vectors("U", NAN).encode()))
    verdict = run_gate(get_gate("physical-range"), _step_context(directory))
    assert verdict.decision == "reject", verdict.reasons
    assert "U.gz lies beside it" in verdict.reasons[0]
    (latest / "U").unlink()  # alone, the compressed field is read, as OpenFOAM reads it
    verdict = run_gate(get_gate("physical-range"), _step_context(directory))
    assert verdict.decision == "rerun", verdict.reasons


def test_a_compressed_mesh_still_says_how_many_cells_a_field_needs(tmp_path: Path) -> None:
    directory = write_step(tmp_path / "experiment", "30 45 60")
    mesh = directory / "case" / "constant" / "polyMesh"
    mesh.joinpath("owner.gz").write_bytes(
        gzip.compress(b'FoamFile\n{\n    class labelList;\n    note "nPoints:10  nCells:400  nFaces:20";\n}\n')
    )
    assert mesh_cell_count(directory / "case") == 400
    verdict = run_gate(get_gate("physical-range"), _step_context(directory))
    assert verdict.decision == "reject", verdict.reasons
    assert "3 values, expected 400" in verdict.reasons[0]


def test_format_binary_named_in_a_comment_is_not_binary() -> None:
    text = "// format binary;\n" + _vectors("U", GOOD)
    assert parse_internal_field(text, "U").shape == (3, 3)
