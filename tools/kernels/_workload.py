"""The kernels workload: catalog entries `kernels/<task>`, their parameters, and a plain evaluation.

An experiment of this workload is a search; `agents` registers the driver that runs it. Without
that driver (a bare `tools` installation) `run` evaluates the task's seed kernel, so the workload
still produces something its gates can judge.
"""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from runs import Budget, ExperimentSpec, TaskSpec
from tools._catalog import describe_validation_error
from tools._workload import ExperimentOutcome, OutputFile, SandboxFactory, TaskError, ToolUnavailableError, Workload
from tools.kernels._definition import read_definition_files
from tools.kernels._harness import Evaluation
from tools.kernels._session import ceilings_record, kernel_task, open_harness
from tools.kernels.suite import SUITE

GATES = ["kernel-correctness", "kernel-heldout"]
MAX_EVALUATIONS = 100_000
"""A kernels task's default `budget.experiments`: `--budget N` on a kernels task caps the search's evaluations
(one experiment is one search), so the catalogue leaves it uncapped and `evaluations` decides."""

MAX_STARTS = 8
"""Candidates a search may start from besides its seed (a resumed search takes the earlier one's best)."""
MAX_START_CHARS = 200_000


MAX_SECONDS = 7 * 86_400
"""The longest search or candidate time limit: past it a deadline overflows the timers it ends in."""


class KernelSearchParams(BaseModel):
    """What a `kernels/<task>` run may set (with `--param name=value`)."""

    model_config = ConfigDict(extra="forbid")

    kernel: str
    search: Literal["one-plus-one", "islands"] = "islands"
    proposer: Literal["builtin", "llm"] = "builtin"
    evaluations: int = Field(
        default=40, ge=1, le=MAX_EVALUATIONS, description="candidates evaluated by the search (--budget N caps it)"
    )
    seconds: float | None = Field(
        default=None,
        gt=0,
        le=MAX_SECONDS,
        description="wall-clock seconds of the search (default: the experiment's time limit)",
    )
    samples: int = Field(default=1, ge=1, le=16, description="LLM samples per step (best-of-N)")
    selection: Literal["best", "surprisal"] = "best"
    edit: Literal["rewrite", "diff"] = "diff"
    islands: int = Field(default=2, ge=1, le=16)
    migrate_every: int = Field(default=8, ge=1, le=MAX_EVALUATIONS)
    eval_timeout: float = Field(
        default=60.0, gt=0, le=MAX_SECONDS, description="seconds before a hung candidate's worker is killed"
    )
    remeasure: int = Field(default=3, ge=1, le=16, description="top candidates re-measured before declaring a winner")
    backend: Literal["opencl", "cuda"] = "opencl"
    definition: dict[str, Any] | None = Field(
        default=None, description="a kernel task of your own (a task file's; see tools/kernels/examples)"
    )
    resume: str | None = Field(
        default=None,
        max_length=40,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="an earlier run of the same kernel task: its best candidates start this search",
    )
    starts: list[Annotated[str, Field(max_length=MAX_START_CHARS)]] = Field(
        default_factory=list,
        max_length=MAX_STARTS,
        description="kernel sources evaluated right after the seed and used as parents (`resume` fills it)",
    )


def parse_params(task: TaskSpec | dict[str, object], task_id: str = "") -> KernelSearchParams:
    params = task.params if isinstance(task, TaskSpec) else task
    try:
        parsed = KernelSearchParams.model_validate(params)
    except ValidationError as error:
        raise TaskError(
            f"invalid kernels parameters for {task_id or 'task'}: {describe_validation_error(error)}"
        ) from None
    try:
        kernel_task(parsed.kernel, parsed.definition)
    except TaskError as error:
        raise TaskError(f"{task_id or 'task'}: {error}") from None
    return parsed


def search_budget(params: KernelSearchParams, budget: Budget) -> tuple[int, float | None]:
    """Evaluations and seconds one search may spend: `evaluations` capped by `--budget N` (the task's
    `budget.experiments`, which for a kernels task counts evaluations), and `seconds` when set."""
    return min(params.evaluations, budget.experiments), params.seconds


def write_evaluation_files(
    directory: Path, source: str, evaluation: Evaluation, extra: dict[str, object]
) -> list[OutputFile]:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "candidate.cl").write_text(source)
    (directory / "evaluation.json").write_text(json.dumps({**evaluation.model_dump(mode="json"), **extra}, indent=1))
    return [
        OutputFile(path="candidate.cl", kind="kernel", role="candidate-kernel"),
        OutputFile(path="evaluation.json", kind="data", role="search-evaluation"),
    ]


