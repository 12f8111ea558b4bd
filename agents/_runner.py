"""Starting, executing and summarising runs: what the CLI and the API call."""

from __future__ import annotations

import contextlib
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from agents._context import ProgressReporter, RunCancelledError, RunContext, SilentReporter
from agents._environment import environment_record
from agents._experiments import RunAbortedError
from agents._graph import Orchestrator
from runs import RunStore, TaskSpec, utcnow
from sandboxes import DockerSandboxConfig, LocalSandboxConfig, SandboxError, SandboxPool, open_sandboxes
from tools import Catalog, TaskError, ToolUnavailableError, Workload

SANDBOXES = ("local", "docker")


class VerdictSummary(BaseModel):
    experiment: str
    gate: str
    decision: str
    reasons: list[str]


class RunSummary(BaseModel):
    """What `agent run --json` prints and the API returns once a run ends."""

    run_id: str
    task: str
    status: str
    reason: str = ""
    accepted: list[str] = Field(default_factory=list)
    rejected: list[str] = Field(default_factory=list)
    report: str | None = None
    verdicts: list[VerdictSummary] = Field(default_factory=list)


@dataclass
class RunOptions:
    """How a run executes. `sandbox=None` takes the task's own choice; `image` overrides the workload's image."""

    sandbox: str | None = None
    unsafe_no_isolation: bool = False
    max_workers: int = 2
    image: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_record(self) -> dict[str, Any]:
        return {
            "sandbox": self.sandbox,
            "unsafe_no_isolation": self.unsafe_no_isolation,
            "max_workers": self.max_workers,
            **({"image": self.image} if self.image else {}),
            **self.extra,
        }


def summarize(store: RunStore, run_id: str) -> RunSummary:
    run = store.get_run(run_id)
    experiments = store.experiments(run_id)
    keys = {e.id: e.key for e in experiments}
    report = None
    if run.report_sha256:
        candidate = store.home / "runs" / run_id / "report.md"
        report = str(candidate) if candidate.is_file() else None
    return RunSummary(
        run_id=run.id,
        task=run.task_id,
        status=run.status,
        reason=run.reason,
        accepted=[e.key for e in experiments if e.decision == "accept"],
        rejected=[e.key for e in experiments if e.decision != "accept"],
        report=report,
        verdicts=[
            VerdictSummary(
                experiment=keys.get(v.experiment_id, ""), gate=v.gate, decision=v.decision, reasons=v.reasons
            )
            for v in store.verdicts(run_id)
        ],
    )


class RunLauncher:
    """Creates runs in the store and executes them with the configured sandbox."""

    def __init__(self, store: RunStore, catalog: Catalog) -> None:
        self.store = store
        self.catalog = catalog

    def sandbox_pool(self, options: RunOptions, task: TaskSpec, workload: Workload, shared_root: Path) -> SandboxPool:
        """The run's sandbox factory; for docker, warm containers may be shared by the experiments under
        `shared_root`. The caller closes it when the run ends."""
        backend = options.sandbox or task.sandbox
        if backend not in SANDBOXES:
            raise TaskError(f"sandbox {backend!r} is not available; choose one of {', '.join(SANDBOXES)}")
        if backend == "local":
            if options.image:
                raise TaskError("an image is chosen only with the docker sandbox (--sandbox docker)")
            return open_sandboxes(LocalSandboxConfig(unsafe_no_isolation=options.unsafe_no_isolation))
        image = options.image or workload.sandbox_image(task)
        if not image:
            raise TaskError(f"workload {workload.name!r} names no docker image for {task.id}; pass --image")
        try:
            config = DockerSandboxConfig(image=image)
        except ValueError:
            raise TaskError(f"{image!r} is not a valid docker image name") from None
        shared_root.mkdir(parents=True, exist_ok=True)
        return open_sandboxes(config, shared_root=shared_root)

    def record_failure(self, task_ref: str, reason: str, options: RunOptions | None = None) -> RunSummary:
        """A run that could not start (unknown task, malformed file) is still recorded, as failed."""
        run = self.store.create_run(None, task_id=task_ref, options=(options or RunOptions()).as_record())
        self.store.set_status(run.id, "failed", reason)
        return summarize(self.store, run.id)

    def submit(self, task: TaskSpec, options: RunOptions) -> str:
        self.catalog.validate(task)
        options = replace(options, sandbox=options.sandbox or task.sandbox)
        if options.sandbox not in SANDBOXES:
            raise TaskError(f"sandbox {options.sandbox!r} is not available; choose one of {', '.join(SANDBOXES)}")
        if options.image:
            if options.sandbox != "docker":
                raise TaskError("--image applies to the docker sandbox only (add --sandbox docker)")
            try:
                DockerSandboxConfig(image=options.image)
            except ValueError:
                raise TaskError(f"{options.image!r} is not a valid docker image name") from None
        run = self.store.create_run(task, options=options.as_record())
        return run.id

    def execute(self, run_id: str, reporter: ProgressReporter | None = None) -> RunSummary:
        store = self.store
        run = store.get_run(run_id)
        task = TaskSpec.model_validate(run.spec)
        record = dict(run.options)
        sandbox, image = record.pop("sandbox", None), record.pop("image", None)
        options = RunOptions(
            sandbox=str(sandbox) if sandbox else None,
            unsafe_no_isolation=bool(record.pop("unsafe_no_isolation", False)),
            max_workers=int(record.pop("max_workers", 2)),
            image=str(image) if image else None,
            extra=record,
        )
        reporter = reporter or SilentReporter()
        store.set_status(run_id, "running")
        reporter.event("status", f"run {run_id} started: {task.id}", {"run_id": run_id})
        try:
            with contextlib.ExitStack() as cleanup:
                workload = self.catalog.workload_for(task)
                pool = cleanup.enter_context(
                    self.sandbox_pool(options, task, workload, store.run_dir(run_id) / "experiments")
                )
                sandbox_info = pool.describe()
                in_image = sandbox_info.get("backend") == "docker"
                # In a container the image pins the tools; the host's copies (if any) are not what runs.
                tools = {"image": str(sandbox_info.get("image"))} if in_image else workload.tool_versions()
                store.update_run(run_id, environment=environment_record(tools, sandbox_info, task.seed, "builtin"))
                if not in_image:
                    workload.check_tools(task)
                context = RunContext(
                    store=store,
                    run_id=run_id,
                    task=task,
                    workload=workload,
                    sandbox_factory=pool,
                    reporter=reporter,
                    max_workers=options.max_workers,
                )
                Orchestrator(context).run()
        except RunCancelledError:
            store.update_run(run_id, finished_at=utcnow())
            return summarize(store, run_id)
        except (ToolUnavailableError, RunAbortedError, SandboxError, TaskError) as error:
            store.set_status(run_id, "failed", str(error))
            return summarize(store, run_id)
        except Exception as error:
            store.emit(run_id, "error", "internal error", {"traceback": traceback.format_exc(limit=12)})
            store.set_status(run_id, "failed", f"internal error: {type(error).__name__}: {error}")
            return summarize(store, run_id)
        experiments = store.experiments(run_id)
        accepted = sum(1 for e in experiments if e.decision == "accept")
        store.update_run(run_id, accepted=accepted, rejected=len(experiments) - accepted)
        if experiments and all(e.status == "error" for e in experiments):
            errors = "; ".join(f"{e.key}: {e.error}" for e in experiments[:4])
            store.set_status(run_id, "failed", f"every experiment failed ({errors})")
        elif not experiments:
            store.set_status(run_id, "failed", "the plan produced no experiment")
        else:
            store.set_status(run_id, "finished")
        return summarize(store, run_id)
