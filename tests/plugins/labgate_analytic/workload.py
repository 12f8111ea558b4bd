"""The analytic workload: a tiny Python tool whose answers have closed forms, run in the sandbox.

It is what a third party's workload looks like: its own package, registered by entry points
(`labgate.workloads`, `labgate.gates`), with no file of labgate edited.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import MappingProxyType
from typing import Any

from labgate_analytic.params import AnalyticParams, parse_params
from runs import Budget, ExperimentSpec, TaskSpec
from sandboxes import Limits, SandboxError
from tools import ExperimentOutcome, OutputFile, SandboxFactory, TaskError, Workload, experiment_key

TOOL = Path(__file__).with_name("analytic_tool.py")
RESULT = "result.json"
LIMITS = Limits(memory_bytes=1 << 30, processes=16, file_bytes=1 << 20)
SYSTEM = (Path("/usr"), Path("/etc"), Path("/opt"))


def interpreter_paths() -> list[Path]:
    """What the sandbox must see read-only for `python -I` to start: the interpreter and its prefix."""
    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent.parent}
    return sorted(p for p in paths if p.exists() and not any(p == s or s in p.parents for s in SYSTEM))


class AnalyticWorkload(Workload):
    name = "analytic"
    artifact_kinds = MappingProxyType({"result": "json"})

    def tasks(self) -> list[TaskSpec]:
        budget = Budget(experiments=1, iterations=1, wall_seconds=300, experiment_seconds=60)
        return [
            TaskSpec(
                id="analytic/geometric",
                workload="analytic",
                title="Partial sum of a geometric series",
                goal="Sum r**k for k below n and match the closed form (1 - r**n) / (1 - r).",
                params={"problem": "geometric", "ratio": 0.5, "terms": 60},
                gates=["deliverables", "analytic-closed-form"],
                budget=budget,
            ),
            TaskSpec(
                id="analytic/quadrature",
                workload="analytic",
                title="Midpoint quadrature of x**p on [0, 1]",
                goal="Integrate x**p over [0, 1] with the midpoint rule and match the closed form 1 / (p + 1).",
                params={"problem": "quadrature", "power": 2, "intervals": 2000},
                gates=["deliverables", "analytic-closed-form"],
                budget=budget,
            ),
        ]

    def validate(self, task: TaskSpec) -> None:
        if task.sweep:
            raise TaskError(f"{task.id}: analytic tasks compute one value; sweeps are not supported")
        parse_params(task.params, task.id)

    def plan(self, task: TaskSpec) -> list[ExperimentSpec]:
        params = parse_params(task.params, task.id)
        return [
            ExperimentSpec(
                key=experiment_key({"problem": params.problem}),
                task_id=task.id,
                params=params.model_dump(),
                rationale=f"compute the {params.problem} value with the tool",
            )
        ]

    def param_schema(self, task: TaskSpec) -> dict[str, Any]:
        return AnalyticParams.model_json_schema()

    def validate_experiment(self, task: TaskSpec, params: dict[str, Any]) -> None:
        parse_params(params, task.id)

    def check_tools(self, task: TaskSpec) -> None:
        return None  # the tool is this interpreter

    def tool_versions(self) -> dict[str, str]:
        return {"python": sys.version.split()[0]}

    def run(
        self, task: TaskSpec, experiment: ExperimentSpec, directory: Path, sandbox_factory: SandboxFactory
    ) -> ExperimentOutcome:
        params = parse_params(experiment.params, task.id)
        sandbox = sandbox_factory(directory, ro_paths=interpreter_paths())
        try:
            sandbox.write_file(TOOL.name, TOOL.read_text())
            result = sandbox.exec(
                [sys.executable, "-I", TOOL.name, json.dumps(params.model_dump())],
                timeout=task.budget.experiment_seconds,
                limits=LIMITS,
            )
        except SandboxError as error:
            return ExperimentOutcome(key=experiment.key, status="error", error=f"the tool failed: {error}")
        finally:
            sandbox.close()
        files = [
            OutputFile(path=RESULT, kind="result", role="result"),
            OutputFile(path="tool.log", kind="log", role="tool-log", required=False),
            OutputFile(path=TOOL.name, kind="source", role="tool", required=False),
        ]
        if result.returncode != 0:
            reason = f"the tool exited with code {result.returncode}: {result.stderr.strip()[-300:]}"
            return ExperimentOutcome(key=experiment.key, status="error", error=reason, files=files)
        return ExperimentOutcome(key=experiment.key, status="completed", files=files, info={"tool": TOOL.name})
