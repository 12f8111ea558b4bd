"""Starting, executing, resuming and summarising runs: what the CLI and the API call."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from agents._checkpoint import awaiting_approval_problem, check_checkpoints
from agents._context import (
    ProgressReporter,
    RunCancelledError,
    RunContext,
    RunInterruptedError,
    SilentReporter,
    interrupt_handled,
)
from agents._environment import environment_record
from agents._experiments import RESOURCE_ERRNOS, RunAbortedError, resource_failure
from agents._graph import Orchestrator
from agents._liveness import (
    INTERRUPTED,
    executed_elsewhere,
    heartbeat,
    interrupted_by_its_user,
    process_alive_here,
    this_worker,
)
from agents._proposer import proposer_for
from agents.executors import Executor, ExecutorError, LocalExecutor
from agents.llm import LLM, Completion, LLMConfig, OpenAIChat, call_event, call_purpose
from runs import (
    TERMINAL_STATUSES,
    LabgateError,
    RecordedVerdict,
    RunNotFoundError,
    StoreUnavailableError,
    TaskSpec,
    recorded_deviations,
    task_label,
    utcnow,
)
from sandboxes import DockerSandboxConfig, LocalSandboxConfig, SandboxError, SandboxPool, open_sandboxes
from tools import Catalog, PluginError, TaskError, ToolUnavailableError, Workload, subject_params

if TYPE_CHECKING:
    from runs import RunStore

SANDBOXES = ("local", "docker")


class RunStateError(LabgateError, RuntimeError):
    """The run is not in a state that allows the request (resume a finished run, approve a running one)."""


class RunSummary(BaseModel):
    """What `agent run --json` prints and the API returns once a run ends (or pauses)."""

    run_id: str
    task: str = Field(description="the task id, marked '(custom gates)' when its gates deviate from the catalog's")
    status: str
    reason: str = ""
    gate_deviations: list[dict[str, Any]] = Field(
        default_factory=list, description="how the run's gates differ from its catalog task's (GateDeviation)"
    )
    accepted: list[str] = Field(default_factory=list)
    rejected: list[str] = Field(default_factory=list)
    report: str | None = None
    verdicts: list[RecordedVerdict] = Field(
        default_factory=list, description="every verdict of the run, as its gate returned it, with its experiment's key"
    )
    llm_tokens: int = 0


@dataclass
class RunOptions:
    """How a run executes. `sandbox=None` takes the task's own choice; `image` overrides the workload's image."""

    sandbox: str | None = None
    unsafe_no_isolation: bool = False
    max_workers: int = 2
    image: str | None = None
    executor: str = "local"
    approve_plan: bool = False
    plan: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_record(self) -> dict[str, Any]:
        record = {
            "sandbox": self.sandbox,
            "unsafe_no_isolation": self.unsafe_no_isolation,
            "max_workers": self.max_workers,
            **({"image": self.image} if self.image else {}),
            "executor": self.executor,
            "approve_plan": self.approve_plan,
            **self.extra,
        }
        if self.plan is not None:
            record["plan"] = self.plan
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> RunOptions:
        record = dict(record)
        sandbox, image = record.pop("sandbox", None), record.pop("image", None)
        return cls(
            sandbox=str(sandbox) if sandbox else None,
            unsafe_no_isolation=bool(record.pop("unsafe_no_isolation", False)),
            max_workers=int(record.pop("max_workers", 2)),
            image=str(image) if image else None,
            executor=str(record.pop("executor", "local")),
            approve_plan=bool(record.pop("approve_plan", False)),
            plan=record.pop("plan", None),
            extra=record,
        )


def summarize(store: RunStore, run_id: str) -> RunSummary:
    run = store.get_run(run_id)
    experiments = store.experiments(run_id)
    report = None
    if run.report_sha256:
        candidate = store.home / "runs" / run_id / "report.md"
        report = str(candidate) if candidate.is_file() else None
    return RunSummary(
        run_id=run.id,
        task=task_label(run.task_id, recorded_deviations(run.spec)),
        status=run.status,
        reason=run.reason,
        gate_deviations=recorded_deviations(run.spec),
        accepted=[e.key for e in experiments if e.decision == "accept"],
        rejected=[e.key for e in experiments if e.decision is not None and e.decision != "accept"]
        + [e.key for e in experiments if e.decision is None and e.status == "error"],
        report=report,
        verdicts=store.verdicts(run_id),
        llm_tokens=run.llm_tokens,
    )


GRAPH_NODE_PURPOSES = {
    "plan": "planner",
    "dispatch": "proposer",
    "gates": "vision",
    "decide": "revise",
    "write": "write-up",
}
"""What a model call made by each orchestrator node is for (the vision gate is the model's use among the gates)."""


def _graph_node() -> str:
    """The orchestrator node running in this thread, or "" outside the graph (an experiment's thread)."""
    try:
        from langgraph.config import get_config

        return str(get_config().get("metadata", {}).get("langgraph_node", ""))
    except (ImportError, RuntimeError):
        return ""


def llm_call_purpose(task: TaskSpec) -> str:
    """The label a model call is accounted under: planner, revise, proposer, proof draft, write-up, vision.

    An explicit `llm_purpose` around the calling code wins (the executor sets "proposer" around each
    experiment); otherwise the orchestrator node making the call decides.
    """
    return call_purpose(task.workload, GRAPH_NODE_PURPOSES.get(_graph_node(), "") or "other")


CANCEL_REASON = "cancelled on request"


def cancel_run(store: RunStore, run_id: str) -> None:
    """Cancel `run_id`, or raise RunStateError when it had already ended, cancelled included.

    The store's status change is itself the check (only a run that has not ended changes): of two
    cancels racing, or a cancel racing the run's own end, exactly one is told it cancelled the run,
    and the other hears what the run ended as. Reading the status after the write would tell both.

    Raises:
        RunNotFoundError: no run has this id.
        RunStateError: the run had ended before this cancel took effect.
    """
    run = store.get_run(run_id)
    if run.status in TERMINAL_STATUSES:
        raise RunStateError(f"run {run_id} already ended ({run.status})")
    if not store.set_status(run_id, "cancelled", CANCEL_REASON):
        raise RunStateError(f"run {run_id} already ended ({store.get_run(run_id).status})")
    if executed_elsewhere(run) is None:
        # No live process executes it (queued, or its process was killed or quit on a second Ctrl-C):
        # nothing else would end what it left running, which would then show as running forever.
        store.close_unfinished(run_id, "cancelled", CANCEL_REASON)
        store.update_run(run_id, finished_at=utcnow())


CANCEL_GRACE_SECONDS = 30.0
"""How long a cancelled run's process on this host has to stop by itself before `stop_unresponsive` kills it:
its watcher kills the run's sandboxes and ends it within a few seconds when the interpreter lets it run."""


def stop_unresponsive(
    store: RunStore, run_id: str, *, grace: float = CANCEL_GRACE_SECONDS, poll: float = 0.25
) -> str | None:
    """After a cancel: kill the process of this host still executing `run_id` once `grace` seconds pass without
    it ending the run; a sentence saying so, or None when it stopped by itself (or runs elsewhere).

    The cancel is noticed by a thread of the executing process, which a call holding the interpreter (one
    regular-expression match on a hostile kernel reply took hours) never lets run: the run was reported
    cancelled while its process went on using a core. SIGKILL, since a signal handler would wait for the
    same interpreter; its sandboxes die with it (bubblewrap's --die-with-parent), and what it left open is
    closed as cancelled. (A server's worker child is killed by the server's supervisor on a cancel already.)
    """
    run = store.get_run(run_id)
    worker = run.worker
    if not worker or worker == this_worker() or process_alive_here(worker, last_heard=run.updated_at) is not True:
        return None
    pid = int(worker.rpartition(":")[2])
    if not _runs_this_python(pid):
        return None  # its pid now names another program: nothing of labgate's to stop
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        run = store.get_run(run_id)
        if run.worker != worker or process_alive_here(worker) is not True:
            return None  # it ended (a run's process exits once it has handled the cancel) or handed the run on
        time.sleep(poll)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    store.close_unfinished(run_id, "cancelled", CANCEL_REASON)
    store.update_run(run_id, finished_at=utcnow())
    return f"process {worker} did not stop within {grace:.0f} s of the cancel: killed"


def _runs_this_python(pid: int) -> bool:
    """Whether process `pid` runs the interpreter this one does (labgate's CLI or a server's worker)."""
    try:
        return os.path.realpath(f"/proc/{pid}/exe") == os.path.realpath(sys.executable)
    except OSError:
        return False


class RunLauncher:
    """Creates runs in the store and executes them with the configured sandbox and LLM."""

    def __init__(
        self, store: RunStore, catalog: Catalog, llm_config: LLMConfig | None = None, ray_address: str | None = None
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.llm_config = llm_config
        self.ray_address = ray_address
        # Calls made before their run exists (planning from documents): recorded on the next run submitted.
        self._unrecorded: list[tuple[str, Completion]] = []

    def executor_for(
        self,
        options: RunOptions,
        task: TaskSpec,
        workload: Workload,
        sandbox: LocalSandboxConfig | DockerSandboxConfig,
        pool: SandboxPool | None = None,
    ) -> Executor:
        if options.executor == "local":
            # Closing the run's docker pool ends its containers' commands; local commands are killed by the executor.
            return LocalExecutor(options.max_workers, on_cancel=pool.close if pool is not None else None)
        if options.executor != "ray":
            raise TaskError(f"unknown executor {options.executor!r}; choose 'local' or 'ray'")
        from agents.executors._ray import RayExecutor

        # A local Ray instance offers this machine's tools as custom resources, one slot per worker.
        resources = {name: float(options.max_workers) for name in workload.ray_resources(task)}
        return RayExecutor(
            self.ray_address,
            sandbox=sandbox,
            llm=self.llm_config,
            resources=resources,
            num_cpus=options.max_workers,
        )

    def sandbox_config(
        self, options: RunOptions, task: TaskSpec, workload: Workload
    ) -> LocalSandboxConfig | DockerSandboxConfig:
        """The backend the run uses: the option, else the task's choice; for docker, the workload's image."""
        backend = options.sandbox or task.sandbox
        if backend not in SANDBOXES:
            raise TaskError(f"sandbox {backend!r} is not available; choose one of {', '.join(SANDBOXES)}")
        if backend == "local":
            if options.image:
                raise TaskError("--image applies to the docker sandbox only (add --sandbox docker)")
            return LocalSandboxConfig(unsafe_no_isolation=options.unsafe_no_isolation)
        image = options.image or workload.sandbox_image(task)
        if not image:
            raise TaskError(f"workload {workload.name!r} names no docker image for {task.id}; pass --image")
        try:
            return DockerSandboxConfig(image=image)
        except ValueError:
            raise TaskError(f"{image!r} is not a valid docker image name") from None

    def sandbox_factory(self, options: RunOptions) -> SandboxPool:
        """A factory for work outside a run (checking an existing case): local unless the options say
        docker, which then needs `options.image`. Close it when done (a no-op for local)."""
        if (options.sandbox or "local") == "local":
            return open_sandboxes(LocalSandboxConfig(unsafe_no_isolation=options.unsafe_no_isolation))
        if options.sandbox != "docker" or not options.image:
            raise TaskError("outside a run the docker sandbox needs an image (--image)")
        return open_sandboxes(DockerSandboxConfig(image=options.image))

    def sandbox_pool(self, config: LocalSandboxConfig | DockerSandboxConfig, run_id: str) -> SandboxPool:
        """The run's sandbox factory. With docker, experiments under the run's `experiments/` directory may
        share warm containers; the caller closes the pool when the run ends."""
        if isinstance(config, DockerSandboxConfig):
            shared_root = self.store.run_dir(run_id) / "experiments"
            shared_root.mkdir(parents=True, exist_ok=True)
            return open_sandboxes(config, shared_root=shared_root)
        return open_sandboxes(config)

    def llm_for(self, run_id: str, task: TaskSpec) -> LLM | None:
        """The run's model client. Every call adds to the run's totals and is recorded as an `llm` event
        naming the node that made it, so the dashboard can say where the tokens and seconds went."""
        if self.llm_config is None:
            return None
        budget = task.budget.llm_tokens or self.llm_config.token_budget
        config = self.llm_config.model_copy(update={"token_budget": budget})
        try:
            self.store.get_run(run_id)
            has_run = True
        except RunNotFoundError:
            has_run = False  # planning from documents happens before any run exists

        def record(completion: Completion) -> None:
            if not has_run:
                self._unrecorded.append((llm_call_purpose(task), completion))
                return
            self._record_call(run_id, llm_call_purpose(task), completion)

        return OpenAIChat(config, on_usage=record)

    def _record_call(self, run_id: str, purpose: str, completion: Completion) -> None:
        self.store.add_llm_usage(run_id, completion.total_tokens, completion.cost)
        message, data = call_event(purpose, completion)
        self.store.emit(run_id, "llm", message, data)

    def _record_planning(self, run_id: str) -> None:
        """The calls that planned this run, made before it existed, accounted on it."""
        calls, self._unrecorded = self._unrecorded, []
        for purpose, completion in calls:
            self._record_call(run_id, purpose, completion)

    def record_failure(self, task_ref: str, reason: str, options: RunOptions | None = None) -> RunSummary:
        """A run that could not start (unknown task, malformed file) is still recorded, as failed."""
        run = self.store.create_run(None, task_id=task_ref, options=(options or RunOptions()).as_record())
        self._record_planning(run.id)
        self.store.set_status(run.id, "failed", reason)
        return summarize(self.store, run.id)

    def submit(self, task: TaskSpec, options: RunOptions) -> str:
        self.catalog.validate(task)
        self.catalog.workload_for(task).validate_run(task)
        refuse_renamed_subject(task, self.catalog.reference(task))
        task = proposer_for(task.workload).resolve(task, self.store)
        task = self.catalog.with_deviations(task)  # recorded on the run: custom gates are shown, never silent
        options = replace(options, sandbox=options.sandbox or task.sandbox)
        self.sandbox_config(options, task, self.catalog.workload_for(task))  # bad choices fail before the run
        run = self.store.create_run(task, options=options.as_record())
        self._record_planning(run.id)
        return run.id

    def cancel(self, run_id: str) -> None:
        cancel_run(self.store, run_id)

    def check_approvable(self, run_id: str) -> None:
        """Raise RunStateError unless the run waits for approval with its plan in its checkpoint."""
        run = self.store.get_run(run_id)
        if run.status != "paused":
            raise RunStateError(f"run {run_id} is {run.status}, not waiting for approval")
        lost = awaiting_approval_problem(self.store.home, run_id)
        if lost is not None:
            raise RunStateError(f"{lost}; the run stays paused (restore the file, or `agent cancel {run_id}`)")

    def approve(self, run_id: str, reporter: ProgressReporter | None = None) -> RunSummary:
        """Execute a run paused for approval. Taken from `paused` by compare-and-set: of two approvals at once
        (or an approval and a cancel) one proceeds and the other is told; both used to execute the run."""
        self.check_approvable(run_id)
        run = self.store.get_run(run_id)
        if not self.store.update_run_if(
            run_id, status_in=["paused"], expect_worker=run.worker, status="running", worker=this_worker()
        ):
            raise RunStateError(f"run {run_id} was approved, cancelled or taken by another process meanwhile")
        self.store.emit(run_id, "approval", "plan approved")
        return self.execute(run_id, reporter, resume=True)

    def resume(self, run_id: str, reporter: ProgressReporter | None = None) -> RunSummary:
        run = self.store.get_run(run_id)
        if run.status in TERMINAL_STATUSES:
            raise RunStateError(f"run {run_id} already ended ({run.status}); nothing to resume")
        if run.status == "paused":
            raise RunStateError(f"run {run_id} is waiting for plan approval: use `agent approve {run_id}`")
        elsewhere = executed_elsewhere(run, me=this_worker())
        if elsewhere:
            raise RunStateError(f"run {run_id} cannot be resumed: {elsewhere}")
        if run.status == "queued":
            # A server's worker claims a queued run before its process starts; and of two resumes at once,
            # one takes it (compare-and-set) and the other is told. Both used to execute it.
            claimant = run.worker if run.worker and run.worker != this_worker() else ""
            if claimant and process_alive_here(claimant, last_heard=run.updated_at) is not False:
                raise RunStateError(f"run {run_id} is queued and claimed by {claimant}, which executes it")
            if not self.store.update_run_if(
                run_id, status_in=["queued"], expect_worker=run.worker, status="running", worker=this_worker()
            ):
                raise RunStateError(f"run {run_id} was taken by another process while this one looked at it")
        if run.status == "running":
            # Taken over only as it was seen: of two resumes racing, one runs it and the other is told.
            # The reason an interrupt left ("interrupted: ...") ends with the interruption it described.
            reason = "" if interrupted_by_its_user(run) else run.reason
            if not self.store.update_run_if(
                run_id, status_in=["running"], expect_worker=run.worker, worker=this_worker(), reason=reason
            ):
                raise RunStateError(f"run {run_id} was taken over by another process while this one looked at it")
            # Its process ended without recording it (kill -9, a full disk): what it had started
            # (the write-up step, an experiment) will never end on its own; the resume starts it over.
            self.store.close_unfinished(run_id, "interrupted", f"its process {run.worker or '(unknown)'} ended")
        return self.execute(run_id, reporter, resume=True)

    def execute(self, run_id: str, reporter: ProgressReporter | None = None, *, resume: bool = False) -> RunSummary:
        store = self.store
        run = store.get_run(run_id)
        task = TaskSpec.model_validate(run.spec)
        options = RunOptions.from_record(run.options)
        reporter = reporter or SilentReporter()
        check_checkpoints(store.home)  # a damaged checkpoint file is named before the run's record changes
        store.update_run(run_id, worker=this_worker())
        store.set_status(run_id, "running")
        verb = "resumed" if resume else "started"
        reporter.event("status", f"run {run_id} {verb}: {task.id}", {"run_id": run_id})
        try:
            with contextlib.ExitStack() as cleanup:
                cleanup.enter_context(heartbeat(store, run_id, this_worker()))
                workload = self.catalog.workload_for(task)
                config = self.sandbox_config(options, task, workload)
                pool = cleanup.enter_context(self.sandbox_pool(config, run_id))
                in_image = isinstance(config, DockerSandboxConfig)
                llm = self.llm_for(run_id, task)
                sandbox_info = pool.describe()
                # In a container the image pins the tools; the host's copies (if any) are not what runs.
                tools = {"image": str(sandbox_info.get("image"))} if in_image else workload.tool_versions()
                if not resume:
                    llm_name = f"{llm.model} at {self.llm_config.base_url}" if llm and self.llm_config else "builtin"
                    environment = environment_record(tools, sandbox_info, task.seed, llm_name)
                    store.update_run(run_id, environment=environment)
                else:
                    refuse_changed_tools(run.environment.get("tools"), tools)
                if not in_image:
                    workload.check_tools(task)
                executor = self.executor_for(options, task, workload, config, pool)
                if executor.in_this_process:
                    workload.warm_up(task)
                if not resume:
                    environment = {**store.get_run(run_id).environment, **executor.describe()}
                    store.update_run(run_id, environment=environment)
                context = RunContext(
                    store=store,
                    run_id=run_id,
                    task=task,
                    workload=workload,
                    sandbox_factory=pool,
                    reporter=reporter,
                    llm=llm,
                )
                orchestrator = Orchestrator(context, executor=executor, approve_plan=options.approve_plan)
                outcome, state = orchestrator.run(resume=resume)
        except RunInterruptedError:
            # Stopped like a cancel, left like a killed process: what finished is kept, and `agent resume`
            # runs the rest (the run stays `running`; its process is about to end).
            interrupt_handled(run_id)
            reason = f"{INTERRUPTED}: `agent resume {run_id}` continues it, `agent cancel {run_id}` ends it"
            store.update_run(run_id, reason=reason)
            store.emit(run_id, "interrupted", f"run {run_id} {reason}", {})
            reporter.event("interrupted", f"run {run_id} {reason}", {})
            return summarize(store, run_id)
        except RunCancelledError:
            # What started after the cancel was recorded (an experiment, a step) ends with the run.
            store.close_unfinished(run_id, "cancelled", "cancelled on request")
            store.update_run(run_id, finished_at=utcnow())
            return summarize(store, run_id)
        except (ToolUnavailableError, RunAbortedError, SandboxError, TaskError, ExecutorError, PluginError) as error:
            _record_failure(store, run_id, str(error))
            return summarize(store, run_id)
        except StoreUnavailableError:
            raise  # the store's trouble, not the run's: its records stand (`agent resume` continues it)
        except Exception as error:  # noqa: BLE001 - an internal error must still end the run cleanly
            if store.lost_connection(error):
                # Not the run's failure: its records stand and its checkpoints say where it was.
                raise StoreUnavailableError(
                    f"the connection to the run store's database was lost while run {run_id} ran "
                    f"({_error_text(error)[:300]}); what was recorded is kept and the run was left to "
                    f"continue: `agent resume {run_id}`"
                ) from None
            failure = describe_failure(error, store.home / "runs" / run_id if _is_resource(error) else None)
            _record_failure(store, run_id, failure, traceback.format_exc(limit=12))
            return summarize(store, run_id)
        if outcome == "paused":
            store.set_status(run_id, "paused", f"waiting for plan approval: agent approve {run_id}")
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
            store.set_status(run_id, "finished", str(state.get("stop_reason", "")) or _budget_note(store, run_id))
        return summarize(store, run_id)


def _record_failure(store: RunStore, run_id: str, failure: str, trace: str | None = None) -> None:
    """Record the run's failure; when the store itself fails too (a full disk, a lost server, a database
    file deleted under the run), one error saying both, and how to continue.

    Raises:
        StoreUnavailableError: the failure could not be recorded; the run stays `running`, so
            `agent resume` continues it once the store works again.
    """
    try:
        if trace is not None:
            store.emit(run_id, "error", "internal error", {"traceback": trace})
        store.set_status(run_id, "failed", failure)
    except Exception as unrecorded:  # noqa: BLE001 - the store itself failed
        problem = _error_text(unrecorded)
        stopped = "" if problem in failure else f"; the run stopped with {failure[:300]}"
        raise StoreUnavailableError(
            f"the run store at {store.home} could not record run {run_id}'s end ({problem[:300]}){stopped}. "
            f"What was recorded before is kept; free space or restore the database, then `agent resume {run_id}`"
        ) from None


def _is_resource(error: BaseException) -> bool:
    return isinstance(error, OSError) and error.errno in RESOURCE_ERRNOS


def describe_failure(error: BaseException, run_dir: Path | None = None) -> str:
    """A run's failure reason in one line: a full disk or read-only folder by name, anything else as an
    internal error (its traceback is an event of the run). Multi-line messages (a database error with
    its SQL) keep their first line: the reason is what `agent run` prints as its one-line error."""
    if isinstance(error, OSError) and run_dir is not None:
        return resource_failure(error, run_dir)
    return f"internal error: {_error_text(error)[:500]}"


def _error_text(error: BaseException) -> str:
    """`Type: first line of the message`; for a database error, the driver's own error (without the SQL).

    SQLAlchemy is looked up rather than imported: a Ray worker imports this module without the store, and an
    error can only be SQLAlchemy's once SQLAlchemy has been loaded."""
    database = sys.modules.get("sqlalchemy.exc")
    if database is not None and isinstance(error, database.DBAPIError) and error.orig is not None:
        error = error.orig
    text = str(error).strip()
    return f"{type(error).__name__}" + (f": {text.splitlines()[0]}" if text else "")


def refuse_changed_tools(recorded: Any, current: dict[str, str]) -> None:
    """Refuse to resume a run under other tools than it started with.

    Its finished experiments ran under the recorded versions (solver, prover, OpenCL, image); the rest
    would run under the new ones, and the report would present one study of two versions as one.

    Raises:
        RunAbortedError: naming each tool whose version changed (then and now).
    """
    if not isinstance(recorded, dict) or not recorded:
        return  # a run that never started records no tools: nothing ran under other versions
    changed = [
        f"{name}: {str(recorded.get(name, 'absent'))[:80]!r} then, {str(current.get(name, 'absent'))[:80]!r} now"
        for name in sorted(set(recorded) | set(current))
        if str(recorded.get(name, "absent")) != str(current.get(name, "absent"))
    ]
    if changed:
        raise RunAbortedError(
            "cannot resume: the tools changed since the run started (" + "; ".join(changed[:4]) + "); its "
            "experiments would mix versions. Its records are kept; start a new run to use the new tools"
        )


def refuse_renamed_subject(task: TaskSpec, reference: TaskSpec | None) -> None:
    """Refuse a task that keeps a catalog task's id but is about something else.

    A catalog task's id names its subject through one of its parameters (`kernels/heat2d` is
    `kernel: heat2d`, `proofs/minif2f-valid/aime_1983_p9` is `set` and `problem`, `cfd/cavity` is
    `case: cavity`). Overriding that parameter would run another kernel, problem or case whose accepted
    result every list, summary and report would then credit to the task the id names. A task of one's
    own needs an id of its own (a task file, or `extends`).

    Raises:
        TaskError: a parameter the id names is changed, dropped or swept.
    """
    if reference is None or reference.id != task.id:
        return
    for name, value in sorted(subject_params(reference).items()):
        given = task.sweep.get(name, task.params.get(name))
        if name in task.sweep or given != value:
            raise TaskError(
                f"params.{name}: task {task.id} is about {name} {value!r}, so it cannot run {given!r}; "
                f"name the task that is about it, or give a task of your own an id of its own"
            )


def _budget_note(store: RunStore, run_id: str) -> str:
    """Why the model stopped inside an experiment (its token budget spent in a proof search), or ""."""
    spent = [e.message for e in store.events(run_id, kind="budget") if e.data.get("experiment")]
    return f"stopped early: {spent[0]}" if spent else ""
