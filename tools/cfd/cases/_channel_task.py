"""The `cfd/poiseuille` family: laminar plane channel flow against the analytic solution.

A periodic channel of height H driven by a momentum source that holds the bulk velocity Ub; the exact
solution is u(y) = 6 Ub (y/H)(1 - y/H) with wall shear stress tau_w = 6 nu Ub / H (Cf = 12 / Re).
A negative bulk velocity asks for flow in -x: the physical-range gate checks the direction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from runs import Budget, TaskSpec
from tools._workload import OutputFile, TaskError
from tools.cfd._render import grid_triangles
from tools.cfd.cases._cavity import MIN_LENGTH, MIN_SPEED, creeping_floor
from tools.cfd.cases._definition import CaseDefinition, CaseFiles
from tools.cfd.cases._final import residuals_and_fields
from tools.cfd.cases._hill_task import steady_steps
from tools.cfd.cases._infer import block_cells, end_time, mean_velocity_force, viscosity
from tools.cfd.cases._post import mesh_middle, wall_functions
from tools.cfd.cases._rans import (
    field_files,
    steady_control,
    steady_schemes,
    steady_solution,
    transport_properties,
    turbulence_properties,
)
from tools.cfd.cases._roles import PHYSICS, numerics
from tools.cfd.cases._steady import Series, comparison_figure, doubled_iterations, flow_metrics
from tools.cfd.openfoam._blocks import rectangle_mesh
from tools.cfd.openfoam._commands import CaseStep
from tools.cfd.openfoam._fields import FieldFormatError, FloatArray, latest_time, read_cell_centres, read_internal_field
from tools.cfd.openfoam._foamdict import FoamValue, NamedList, Raw, Word, number, render_dict
from tools.cfd.openfoam._logs import SolverLog

MAX_BULK_VELOCITY = 1000.0
"""Fastest bulk velocity (m/s) a channel takes, as the cavity's lid: past it nu = Ub H / Re overflows."""
POISEUILLE_PROFILE_RMSE_MAX = 0.01
"""Accepted profile RMSE in units of Ub; 20 cells across score about 1e-3 here."""


class ChannelParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    re: float = Field(
        default=100.0, gt=0, le=2000, description="Ub H / nu (laminar: below 2000)", json_schema_extra=PHYSICS
    )
    cells: int = Field(
        default=20, ge=4, le=400, description="cells across the channel", json_schema_extra=numerics("more")
    )
    cells_x: int = Field(
        default=4, ge=1, le=200, description="cells along the (periodic) channel", json_schema_extra=numerics("more")
    )
    height: float = Field(default=0.1, ge=MIN_LENGTH, le=100, description="H, m", json_schema_extra=PHYSICS)
    bulk_velocity: float = Field(
        default=1.0,
        ge=-MAX_BULK_VELOCITY,
        le=MAX_BULK_VELOCITY,
        description="Ub, m/s; negative for flow in -x",
        json_schema_extra=PHYSICS,
    )
    iterations: int = Field(default=2000, ge=10, le=100_000, json_schema_extra=numerics("more"))
    residual: float = Field(default=1e-6, gt=0, lt=1, json_schema_extra=numerics("less"))

    _re_floor = field_validator("re")(creeping_floor)

    @field_validator("bulk_velocity")
    @classmethod
    def _a_flow(cls, value: float) -> float:
        """No flow (or one so slow its viscosity underflows) has no profile to compare: refused before
        the case is written, where Ub = 0 once failed inside the run."""
        if abs(value) < MIN_SPEED:
            raise ValueError(f"|bulk_velocity| must be at least {MIN_SPEED:g} m/s (and at most {MAX_BULK_VELOCITY:g})")
        return value

    @property
    def speed(self) -> float:
        return abs(self.bulk_velocity)

    @property
    def nu(self) -> float:
        return self.speed * self.height / self.re


def analytic_profile(y_over_h: FloatArray) -> FloatArray:
    """u / Ub of plane Poiseuille flow."""
    return np.asarray(6.0 * y_over_h * (1.0 - y_over_h), dtype=np.float64)


def cell_profile(case: Path, params: ChannelParams) -> tuple[FloatArray, FloatArray, str]:
    """(y/H, u/Ub) averaged along the channel, from the raw cell values (reader B)."""
    latest = latest_time(case)
    if latest is None:
        raise FieldFormatError(f"{case} has no time directory after 0: the solver wrote no result")
    _, folder = latest
    centres = read_cell_centres(case, folder)
    velocity = read_internal_field(folder / "U", within=case, expected=len(centres))
    if len(centres) != params.cells * params.cells_x:
        raise FieldFormatError(f"{len(centres)} cells, expected {params.cells_x} x {params.cells}")
    ys = centres.reshape(params.cells, params.cells_x, 3)[:, :, 1].mean(axis=1) / params.height
    us = velocity.reshape(params.cells, params.cells_x, 3)[:, :, 0].mean(axis=1) / params.bulk_velocity
    return ys, us, f"{folder.name}/U"


