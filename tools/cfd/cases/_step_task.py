"""The `cfd/backward-step` family: the pitzDaily rearward-facing step on simpleFoam, three RANS models,
reattachment length against the measurement of Pitz & Daily (1983).

Geometry: the OpenFOAM pitzDaily tutorial's five blocks (step height H = 25.4 mm, expansion ratio 2,
a contraction at the outlet), with the cell counts scaled by `refinement`. The viscosity follows Re_H.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from runs import Budget, TaskSpec
from tools._workload import OutputFile, TaskError
from tools.cfd.cases._cavity import MIN_SPEED
from tools.cfd.cases._definition import CaseDefinition, CaseFiles
from tools.cfd.cases._final import residuals_and_fields
from tools.cfd.cases._hill_task import steady_steps
from tools.cfd.cases._infer import block_cells, end_time, patch_value, turbulence, viscosity
from tools.cfd.cases._post import wall_functions
from tools.cfd.cases._rans import (
    InletTurbulence,
    SACoefficients,
    field_files,
    steady_control,
    steady_schemes,
    steady_solution,
    transport_properties,
    turbulence_properties,
)
from tools.cfd.cases._reference import PITZ_DAILY_1983, step_reattachment_reference
from tools.cfd.cases._roles import PHYSICS, numerics
from tools.cfd.cases._steady import Series, comparison_figure, doubled_iterations, flow_metrics, sa_parameters
from tools.cfd.openfoam._commands import CaseStep
from tools.cfd.openfoam._foamdict import FoamValue, NamedList, Raw, Word, number, render_dict
from tools.cfd.openfoam._logs import SolverLog
from tools.cfd.openfoam._wall import WallReading, wall_reading, zero_crossings

STEP = 0.0254
STEP_REATTACHMENT_TOLERANCE = 0.15
"""Accepted relative error of x_r/H against 7.0: the spread of two-equation models on this geometry."""

_MM = 0.001
_VERTICES = [
    (-20.6, 0), (-20.6, 25.4), (0, -25.4), (0, 0), (0, 25.4), (206, -25.4), (206, 0), (206, 25.4),
    (290, -16.6), (290, 0), (290, 16.6),
]  # fmt: skip


class StepParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: Literal["kEpsilon", "kOmegaSST", "SpalartAllmaras"] = Field(default="kEpsilon", json_schema_extra=PHYSICS)
    re: float = Field(
        default=22_000.0, gt=1000, le=1e6, description="Re_H = U H / nu, H the step height", json_schema_extra=PHYSICS
    )
    inlet_velocity: float = Field(
        default=10.0, ge=MIN_SPEED, le=500, description="U at the inlet, m/s", json_schema_extra=PHYSICS
    )
    refinement: float = Field(
        default=1.0, ge=0.3, le=4.0, description="cell counts times the tutorial's", json_schema_extra=numerics("more")
    )
    iterations: int = Field(default=2000, ge=10, le=100_000, json_schema_extra=numerics("more"))
    residual: float = Field(
        default=5e-4,
        gt=0,
        lt=1,
        description="residualControl target of every field",
        json_schema_extra=numerics("less"),
    )
    sa: SACoefficients = Field(default_factory=SACoefficients, json_schema_extra=PHYSICS)

    @property
    def nu(self) -> float:
        return self.inlet_velocity * STEP / self.re


def _n(count: int, refinement: float) -> int:
    return max(2, round(count * refinement))


def step_mesh(params: StepParams) -> str:
    r = params.refinement
    vertices = [(x * _MM, y * _MM, -0.5 * _MM) for x, y in _VERTICES] + [
        (x * _MM, y * _MM, 0.5 * _MM) for x, y in _VERTICES
    ]
    neg_y = "((2 4 1) (1 3 0.3))"
    pos_y = "((1 4 2) (2 3 4) (2 4 0.25))"
    pos_yr = "((2 1 1) (1 1 0.25))"
    blocks = [
        f"hex (0 3 4 1 11 14 15 12) ({_n(18, r)} {_n(30, r)} 1) simpleGrading (0.5 {pos_y} 1)",
        f"hex (2 5 6 3 13 16 17 14) ({_n(180, r)} {_n(27, r)} 1) edgeGrading (4 4 4 4 {neg_y} 1 1 {neg_y} 1 1 1 1)",
        f"hex (3 6 7 4 14 17 18 15) ({_n(180, r)} {_n(30, r)} 1) "
        f"edgeGrading (4 4 4 4 {pos_y} {pos_yr} {pos_yr} {pos_y} 1 1 1 1)",
        f"hex (5 8 9 6 16 19 20 17) ({_n(25, r)} {_n(27, r)} 1) simpleGrading (2.5 1 1)",
        f"hex (6 9 10 7 17 20 21 18) ({_n(25, r)} {_n(30, r)} 1) simpleGrading (2.5 {pos_yr} 1)",
    ]
    front = "(0 3 4 1) (2 5 6 3) (3 6 7 4) (5 8 9 6) (6 9 10 7)"
    back = "(11 14 15 12) (13 16 17 14) (14 17 18 15) (16 19 20 17) (17 20 21 18)"
    boundary = NamedList(
        {
            "inlet": {"type": Word("patch"), "faces": Raw("((0 1 12 11))")},
            "outlet": {"type": Word("patch"), "faces": Raw("((8 9 20 19) (9 10 21 20))")},
            "upperWall": {"type": Word("wall"), "faces": Raw("((1 4 15 12) (4 7 18 15) (7 10 21 18))")},
            "lowerWall": {
                "type": Word("wall"),
                "faces": Raw("((0 3 14 11) (3 2 13 14) (2 5 16 13) (5 8 19 16))"),
            },
            "frontAndBack": {"type": Word("empty"), "faces": Raw(f"({front} {back})")},
        }
    )
    body = {
        "convertToMeters": 1,
        "vertices": Raw(
            "\n(\n" + "\n".join(f"    ({number(a)} {number(b)} {number(c)})" for a, b, c in vertices) + "\n)"
        ),
        "blocks": Raw("\n(\n" + "\n".join(f"    {block}" for block in blocks) + "\n)"),
        "boundary": boundary,
    }
    return render_dict("dictionary", "system", "blockMeshDict", body)


def floor_behind_step(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.bool_]:
    return np.asarray((x > 1e-6) & (x < 0.206) & (y < -STEP + 1e-6), dtype=bool)


def step_wall(case: Path, params: StepParams) -> WallReading:
    return wall_reading(case, "lowerWall", nu=params.nu, speed=params.inlet_velocity, keep=floor_behind_step)


def reattachment(x: NDArray[np.float64], values: NDArray[np.float64]) -> float | None:
    """x/H where the near-wall flow behind the step turns forward for good (the last rising crossing)."""
    rising = [where for where, direction in zero_crossings(x, values) if direction > 0]
    if not rising:
        return None
    return rising[-1] / STEP


class BackwardStepCase(CaseDefinition[StepParams]):
    kind = "backward-step"
    params_model = StepParams
    applications = ("blockMesh", "simpleFoam", "postProcess")
    solver_log = "log.simpleFoam"
    deliverables = ("solver-log", "field-U", "field-figure", "comparison-figure", "residual-figure")
    recirculation: ClassVar[Literal["required", "forbidden"] | None] = "required"
    mesh_tolerances: ClassVar[dict[str, float]] = {"reattachment": 0.05}

    def tasks(self) -> list[TaskSpec]:
        re_h, _ = step_reattachment_reference()
        return [
            TaskSpec(
                id="cfd/backward-step",
                workload="cfd",
                title=(
                    "Rearward-facing step (pitzDaily): separation and reattachment with three RANS turbulence "
                    "models against Pitz & Daily (1983)"
                ),
                goal=(
                    "Simulate the pitzDaily rearward-facing step with simpleFoam using kEpsilon, kOmegaSST and "
                    "SpalartAllmaras, and compare the reattachment length behind the step with the measured "
                    "x_r/H = 7.0 of Pitz & Daily (1983) at Re_H = 22,000."
                ),
                params={"case": "backward-step", "re": re_h},
                sweep={"model": ["kEpsilon", "kOmegaSST", "SpalartAllmaras"]},
                gates=["solver-log", "deliverables", "physical-range", "comparator", "vision"],
                gate_options={
                    "deliverables": {"required": list(self.deliverables)},
                    "physical-range": {"speed_max": 2.0},
                    "comparator": {"reattachment_tolerance": STEP_REATTACHMENT_TOLERANCE, "reader_tolerance": 0.3},
                },
                budget=Budget(experiments=6, iterations=3, wall_seconds=2400, experiment_seconds=900),
            )
        ]

    def stabilise(self, params: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
        return doubled_iterations(params, self.parse(params).iterations, 40_000)

    def files(self, params: StepParams) -> CaseFiles:
        patches = {
            "inlet": "inlet",
            "outlet": "outlet",
            "upperWall": "wall",
            "lowerWall": "wall",
            "frontAndBack": "empty",
        }
        inflow = InletTurbulence(intensity=0.05, length_scale=0.1 * STEP).values(params.inlet_velocity, params.nu)
        files = {
            "system/blockMeshDict": step_mesh(params),
            "system/controlDict": steady_control(
                iterations=params.iterations, write_interval=params.iterations, walls=("lowerWall", "upperWall")
            ),
            "system/fvSchemes": steady_schemes(params.model),
            "system/fvSolution": steady_solution(params.model, residual=params.residual),
            "constant/transportProperties": transport_properties(params.nu),
            "constant/turbulenceProperties": turbulence_properties(params.model, params.sa, reference_length=STEP),
        }
        files.update(field_files(params.model, patches, velocity=(params.inlet_velocity, 0.0, 0.0), turbulence=inflow))
        return files

    def steps(self, params: StepParams) -> list[CaseStep]:
        return steady_steps(self.solver_log)

    def reference_velocity(self, params: StepParams) -> float:
        return params.inlet_velocity

    def length_scale(self, params: StepParams) -> float:
        return STEP

    def nu(self, params: StepParams) -> float:
        return params.nu

    def bulk_direction(self, params: StepParams) -> tuple[float, float, float] | None:
        return (1.0, 0.0, 0.0)

    def wall_model(self, params: StepParams) -> Literal["resolved", "wall-function", "none"]:
        return "wall-function"

    def solid(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.bool_] | None:
        return np.asarray((x < 0) & (y < 0), dtype=bool)

    def refine(self, params: dict[str, Any], factor: float) -> dict[str, Any] | None:
        current = self.parse(params)
        return {**params, "refinement": current.refinement * factor}

    def quantities(self, case: Path, params: StepParams) -> dict[str, float]:
        wall = step_wall(case, params)
        found = reattachment(wall.x, wall.tangential)
        return {} if found is None else {"reattachment": found}

    def post_functions(self, case: Path, params: StepParams) -> dict[str, FoamValue]:
        return wall_functions()

    def infer(self, case: Path) -> dict[str, Any]:
        blocks = block_cells(case)
        if len(blocks) != 5:
            raise TaskError(f"a pitzDaily case has 5 blocks; this blockMeshDict has {len(blocks)}")
        model, coefficients = turbulence(case)
        velocity = patch_value(case, "U", "inlet")[0]
        params: dict[str, Any] = {
            "case": self.kind,
            "model": model,
            "inlet_velocity": velocity,
            "re": round(velocity * STEP / viscosity(case), 3),
            "refinement": round(blocks[1][0] / 180, 4),
            "iterations": int(end_time(case)),
        }
        return {**params, **sa_parameters(model, coefficients)}

    def analyse(
        self, case: Path, directory: Path, params: StepParams, log: SolverLog
    ) -> tuple[dict[str, float], list[OutputFile]]:
        title = f"pitzDaily step, Re_H = {params.re:g}, {params.model}, refinement {params.refinement:g}"
        final, outputs = residuals_and_fields(
            case,
            directory,
            log,
            title,
            fields=("U", "p", "C", "wallShearStress", "yPlus"),
            velocity_scale=params.inlet_velocity,
            length_scale=STEP,
            solid=self.solid,
        )
        if final is None:
            return {}, outputs
        wall = step_wall(case, params)
        metrics = flow_metrics(final, params.inlet_velocity)
        found = reattachment(wall.x, wall.tangential)
        if found is not None:
            metrics["reattachment"] = found
        _, measured = step_reattachment_reference()
        series: list[Series] = [
            (wall.x / STEP, wall.cf_foam, "-", f"labgate ({params.model})"),
            (np.array([measured]), np.array([0.0]), "o", "measured reattachment"),
        ]
        label, axes = "skin friction on the floor behind the step", ("x / H", "Cf = 2 tau_w / U²")
        title = f"{title}\nreference: {PITZ_DAILY_1983}"
        outputs.append(comparison_figure(directory, "skin-friction.png", label, series, axes, title))
        return metrics, outputs
