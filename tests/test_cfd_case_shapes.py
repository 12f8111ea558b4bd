"""Cases of shapes the catalog's own never have: a geometry 29 times taller than wide (buoyantCavity),
a 2-D case in the x-z plane, engine solvers' time lines, and a solver whose turbulence models y+ cannot
find (driftFluxFoam). Each once failed an honest run: a figure no image reader opens, a triangulation of
cells on a line, a log read as having no time step, a solve killed by labgate's own function object."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.stock_cases import rerun_stock_case
from tools.cfd import parse_solver_log
from tools.cfd._draw import field_panels_tri
from tools.cfd.cases._final import plane_axes
from verifiers._deliverables import image_pixels, image_problem


def _grid(width: float, height: float, nx: int, ny: int) -> tuple[np.ndarray, np.ndarray]:
    gx, gy = np.meshgrid((np.arange(nx) + 0.5) * width / nx, (np.arange(ny) + 0.5) * height / ny)
    return gx.ravel(), gy.ravel()


def test_a_tall_geometry_draws_a_figure_an_image_reader_opens(tmp_path: Path) -> None:
    x, y = _grid(0.076, 2.18, 8, 200)
    velocity = np.stack([np.sin(y), 0.1 * np.cos(x * 40), np.zeros_like(x)], axis=1)
    pressure = y**2
    field_panels_tri(tmp_path / "fields.png", x, y, velocity, pressure, title="t", velocity_scale=1.0, length_scale=1.0)
    pixels = image_pixels(tmp_path / "fields.png")  # before: 1210x33719 pixels, refused as an image bomb
    assert pixels.shape[0] <= 14 * 120 and image_problem(tmp_path / "fields.png") is None


def test_the_plane_of_a_two_dimensional_case_is_the_one_its_cells_span() -> None:
    x, z = _grid(1.0, 0.5, 10, 6)
    centres = np.stack([x, np.full_like(x, 0.05), z], axis=1)  # one cell thick in y
    assert plane_axes(centres) == (0, 2)
    assert plane_axes(np.stack([x, z, np.zeros_like(x)], axis=1)) == (0, 1)
    cube = np.array([[0, 0, 0], [1, 1, 1], [0.5, 0.2, 0.7]], dtype=float)
    assert plane_axes(cube) == (0, 1)


def test_engine_solvers_time_lines_are_time_steps() -> None:
    text = "\n".join(
        [
            "Starting time loop",
            "deltaT = 5e-07",
            "Engine time = 5e-07 s",
            "DILUPBiCGStab:  Solving for Ux, Initial residual = 1, Final residual = 1e-10, No Iterations 1",
            "Engine time = 1e-06 s",
            "DILUPBiCGStab:  Solving for Ux, Initial residual = 0.3, Final residual = 1e-10, No Iterations 1",
            "Crank angle = -179.75 CA-deg",
            "DILUPBiCGStab:  Solving for Ux, Initial residual = 0.1, Final residual = 1e-10, No Iterations 1",
            "End",
        ]
    )
    log = parse_solver_log(text)
    assert log.times == [5e-07, 1e-06, -179.75]
    assert [initial for _, initial in log.residuals["Ux"]] == [1.0, 0.3, 0.1]


@pytest.mark.slow
@pytest.mark.openfoam
@pytest.mark.usefixtures("openfoam", "bubblewrap")
def test_a_solver_whose_turbulence_y_plus_cannot_find_still_runs(home: Path, tmp_path: Path) -> None:
    """driftFluxFoam keeps its mixture's turbulence model under another name: labgate's y+ function object,
    run inside the solve, stopped it ('Unable to find turbulence model in the database')."""
    _, report, verdicts = rerun_stock_case("multiphase/driftFluxFoam/RAS/dahl", home, tmp_path, "end_time=0.2")
    assert report["status"] != "failed", report["reason"]
    assert verdicts["deliverables"]["decision"] == "accept", verdicts["deliverables"]["reasons"]
    log = next(home.rglob("log.driftFluxFoam")).read_text()
    assert log.rstrip().endswith("End") and "Unable to find turbulence model" not in log
    control = next(home.rglob("experiments/base/case/system/controlDict")).read_text()
    assert "endTime 0.2;" in " ".join(control.split()), "the solve's controlDict is the one the gates read"
