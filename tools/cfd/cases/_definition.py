"""A kind of CFD case: its typed parameters, the files and commands it needs, and its analysis."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Generic, Literal, TypeVar

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ValidationError

from runs import LabgateError, TaskSpec
from tools._catalog import describe_validation_error
from tools._workload import OutputFile, TaskError
from tools.cfd.cases._solution import CATALOG_FIELDS, SolutionFields
from tools.cfd.openfoam._commands import CaseStep
from tools.cfd.openfoam._foamdict import FoamValue
from tools.cfd.openfoam._logs import SolverLog, read_solver_log

ParamsT = TypeVar("ParamsT", bound=BaseModel)
CaseFiles = dict[str, str]
RESERVED_PARAMS = ("case", "search")
"""Task parameters the workload reads itself; they never reach a case's parameter model."""


class CaseDefinition(ABC, Generic[ParamsT]):
    """Everything labgate knows about one family of cases (cavity, channel, step...)."""

    kind: ClassVar[str]
    params_model: type[ParamsT]
    applications: ClassVar[tuple[str, ...]]
    solver_log: ClassVar[str]
    deliverables: ClassVar[tuple[str, ...]] = ()
    recirculation: ClassVar[Literal["required", "forbidden"] | None] = None
    """Whether a correct solution of this flow has reversed flow somewhere (a vision-gate check)."""
    symmetric: ClassVar[bool] = False
    """Whether the flow is mirror-symmetric about the domain's horizontal mid-line."""
    mesh_tolerances: ClassVar[dict[str, float]] = {}
    """Quantity of interest -> allowed relative change under mesh refinement (mesh-independence gate). The
    name `field` stands for each field `mesh_fields` names, compared cell by cell (`verifiers.cfd._field_change`)."""
    needed_to_run: ClassVar[tuple[str, ...]] = ()
    """Parameters a run needs though a check does not (`cfd/case`'s folder, which `agent check` takes as PATH)."""
    user_mesh: ClassVar[bool] = False
    """Whether the mesh comes from the user's files: then the mesh-independence gate checks, cell by cell,
    that every region of it was refined (a family meshing from labgate's own templates refines them all)."""

    def field_name(self, name: str) -> str:
        """The parameter `name` stands for: names are matched without regard to case (`--param Re=100`
        means `re`); an unknown name is returned as it is (the model refuses it)."""
        fields = self.params_model.model_fields
        if name in fields:
            return name
        return next((field for field in fields if field.lower() == name.lower()), name)

    def parse(self, params: dict[str, Any], task_id: str = "") -> ParamsT:
        values = {}
        for name, value in params.items():
            if name in RESERVED_PARAMS:
                continue
            values[self.field_name(name)] = value
        try:
            return self.params_model.model_validate(values)
        except ValidationError as error:
            where = f" for {task_id}" if task_id else ""
            known = ", ".join(self.params_model.model_fields)
            raise TaskError(
                f"invalid {self.kind} parameters{where}: {describe_validation_error(error)} (parameters: {known})"
            ) from None

    def stabilise(self, params: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
        """Parameters for a numerically gentler rerun (smaller time step...), or None if none is left."""
        return None

    @abstractmethod
    def tasks(self) -> list[TaskSpec]:
        """Built-in catalog tasks using this case."""

    @abstractmethod
    def files(self, params: ParamsT) -> CaseFiles:
        """Case files keyed by path relative to the case directory."""

    @abstractmethod
    def steps(self, params: ParamsT) -> list[CaseStep]:
        """Mesh, solve, post-process: run in order inside the sandbox."""

    @abstractmethod
    def analyse(
        self, case: Path, directory: Path, params: ParamsT, log: SolverLog
    ) -> tuple[dict[str, float], list[OutputFile]]:
        """Metrics from the solver's own post-processing, and the figures drawn, after a finished run."""

    # -- what gates and `check-case` ask of a case family (defaults: nothing to offer) ----------------

    def reference_velocity(self, params: ParamsT) -> float:
        """The velocity scale of the flow (lid, bulk or inlet speed)."""
        raise NotImplementedError

    def run_reference_velocity(self, case: Path, params: ParamsT) -> tuple[float, str]:
        """The velocity scale of the run in `case`, and how it was found when the case itself set it (else
        ""): a family that reads it from a case's files reads the copy that ran, never the user's folder."""
        return self.reference_velocity(params), ""

    def length_scale(self, params: ParamsT) -> float:
        return 1.0

    def nu(self, params: ParamsT) -> float:
        raise NotImplementedError

    def bulk_direction(self, params: ParamsT) -> tuple[float, float, float] | None:
        """The direction the bulk flow must take, when the task fixes one."""
        return None

    def wall_model(self, params: ParamsT) -> Literal["resolved", "wall-function", "none"]:
        """How walls are treated: sets the y+ range a physical-range gate expects."""
        return "none"

    def structured_shape(self, params: ParamsT) -> tuple[int, int] | None:
        """(ny, nx) when the mesh is one i-fastest block, so fields reshape into rows and columns."""
        return None

    def solid(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.bool_] | None:
        """Which points lie inside walls (to mask figures of non-convex domains)."""
        return None

    def solution_fields(self, folder: Path, solved: tuple[str, ...]) -> SolutionFields | None:
        """The vector and scalar fields of the result in time folder `folder` (`solved`: the names the log
        solved for), or None when it holds none. Every catalog family solves `U` and `p`."""
        return CATALOG_FIELDS

    def case_log(self, case: Path) -> str:
        """The name of the solver's log in `case`."""
        return self.solver_log

    def case_solution(self, case: Path, folder: Path) -> SolutionFields | None:
        """The solution fields of the run in `case` at time folder `folder`, from its own log (unreadable:
        from the files alone)."""
        try:
            solved = tuple(read_solver_log(case / self.case_log(case), within=case).residuals)
        except (LabgateError, OSError):
            solved = ()
        return self.solution_fields(folder, solved)

    def refine(self, params: dict[str, Any], factor: float) -> dict[str, Any] | None:
        """Parameters of the same case on a mesh `factor` times finer, or None if it cannot be refined."""
        return None

    def quantities(self, case: Path, params: ParamsT) -> dict[str, float]:
        """Quantities of interest read from the raw fields, compared across meshes."""
        return {}

    def mesh_fields(self, case: Path) -> list[str]:
        """The fields compared cell by cell across meshes when `mesh_tolerances` names `field`."""
        return []

    @property
    def solver(self) -> str:
        """The application that solved the case; its `-postProcess` mode builds the models post-processing needs."""
        return self.solver_log.removeprefix("log.")

    def post_functions(self, case: Path, params: ParamsT) -> dict[str, FoamValue]:
        """labgate's own function objects writing what this family's analysis reads, for a case solved
        elsewhere (`check-case`); cell centres are always written besides these."""
        return {}

    def infer(self, case: Path) -> dict[str, Any]:
        """This family's parameters read back from a case directory's own dictionaries."""
        raise TaskError(f"labgate cannot read the parameters of a {self.kind} case back from its files")
