"""The worker pool: runs execute in child processes, fed from the queue kept in the store.

The queue is the set of runs with status `queued`, oldest first, so nothing is held in memory
that a restart could lose. A supervisor thread in the server claims queued runs (compare-and-set
on status and worker, so two servers sharing a database never take the same run), starts one
child process per run up to the concurrency limit, kills the child of a run that gets cancelled,
and records a run whose child died as failed. A crash or kill of a child never reaches the server.

On start, runs left `running` by a process of this host that no longer exists (the server went
down mid-run) are queued again and resume from their checkpoint.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import DBAPIError

from agents import interrupted_by_its_user, process_alive_here
from runs import Run, RunNotFoundError, RunStore, store_failure
from sandboxes import is_secret_name

log = logging.getLogger("labgate.workers")

WORKER_SECRETS = frozenset({"OPENAI_API_KEY", "LABGATE_LLM_API_KEY", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"})
"""The only secret-looking variables a worker keeps: the LLM key its orchestrator calls the model with,
and the Ray credentials its executor connects with. The API token is not among them: a worker
executes one run through the store and never calls the API, so it has no use for the token."""


def worker_environment(parent: Mapping[str, str], extra: Mapping[str, str]) -> dict[str, str]:
    """The environment of a worker process: the server's, less every secret a worker does not need.

    A worker starts solvers, provers and compilers; whatever is in its environment is one bug away
    from a log or a sandbox, so names that look secret (`sandboxes.is_secret_name`) are dropped
    unless listed in `WORKER_SECRETS` or one of labgate's own settings; LABGATE_API_TOKEN always is.
    """
    kept = {name: value for name, value in parent.items() if _worker_keeps(name)}
    return {**kept, **extra}


def _worker_keeps(name: str) -> bool:
    if name == "LABGATE_API_TOKEN":
        return False
    # labgate's own settings configure the run (LABGATE_LLM_TOKEN_BUDGET is a number, not a secret).
    return name.startswith("LABGATE_") or name in WORKER_SECRETS or not is_secret_name(name)


KILL_GRACE_SECONDS = 5.0
"""After SIGTERM, how long a cancelled run's process group gets before SIGKILL."""


@dataclass
class _Child:
    run_id: str
    process: subprocess.Popen[bytes]
    log_path: Path
    started: float = field(default_factory=time.monotonic)
    terminated_at: float | None = None


