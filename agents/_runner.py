"""Starting, executing and summarising runs: what the CLI and the API call."""

from __future__ import annotations

import tempfile
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from agents._context import ProgressReporter, RunCancelledError, RunContext, SilentReporter
from agents._environment import environment_record
from agents._experiments import RunAbortedError
from agents._graph import Orchestrator
from runs import RunStore, TaskSpec, utcnow
from sandboxes import LocalSandboxConfig, Sandbox, SandboxError, get_sandbox
from tools import Catalog, TaskError, ToolUnavailableError


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
    sandbox: str = "local"
    unsafe_no_isolation: bool = False
    max_workers: int = 2
    extra: dict[str, Any] = field(default_factory=dict)

    def as_record(self) -> dict[str, Any]:
        return {
            "sandbox": self.sandbox,
            "unsafe_no_isolation": self.unsafe_no_isolation,
            "max_workers": self.max_workers,
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

    def sandbox_factory(self, options: RunOptions) -> Any:
        if options.sandbox != "local":
            raise TaskError(f"sandbox {options.sandbox!r} is not available; choose 'local'")
        config = LocalSandboxConfig(unsafe_no_isolation=options.unsafe_no_isolation)

        def factory(workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
            return get_sandbox(config, workdir, ro_paths=tuple(ro_paths))

        return factory

    def record_failure(self, task_ref: str, reason: str, options: RunOptions | None = None) -> RunSummary:
        """A run that could not start (unknown task, malformed file) is still recorded, as failed."""
        run = self.store.create_run(None, task_id=task_ref, options=(options or RunOptions()).as_record())
        self.store.set_status(run.id, "failed", reason)
        return summarize(self.store, run.id)

    def submit(self, task: TaskSpec, options: RunOptions) -> str:
        self.catalog.validate(task)
        run = self.store.create_run(task, options=options.as_record())
        return run.id

    def execute(self, run_id: str, reporter: ProgressReporter | None = None) -> RunSummary:
        store = self.store
        run = store.get_run(run_id)
        task = TaskSpec.model_validate(run.spec)
        record = dict(run.options)
        options = RunOptions(
            sandbox=str(record.pop("sandbox", "local")),
            unsafe_no_isolation=bool(record.pop("unsafe_no_isolation", False)),
            max_workers=int(record.pop("max_workers", 2)),
            extra=record,
        )
        reporter = reporter or SilentReporter()
        store.set_status(run_id, "running")
        reporter.event("status", f"run {run_id} started: {task.id}", {"run_id": run_id})
        try:
            workload = self.catalog.workload_for(task)
            factory = self.sandbox_factory(options)
            with tempfile.TemporaryDirectory(prefix="labgate-probe-") as probe:
                sandbox_info = factory(Path(probe)).describe()
            store.update_run(
                run_id,
                environment=environment_record(workload.tool_versions(), sandbox_info, task.seed, "builtin"),
            )
            workload.check_tools(task)
            context = RunContext(
                store=store,
                run_id=run_id,
                task=task,
                workload=workload,
                sandbox_factory=factory,
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
