"""The `flat-plate` family: the zero-pressure-gradient turbulent flat plate against White's correlation.

Not a catalog task of its own: it is the second flow on which the periodic-hill held-out gate checks
that a Spalart-Allmaras coefficient set still predicts a flow the model was calibrated on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from runs import TaskSpec
from tools._workload import OutputFile
from tools.cfd._render import render_residuals
from tools.cfd.cases._definition import CaseDefinition, CaseFiles
from tools.cfd.cases._hill_task import steady_steps
from tools.cfd.cases._rans import (
    SACoefficients,
    field_files,
    steady_control,
    steady_schemes,
    steady_solution,
    transport_properties,
    turbulence_properties,
)
from tools.cfd.cases._reference import FLAT_PLATE_RE_X, flat_plate_cf
from tools.cfd.cases._roles import PHYSICS, numerics
from tools.cfd.openfoam._blocks import geometric_ratio, rectangle_mesh
from tools.cfd.openfoam._commands import CaseStep
from tools.cfd.openfoam._fields import FloatArray
from tools.cfd.openfoam._logs import SolverLog
from tools.cfd.openfoam._wall import wall_reading

PLATE_RANGE = (0.1, 0.95)
"""Scored part of the plate, in x/L: past the leading edge, ahead of the outlet."""


class PlateParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    re_l: float = Field(
        default=5e6, ge=1e5, le=1e8, description="U L / nu at the end of the plate", json_schema_extra=PHYSICS
    )
    sa: SACoefficients = Field(default_factory=SACoefficients, json_schema_extra=PHYSICS)
    cells_x: int = Field(default=60, ge=10, le=1000, json_schema_extra=numerics("more"))
    cells_y: int = Field(default=60, ge=10, le=1000, json_schema_extra=numerics("more"))
    wall_cell: float = Field(
        default=5e-6,
        ge=1e-9,
        lt=0.01,
        description="first cell height over L (y+ about 1; at least 1e-9)",
        json_schema_extra=numerics("less"),
    )
    height: float = Field(default=0.05, gt=0.005, le=1.0, description="domain height over L", json_schema_extra=PHYSICS)
    iterations: int = Field(default=3000, ge=10, le=100_000, json_schema_extra=numerics("more"))
    residual: float = Field(default=1e-5, gt=0, lt=1, json_schema_extra=numerics("less"))

    @model_validator(mode="after")
    def _within_the_correlation(self) -> PlateParams:
        low, high = self.re_l * PLATE_RANGE[0], self.re_l * PLATE_RANGE[1]
        if low < FLAT_PLATE_RE_X[0] or high > FLAT_PLATE_RE_X[1]:
            raise ValueError(
                f"re_l {self.re_l:g} puts the scored plate (x/L {PLATE_RANGE[0]:g}-{PLATE_RANGE[1]:g}) at Re_x "
                f"{low:.3g}-{high:.3g}, outside the {FLAT_PLATE_RE_X[0]:g}-{FLAT_PLATE_RE_X[1]:g} where White's "
                f"correlation holds; choose re_l from {FLAT_PLATE_RE_X[0] / PLATE_RANGE[0]:g}"
            )
        return self

    @property
    def nu(self) -> float:
        return 1.0 / self.re_l


def plate_error(x: FloatArray, cf: FloatArray, re_l: float) -> float:
    """RMS relative error of Cf against White's correlation over the scored part of the plate."""
    inside = (x >= PLATE_RANGE[0]) & (x <= PLATE_RANGE[1])
    reference = flat_plate_cf(x[inside] * re_l)
    return float(np.sqrt(np.mean(((cf[inside] - reference) / reference) ** 2)))


class FlatPlateCase(CaseDefinition[PlateParams]):
    kind = "flat-plate"
    params_model = PlateParams
    applications = ("blockMesh", "simpleFoam", "postProcess")
    solver_log = "log.simpleFoam"
    recirculation: ClassVar[Literal["required", "forbidden"] | None] = "forbidden"

    def tasks(self) -> list[TaskSpec]:
        return []

    def files(self, params: PlateParams) -> CaseFiles:
        ratio = geometric_ratio(params.cells_y, params.height, params.wall_cell)
        patches = {
            "inlet": ("left", "patch"),
            "outlet": ("right", "patch"),
            "plate": ("bottom", "wall"),
            "top": ("top", "patch"),
        }
        kinds = {"inlet": "inlet", "outlet": "outlet", "plate": "wall", "top": "slip", "frontAndBack": "empty"}
        files = {
            "system/blockMeshDict": rectangle_mesh(
                length=1.0,
                height=params.height,
                cells_x=params.cells_x,
                cells_y=params.cells_y,
                grading_y=repr(ratio),
                grading_x="5",
                patches=patches,
            ),
            "system/controlDict": steady_control(
                iterations=params.iterations, write_interval=params.iterations, walls=("plate",)
            ),
            "system/fvSchemes": steady_schemes("SpalartAllmaras"),
            "system/fvSolution": steady_solution("SpalartAllmaras", residual=params.residual),
            "constant/transportProperties": transport_properties(params.nu),
            "constant/turbulenceProperties": turbulence_properties("SpalartAllmaras", params.sa),
        }
        files.update(
            field_files(
                "SpalartAllmaras",
                kinds,
                velocity=(1.0, 0.0, 0.0),
                initial_velocity=(1.0, 0.0, 0.0),
                turbulence={"nuTilda": 3.0 * params.nu, "nut": 3.0 * params.nu * 0.02},
            )
        )
        return files

    def steps(self, params: PlateParams) -> list[CaseStep]:
        return steady_steps(self.solver_log)

    def reference_velocity(self, params: PlateParams) -> float:
        return 1.0

    def nu(self, params: PlateParams) -> float:
        return params.nu

    def error(self, case: Path, params: PlateParams) -> float:
        wall = wall_reading(case, "plate", nu=params.nu, speed=1.0)
        return plate_error(wall.x, wall.cf_cells, params.re_l)  # labgate's reading: see `wall_reading`

    def analyse(
        self, case: Path, directory: Path, params: PlateParams, log: SolverLog
    ) -> tuple[dict[str, float], list[OutputFile]]:
        figures = directory / "figures"
        figures.mkdir(parents=True, exist_ok=True)
        render_residuals(figures / "residuals.png", log, title="flat plate: residual history")
        return {"cf_error": self.error(case, params)}, [
            OutputFile(path="figures/residuals.png", kind="image", role="residual-figure")
        ]

    def stabilise(self, params: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
        return None