class WorkerPool:
    """Executes queued runs, at most `concurrency` at once, each in its own process."""

    def __init__(
        self,
        store: RunStore,
        *,
        concurrency: int,
        child_env: dict[str, str] | None = None,
        poll_seconds: float = 0.5,
    ) -> None:
        self.store = store
        self.concurrency = concurrency
        self.child_env = worker_environment(os.environ, child_env or {})
        self.poll_seconds = poll_seconds
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self._children: dict[str, _Child] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._recovered = self._recover_warned = False

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        self._try_recover()
        if self.concurrency <= 0:
            return
        self._thread = threading.Thread(target=self._loop, name="labgate-supervisor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop dispatching and end the children; their runs stay `running` and resume at the next start."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        with self._lock:
            children = list(self._children.values())
        for child in children:
            self._signal(child, signal.SIGTERM)
        deadline = time.monotonic() + KILL_GRACE_SECONDS
        for child in children:
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._signal(child, signal.SIGKILL)
                child.process.wait(timeout=10)

    def wake(self) -> None:
        """Look at the queue now rather than at the next poll (after a submit, resume or approve)."""
        self._wake.set()

    @property
    def active(self) -> list[str]:
        with self._lock:
            return list(self._children)

    # -- recovery -------------------------------------------------------------------------------

    def _try_recover(self) -> None:
        """`recover`, where the store lets it: a store whose disk is full or read-only must not keep the server
        from starting (reads still work, writes answer 503), so the failure is one line in the log and the
        supervisor tries again each iteration until it succeeds."""
        try:
            self.recover()
        except DBAPIError as error:
            if not self._recover_warned:
                log.warning("interrupted runs not requeued yet (%s); retrying while serving", store_failure(error))
            self._recover_warned = True
        else:
            self._recovered = True

    def recover(self) -> list[str]:
        """Queue again every run this host was executing in a process that is gone; returns their ids."""
        requeued = []
        for run in self.store.list_runs(status="running", limit=10_000, sort="created"):
            if process_alive_here(run.worker, last_heard=run.updated_at) is not False:
                continue  # alive, or another host's: not ours to take
            if interrupted_by_its_user(run):
                continue  # stopped from its terminal on purpose: `agent resume` takes it, not a server unasked
            if self.store.update_run_if(
                run.id, status_in=["running"], expect_worker=run.worker, worker="", status="queued"
            ):
                self.store.emit(
                    run.id,
                    "status",
                    f"run queued: its process {run.worker} ended while it ran; it resumes from its checkpoint",
                    {"status": "queued", "interrupted_worker": run.worker},
                )
                self.store.close_unfinished(run.id, "interrupted", f"its process {run.worker} ended")
                requeued.append(run.id)
        if requeued:
            log.info("requeued %d interrupted run(s): %s", len(requeued), ", ".join(requeued))
        return requeued

    # -- the supervisor loop --------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                if not self._recovered:
                    self._try_recover()
                self._reap()
                self._enforce_cancellations()
                self._dispatch()
            except Exception:
                log.exception("worker supervisor iteration failed; retrying")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    def _claimable(self, run: Run) -> bool:
        return run.worker in ("", self.name) or process_alive_here(run.worker, last_heard=run.updated_at) is False

    def _dispatch(self) -> None:
        while len(self._children) < self.concurrency and not self._stopping.is_set():
            candidates = self.store.list_runs(status="queued", sort="created", limit=self.concurrency + 20)
            claimed = None
            for run in candidates:
                if run.id in self._children or not self._claimable(run):
                    continue
                if self.store.update_run_if(run.id, status_in=["queued"], expect_worker=run.worker, worker=self.name):
                    claimed = run.id
                    break
            if claimed is None:
                return
            self._spawn(claimed)

    def _spawn(self, run_id: str) -> None:
        log_path = self.store.run_dir(run_id) / "worker.log"
        with log_path.open("ab") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "api.rest._execute", run_id, str(os.getpid())],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=self.child_env,
                start_new_session=True,  # its own process group: a cancel kills the run's whole tree
            )
        with self._lock:
            self._children[run_id] = _Child(run_id, process, log_path)
        log.info("run %s: executing in process %d", run_id, process.pid)

    def _reap(self) -> None:
        with self._lock:
            finished = [child for child in self._children.values() if child.process.poll() is not None]
        for child in finished:
            with self._lock:
                self._children.pop(child.run_id, None)
            code = child.process.returncode
            try:
                run = self.store.get_run(child.run_id)
            except RunNotFoundError:
                continue
            # Only a run still held by this child (or by our claim for it) is the child's to fail:
            # an approve or resume may have queued it again the moment the child exited.
            held = run.worker in (f"{socket.gethostname()}:{child.process.pid}", self.name)
            if run.status in ("running", "queued") and held and child.terminated_at is None:
                tail = _tail(child.log_path)
                how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
                self.store.emit(child.run_id, "error", f"worker process {how}", {"log_tail": tail})
                self.store.set_status(child.run_id, "failed", f"the worker process {how}")
            self._wake.set()

    def _enforce_cancellations(self) -> None:
        with self._lock:
            children = list(self._children.values())
        for child in children:
            if child.terminated_at is None:
                try:
                    status = self.store.get_run(child.run_id).status
                except RunNotFoundError:
                    status = "cancelled"
                if status == "cancelled":
                    log.info("run %s cancelled: stopping process %d", child.run_id, child.process.pid)
                    child.terminated_at = time.monotonic()
                    self._signal(child, signal.SIGTERM)
            elif time.monotonic() - child.terminated_at > KILL_GRACE_SECONDS and child.process.poll() is None:
                self._signal(child, signal.SIGKILL)

    @staticmethod
    def _signal(child: _Child, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.process.pid, signum)


def _tail(path: Path, limit: int = 4000) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    return data[-limit:].decode("utf-8", errors="replace")
