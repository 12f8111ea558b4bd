"""The `cfd/case` family: any OpenFOAM case directory a user brings, re-run or adopted, judged by generic gates.

labgate knows nothing of the flow beforehand, so its gates are the ones that hold for every case: the
solver log (convergence criteria from the task's gate options or the defaults), deliverables, physical
range (finite fields, speeds within a multiple of the largest speed the case imposes on the mesh that
ran, `_generic_speed`), the offline vision checks, mesh independence (the case re-run on a finer mesh:
blockMesh counts scaled, otherwise one `refineMesh` pass) and, when the user gives one, a reference
CSV compared by labgate's own reader of the raw fields (`_user_reference`). Running and adopting live in `_generic_run`.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from runs import Budget, LabgateError, TaskSpec
from tools._workload import OutputFile
from tools.cfd._render import render_profile_comparison
from tools.cfd.cases._definition import CaseDefinition, CaseFiles
from tools.cfd.cases._final import PROFILE_ROLE, SOLUTION_ROLE, solution_figure_and_fields
from tools.cfd.cases._generic_control import read_control, scale_block_counts
from tools.cfd.cases._generic_speed import imposed_speed
from tools.cfd.cases._own_fields import VOLUME_FIELD, own_fields
from tools.cfd.cases._reference import ReferenceProfile
from tools.cfd.cases._roles import JUDGING, numerics
from tools.cfd.cases._solution import SolutionFields, detect_solution_fields
from tools.cfd.cases._user_reference import (
    ReferenceFormatError,
    monitor_value,
    probe,
    read_reference,
    solved_fields,
)
from tools.cfd.openfoam._commands import CaseStep
from tools.cfd.openfoam._fields import FieldFormatError, latest_time
from tools.cfd.openfoam._logs import SolverLog

USER_CASE_GATES = ("solver-log", "deliverables", "physical-range", "vision", "comparator", "mesh-independence")
MAX_U_REF = 1e5
"""m/s: far above any flow OpenFOAM's solvers are used for (a re-entry vehicle's is about 8e3); a larger
velocity scale would make the physical-range gate's speed check one no field can fail."""
_SOLVER_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,60}")
REFERENCE_FIGURE = "figures/reference.png"
REFERENCE_COPY = "reference.csv"
"""Where the user's reference CSV is copied in the experiment directory (what the comparator reads)."""


SERVER_PATH: dict[str, Any] = {"format": "path", **JUDGING}
"""Marks a parameter that names a file or folder of the machine running labgate: a remote client may not
set it (the REST API refuses it), and a proposer may not change it (`CfdWorkload.validate_experiment`)."""


def server_path_params(model: type[BaseModel]) -> tuple[str, ...]:
    """The parameters of `model` marked SERVER_PATH."""
    return tuple(name for name, field in model.model_fields.items() if field.json_schema_extra == SERVER_PATH)


class UserCaseParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_dir: str | None = Field(
        default=None,
        description="the OpenFOAM case directory to re-run (absolute path); `check` takes it as PATH",
        json_schema_extra=SERVER_PATH,
    )
    end_time: float | None = Field(
        default=None,
        gt=0,
        description="endTime for the re-run instead of the case's own (shorter tests)",
        json_schema_extra=numerics("more"),
    )
    mesh_factor: float = Field(
        default=1.0,
        ge=1.0,
        le=8.0,
        description="mesh refinement of the re-run (blockMesh counts; else refineMesh)",
        json_schema_extra=numerics("more"),
    )
    reference: str | None = Field(
        default=None,
        description="a CSV quantity,x,y,z,value,tolerance compared by labgate's field reader",
        json_schema_extra=SERVER_PATH,
    )
    u_ref: float | None = Field(
        default=None,
        gt=0,
        le=MAX_U_REF,
        description="velocity scale (m/s); default: the largest speed set on the case's boundaries",
        json_schema_extra=JUDGING,
    )

    @field_validator("case_dir")
    @classmethod
    def _a_case(cls, value: str | None) -> str | None:
        if value is None:
            return None
        path = Path(value).expanduser().resolve()
        if not (path / "system" / "controlDict").is_file():
            raise ValueError(f"{value} is not an OpenFOAM case directory (no system/controlDict)")
        return str(path)

    @field_validator("reference")
    @classmethod
    def _a_reference(cls, value: str | None) -> str | None:
        if value is None:
            return None
        path = Path(value).expanduser().resolve()
        if not path.is_file():
            raise ValueError(f"the reference {value} does not exist")
        try:
            read_reference(path)
        except ReferenceFormatError as error:
            raise ValueError(str(error)) from None
        return str(path)


