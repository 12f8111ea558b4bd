"""A kind of CFD case: its typed parameters, the files and commands it needs, and its analysis."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from runs import TaskSpec
from tools._catalog import describe_validation_error
from tools._workload import OutputFile, TaskError
from tools.cfd._logs import SolverLog
from tools.cfd._openfoam import CaseStep

ParamsT = TypeVar("ParamsT", bound=BaseModel)
CaseFiles = dict[str, str]


class CaseDefinition(ABC, Generic[ParamsT]):
    """Everything labgate knows about one family of cases (cavity, channel, step...)."""

    kind: ClassVar[str]
    params_model: type[ParamsT]
    applications: ClassVar[tuple[str, ...]]
    solver_log: ClassVar[str]

    def parse(self, params: dict[str, Any], task_id: str = "") -> ParamsT:
        values = {name: value for name, value in params.items() if name != "case"}
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
