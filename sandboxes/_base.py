"""The sandbox interface: the only way labgate executes a tool or a candidate's code.

A backend runs commands inside one experiment directory and nowhere else. Failures of the
command itself come back as an `ExecResult`; failures of the sandbox (timeout, output flood,
backend missing) are specific exceptions so callers can tell "the candidate misbehaved" from
"the machine could not run it".
"""

from __future__ import annotations

import errno
import math
import os
import stat
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from runs import LabgateError

GIB = 1 << 30
MIB = 1 << 20


class SandboxError(LabgateError):
    """Base class of every sandbox failure."""


class SandboxUnavailableError(SandboxError):
    """The backend cannot run anything here (tool missing, namespaces refused, engine down)."""


class SandboxPathError(SandboxError, ValueError):
    """A path given to put/get/read/write would leave the experiment directory."""


@dataclass(frozen=True)
class ExecResult:
    returncode: int
    stdout: str
    stderr: str
    duration: float

    @property
    def success(self) -> bool:
        return self.returncode == 0


class SandboxCommandError(SandboxError, ValueError):
    """A command that cannot be started as given: empty, a NUL byte, a malformed variable, a bad timeout."""


class SandboxTimeoutError(SandboxError, TimeoutError):
    """The command outlived its wall-clock limit; the whole process tree was killed."""

    def __init__(self, message: str, partial: ExecResult | None = None) -> None:
        super().__init__(message)
        self.partial = partial


class OutputLimitExceededError(SandboxError):
    """The command wrote more than its output limit; it was killed and its output truncated."""

    def __init__(self, message: str, partial: ExecResult | None = None) -> None:
        super().__init__(message)
        self.partial = partial


class ResourceLimitError(SandboxError):
    """The sandbox as a whole crossed one of its aggregate limits and everything in it was killed.

    `limit` names the limit (`disk_bytes`, `files`, `memory_bytes`, `processes`, `tmp_bytes`) so a gate
    or a user can tell "the candidate filled the disk" from "the solver diverged".
    """

    def __init__(self, message: str, limit: str, partial: ExecResult | None = None) -> None:
        super().__init__(message)
        self.limit = limit
        self.partial = partial


class SandboxProcess(ABC):
    """A running sandboxed command: binary stdin/stdout pipes, stderr captured to a bounded buffer."""

    stdin: IO[bytes]
    stdout: IO[bytes]

    @abstractmethod
    def poll(self) -> int | None:
        """The exit code, or None while it runs."""

    @abstractmethod
    def kill(self) -> None:
        """Kill the command and everything it started; safe to call twice."""

    @abstractmethod
    def stderr_tail(self) -> str:
        """The last part of what it wrote to stderr (for diagnostics)."""

    newcomers: tuple[int, ...] = ()
    """Processes the last `pause` found that the `resume` before it had not let run: started while the
    command ran. A caller that lets a command run only in short measured stretches learns from it that the
    command started something there (whatever it started may have run on after the stretch ended)."""

    def pause(self) -> bool:
        """Stop every process of the command where it stands (it uses no processor until `resume`).

        For measuring something else beside it: a command that kept a thread spinning would slow what
        is measured. False where this backend cannot, or could not stop every process (some may run on).
        """
        return False

    def halt(self) -> bool:
        """Signal the processes the last `resume` let run to stop, at once: no listing, no waiting.

        Meant for the inside of a measurement's clock, just before it stops, so that what the command does
        after the measured stretch lasts only as long as a signal takes to arrive; `pause` must follow
        (it waits for them, and stops whatever they started). False where the backend could not signal
        them all (then only `pause` stops them).
        """
        return False

    def resume(self) -> None:  # noqa: B027 - nothing to do where `pause` stops nothing
        """Let every process `pause` stopped run again."""

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.kill()