def render_reference(case: Path, folder: Path, reference: Path, directory: Path) -> bool:
    """Draw each profile of the reference (a quantity given at 2 points or more) against labgate's
    reading of the raw fields at the same points; False when the reference holds only scalars."""
    points = read_reference(reference)
    panels = []
    for quantity in sorted({point.quantity for point in points}):
        chosen = [point for point in points if point.quantity == quantity]
        if len(chosen) < 2:
            continue
        locations = np.array([point.location for point in chosen], dtype=np.float64)
        axis = int(np.argmax(np.ptp(locations, axis=0)))
        order = np.argsort(locations[:, axis])
        simulated = probe(case, folder, quantity, locations[order])
        values = np.array([chosen[k].value for k in order])
        profile = ReferenceProfile(
            coordinate=locations[order, axis],
            value=values,
            used=np.ones(len(values), dtype=bool),
            source=reference.name,
            description=f"{quantity} from {reference.name}",
        )
        name = "xyz"[axis]
        panels.append((quantity, locations[order, axis], simulated, profile, f"{name} (m)", quantity))
    if not panels:
        return False
    figure = directory / REFERENCE_FIGURE
    figure.parent.mkdir(parents=True, exist_ok=True)
    render_profile_comparison(figure, panels, title=f"user reference vs the raw fields at t = {folder.name}")
    return True