def sampled_profile(case: Path, params: ChannelParams) -> tuple[FloatArray, FloatArray, str]:
    """(y/H, u/Ub) from OpenFOAM's own line sampling (reader A)."""
    from tools.cfd.openfoam._fields import numbered_directories, read_xy

    root = case / "postProcessing" / "profile"
    times = numbered_directories(case, "postProcessing/profile")
    if not times:
        raise FieldFormatError(f"{root} holds no sampled time: the line sampling did not run")
    folder = times[-1][1]
    table = read_xy(folder / "across_U.xy", within=case)
    return table[:, 0] / params.height, table[:, 1] / params.bulk_velocity, f"postProcessing/profile/{folder.name}"


def wall_shear_from_cells(ys: FloatArray, us: FloatArray) -> float:
    """Cf * Re / 12 at the lower wall from the two cells nearest it (a quadratic through the wall, exact here)."""
    d1, d2, u1, u2 = ys[0], ys[1], us[0], us[1]
    slope = (u1 * d2**2 - u2 * d1**2) / (d1 * d2**2 - d2 * d1**2)
    return float(slope / 6.0)


def profile_function(params: ChannelParams, probe_x: float, z: float) -> dict[str, FoamValue]:
    """The `profile` function object: U on 101 points across the channel at x = probe_x, depth z."""
    sets = NamedList(
        {
            "across": {
                "type": Word("uniform"),
                "axis": Word("y"),
                "start": Raw(f"({number(probe_x)} 0 {number(z)})"),
                "end": Raw(f"({number(probe_x)} {number(params.height)} {number(z)})"),
                "nPoints": 101,
            }
        }
    )
    return {
        "type": Word("sets"),
        "libs": Raw('("libsampling.so")'),
        "writeControl": Word("writeTime"),
        "interpolationScheme": Word("cellPoint"),
        "setFormat": Word("raw"),
        "fields": Raw("(U)"),
        "sets": sets,
    }


