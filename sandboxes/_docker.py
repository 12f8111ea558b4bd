"""The docker backend: each command is a `docker exec` in a hardened container, as an unprivileged uid.

Container reuse. Starting a container costs far more than an exec (see bench/sandbox_overhead.py),
so a run keeps warm containers, one per experiment running at the same time, and hands a finished
experiment's container to the next after a reset. That is only safe when experiments cannot reach
each other, so reuse needs two things:

- a shared root: the run's experiment directory (`shared_root`), mounted read-write at its host path
  in place of each experiment's own directory (a running container cannot gain mounts);
- a distinct uid per experiment, which only root can hand out (see `_ownership.py`): each experiment's
  directory becomes mode 0700 and owned by its uid, so through the shared mount an experiment can
  write its own directory and cannot even list another's.

When either is missing (a directory outside the shared root, labgate running as a normal user), the
sandbox gets a container of its own with only its directory mounted, still reused by all of that
experiment's commands. Between experiments the reset kills the departing uid's processes and
removes what it left in /tmp, /dev/shm and the IPC namespace; a container that cannot be shown
clean is discarded instead.

Each command runs under a wrapper that kills every other process of its uid when it ends, as the
local backend's PID namespace does, so nothing a command started outlives it; commands on one
sandbox therefore run one at a time. A command that outlives its wall clock or floods its output
takes the container down with it: it is killed and removed from the host, and the next command
gets a fresh one.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandboxes._base import (
    ExecResult,
    Limits,
    OutputLimitExceededError,
    Sandbox,
    SandboxError,
    SandboxProcess,
    SandboxTimeoutError,
    SandboxUnavailableError,
    cpu_limit_for,
    sandbox_environment,
)
from sandboxes._docker_container import KEEPALIVE_UID, ContainerSpec, WarmContainer, prune_orphans
from sandboxes._docker_process import DockerProcess
from sandboxes._docker_stream import STDOUT, CappedBuffer, StreamTimeoutError, frames, raw_socket, send_and_close
from sandboxes._engine import connect, is_not_found
from sandboxes._images import require_image, resolve_image
from sandboxes._ownership import DirectoryGrant, UidAllocator, ensure_traversable

# The command runs as "$@"; when it ends, every other process of its uid in the container dies.
_WRAPPER = ["/bin/sh", "-c", '"$@"; rc=$?; kill -9 -1 2>/dev/null; exit $rc', "labgate-exec"]


def _container_gone(error: BaseException) -> bool:
    text = str(error)
    return is_not_found(error) or "is not running" in text or "is paused" in text


def rlimit_args(limits: Limits, timeout: float, with_nproc: bool) -> list[str]:
    """`prlimit` (util-linux, in every Debian image) applied inside the container, as the local backend does."""
    args = ["prlimit", f"--cpu={cpu_limit_for(limits, timeout)}", "--core=0"]
    if limits.memory_bytes is not None:
        args.append(f"--as={limits.memory_bytes}")
    if limits.file_bytes is not None:
        args.append(f"--fsize={limits.file_bytes}")
    if limits.open_files is not None:
        args.append(f"--nofile={limits.open_files}")
    if limits.processes is not None and with_nproc:
        args.append(f"--nproc={limits.processes}")
    return [*args, "--"]


@dataclass
class DockerSandbox(Sandbox):
    """One experiment directory served by containers of one image; build it through `DockerSandboxes`."""

    pool: DockerSandboxes | None = None
    uid: int = 0
    gid: int = 0
    owns_pool: bool = False
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
    def container_id(self) -> str | None:
        """The warm container the next command runs in, if one is held."""
        container = self._container
        return container.id if container is not None and not container.removed else None

    def _lend_directory(self) -> None:
        """Hand the directory (and what the harness wrote there since the last command) to this sandbox's uid."""
        if self._closed:
            raise SandboxError("this sandbox is closed")
        if not self._pool.hands_out_uids:
            return
        if self._grant is None:
            self._grant = DirectoryGrant.lend(self.workdir, self.uid, self.gid)
        else:
            self._grant.refresh()

    def _warm_container(self) -> WarmContainer:
        if self._container is None or self._container.removed:
            self._container = self._pool.checkout(self.workdir, self.limits)
        return self._container

    def exec(
        self,
        cmd: Sequence[str],
        *,
        timeout: float,
        limits: Limits | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        input: bytes | None = None,
    ) -> ExecResult:
        limits = limits or self.limits
        workdir = self.resolve(cwd or ".")
        full_env = sandbox_environment(str(self.workdir), env)
        argv = [*_WRAPPER, *rlimit_args(limits, timeout, with_nproc=self._pool.hands_out_uids), *cmd]
        with self._exec_lock:
            for attempt in (1, 2):
                with self._lock:
                    self._lend_directory()
                    container = self._warm_container()
                begun = time.monotonic()
                try:
                    container.ensure_memory(limits.memory_bytes)
                    exec_id, handle = self._start(container, argv, full_env, workdir, input is not None)
                except SandboxError:
                    raise
                except Exception as error:
                    # A container that died between commands (killed from outside) is replaced once;
                    # anything else is the engine failing, not the command.
                    self._discard_container()
                    if attempt == 1 and _container_gone(error):
                        continue
                    raise SandboxUnavailableError(f"the Docker engine failed to run the command: {error}") from None
                return self._collect(exec_id, handle, begun, timeout, limits.output_bytes, input)
        raise AssertionError("unreachable")

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
        self, exec_id: str, handle: Any, start: float, timeout: float, output_bytes: int, input: bytes | None
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
            self._discard_container()
            raise SandboxUnavailableError(f"the Docker engine dropped the command's stream: {error}") from None
        finally:
            if failure is not None:
                self._discard_container()
            with contextlib.suppress(OSError):
                sock.close()
            if writer is not None:
                writer.join(timeout=5)
        returncode = -9 if failure is not None else self._exit_code(exec_id)
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
            except Exception as error:
                raise SandboxUnavailableError(f"the Docker engine lost the command: {error}") from None
            if not info.get("Running") and info.get("ExitCode") is not None:
                return int(info["ExitCode"])
            time.sleep(0.01)
        raise SandboxUnavailableError("the Docker engine did not report the command's exit status")

    def _discard_container(self) -> None:
        if self._container is not None:
            self._container.remove()
            self._container = None

    def spawn(
        self,
        cmd: Sequence[str],
        *,
        limits: Limits | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
    ) -> SandboxProcess:
        limits = limits or self.limits
        workdir = self.resolve(cwd or ".")
        pool = self._pool
        with self._lock:
            self._lend_directory()
        spec = pool.spec_for(self.workdir, limits, shared=False)
        argv = [*rlimit_args(limits, limits.cpu_seconds or 86_400, with_nproc=pool.hands_out_uids), *cmd]
        kwargs = spec.create_kwargs(
            command=argv,
            user=f"{self.uid}:{self.gid}",
            environment=sandbox_environment(str(self.workdir), env),
            working_dir=str(workdir),
            auto_remove=False,
        )
        return pool.track(DockerProcess(pool.client, kwargs, limits.output_bytes))

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