@dataclass(frozen=True)
class Limits:
    """Resource limits for one command; None leaves that resource unlimited.

    Defaults suit a CFD case or a prover call on a laptop: generous enough for real work,
    tight enough that a runaway candidate cannot take the machine down.

    `memory_bytes` and `processes` bind the sandbox as a whole where the backend can (a cgroup per
    sandbox, a container) and each process through rlimits everywhere. `address_space_bytes` is the
    per-process address-space rlimit when it must differ from `memory_bytes` (None: the same): a device
    runtime that maps large regions it never touches needs a wide address space, yet what the sandbox
    may actually use stays bounded by the cgroup's `memory_bytes`. `disk_bytes` and `files` bound
    what the experiment directory may hold (allocated bytes, entries); `tmp_bytes` is the size of the
    sandbox's private /tmp.
    """

    cpu_seconds: int | None = None  # None: derived from the wall-clock timeout
    memory_bytes: int | None = 4 * GIB
    address_space_bytes: int | None = None
    processes: int | None = 256
    file_bytes: int | None = 2 * GIB
    open_files: int | None = 1024
    output_bytes: int = 8 * MIB
    disk_bytes: int | None = 8 * GIB
    files: int | None = 100_000
    tmp_bytes: int | None = 512 * MIB

    def with_(self, **changes: Any) -> Limits:
        return replace(self, **changes)


# Names that must never reach a sandbox even when a caller passes them explicitly.
_SECRET_MARKERS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "AUTH")


def is_secret_name(name: str) -> bool:
    upper = name.upper()
    return any(marker in upper for marker in _SECRET_MARKERS)