class ChannelCase(CaseDefinition[ChannelParams]):
    kind = "poiseuille"
    params_model = ChannelParams
    applications = ("blockMesh", "simpleFoam", "postProcess")
    solver_log = "log.simpleFoam"
    deliverables = ("solver-log", "field-U", "field-figure", "comparison-figure", "residual-figure", "samples")
    recirculation: ClassVar[Literal["required", "forbidden"] | None] = "forbidden"
    symmetric = True
    mesh_tolerances: ClassVar[dict[str, float]] = {"wall_shear": 0.03, "centreline": 0.01}

    def tasks(self) -> list[TaskSpec]:
        return [
            TaskSpec(
                id="cfd/poiseuille",
                workload="cfd",
                title="Laminar plane channel flow between parallel walls against the analytic Poiseuille solution",
                goal=(
                    "Simulate fully developed laminar flow in a plane channel (simpleFoam, periodic, driven at a "
                    "fixed bulk velocity) and compare the velocity profile and the wall shear stress with the "
                    "analytic solution u = 6 Ub (y/H)(1 - y/H), tau_w = 6 nu Ub / H."
                ),
                params={"case": "poiseuille", "cells": 20},
                sweep={"re": [100, 500]},
                gates=["solver-log", "deliverables", "physical-range", "comparator", "mesh-independence", "vision"],
                gate_options={
                    # Uy and p are identically zero (uniform) in this flow: their normalised residuals
                    # measure round-off, not convergence.
                    "solver-log": {"residual_ignore": ["Uy", "p"]},
                    "deliverables": {"required": list(self.deliverables)},
                    "physical-range": {"speed_max": 2.0},
                    "comparator": {"profile_rmse_max": POISEUILLE_PROFILE_RMSE_MAX, "wall_shear_tolerance": 0.05},
                    "mesh-independence": {"factor": 2.0},
                },
                budget=Budget(experiments=6, iterations=3, wall_seconds=1800, experiment_seconds=300),
            )
        ]

    def stabilise(self, params: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
        return doubled_iterations(params, self.parse(params).iterations, 50_000)

    def files(self, params: ChannelParams) -> CaseFiles:
        length = params.height * max(1, params.cells_x) / params.cells
        patches = {
            "left": ("left", "cyclic:right"),
            "right": ("right", "cyclic:left"),
            "lowerWall": ("bottom", "wall"),
            "upperWall": ("top", "wall"),
        }
        kinds = {"left": "cyclic", "right": "cyclic", "lowerWall": "wall", "upperWall": "wall", "frontAndBack": "empty"}
        profile = profile_function(params, length / 2, 0.05)
        fv_options = {
            "momentumSource": {
                "type": Word("meanVelocityForce"),
                "selectionMode": Word("all"),
                "fields": Raw("(U)"),
                "Ubar": Raw(f"({number(params.bulk_velocity)} 0 0)"),
            }
        }
        files = {
            "system/blockMeshDict": rectangle_mesh(
                length=length, height=params.height, cells_x=params.cells_x, cells_y=params.cells, patches=patches
            ),
            "system/controlDict": steady_control(
                iterations=params.iterations,
                write_interval=params.iterations,
                walls=("lowerWall", "upperWall"),
                extra={"profile": profile},
            ),
            "system/fvSchemes": steady_schemes("laminar"),
            "system/fvSolution": steady_solution("laminar", residual=params.residual),
            "system/fvOptions": render_dict("dictionary", "system", "fvOptions", fv_options),
            "constant/transportProperties": transport_properties(params.nu),
            "constant/turbulenceProperties": turbulence_properties("laminar"),
        }
        files.update(field_files("laminar", kinds, velocity=(0.0, 0.0, 0.0)))
        return files

    def steps(self, params: ChannelParams) -> list[CaseStep]:
        return steady_steps(self.solver_log)

    def reference_velocity(self, params: ChannelParams) -> float:
        return params.speed

    def length_scale(self, params: ChannelParams) -> float:
        return params.height

    def nu(self, params: ChannelParams) -> float:
        return params.nu

    def bulk_direction(self, params: ChannelParams) -> tuple[float, float, float] | None:
        return (1.0 if params.bulk_velocity > 0 else -1.0, 0.0, 0.0)

    def wall_model(self, params: ChannelParams) -> Literal["resolved", "wall-function", "none"]:
        return "none"

    def structured_shape(self, params: ChannelParams) -> tuple[int, int] | None:
        return params.cells, params.cells_x

    def refine(self, params: dict[str, Any], factor: float) -> dict[str, Any] | None:
        current = self.parse(params)
        return {**params, "cells": round(current.cells * factor), "cells_x": max(1, round(current.cells_x * factor))}

    def quantities(self, case: Path, params: ChannelParams) -> dict[str, float]:
        ys, us, _ = cell_profile(case, params)
        return {"wall_shear": wall_shear_from_cells(ys, us), "centreline": float(np.interp(0.5, ys, us))}

    def post_functions(self, case: Path, params: ChannelParams) -> dict[str, FoamValue]:
        middle = mesh_middle(case)
        return {**wall_functions(), "profile": profile_function(params, middle[0], middle[2])}

    def infer(self, case: Path) -> dict[str, Any]:
        blocks = block_cells(case)
        ubar = mean_velocity_force(case)
        if ubar is None:
            raise TaskError("no meanVelocityForce source in system/fvOptions: not a periodic channel")
        from tools.cfd.cases._infer import read_case_dict
        from tools.cfd.openfoam._foamread import foam_vector

        vertices = read_case_dict(case, "system/blockMeshDict").get("vertices", [])
        heights = [foam_vector(v)[1] for v in vertices if isinstance(v, list)]
        height = max(heights) - min(heights) if heights else 0.1
        return {
            "case": self.kind,
            "re": round(abs(ubar) * height / viscosity(case), 6),
            "cells": blocks[0][1],
            "cells_x": blocks[0][0],
            "height": height,
            "bulk_velocity": ubar,
            "iterations": int(end_time(case)),
        }

    def analyse(
        self, case: Path, directory: Path, params: ChannelParams, log: SolverLog
    ) -> tuple[dict[str, float], list[OutputFile]]:
        title = f"plane Poiseuille flow, Re = {params.re:g}, {params.cells} cells across"
        final, outputs = residuals_and_fields(
            case,
            directory,
            log,
            title,
            fields=("U", "p", "C", "wallShearStress"),
            velocity_scale=params.speed,
            length_scale=params.height,
            triangles=grid_triangles(params.cells, params.cells_x) if params.cells_x > 1 else None,
        )
        if final is None:
            return {}, outputs
        ys, us, source = sampled_profile(case, params)
        exact = analytic_profile(ys)
        metrics = flow_metrics(final, params.speed)
        metrics["profile_rmse"] = float(np.sqrt(np.mean((us - exact) ** 2)))
        series: list[Series] = [(exact, ys, "-", "analytic"), (us, ys, "o", "labgate (sampled)")]
        title = f"{title}\nreference: u = 6 Ub (y/H)(1 - y/H)"
        outputs.append(
            comparison_figure(directory, "profile.png", "u / Ub across the channel", series, ("u / Ub", "y / H"), title)
        )
        outputs.append(OutputFile(path=f"case/{source}/across_U.xy", kind="table", role="samples"))
        return metrics, outputs
