"""The `cfd/cavity` family: lid-driven cavity on icoFoam against Ghia et al. (1982)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from runs import Budget, TaskSpec
from tools._workload import OutputFile, TaskError
from tools.cfd._render import render_field_panels, render_profile_comparison, render_residuals
from tools.cfd.cases._cavity import CavityParams, cavity_case, centreline_function
from tools.cfd.cases._cavity_metrics import ghia_metrics, profiles_from_samples
from tools.cfd.cases._definition import CaseDefinition, CaseFiles
from tools.cfd.cases._infer import block_cells, end_time, patch_value, read_case_dict, viscosity
from tools.cfd.cases._post import mesh_middle
from tools.cfd.cases._reference import ghia_conditions, ghia_profiles
from tools.cfd.openfoam._commands import CaseStep
from tools.cfd.openfoam._fields import latest_time, read_cell_centres, read_internal_field
from tools.cfd.openfoam._foamdict import FoamValue
from tools.cfd.openfoam._grid import structured_2d
from tools.cfd.openfoam._logs import SolverLog

CAVITY_RMSE_MAX = 0.02
"""Accepted centreline RMSE against Ghia, in units of the lid speed.

On 64x64 cells this case scores 0.002-0.005 at Re 100 and 400 and about 0.005 at Re 1000 on
96x96; a case far from steady state or on a mesh too coarse to resolve the vortex scores > 0.03.
"""


class CavityCase(CaseDefinition[CavityParams]):
    kind = "cavity"
    params_model = CavityParams
    applications = ("blockMesh", "icoFoam", "postProcess")
    solver_log = "log.icoFoam"
    deliverables = ("solver-log", "field-U", "field-figure", "comparison-figure", "residual-figure")
    recirculation: ClassVar[Literal["required", "forbidden"] | None] = "required"
    mesh_tolerances: ClassVar[dict[str, float]] = {"u_min": 0.03, "v_max": 0.03}

    def tasks(self) -> list[TaskSpec]:
        return [
            TaskSpec(
                id="cfd/cavity",
                workload="cfd",
                title="Lid-driven cavity at Re 100 and 400 against Ghia et al. (1982)",
                goal=(
                    "Simulate the 2-D lid-driven cavity with icoFoam and compare the centreline velocity "
                    "profiles with the tabulated multigrid solution of Ghia, Ghia & Shin (1982)."
                ),
                params={"case": "cavity", "cells": 64},
                sweep={"re": [100, 400]},
                gates=["solver-log", "deliverables", "comparator"],
                gate_options={
                    "deliverables": {"required": list(self.deliverables)},
                    "comparator": {"rmse_max": CAVITY_RMSE_MAX},
                },
                budget=Budget(experiments=6, iterations=3, wall_seconds=1800, experiment_seconds=300),
            )
        ]

    def stabilise(self, params: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
        current = self.parse(params)
        if current.time_step < 1e-7 * current.end_time:
            return None
        new = dict(params)
        if current.delta_t is not None:
            new["delta_t"] = current.delta_t / 2
            why = f"halve the time step to {new['delta_t']:.3g} s"
        else:
            new["courant"] = current.courant / 2
            why = f"halve the target Courant number to {new['courant']:.3g}"
        return new, why

    def reference_velocity(self, params: CavityParams) -> float:
        return params.lid_velocity

    def length_scale(self, params: CavityParams) -> float:
        return params.length

    def nu(self, params: CavityParams) -> float:
        return params.nu

    def structured_shape(self, params: CavityParams) -> tuple[int, int] | None:
        return params.cells, params.cells

    def refine(self, params: dict[str, Any], factor: float) -> dict[str, Any] | None:
        current = self.parse(params)
        return {**params, "cells": round(current.cells * factor)}

    def quantities(self, case: Path, params: CavityParams) -> dict[str, float]:
        from tools.cfd.cases._cavity_metrics import profiles_from_fields

        lines = profiles_from_fields(case, params)
        return {"u_min": float(lines.u.min()), "v_max": float(lines.v.max())}

    def infer(self, case: Path) -> dict[str, Any]:
        blocks = block_cells(case)
        if len(blocks) != 1 or blocks[0][0] != blocks[0][1]:
            raise TaskError("a cavity case has one square block of cells")
        lid = patch_value(case, "U", "movingWall")[0]
        mesh = read_case_dict(case, "system/blockMeshDict")
        scale = float(str(mesh.get("scale", mesh.get("convertToMeters", 1))))  # blockMesh prefers `scale`
        xs = [x for x, _, _ in _vertices(mesh.get("vertices", []))]
        length = (max(xs) - min(xs)) * scale if xs else 0.1
        return {
            "case": self.kind,
            "re": round(lid * length / viscosity(case), 6),
            "cells": blocks[0][0],
            "lid_velocity": lid,
            "length": length,
            "convective_times": end_time(case) * lid / length,
        }

    def post_functions(self, case: Path, params: CavityParams) -> dict[str, FoamValue]:
        return centreline_function(params, mesh_middle(case)[2])

    def files(self, params: CavityParams) -> CaseFiles:
        return cavity_case(params)

    def steps(self, params: CavityParams) -> list[CaseStep]:
        return [
            CaseStep("mesh", ("blockMesh",), "log.blockMesh"),
            CaseStep("solve", ("icoFoam",), self.solver_log),
            CaseStep("cell-centres", ("postProcess", "-func", "writeCellCentres", "-latestTime"), "log.cellCentres"),
        ]

    def analyse(
        self, case: Path, directory: Path, params: CavityParams, log: SolverLog
    ) -> tuple[dict[str, float], list[OutputFile]]:
        figures = directory / "figures"
        figures.mkdir(parents=True, exist_ok=True)
        outputs: list[OutputFile] = []
        title = f"lid-driven cavity, Re = {params.re:g}, {params.cells}x{params.cells} cells"

        render_residuals(figures / "residuals.png", log, title=f"{title}: residual history")
        outputs.append(OutputFile(path="figures/residuals.png", kind="image", role="residual-figure"))

        latest = latest_time(case)
        metrics: dict[str, float] = {}
        if latest is not None:
            time, folder = latest
            centres = read_cell_centres(case, folder)
            velocity = read_internal_field(folder / "U", within=case, expected=len(centres))
            pressure = read_internal_field(folder / "p", within=case, expected=len(centres))
            xs, ys, u_grid = structured_2d(centres, velocity)
            _, _, p_grid = structured_2d(centres, pressure)
            render_field_panels(
                figures / "fields.png",
                xs,
                ys,
                u_grid,
                p_grid,
                title=f"{title}, t = {time:g} s",
                velocity_scale=params.lid_velocity,
                length_scale=params.length,
            )
            outputs.append(OutputFile(path="figures/fields.png", kind="image", role="field-figure"))
            metrics["end_time"] = time
            metrics["max_speed_ratio"] = float(np.max(np.linalg.norm(velocity, axis=1)) / params.lid_velocity)
            for field_name in ("U", "p", "C"):
                outputs.append(
                    OutputFile(path=f"case/{folder.name}/{field_name}", kind="field", role=f"field-{field_name}")
                )

        reference_re = ghia_conditions().nearest(params.re)
        if reference_re is None:
            return metrics, outputs
        lines = profiles_from_samples(case, params)
        u_ref, v_ref = ghia_profiles(reference_re)
        metrics.update(ghia_metrics(lines, u_ref, v_ref))
        render_profile_comparison(
            figures / "centrelines.png",
            [
                ("u/U at x/L = 0.5", lines.y, lines.u, u_ref, "y / L", "u / U"),
                ("v/U at y/L = 0.5", lines.x, lines.v, v_ref, "x / L", "v / U"),
            ],
            title=f"{title}: centreline velocities, t = {lines.time:g} s",
        )
        outputs.append(OutputFile(path="figures/centrelines.png", kind="image", role="comparison-figure"))
        sample_dir = f"case/postProcessing/centrelines/{Path(lines.source).name}"
        outputs.append(OutputFile(path=f"{sample_dir}/vertical_U.xy", kind="table", role="samples-vertical"))
        outputs.append(OutputFile(path=f"{sample_dir}/horizontal_U.xy", kind="table", role="samples-horizontal"))
        return metrics, outputs


def _vertices(listed: object) -> list[tuple[float, float, float]]:
    """blockMeshDict's vertices as numbers; TaskError naming the first that is no (x y z)."""
    if not isinstance(listed, list):
        raise TaskError("system/blockMeshDict has no list of (x y z) vertices")
    vertices = []
    for index, vertex in enumerate(listed):
        try:
            if not isinstance(vertex, list) or len(vertex) != 3:
                raise ValueError
            x, y, z = (float(str(value)) for value in vertex)
        except ValueError:
            raise TaskError(f"system/blockMeshDict: vertex {index} is not (x y z): {str(vertex)[:80]}") from None
        vertices.append((x, y, z))
    return vertices
