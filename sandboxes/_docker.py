"""The docker backend's sandbox: each command is a `docker exec` in a hardened container, as an unprivileged uid.

Each command runs under a wrapper that kills every other process of its uid when it ends, as the
local backend's PID namespace does, so nothing a command started outlives it; commands on one
sandbox therefore run one at a time. A command that outlives its wall clock, floods its output or
crosses an aggregate limit takes the container down with it: it is killed and removed from the
host, and the next command gets a fresh one. Memory and processes are bounded by the container's
cgroup; the directory's disk and file-count limits and the process ceiling are watched while the
command runs (`_docker_watch.py`), and an OOM kill is read from the cgroup's counter, so each
breach surfaces as `ResourceLimitError` naming the limit. Containers come from the run's pool
(`_docker_pool.py`), which decides when a warm container may be shared; ownership of the
directory is handled in `_ownership.py`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sandboxes._base import (
    Command,
    ExecResult,
    Limits,
    OutputLimitExceededError,
    ResourceLimitError,
    Sandbox,
    SandboxError,
    SandboxProcess,
    SandboxTimeoutError,
    SandboxUnavailableError,
    prlimit_args,
    sandbox_environment,
    split_read_only,
)
from sandboxes._docker_container import WarmContainer, kill_leftovers
from sandboxes._docker_filter import filter_prefix
from sandboxes._docker_process import DockerProcess
from sandboxes._docker_stream import (
    STDOUT,
    CappedBuffer,
    StreamTimeoutError,
    frames,
    hang_up,
    raw_socket,
    send_and_close,
)
from sandboxes._docker_watch import Breach, ExecWatch
from sandboxes._engine import engine_errors, is_not_found
from sandboxes._guarded_shell import guarded_shell
from sandboxes._ownership import DirectoryGrant
from sandboxes._quota import QuotaWatch
from sandboxes._workdirs import confirm_unmoved

if TYPE_CHECKING:
    from sandboxes._docker_pool import DockerSandboxes

# The command runs as "$@"; when it ends, every other process of its uid in the container dies.
_WRAPPER_SCRIPT = ["-c", '"$@"; rc=$?; kill -9 -1 2>/dev/null; exit $rc', "labgate-exec"]


def _wrapper() -> list[str]:
    """The shell that runs a command and then kills every process its uid left: the guarded shell where it is
    bound (a candidate rewrote an ordinary one's `kill` into `true` through `/proc/<pid>/mem` and kept a
    process alive into the next experiment's container), else the image's."""
    return [guarded_shell("/bin/sh"), *_WRAPPER_SCRIPT]


def _container_gone(error: BaseException) -> bool:
    text = str(error)
    return is_not_found(error) or "is not running" in text or "is paused" in text


@dataclass
class DockerSandbox(Sandbox):
    """One experiment directory served by containers of one image; build it through `DockerSandboxes`."""

    pool: DockerSandboxes | None = None
    uid: int = 0
    gid: int = 0
    owns_pool: bool = False
    ro_paths: tuple[Path, ...] = ()
    name: str = "docker"
    _grant: DirectoryGrant | None = field(default=None, repr=False)
    _container: WarmContainer | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _exec_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _closed: bool = field(default=False, repr=False)

    @property
    def _pool(self) -> DockerSandboxes:
        if self.pool is None:
            raise SandboxUnavailableError("a DockerSandbox must be made by DockerSandboxes")
        return self.pool

    def describe(self) -> dict[str, Any]:
        return self._pool.describe()

    @property
    def shell(self) -> str:
        return guarded_shell()

    @property
    def container_id(self) -> str | None:
        """The warm container the next command runs in, if one is held."""
        container = self._container
        return container.id if container is not None and not container.removed else None

    def _lend_directory(self) -> None:
        """Hand the directory (and what the harness wrote there since the last command) to this sandbox's uid."""
        if self._closed:
            raise SandboxError("this sandbox is closed")
        confirm_unmoved(self.workdir)
        if not self._pool.hands_out_uids:
            return
        if self._grant is None:
            self._grant = DirectoryGrant.lend(self.workdir, self.uid, self.gid)
        else:
            self._grant.refresh()

    def _warm_container(self, limits: Limits) -> WarmContainer:
        """The container for a command under `limits`; its /tmp is sized at creation, so a command
        asking for another size gets a new container (tools use one set of limits per workload)."""
        container = self._container
        if container is not None and not container.removed:
            if container.spec.tmp_bytes == self._pool.tmp_bytes_for(limits):
                return container
            self._discard_container()
        self._confirm_read_only_paths()
        self._container = self._pool.checkout(self.workdir, limits, self.ro_paths)
        return self._container

    def _confirm_read_only_paths(self) -> None:
        """Refuse a read-only path inside the directory that a command turned into a link since the sandbox
        was made (`split_read_only`): the engine would bind what it leads to. The engine mounts each path
        after the directory's own mount (it orders mounts by depth), so one inside stays read-only."""
        split_read_only(self.workdir, (*self._pool.ro_paths, *self.ro_paths))

    def _exec(self, command: Command, input: bytes | None) -> ExecResult:
        limits, workdir, timeout = command.limits, command.cwd, command.timeout
        full_env = sandbox_environment(str(self.workdir), command.env)
        argv = [
            *filter_prefix(self._pool.filter),
            *_wrapper(),
            *prlimit_args(limits, timeout, with_nproc=self._pool.hands_out_uids),
            *command.argv,
        ]
        with self._exec_lock:
            for attempt in (1, 2):
                with self._lock:
                    self._lend_directory()
                    container = self._warm_container(limits)
                begun = time.monotonic()
                watch = ExecWatch(
                    QuotaWatch.for_limits(
                        self.workdir, limits, container.cgroup.members if container.cgroup is not None else None
                    ),
                    container.cgroup,
                    limits.processes,
                    on_breach=container.remove,
                    tmp=container.tmp,
                )
                try:
                    container.ensure_memory(limits.memory_bytes)
                    # Counters are read before the command starts, so its first OOM or fork counts.
                    watch.memory_bytes = container.memory_bytes
                    watch.start()
                    exec_id, handle = self._start(container, argv, full_env, workdir, input is not None)
                except SandboxError:
                    watch.stop()
                    raise
                except engine_errors() as error:
                    if watch.stop() is not None:  # the directory was over its limits before the command began
                        self._raise_on_breach(container, watch, ExecResult(-9, "", "", 0.0))
                    # A container that died between commands (killed from outside) is replaced once;
                    # anything else is the engine failing, not the command.
                    self._discard_container()
                    if attempt == 1 and _container_gone(error):
                        continue
                    raise SandboxUnavailableError(f"the Docker engine failed to run the command: {error}") from None
                try:
                    result = self._collect(exec_id, handle, begun, timeout, limits.output_bytes, input, watch)
                finally:
                    watch.stop()
                    if not container.removed:
                        kill_leftovers(container.id, self.uid)
                self._raise_on_breach(container, watch, result)
                return result
        raise AssertionError("unreachable")

    def _raise_on_breach(self, container: WarmContainer, watch: ExecWatch, result: ExecResult) -> None:
        """Name the aggregate limit a finished command crossed, if any; the container goes with it.

        Where the host cannot read the container's cgroup, an exit by SIGKILL is checked against the
        engine's OOM flag (a container is discarded after one OOM, so the flag is this command's).
        """
        breach = watch.breach
        if breach is None and watch.cgroup is None and result.returncode == 137 and container.oom_killed():
            message = f"memory_bytes: the sandbox used all of its {container.memory_bytes} bytes of memory"
            breach = Breach("memory_bytes", message)
        if breach is not None:
            self._discard_container()
            raise ResourceLimitError(f"{breach.message}; the container was killed and removed", breach.limit, result)

    def _start(
        self, container: WarmContainer, argv: list[str], env: dict[str, str], workdir: Path, with_stdin: bool
    ) -> tuple[str, Any]:
        api = self._pool.client.api
        exec_id = api.exec_create(
            container.id,
            argv,
            stdin=with_stdin,
            user=f"{self.uid}:{self.gid}",
            environment=env,
            workdir=str(workdir),
        )["Id"]
        return exec_id, api.exec_start(exec_id, socket=True)

    def _collect(
        self,
        exec_id: str,
        handle: Any,
        start: float,
        timeout: float,
        output_bytes: int,
        input: bytes | None,
        watch: ExecWatch,
    ) -> ExecResult:
        """Feed stdin, read the framed output under the wall clock and the cap, then fetch the exit code."""
        deadline = start + timeout
        sock = raw_socket(handle)
        writer = None
        if input is not None:
            writer = threading.Thread(target=send_and_close, args=(sock, input), daemon=True)
            writer.start()
        out, err = CappedBuffer(output_bytes), CappedBuffer(output_bytes)
        failure: type[SandboxError] | None = None
        try:
            for stream, payload in frames(sock, deadline):
                (out if stream == STDOUT else err).add(payload)
                if out.overflowed or err.overflowed:
                    failure = OutputLimitExceededError
                    break
        except StreamTimeoutError:
            failure = SandboxTimeoutError
        except OSError as error:
            if watch.breach is None:
                self._discard_container()
                raise SandboxUnavailableError(f"the Docker engine dropped the command's stream: {error}") from None
        finally:
            # Hang up first: the engine may be blocked writing to us, and a kill waits for that.
            hang_up(handle)
            if failure is not None:
                self._discard_container()
            if writer is not None:
                writer.join(timeout=5)
        killed = failure is not None or watch.breach is not None
        returncode = -9 if killed else self._exit_code(exec_id)
        result = ExecResult(returncode, out.text(), err.text(), time.monotonic() - start)
        if failure is SandboxTimeoutError:
            raise SandboxTimeoutError(
                f"command timed out after {timeout:g} s; its container was killed and removed", result
            )
        if failure is OutputLimitExceededError:
            raise OutputLimitExceededError(
                f"command wrote more than {output_bytes} bytes of output; its container was killed and removed",
                result,
            )
        return result

    def _exit_code(self, exec_id: str) -> int:
        """The exec's exit code; the stream can close a moment before the engine marks it finished."""
        api = self._pool.client.api
        for _ in range(200):
            try:
                info = api.exec_inspect(exec_id)
            except engine_errors() as error:
                raise SandboxUnavailableError(f"the Docker engine lost the command: {error}") from None
            if not info.get("Running") and info.get("ExitCode") is not None:
                return int(info["ExitCode"])
            time.sleep(0.01)
        raise SandboxUnavailableError("the Docker engine did not report the command's exit status")

    def _discard_container(self) -> None:
        container, self._container = self._container, None
        if container is not None:
            self._pool.discard(container)

    def _spawn(self, command: Command) -> SandboxProcess:
        limits = command.limits
        pool = self._pool
        with self._lock:
            self._lend_directory()
        self._confirm_read_only_paths()
        spec = pool.spec_for(self.workdir, limits, shared=False, ro_paths=self.ro_paths)
        argv = [
            *filter_prefix(pool.filter),
            *prlimit_args(limits, command.timeout, with_nproc=pool.hands_out_uids),
            *command.argv,
        ]
        kwargs = spec.create_kwargs(
            command=argv,
            user=f"{self.uid}:{self.gid}",
            environment=sandbox_environment(str(self.workdir), command.env),
            working_dir=str(command.cwd),
            auto_remove=False,
        )
        # No init: the engine's would run as the sandbox uid before the filter is installed, a process the
        # command could trace (or write through /proc/1/mem) into making the calls the filter refuses. The
        # filter is PID 1 and execs the command; removing the container ends the tree, as before.
        kwargs["init"] = False
        quota = QuotaWatch.for_limits(self.workdir, limits)
        return pool.track(DockerProcess(pool.client, kwargs, limits.output_bytes, quota))

    def close(self) -> None:
        """Give the container back (reset for the next experiment) and the directory to its owner."""
        with self._exec_lock, self._lock:
            if self._closed:
                return
            self._closed = True
            pool = self._pool
            if self._container is not None:
                pool.checkin(self._container, self.uid, self.gid)
                self._container = None
            if self._grant is not None:
                self._grant.revoke()
                self._grant = None
            if self.owns_pool:
                pool.close()
