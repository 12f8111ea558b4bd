"""The Ray executor: each experiment is a Ray task on whichever node offers what it needs.

A task carries everything it needs (task spec, experiment spec, the workload object, sandbox
and LLM settings, the run's remaining time), runs the workload's proposer in a scratch directory on
its node (through `RemoteContext`, the worker's `agents.Execution`), and returns the
outcome, the events it emitted and the whole experiment directory as a tar archive; the head
unpacks it and records artifacts and verdicts, so the run store is written in one place only.
Ray retries a task whose worker died; the head records each experiment once, by key.
"""

from __future__ import annotations

import io
import math
import os
import shutil
import tarfile
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents._context import RunContext
from agents._experiments import PreparedExperiment, RunAbortedError, run_driver
from agents.executors._base import Executor, ExecutorError
from agents.executors._local import POLL_SECONDS
from agents.llm import LLM, Completion, LLMConfig, OpenAIChat, call_event, call_purpose, llm_purpose
from runs import MAX_ARTIFACT_BYTES, ExperimentSpec, TaskSpec, UntrustedFileError, read_untrusted, walk_untrusted
from sandboxes import DockerSandboxConfig, Limits, LocalSandboxConfig, Sandbox, get_sandbox
from tools import ExperimentOutcome, SandboxFactory, Workload


@dataclass
class ExperimentJob:
    run_id: str
    task: TaskSpec
    spec: ExperimentSpec
    workload: Workload
    sandbox: LocalSandboxConfig | DockerSandboxConfig
    llm: LLMConfig | None = None
    """The model endpoint, with this job's share of the run's remaining token budget."""
    seconds_left: float = math.inf
    """The run's remaining wall-clock budget when the job was submitted; the worker counts down from it."""


@dataclass
class JobResult:
    outcome: ExperimentOutcome
    archive: bytes
    events: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    node: str = ""
    seconds: float = 0.0
    llm_tokens: int = 0
    llm_cost: float = 0.0


@dataclass
class RemoteContext:
    """The worker's `agents.Execution`: no store; events are collected and replayed on the head.

    Cancellation reaches a worker as Ray cancelling its task, so `should_stop` is always False here.
    """

    run_id: str
    task: TaskSpec
    workload: Workload
    sandbox_factory: SandboxFactory
    llm: LLM | None
    seconds_left: float = math.inf
    events: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def emit(self, kind: str, message: str, **data: Any) -> None:
        self.events.append((kind, message, data))

    def should_stop(self) -> bool:
        return False

    def remaining_seconds(self) -> float:
        return self.seconds_left - (time.monotonic() - self.started)


MAX_PACKED_BYTES = Limits().disk_bytes or 8 << 30
"""The most an experiment's files may add up to on their way to the head: a sandbox's own disk budget. Sparse
files cost a sandbox almost nothing while they were charged by their blocks, yet each is written out whole
on the head (four 64 MiB ones made 268 MB of a 1.1 MB archive)."""


def _pack(directory: Path, max_total: int = MAX_PACKED_BYTES) -> tuple[bytes, list[str]]:
    """The experiment's directories and regular files as a gzip tar, and the files refused on the way.

    The directory was written by the sandbox: links, special files, hard-linked and oversize files
    are left out (and named), so the worker never ships its own host files back to the orchestrator,
    and so are the files past `max_total` bytes in all.
    Directories travel even when empty, so the head's gates list the same tree a local run's would.
    Only bytes travel: nothing the sandbox wrote is ever unpickled, here or on the head.
    """
    buffer = io.BytesIO()
    refused: list[str] = []
    total = 0
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as archive:
        for entry in walk_untrusted(directory):
            if entry.kind == "dir":
                folder = tarfile.TarInfo(entry.relative)
                folder.type = tarfile.DIRTYPE
                folder.mode = 0o755
                archive.addfile(folder)
                continue
            if entry.kind != "file":
                refused.append(f"{entry.relative}: {'a symbolic link' if entry.kind == 'link' else 'a special file'}")
                continue
            try:
                data = read_untrusted(directory, entry.relative, max_bytes=min(MAX_ARTIFACT_BYTES, max_total - total))
            except UntrustedFileError as error:
                refused.append(
                    f"{entry.relative}: {error.reason} (the experiment's files may add up to {max_total} bytes)"
                )
                continue
            total += len(data)
            info = tarfile.TarInfo(entry.relative)
            info.size = len(data)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue(), refused