class KernelsWorkload(Workload):
    name = "kernels"
    image = "kernels"
    artifact_kinds = MappingProxyType({"kernel": "c"})

    def __init__(self, cache_dir: Path | None = None) -> None:
        self.cache_dir = cache_dir

    def tasks(self) -> list[TaskSpec]:
        return [
            TaskSpec(
                id=f"kernels/{task.name}",
                workload="kernels",
                title=task.title,
                goal=(
                    f"Evolve a faster {task.name} kernel than the naive seed on this device, correct at every "
                    "in-distribution size and confirmed on held-out sizes the search never saw."
                ),
                params={"kernel": task.name},
                gates=list(GATES),
                gate_options={"kernel-heldout": {"min_speedup": 0.9}},
                budget=Budget(experiments=MAX_EVALUATIONS, iterations=1, wall_seconds=3600, experiment_seconds=1800),
            )
            for task in SUITE.values()
        ]

    def validate(self, task: TaskSpec) -> None:
        if task.sweep:
            raise TaskError(f"{task.id}: kernels tasks run one search; sweeps are not supported")
        parse_params(task, task.id)

    def plan(self, task: TaskSpec) -> list[ExperimentSpec]:
        params = parse_params(task, task.id)
        evaluations, seconds = search_budget(params, task.budget)
        limit = f", at most {seconds:g} s" if seconds else ""
        return [
            ExperimentSpec(
                key="search",
                task_id=task.id,
                params=task.params,
                rationale=(
                    f"{params.search} search with the {params.proposer} proposer, {evaluations} evaluations{limit}"
                ),
            )
        ]

    def param_schema(self, task: TaskSpec) -> dict[str, Any]:
        return KernelSearchParams.model_json_schema()

    def fixed_params(self, task: TaskSpec) -> tuple[str, ...]:
        return ("kernel", "backend", "definition")

    def read_task_files(self, task: TaskSpec, directory: Path) -> TaskSpec:
        """A definition's reference and seed files, read from beside its task file into the task."""
        try:
            return task.model_copy(update={"params": read_definition_files(task.params, directory)})
        except TaskError as error:
            raise TaskError(f"{task.id}: {error}") from None

    def validate_experiment(self, task: TaskSpec, params: dict[str, Any]) -> None:
        parse_params(params, task.id)

    def ray_resources(self, task: TaskSpec) -> dict[str, float]:
        """Nodes that run kernel searches declare the device kind they offer (`ray start --resources`)."""
        return {parse_params(task, task.id).backend: 1}

    def check_tools(self, task: TaskSpec) -> None:
        backend = parse_params(task, task.id).backend
        if backend == "cuda":
            try:
                importlib.metadata.version("cupy-cuda12x")
            except importlib.metadata.PackageNotFoundError:
                raise ToolUnavailableError("the cuda backend needs CuPy: pip install -e '.[cuda]'") from None
            return
        try:
            import pyopencl as cl

            platforms = cl.get_platforms()
        except Exception as error:  # noqa: BLE001 - an ICD loader can fail in many ways
            raise ToolUnavailableError(
                f"OpenCL is not usable here ({error}); install pocl-opencl-icd (scripts/setup)"
            ) from None
        if not platforms:
            raise ToolUnavailableError("no OpenCL platform found; install pocl-opencl-icd (scripts/setup)")

    def tool_versions(self) -> dict[str, str]:
        versions: dict[str, str] = {}
        try:
            import pyopencl as cl

            versions["pyopencl"] = cl.VERSION_TEXT
            versions["opencl"] = "; ".join(f"{p.name} {p.version}" for p in cl.get_platforms())
        except Exception as error:  # noqa: BLE001 - versions are informative only
            versions["opencl"] = f"not usable: {error}"
        return versions

    def adopt(
        self, task: TaskSpec, source: Path, directory: Path, sandbox_factory: SandboxFactory
    ) -> tuple[ExperimentSpec, ExperimentOutcome]:
        """A kernel someone wrote, as the outcome a search's winner would have (see `_adopt`)."""
        from tools.kernels._adopt import adopt_kernel

        return adopt_kernel(task, source, directory)

    def run(
        self, task: TaskSpec, experiment: ExperimentSpec, directory: Path, sandbox_factory: SandboxFactory
    ) -> ExperimentOutcome:
        params = parse_params(experiment.params, task.id)
        kernel = kernel_task(params.kernel, params.definition)
        with open_harness(
            kernel,
            directory / "worker",
            sandbox_factory,
            cache_dir=self.cache_dir,
            backend=params.backend,
            timeout=params.eval_timeout,
        ) as harness:
            evaluation = harness.evaluate(kernel.seed, seed=task.seed)
            files = write_evaluation_files(directory, kernel.seed, evaluation, {"ceilings": ceilings_record(harness)})
        return ExperimentOutcome(
            key=experiment.key,
            status="completed",
            metrics={"fitness": evaluation.fitness},
            files=files,
            info={"note": "seed kernel evaluated without a search (no search driver registered)"},
        )