class UserCase(CaseDefinition[UserCaseParams]):
    kind = "case"
    params_model = UserCaseParams
    needed_to_run = ("case_dir",)
    applications = ("postProcess", "foamFormatConvert")
    solver_log = "log.solver"
    deliverables = ("solver-log", f"{SOLUTION_ROLE}*", f"field-figure|{PROFILE_ROLE}", "residual-figure")
    mesh_tolerances: ClassVar[dict[str, float]] = {"monitor": 0.05, "field": 0.05}
    user_mesh: ClassVar[bool] = True

    def tasks(self) -> list[TaskSpec]:
        return [
            TaskSpec(
                id="cfd/case",
                workload="cfd",
                title="Your own OpenFOAM case, re-run or adopted, under generic gates",
                goal=(
                    "Run (or adopt, with `agent check`) any OpenFOAM case directory: check the solver converged, "
                    "the fields are finite and physically bounded, the answer does not move on a finer mesh, and "
                    "it agrees with the user's own reference data when given."
                ),
                params={"case": "case"},
                gates=list(USER_CASE_GATES),
                gate_options={"deliverables": {"required": list(self.deliverables)}},
                budget=Budget(experiments=2, iterations=1, wall_seconds=3600, experiment_seconds=900),
            )
        ]

    def files(self, params: UserCaseParams) -> CaseFiles:
        return {}

    def steps(self, params: UserCaseParams) -> list[CaseStep]:
        return []

    def reference_velocity(self, params: UserCaseParams) -> float:
        if params.u_ref is None:
            # The user's folder is not what ran: the speed comes from the run's copy (run_reference_velocity).
            raise NotImplementedError("cfd/case takes its reference speed from the case that ran")
        return params.u_ref

    def run_reference_velocity(self, case: Path, params: UserCaseParams) -> tuple[float, str]:
        if params.u_ref is not None:
            return params.u_ref, f"U_ref = {params.u_ref:g} m/s, as given (u_ref)"
        found = imposed_speed(case)
        return found.speed, found.basis

    def refine(self, params: dict[str, Any], factor: float) -> dict[str, Any] | None:
        current = self.parse(params)
        if current.case_dir is None:
            return None
        case = Path(current.case_dir)
        block = case / "system" / "blockMeshDict"
        scalable = (
            block.is_file()
            and not (case / "system" / "snappyHexMeshDict").is_file()
            and scale_block_counts(block.read_text(errors="replace"), factor) is not None
        )
        # Without block counts to scale, the finer mesh is one refineMesh pass: twice as fine.
        return {**params, "mesh_factor": current.mesh_factor * (factor if scalable else 2.0)}

    def case_log(self, case: Path) -> str:
        """`log.<application>`, the name the run gives its solver's log (the application its controlDict names)."""
        try:
            solver = str(read_control(case).get("application", ""))
        except (LabgateError, OSError):
            return self.solver_log
        return f"log.{solver}" if _SOLVER_NAME.fullmatch(solver) else self.solver_log

    def solution_fields(self, folder: Path, solved: tuple[str, ...]) -> SolutionFields | None:
        return detect_solution_fields(folder, solved)

    def quantities(self, case: Path, params: UserCaseParams) -> dict[str, float]:
        latest = latest_time(case)
        if latest is None:
            raise FieldFormatError(f"{case} has no time directory after 0")
        # The run's copy beside its case folder (`analyse`), so both meshes' runs are read against what each ran.
        points = read_reference(case.parent / REFERENCE_COPY) if params.reference else None
        solution = self.case_solution(case, latest[1])
        if solution is None:
            raise FieldFormatError(f"{latest[1]} holds no solution field to compare across meshes")
        volumes = VOLUME_FIELD not in own_fields(case)
        return {"monitor": monitor_value(case, latest[1], points, solution, volumes=volumes)}

    def mesh_fields(self, case: Path) -> list[str]:
        """The velocity where the solver solved one (a pressure is not compared: at a cavity's lid corners it
        never converges, 15 % apart on the stock cavity's two meshes), else every field it solved (a given
        velocity never moves: scalarTransportFoam's `T` is what moves)."""
        latest = latest_time(case)
        solution = self.case_solution(case, latest[1]) if latest is not None else None
        if solution is None:
            return []
        solved = solved_fields(solution)
        return [solution.velocity] if solution.velocity in solved else solved

    def analyse(
        self, case: Path, directory: Path, params: UserCaseParams, log: SolverLog
    ) -> tuple[dict[str, float], list[OutputFile]]:
        speed, _ = self.run_reference_velocity(case, params)
        state, outputs = solution_figure_and_fields(
            case,
            directory,
            log,
            f"{case.name} ({Path(params.case_dir).name if params.case_dir else 'case'})",
            fields_of=self.solution_fields,
            velocity_scale=speed,
        )
        metrics: dict[str, float] = {"u_ref": speed}
        if params.reference:  # copied once: every later reading is of the copy, the run's own evidence
            shutil.copyfile(params.reference, directory / REFERENCE_COPY)
            outputs.append(OutputFile(path=REFERENCE_COPY, kind="data", role="user-reference"))
        if state is not None:
            metrics["end_time"] = state.time
            velocity = state.solution.velocity
            if velocity is not None:
                magnitude = np.linalg.norm(np.atleast_2d(state.values[velocity]), axis=1)
                metrics["max_speed_ratio"] = float(np.max(magnitude) / speed)
            metrics.update(self.quantities(case, params))
            if params.reference and render_reference(case, state.folder, directory / REFERENCE_COPY, directory):
                outputs.append(OutputFile(path=REFERENCE_FIGURE, kind="image", role="comparison-figure"))
        return metrics, outputs


def resolve_task_paths(task: TaskSpec, directory: Path) -> TaskSpec:
    """A `cfd/case` task file's `case_dir` and `reference`, relative to the file's own folder, made absolute."""
    if task.params.get("case") != UserCase.kind:
        return task
    params = dict(task.params)
    for name in ("case_dir", "reference"):
        value = params.get(name)
        if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
            params[name] = str((directory / value).resolve())
    return task.model_copy(update={"params": params})