class DockerSandboxes:
    """Makes the docker sandboxes of one run and keeps their warm containers; `close()` removes them all.

    Args:
        image: a shipped image's name (`openfoam`) or an image reference; never pulled.
        shared_root: the directory under which experiment directories may share warm containers.
        limits: default limits of each sandbox; the container's memory, pids and CPU come from them.
        cpus: CPU quota per container (default: the host's cores).
        reuse: False gives every sandbox a container of its own.
    """

    def __init__(
        self,
        image: str,
        *,
        shared_root: Path | None = None,
        limits: Limits | None = None,
        ro_paths: Sequence[Path] = (),
        cpus: float | None = None,
        tmp_bytes: int = 1 << 30,
        reuse: bool = True,
    ) -> None:
        self.client: Any = connect()
        self.reference = resolve_image(image)
        self.image_id = str(require_image(self.client, self.reference).get("Id", ""))
        prune_orphans(self.client)
        self.limits = limits or Limits()
        self.ro_paths = tuple(Path(p).resolve() for p in ro_paths)
        self.nano_cpus = int((cpus or os.cpu_count() or 1) * 1e9)
        self.tmp_bytes = tmp_bytes
        self.hands_out_uids = os.geteuid() == 0
        self.shared_root = shared_root.resolve() if shared_root is not None and reuse else None
        self._uids = UidAllocator()
        self._idle: list[WarmContainer] = []
        self._live: dict[str, WarmContainer] = {}
        self._processes: list[DockerProcess] = []
        self._lock = threading.Lock()
        self.started = 0
        self.reused = 0
        self.discarded = 0

    def __call__(self, workdir: Path) -> DockerSandbox:
        workdir.mkdir(parents=True, exist_ok=True)
        workdir = workdir.resolve()
        if self.hands_out_uids:
            uid = gid = self._uids.allocate()
        else:
            uid, gid = os.getuid(), os.getgid()
            if uid == KEEPALIVE_UID:
                raise SandboxUnavailableError("labgate cannot use the docker backend as the user `nobody`")
        return DockerSandbox(workdir=workdir, limits=self.limits, pool=self, uid=uid, gid=gid)

    def _shares(self, workdir: Path) -> bool:
        root = self.shared_root
        return root is not None and self.hands_out_uids and root in workdir.parents

    def spec_for(self, workdir: Path, limits: Limits, *, shared: bool) -> ContainerSpec:
        mount = self.shared_root if shared and self.shared_root is not None else workdir
        return ContainerSpec(
            image=self.reference,
            mounts=((mount, True), *((path, False) for path in self.ro_paths)),
            memory_bytes=limits.memory_bytes,
            pids=limits.processes,
            nano_cpus=self.nano_cpus,
            tmp_bytes=self.tmp_bytes,
        )

    def checkout(self, workdir: Path, limits: Limits) -> WarmContainer:
        """A container for `workdir`: a reset warm one where sharing is safe, otherwise a new one."""
        shared = self._shares(workdir)
        spec = self.spec_for(workdir, limits, shared=shared)
        if shared:
            assert self.shared_root is not None
            ensure_traversable(self.shared_root, workdir)
            with self._lock:
                for index, candidate in enumerate(self._idle):
                    if candidate.spec == spec:
                        container = self._idle.pop(index)
                        container.experiments += 1
                        self.reused += 1
                        return container
        container = WarmContainer.start(self.client, spec, shared=shared)
        with self._lock:
            self._live[container.id] = container
            self.started += 1
        container.experiments = 1
        return container

    def checkin(self, container: WarmContainer, uid: int, gid: int) -> None:
        """Reset a shared container for the next experiment; remove it when it cannot be shown clean."""
        if container.shared and not container.removed:
            if container.reset(uid, gid):
                with self._lock:
                    self._idle.append(container)
                return
            self.discarded += 1
        container.remove()
        with self._lock:
            self._live.pop(container.id, None)

    def track(self, process: DockerProcess) -> DockerProcess:
        with self._lock:
            self._processes = [p for p in self._processes if p.poll() is None]
            self._processes.append(process)
        return process

    def describe(self) -> dict[str, Any]:
        return {
            "backend": "docker",
            "image": self.reference,
            "image_id": self.image_id,
            "isolation": "container: no network, read-only root, tmpfs /tmp, no capabilities, no-new-privileges",
            "user": "a fresh uid per experiment (directory chowned, mode 0700)"
            if self.hands_out_uids
            else f"uid {os.getuid()} (the directory's owner)",
            "reuse": "warm containers shared across the run's experiments, reset between them"
            if self.shared_root is not None and self.hands_out_uids
            else "one container per experiment",
            "memory_bytes": self.limits.memory_bytes,
            "pids_limit": self.limits.processes,
            "cpus": self.nano_cpus / 1e9,
            "process_limit": "RLIMIT_NPROC per experiment uid and pids cgroup"
            if self.hands_out_uids
            else "pids cgroup per container",
        }

    def stats(self) -> dict[str, int]:
        return {"started": self.started, "reused": self.reused, "discarded": self.discarded}

    def close(self) -> None:
        """Remove every container of the run, warm or still lent, and kill its workers."""
        with self._lock:
            live, self._live, self._idle = list(self._live.values()), {}, []
            processes, self._processes = self._processes, []
        for process in processes:
            process.kill()
        for container in live:
            with contextlib.suppress(Exception):
                container.remove()