def sandbox_environment(workdir: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The whole environment a sandboxed command sees: a fixed base plus explicit, non-secret extras.

    Nothing is inherited from the host process, so an API key in the caller's environment
    cannot leak into a candidate by accident.
    """
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": workdir,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TMPDIR": "/tmp",
        # Open MPI's ranks copy large messages with process_vm_readv/writev, which the seccomp filter refuses
        # (`_seccomp.py`): they exchange them through shared memory instead.
        "OMPI_MCA_btl_vader_single_copy_mechanism": "none",
    }
    for name, value in (extra or {}).items():
        if is_secret_name(name):
            continue
        env[name] = value
    return env


SPAWN_CPU_SECONDS = 86_400
"""CPU seconds per process of a spawned command whose limits name none (it has no wall clock of its own)."""


@dataclass(frozen=True)
class Command:
    """One command as a backend receives it, the defaults already applied: `cwd` is the resolved host
    path inside the workdir, `timeout` the wall clock (for a spawned process, its CPU allowance)."""

    argv: Sequence[str]
    limits: Limits
    env: Mapping[str, str] | None
    cwd: Path
    timeout: float


@dataclass
class Sandbox(ABC):
    """One experiment's execution place. `workdir` is the host path of its only writable directory.

    A backend built with read-only paths (`ro_paths`) shows each at its own path and lets nothing inside
    change it; one inside `workdir` is mounted over the directory's writable mount (`split_read_only`).
    """

    workdir: Path
    limits: Limits = field(default_factory=Limits)

    name: str = "abstract"

    @property
    def shell(self) -> str:
        """The shell labgate's own scripts in this sandbox run in: `GUARDED_SHELL` (see `_guarded_shell`) where the
        backend binds it, else the image's `sh`."""
        return "sh"

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
        """Run `cmd` (argv, no shell) inside the sandbox with `cwd` relative to the workdir."""
        limits = limits or self.limits
        _check_command(cmd, env, timeout)
        return self._exec(Command(cmd, limits, env, self._working_directory(cwd), timeout), input)

    def spawn(
        self,
        cmd: Sequence[str],
        *,
        limits: Limits | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
    ) -> SandboxProcess:
        """Start a long-lived command with pipes (a worker that serves many requests).

        The caller owns the wall clock: it reads with its own timeouts and calls `kill()` on a hang.
        """
        limits = limits or self.limits
        _check_command(cmd, env, None)
        cpu_seconds = limits.cpu_seconds or SPAWN_CPU_SECONDS
        return self._spawn(Command(cmd, limits, env, self._working_directory(cwd), cpu_seconds))

    def _working_directory(self, cwd: str | None) -> Path:
        """`cwd` resolved in the workdir; a folder that is missing (or not a folder) is named, not left to
        the process start to fail on with a bare OSError."""
        resolved = self.resolve(cwd or ".")
        if cwd is not None and not resolved.is_dir():
            state = "does not exist" if not resolved.exists() else "is not a directory"
            raise SandboxPathError(f"working directory {cwd!r} {state} in the experiment directory")
        return resolved

    @abstractmethod
    def _exec(self, command: Command, input: bytes | None) -> ExecResult:
        """The backend's `exec`: run `command` to its end, feeding it `input`."""

    def _spawn(self, command: Command) -> SandboxProcess:
        """The backend's `spawn`; a backend that cannot keep a process running says so."""
        raise SandboxUnavailableError(f"the {self.name} backend cannot keep a process running")

    def describe(self) -> dict[str, Any]:
        """What the run record says about where its experiments ran."""
        return {"backend": self.name}

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what the backend holds (containers, temp dirs)."""

    # File transfer: the experiment directory is shared with the host in every backend, so these
    # are plain file operations, guarded so that no path leaves the directory.

    def resolve(self, relative: str) -> Path:
        root = self.workdir.resolve()
        try:
            candidate = (root / relative).resolve()
        except (RuntimeError, OSError, ValueError) as error:  # a link loop left by a command, a NUL
            raise SandboxPathError(f"path {relative!r} cannot be resolved: {error}") from None
        if candidate != root and root not in candidate.parents:
            raise SandboxPathError(f"path {relative!r} leaves the experiment directory")
        return candidate

    def write_file(self, relative: str, data: bytes | str) -> None:
        target = self.resolve(relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            data = data.encode()
        fd = _open_regular(target, relative, os.O_WRONLY | os.O_CREAT)
        with os.fdopen(fd, "wb") as handle:
            handle.truncate(0)
            handle.write(data)

    def read_file(self, relative: str) -> bytes:
        fd = _open_regular(self.resolve(relative), relative, os.O_RDONLY)
        with os.fdopen(fd, "rb") as handle:
            return handle.read()

    def put(self, source: Path, relative: str) -> None:
        self.write_file(relative, source.read_bytes())

    def get(self, relative: str, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(self.read_file(relative))

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _open_regular(path: Path, relative: str, flags: int) -> int:
    """Open a file of the experiment directory only if it is a regular file, without ever blocking.

    A command may leave a FIFO where the harness later writes its input or reads an output: a plain
    open would wait forever for the other end. Opened non-blocking and checked with fstat, a FIFO,
    a socket, a device or a link swapped in after `resolve` is refused instead.
    """
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o666)
    except OSError as error:
        if error.errno in (errno.ENXIO, errno.ELOOP):  # a FIFO without a reader, a symbolic link
            raise SandboxPathError(f"{relative!r} in the experiment directory is not a regular file") from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise SandboxPathError(f"{relative!r} in the experiment directory is not a regular file")
    os.set_blocking(fd, True)
    return fd


def split_read_only(workdir: Path, paths: Sequence[Path]) -> tuple[list[Path], list[Path]]:
    """`paths` (read-only binds) split into those outside `workdir` and those inside it.

    A read-only path inside the experiment directory is a harness input the command may read and never
    change (the file a prover checks): every backend mounts it over the directory's own writable mount,
    so it stays read-only to everything in the sandbox, even to the uid that owns it. Such a path is
    returned as `workdir / relative`, with every part below `workdir` checked: an earlier command may
    have left a symbolic link there, and binding through it would show a host file inside the sandbox.
    A path counts as inside when one of its parents resolves to `workdir` (the caller may name the
    directory through a link of the host's own, as `/tmp` on some systems); `workdir` must be resolved.

    Raises:
        SandboxPathError: a path inside `workdir` is missing, is not a regular file or directory, goes
            through a symbolic link below `workdir`, or lies in a subfolder of it (which could be renamed).
    """
    outer: list[Path] = []
    inner: list[Path] = []
    for path in paths:
        relative = _relative_below(workdir, Path(os.path.abspath(path)))
        if relative is None:
            outer.append(Path(path))
        else:
            inner.append(_confirm_inner(workdir, relative))
    return outer, inner


def _relative_below(workdir: Path, absolute: Path) -> Path | None:
    """`absolute` relative to `workdir` when one of its (shallowest) parents resolves to `workdir`, else None."""
    for ancestor in reversed(absolute.parents):
        if Path(os.path.realpath(ancestor)) == workdir:
            return absolute.relative_to(ancestor)
    return None


def _confirm_inner(workdir: Path, relative: Path) -> Path:
    """`workdir / relative`, after checking that no part of it below `workdir` is a link and that it exists."""
    if len(relative.parts) > 1:
        # Renaming a folder that holds a mount point is allowed: `spec/` renamed away and a new `spec/theorem.v`
        # written would leave the host reading a forged file. An entry directly in the directory is a mount
        # point itself, which cannot be renamed.
        raise SandboxPathError(
            f"read-only path {workdir / relative} is inside a subfolder of the experiment directory: only an entry "
            f"directly in it ({relative.parts[0]!r}) can be held read-only, since the folder above could be renamed"
        )
    current = workdir
    for index, part in enumerate(relative.parts):
        current = current / part
        try:
            info = os.lstat(current)
        except OSError as error:
            raise SandboxPathError(f"read-only path {workdir / relative} cannot be bound: {error}") from None
        last = index == len(relative.parts) - 1
        if stat.S_ISLNK(info.st_mode) or not (stat.S_ISDIR(info.st_mode) or (last and stat.S_ISREG(info.st_mode))):
            raise SandboxPathError(
                f"read-only path {workdir / relative} goes through {current}, which is not a real "
                f"{'file or directory' if last else 'directory'} (a symbolic link or a special file)"
            )
    return current


def _check_command(cmd: Sequence[str], env: Mapping[str, str] | None, timeout: float | None) -> None:
    """Refuse, with the reason, a command no process could be started with (instead of an OS error deep inside)."""
    if not cmd:
        raise SandboxCommandError("the command is empty: give the program and its arguments")
    for item in cmd:
        if not isinstance(item, str) or "\0" in item:
            raise SandboxCommandError(f"command argument {item!r} is not text without NUL bytes")
    for name, value in (env or {}).items():
        if not name or "=" in name or "\0" in name or "\0" in value:
            raise SandboxCommandError(f"environment variable {name!r} has an empty name, '=' or a NUL byte")
    if timeout is not None and not math.isfinite(timeout):
        raise SandboxCommandError(f"timeout {timeout!r} must be a finite number of seconds")


def cpu_limit_for(limits: Limits, timeout: float) -> int:
    """CPU seconds per process: explicit, or a little above the wall clock (one core flat out)."""
    if limits.cpu_seconds is not None:
        return limits.cpu_seconds
    return int(timeout) + 5


def rlimit_values(limits: Limits, timeout: float, with_nproc: bool) -> dict[str, int]:
    """The rlimits that `limits` asks for, by prlimit's names (cpu, core, as, fsize, nofile, nproc).

    RLIMIT_NPROC is only meaningful where the command runs as a uid of its own (a user namespace, a
    container uid per experiment): elsewhere it would count every process of that user, and it never binds root.
    """
    values = {"cpu": cpu_limit_for(limits, timeout), "core": 0}
    address_space = limits.address_space_bytes or limits.memory_bytes
    if address_space is not None:
        values["as"] = address_space
    # No single file may outgrow the directory's whole disk budget (a file kept only in a socket's queue is
    # found by no watch, so this cap is what bounds it); one byte more, so a file stopped there is still seen
    # crossing `disk_bytes` and named a disk breach, not only a signal.
    disk_cap = None if limits.disk_bytes is None else limits.disk_bytes + 1
    file_cap = [value for value in (limits.file_bytes, disk_cap) if value is not None]
    if file_cap:
        values["fsize"] = min(file_cap)
    if limits.open_files is not None:
        values["nofile"] = limits.open_files
    if limits.processes is not None and with_nproc:
        values["nproc"] = limits.processes
    return values


def prlimit_args(limits: Limits, timeout: float, with_nproc: bool) -> list[str]:
    """The `prlimit` (util-linux) prefix that applies `limits` to the command after it, in any backend."""
    values = rlimit_values(limits, timeout, with_nproc)
    return ["prlimit", *(f"--{name}={value}" for name, value in values.items()), "--"]
