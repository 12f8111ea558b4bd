"""OpenFOAM dictionaries, fields and logs: written safely and read back correctly, offline."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from tools.cfd import CavityParams, FoamValueError, cavity_case, parse_solver_log, read_internal_field
from tools.cfd.cases._reference import ghia_profiles, ghia_reynolds_numbers
from tools.cfd.openfoam._foamdict import Quoted, Raw, Word, render_dict, word
from tools.cfd.openfoam._grid import GridShapeError, structured_2d


@pytest.mark.parametrize("bad", ["#codeStream", "$p", "a b", "x;y", "", "evil}", "1abc"])
def test_words_that_could_inject_directives_are_refused(bad: str) -> None:
    with pytest.raises(FoamValueError):
        word(bad)
    with pytest.raises(FoamValueError):
        render_dict("dictionary", "system", "x", {"key": Word(bad)})


def test_non_finite_numbers_and_unsafe_strings_are_refused() -> None:
    with pytest.raises(FoamValueError):
        render_dict("dictionary", "system", "x", {"key": math.nan})
    with pytest.raises(FoamValueError):
        render_dict("dictionary", "system", "x", {"key": Quoted('a"; #include "/etc/passwd')})


def test_dictionary_rendering() -> None:
    text = render_dict(
        "dictionary",
        "system",
        "controlDict",
        {"endTime": 2.5, "sub": {"solver": Word("PCG")}, "x": Raw("(1 2 3)")},
    )
    assert "endTime          2.5;" in text
    assert "solver           PCG;" in text
    assert "class            dictionary;" in text


def test_cavity_case_derives_viscosity_and_steps() -> None:
    params = CavityParams(re=400, cells=64, lid_velocity=2.0, length=0.5)
    assert params.nu == pytest.approx(2.0 * 0.5 / 400)
    assert params.steps % params.snapshots == 0
    assert params.time_step * 2.0 / (0.5 / 64) <= params.courant + 1e-9
    files = cavity_case(params)
    assert "(64 64 1)" in files["system/blockMeshDict"]
    assert f"{params.nu!r}" in files["constant/transportProperties"]
    assert "allowSystemOperations 0;" in files["system/controlDict"]


@pytest.mark.parametrize(
    "changes", [{"re": -5}, {"cells": 2}, {"lid_velocity": 0}, {"unknown": 1}, {"delta_t": 1e-12, "re": 100}]
)
def test_invalid_cavity_parameters_are_refused(changes: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        CavityParams.model_validate(changes)


def test_read_nonuniform_and_uniform_fields(tmp_path: Path) -> None:
    vector = tmp_path / "U"
    vector.write_text(
        "FoamFile { format ascii; class volVectorField; }\n"
        "internalField   nonuniform List<vector> \n3\n(\n(1 2 3)\n(4 5 6)\n(-1e-3 0 7.5)\n)\n;\n"
        "boundaryField { wall { type noSlip; } }\n"
    )
    values = read_internal_field(vector)
    assert values.shape == (3, 3)
    assert values[2, 0] == pytest.approx(-1e-3)
    scalar = tmp_path / "p"
    scalar.write_text("FoamFile { format ascii; }\ninternalField uniform 0.5;\n")
    assert np.all(read_internal_field(scalar, n_cells=4) == 0.5)


def test_truncated_field_is_reported(tmp_path: Path) -> None:
    from tools.cfd import FieldFormatError

    broken = tmp_path / "U"
    broken.write_text("internalField nonuniform List<vector> 3 ( (1 2 3) (4 5 6)")
    with pytest.raises(FieldFormatError, match="truncated"):
        read_internal_field(broken)


def test_structured_grid_tolerates_ascii_rounding() -> None:
    xs = np.linspace(0.05, 0.95, 10)
    ys = np.linspace(0.05, 0.95, 7)
    grid_x, grid_y = np.meshgrid(xs, ys)
    centres = np.stack([grid_x.ravel(), grid_y.ravel(), np.zeros(70)], axis=1)
    centres[:, 1] += np.random.default_rng(0).normal(0, 1e-12, 70)  # last-digit noise
    shuffled = np.random.default_rng(1).permutation(70)
    values = grid_x.ravel() * 10 + grid_y.ravel()
    x, y, grid = structured_2d(centres[shuffled], values[shuffled])
    assert np.allclose(x, xs) and np.allclose(y, ys, atol=1e-9)
    assert np.allclose(grid, grid_x * 10 + grid_y)
    with pytest.raises(GridShapeError):
        structured_2d(centres[:-1], values[:-1])


def test_log_parser_reads_residuals_and_ignores_the_banner() -> None:
    log = parse_solver_log(
        "trapFpe: Floating point exception trapping enabled (FOAM_SIGFPE).\n"
        "Time = 0.005\n\nCourant Number mean: 0 max: 0\n"
        "smoothSolver:  Solving for Ux, Initial residual = 1, Final residual = 1e-06, No Iterations 8\n"
        "DICPCG:  Solving for p, Initial residual = 1, Final residual = 1e-07, No Iterations 30\n"
        "time step continuity errors : sum local = 1e-08, global = 1e-19, cumulative = 1e-19\n"
        "DICPCG:  Solving for p, Initial residual = 0.5, Final residual = 1e-07, No Iterations 29\n"
        "Time = 0.01\n"
        "smoothSolver:  Solving for Ux, Initial residual = 0.01, Final residual = 1e-06, No Iterations 8\n"
        "End\n"
    )
    assert log.fatal == [] and log.ended and not log.non_finite
    assert log.times == [0.005, 0.01]
    assert log.residuals["Ux"] == [(0.005, 1.0), (0.01, 0.01)]
    assert log.residuals["p"] == [(0.005, 1.0)]  # the PISO corrector's second solve is not a new step
    assert log.continuity == [1e-08]


def test_log_parser_flags_divergence() -> None:
    log = parse_solver_log(
        "Time = 0.1\nsmoothSolver:  Solving for Ux, Initial residual = nan, Final residual = nan, No Iterations 1000\n"
        "#0  Foam::error::printStack(Foam::Ostream&) at ??:?\n#1  Foam::sigFpe::sigHandler(int) at ??:?\n"
    )
    assert log.non_finite and log.fatal and not log.ended


def test_log_parser_reads_the_phase_fields_of_multiphase_solvers() -> None:
    # Lines as twoPhaseEulerFoam's bubbleColumn logs them: the energy equations of each phase, dotted.
    log = parse_solver_log(
        "Time = 0.005\n"
        "smoothSolver:  Solving for e.air, Initial residual = nan, Final residual = nan, No Iterations 1\n"
        "smoothSolver:  Solving for U.airx, Initial residual = 0.2, Final residual = 1e-07, No Iterations 3\n"
        "GAMG:  Solving for p_rgh, Initial residual = 0.01, Final residual = 1e-08, No Iterations 4\n"
    )
    assert sorted(log.residuals) == ["U.airx", "e.air", "p_rgh"]
    assert log.non_finite  # a NaN in a phase's equation is seen, as in any other


def test_ghia_tables_carry_their_source_and_exclusions() -> None:
    assert ghia_reynolds_numbers() == [100, 400, 1000]
    u, v = ghia_profiles(400)
    assert "10.1016/0021-9991(82)90058-4" in u.source
    assert u.used.sum() == 15 and v.used.sum() == 14
    assert v.exclusions and "0.9063" in v.exclusions[0]
    with pytest.raises(KeyError, match="no data at Re = 250"):
        ghia_profiles(250)


def test_a_face_list_inside_a_block_comment_is_not_the_meshs(tmp_path: Path) -> None:
    """A made-up owner list in `/* */`, which OpenFOAM skips, was read as the mesh's connectivity: the mesh gate
    judged a cavity beside a converged channel as one region and accepted it."""
    from tools.cfd.openfoam._patches import read_label_list

    header = "FoamFile { version 2.0; format ascii; class labelList; object owner; }\n"
    owner = tmp_path / "owner"
    owner.write_text(header + "/* a note\n4\n(\n9\n9\n9\n9\n)\n*/\n// 3 (7 7 7)\n3\n(\n0\n1\n2\n)\n")
    assert read_label_list(owner).tolist() == [0, 1, 2]


def test_list_counts_of_absurd_length_are_format_errors_found_at_once(tmp_path: Path) -> None:
    from tests.conftest import within_seconds
    from tools.cfd import FieldFormatError
    from tools.cfd.openfoam._patches import read_label_list

    field = tmp_path / "U"
    field.write_text(
        "FoamFile { class volScalarField; }\ninternalField nonuniform List<scalar> " + "9" * 5000 + "(1);\n"
    )
    with pytest.raises(FieldFormatError):  # a raw ValueError from int() past its digit limit before
        read_internal_field(field)
    owner = tmp_path / "owner"
    owner.write_text("FoamFile { class labelList; }\n" + "7" * 40_000 + " x\n")
    with within_seconds(10), pytest.raises(FieldFormatError):  # 37 s before
        read_label_list(owner)


def test_a_log_parsed_again_gives_equal_results_that_are_its_own() -> None:
    """The workload and the solver-log gate parse the same text; the second is answered from the first,
    and neither can change what the other reads."""
    from tools.cfd.openfoam._logs import _parse_solver_log

    text = "\n".join(
        f"Time = {step * 0.005:g}\n\nCourant Number mean: 0.1 max: {0.5 + step / 100:g}\n"
        f"DILUPBiCG:  Solving for Ux, Initial residual = {1 / (step + 1):g}, Final residual = 1e-06, No Iterations 3\n"
        f"time step continuity errors : sum local = {1e-8 * step:g}, global = 1e-19, cumulative = 1e-18\n"
        for step in range(1, 200)
    )
    first = parse_solver_log(text)
    first.times.append(-1.0)
    first.residuals["Ux"].clear()
    second = parse_solver_log(text)
    assert second == _parse_solver_log(text) and len(second.times) == 199 and len(second.residuals["Ux"]) == 199
    fatal = parse_solver_log(text + "\n--> FOAM FATAL ERROR: \nsigFpe::sigHandler")
    assert fatal.fatal and fatal != second