def _unpack(data: bytes, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        archive.extractall(directory, filter="data")  # refuses absolute paths, links out and devices


def worker_sandbox_factory(config: LocalSandboxConfig | DockerSandboxConfig) -> SandboxFactory:
    """The sandboxes of an experiment on a Ray worker: the run's own config through the same `get_sandbox`
    a local run's pool calls, with the same default limits, so moving an experiment to Ray never
    weakens its isolation (no warm containers are shared on a worker: each sandbox gets its own)."""

    def factory(workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
        return get_sandbox(config, workdir, ro_paths=tuple(ro_paths))

    return factory


def execute_job(job: ExperimentJob) -> JobResult:
    """Runs on a Ray worker: the experiment in a scratch directory, then everything packed up."""
    start = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix=f"labgate-{job.run_id}-"))
    try:
        factory = worker_sandbox_factory(job.sandbox)
        context = RemoteContext(job.run_id, job.task, job.workload, factory, None, job.seconds_left)
        spent = {"tokens": 0, "cost": 0.0}

        def record(completion: Completion) -> None:
            # The head has the store: each call travels back as the same `llm` event a local run records.
            spent["tokens"] += completion.total_tokens
            spent["cost"] += completion.cost
            message, data = call_event(call_purpose(job.task.workload, "proposer"), completion)
            context.emit("llm", message, **data)

        if job.llm is not None:
            context.llm = OpenAIChat(job.llm, on_usage=record)
        with llm_purpose("proposer"):
            outcome = run_driver(context, job.spec, scratch)
        archive, refused = _pack(scratch)
        outcome.refused.extend(reason for reason in refused if reason not in outcome.refused)
        return JobResult(
            outcome=outcome,
            archive=archive,
            events=context.events,
            node=os.uname().nodename,
            seconds=time.monotonic() - start,
            llm_tokens=int(spent["tokens"]),
            llm_cost=float(spent["cost"]),
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


class RayExecutor(Executor):
    name = "ray"

    def __init__(
        self,
        address: str | None,
        *,
        sandbox: LocalSandboxConfig | DockerSandboxConfig,
        llm: LLMConfig | None = None,
        resources: dict[str, float] | None = None,
        num_cpus: int | None = None,
        max_retries: int = 3,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        local = not address or address.split("://")[-1].startswith(("127.", "localhost"))
        if local:
            # Ray otherwise swaps loopback for this machine's network address and dials that; its
            # single-machine mode keeps a local instance (and a cluster on loopback) on 127.0.0.1.
            # Read when Ray is first imported, so it is set before the import.
            os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        token = Path(os.environ.get("RAY_AUTH_TOKEN_PATH", Path.home() / ".ray" / "auth_token"))
        if address and (token.is_file() or os.environ.get("RAY_AUTH_TOKEN")):
            # Clusters started with `ray start` use token authentication by default; Ray reads the
            # token for an explicit address only when told that the mode is 'token'.
            os.environ.setdefault("RAY_AUTH_MODE", "token")
        try:
            import ray
        except ImportError:
            raise ExecutorError("the ray executor needs Ray: pip install 'labgate[ray]'") from None
        self.ray = ray
        self.sandbox = sandbox
        self.llm = llm
        self.max_retries = max_retries
        self.poll_seconds = poll_seconds
        self._pending: list[Any] = []
        if not ray.is_initialized():
            options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": "ERROR"}
            if local:
                options["_node_ip_address"] = "127.0.0.1"
            try:
                if address:
                    ray.init(address=address, **options)
                else:
                    # "local": a new instance even where `ray start` left a cluster running on this machine,
                    # which Ray would otherwise join (and then refuse `num_cpus`).
                    ray.init(address="local", num_cpus=num_cpus, resources=resources or {}, **options)
            except (ConnectionError, RuntimeError) as error:
                raise ExecutorError(
                    f"cannot reach the Ray cluster at {address or 'a new local instance'}: {error}"
                ) from None
        self._remote = ray.remote(execute_job)
        # Ray builds its serialisation context (importing pydantic.v1 for its serialisers) on the first object
        # it sends. A run submits its first batch from a thread while the main thread imports LangGraph, which
        # imports pydantic.v1 too, and two threads importing that package's circular modules at once fail
        # ("partially initialised module"). Sending one object here builds it first, on this thread.
        ray.put(None)

    def _check_resources(self, needed: dict[str, float]) -> None:
        available = self.ray.cluster_resources()
        for name, amount in needed.items():
            if available.get(name, 0) < amount:
                raise ExecutorError(
                    f"no Ray node offers the resource '{name}' the experiment needs; start nodes with "
                    f"ray start --resources '{{\"{name}\": N}}'"
                )

    def stream(
        self, context: RunContext, items: list[PreparedExperiment]
    ) -> Iterator[tuple[PreparedExperiment, ExperimentOutcome]]:
        if not items:
            return
        needed = context.workload.ray_resources(context.task)
        self._check_resources(needed)
        refs: dict[Any, PreparedExperiment] = {}
        llm = self._job_llm(context, len(items))
        for item in items:
            job = ExperimentJob(
                context.run_id,
                context.task,
                item.spec,
                context.workload,
                self.sandbox,
                llm,
                context.remaining_seconds(),
            )
            ref = self._remote.options(num_cpus=1, resources=needed, max_retries=self.max_retries).remote(job)
            refs[ref] = item
        self._pending = list(refs)
        while self._pending:
            done, self._pending = self.ray.wait(self._pending, num_returns=1, timeout=self.poll_seconds)
            if context.cancelled():
                # A cancel written by another process (`agent cancel`, the API) or an interrupt: the tasks
                # still running are killed with their workers (and so their sandboxed commands) at once,
                # rather than when the next one happens to end; nothing they return is recorded (nor what the
                # ones that ended just now returned).
                stopped = len(self._pending)
                self.cancel()
                what = "interrupted" if context.interrupted() else "cancelled"
                context.emit("cancel", f"run {what}: stopped {stopped} Ray task(s)", stopped=stopped)
                context.check_cancelled()
            for ref in done:
                item = refs[ref]
                try:
                    result: JobResult = self.ray.get(ref)
                except RunAbortedError:
                    self.cancel()
                    raise
                except self.ray.exceptions.RayError as error:
                    outcome = ExperimentOutcome(key=item.spec.key, status="error", error=f"Ray task failed: {error}")
                    yield item, outcome
                    continue
                _unpack(result.archive, item.directory)
                for kind, message, data in result.events:
                    context.emit(kind, message, **data)
                if result.llm_tokens or result.llm_cost:
                    context.store.add_llm_usage(context.run_id, result.llm_tokens, result.llm_cost)
                result.outcome.info["executor"] = {"ray_node": result.node, "seconds": round(result.seconds, 3)}
                yield item, result.outcome

    def _job_llm(self, context: RunContext, jobs: int) -> LLMConfig | None:
        """The endpoint with each job's even share of the run's remaining token budget (0 stays unlimited).

        Jobs run at once on other machines and cannot see each other's spending, so a budget is split
        among them rather than handed whole to each.
        """
        if self.llm is None:
            return None
        budget = context.task.budget.llm_tokens or self.llm.token_budget
        if not budget:
            return self.llm
        remaining = budget - context.store.get_run(context.run_id).llm_tokens
        return self.llm.model_copy(update={"token_budget": max(1, remaining // max(1, jobs))})

    def cancel(self) -> None:
        for ref in self._pending:
            self.ray.cancel(ref, force=True)
        self._pending = []

    def describe(self) -> dict[str, object]:
        resources = self.ray.cluster_resources()
        return {"executor": self.name, "nodes": len(self.ray.nodes()), "cpus": resources.get("CPU", 0)}

    def close(self) -> None:
        return None
