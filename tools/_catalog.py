"""The task catalog: built-in tasks of every workload, task files, and command-line overrides."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from runs import Budget, TaskSpec
from tools._gate_settings import GateOptionsValidator, check_gate_settings, gate_deviations
from tools._workload import TaskError, Workload


def describe_validation_error(error: ValidationError) -> str:
    """One line per problem, naming the field: what a user needs to fix a task or parameter."""
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown field"
        problems.append(f"{where}: {message}")
    return "; ".join(problems)


def parse_scalar(text: str) -> Any:
    """A command-line value as the number or boolean it spells, else the text itself."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text.strip()


class Catalog:
    """Every task labgate can run, keyed by id, with the workload that runs it.

    With `gate_options` (the gates' validator, handed in by the front door) the catalog also refuses
    unknown gates and bad gate options, and compares those of a submitted task with its catalog task's.
    `unavailable` names workloads that are registered but could not be loaded, with the reason: a
    task of one of them is refused with that reason instead of "unknown".
    """

    def __init__(
        self,
        workloads: Iterable[Workload],
        gate_options: GateOptionsValidator | None = None,
        unavailable: Mapping[str, str] | None = None,
    ) -> None:
        self.workloads: dict[str, Workload] = {workload.name: workload for workload in workloads}
        self.gate_options = gate_options
        self.unavailable: dict[str, str] = dict(unavailable or {})
        self._tasks: dict[str, TaskSpec] | None = None
        self._own: dict[str, dict[str, TaskSpec]] = {}

    def tasks(self) -> dict[str, TaskSpec]:
        if self._tasks is None:
            self._tasks = {task_id: task for name in self.workloads for task_id, task in self._tasks_of(name).items()}
        return self._tasks

    def _tasks_of(self, name: str) -> dict[str, TaskSpec]:
        if name not in self._own:
            self._own[name] = {task.id: task for task in self.workloads[name].tasks()}
        return self._own[name]

    def _find(self, task_id: str) -> TaskSpec | None:
        """The catalog task `task_id`. An id that starts with its workload's name (`cfd/cavity`) is looked
        up in that workload's tasks alone, so running it does not first read every other workload's
        (the proof workload parses hundreds of problems)."""
        prefix = task_id.split("/", maxsplit=1)[0]
        if self._tasks is None and "/" in task_id and prefix in self.workloads:
            found = self._tasks_of(prefix).get(task_id)
            if found is not None:
                return found
        return self.tasks().get(task_id)

    def workload_for(self, task: TaskSpec) -> Workload:
        """The workload that runs `task`; TaskError naming the installed ones when it is not among them."""
        workload = self.workloads.get(task.workload)
        if workload is None:
            raise TaskError(f"{task.id}: {self._missing(task.workload)}")
        return workload

    def _missing(self, name: str) -> str:
        """Why workload `name` cannot run anything here, naming those that can."""
        installed = ", ".join(sorted(self.workloads)) or "none"
        if name in self.unavailable:
            return f"workload {name!r} is registered but unavailable: {self.unavailable[name]}"
        return f"workload {name!r} is not installed (installed workloads: {installed})"

    def get(self, task_id: str) -> TaskSpec:
        found = self._find(task_id)
        if found is not None:
            return found.model_copy(deep=True)
        tasks = self.tasks()
        prefix = task_id.split("/", maxsplit=1)[0]
        if "/" in task_id and prefix not in self.workloads:
            raise TaskError(f"unknown task {task_id!r}: {self._missing(prefix)}")
        close = [known for known in tasks if known.split("/")[0] == prefix][:8]
        hint = f"; known {prefix} tasks: {', '.join(close)}" if close else "; see `agent tasks`"
        raise TaskError(f"unknown task {task_id!r}{hint}")

    def load(self, reference: str) -> TaskSpec:
        """A catalog id, or a YAML/TOML/JSON task file (which may extend a catalog task)."""
        path = Path(reference)
        looks_like_file = path.suffix.lower() in (".yaml", ".yml", ".toml", ".json") or path.exists()
        task = self._load_file(path) if looks_like_file else self.get(reference)
        self.validate(task)
        return task

    def validate(self, task: TaskSpec) -> None:
        self.workload_for(task).validate(task)
        if self.gate_options is not None:
            check_gate_settings(task, self.gate_options)

    def reference(self, task: TaskSpec) -> TaskSpec | None:
        """The catalog task `task` is named after (what it would pass for), else the one it extends, if any."""
        return self._find(task.id) or (self._find(task.extends) if task.extends else None)

    def with_deviations(self, task: TaskSpec) -> TaskSpec:
        """`task` with its gate deviations from its catalog task recorded (none when it has no catalog task)."""
        reference = self.reference(task)
        found = gate_deviations(task, reference, self.gate_options) if reference is not None else []
        return task.model_copy(update={"gate_deviations": found})

    def _load_file(self, path: Path) -> TaskSpec:
        try:
            text = path.read_text()
        except OSError as error:
            raise TaskError(f"cannot read task file {path}: {error.strerror or error}") from None
        try:
            if path.suffix.lower() == ".toml":
                data = tomllib.loads(text)
            elif path.suffix.lower() == ".json":
                data = json.loads(text)
            else:
                data = yaml.safe_load(text)
        except (yaml.YAMLError, tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
            detail = str(error).replace("\n", " ")
            raise TaskError(f"task file {path} is malformed: {detail}") from None
        if not isinstance(data, dict):
            raise TaskError(f"task file {path} must hold a mapping of task fields, not {type(data).__name__}")
        task = self.from_mapping(data, origin=str(path))
        workload = self.workloads.get(task.workload)
        return workload.titled(workload.read_task_files(task, path.parent)) if workload is not None else task

    def from_mapping(self, data: Mapping[str, Any], origin: str = "task") -> TaskSpec:
        """A task from a mapping (file or REST body); `extends: <id>` starts from a catalog task."""
        data = dict(data)
        base_id = data.pop("extends", None)
        try:
            if base_id is not None:
                base = self.get(str(base_id)).model_dump()
                params = {**base.get("params", {}), **(data.pop("params", None) or {})}
                budget = {**base.get("budget", {}), **(data.pop("budget", None) or {})}
                gate_options = dict(base.get("gate_options", {}))
                for gate, options in (data.pop("gate_options", None) or {}).items():
                    gate_options[gate] = {**gate_options.get(gate, {}), **(options or {})}
                merged = {
                    **base,
                    **data,
                    "params": params,
                    "budget": budget,
                    "gate_options": gate_options,
                    "extends": str(base_id),
                }
                return TaskSpec.model_validate(merged)
            return TaskSpec.model_validate(data)
        except ValidationError as error:
            raise TaskError(f"{origin} is not a valid task: {describe_validation_error(error)}") from None


def apply_overrides(
    task: TaskSpec,
    *,
    params: Sequence[str] = (),
    budget_experiments: int | None = None,
    seed: int | None = None,
) -> TaskSpec:
    """Command-line `--param name=value[,value...]`: one value sets it, several sweep it."""
    task = task.model_copy(deep=True)
    for item in params:
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep or not name or not raw.strip():
            raise TaskError(f"--param {item!r} must look like name=value or name=v1,v2,...")
        # A name that matches an existing parameter but for case (`Re` for `re`) means that parameter.
        existing = {known.lower(): known for known in (*task.params, *task.sweep)}
        name = existing.get(name.lower(), name)
        values = [parse_scalar(part) for part in raw.split(",") if part.strip()]
        if len(values) == 1 and name not in task.sweep:
            task.params[name] = values[0]
        else:
            task.sweep[name] = values
            task.params.pop(name, None)
    if budget_experiments is not None:
        if budget_experiments < 1:
            raise TaskError("--budget must be at least 1 experiment")
        task.budget = Budget.model_validate({**task.budget.model_dump(), "experiments": budget_experiments})
    if seed is not None:
        task.seed = seed
    return task
