"""The local backend: bubblewrap namespaces plus rlimits, on the host, with no daemon.

Inside the sandbox the system is read-only, /tmp is private, the network and PIDs are
unshared, all capabilities are dropped, and the experiment directory is the only writable
place. rlimits are applied with `prlimit` outside bubblewrap so they bind the whole tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandboxes._base import (
    ExecResult,
    Limits,
    Sandbox,
    SandboxProcess,
    SandboxUnavailableError,
    prlimit_args,
    sandbox_environment,
)
from sandboxes._cgroup import PidsCgroup, cgroups_usable
from sandboxes._process import HostProcess, run_process

_SYSTEM_DIRS = ("/usr", "/etc", "/opt", "/sys")
_MERGED_USR_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_SANDBOX_UID = 65534

_probe_lock = threading.Lock()
_probe_result: str | None = None  # "" means bubblewrap works


def _probe_bubblewrap() -> str:
    """Why bubblewrap cannot isolate here, or "" when it can. Probed once per process."""
    global _probe_result
    with _probe_lock:
        if _probe_result is None:
            bwrap = shutil.which("bwrap")
            if bwrap is None:
                _probe_result = "bubblewrap (bwrap) is not installed"
            else:
                probe = subprocess.run(
                    [bwrap, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "true"],
                    capture_output=True,
                    text=True,
                    timeout=30,
                    check=False,
                )
                _probe_result = (
                    ""
                    if probe.returncode == 0
                    else f"bubblewrap cannot create namespaces here: {probe.stderr.strip() or probe.returncode}"
                )
        return _probe_result


def _system_binds() -> list[str]:
    args: list[str] = []
    for directory in _SYSTEM_DIRS:
        if Path(directory).is_dir():
            args += ["--ro-bind", directory, directory]
    for link in _MERGED_USR_LINKS:
        path = Path(link)
        if path.is_symlink():
            args += ["--symlink", str(path.readlink()), link]
        elif path.is_dir():
            args += ["--ro-bind", link, link]
    return args


def _prlimit_args(limits: Limits, timeout: float, with_nproc: bool) -> list[str]:
    if shutil.which("prlimit") is None:
        raise SandboxUnavailableError("prlimit (util-linux) is not installed; it applies the sandbox's rlimits")
    # Applied inside the user namespace, RLIMIT_NPROC counts only the sandbox's own processes. See _cgroup for root.
    return prlimit_args(limits, timeout, with_nproc)


@dataclass
class LocalSandbox(Sandbox):
    """Runs commands on this machine; `isolation=False` is the explicit, unsafe opt-out."""

    isolation: bool = True
    ro_paths: Sequence[Path] = field(default_factory=tuple)
    network: bool = False
    name: str = "local"

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = self.workdir.resolve()
        if self.isolation:
            problem = _probe_bubblewrap()
            if problem:
                raise SandboxUnavailableError(
                    f"{problem}. Install it with ./scripts/setup (or apt-get install bubblewrap), "
                    "or pass --unsafe-no-isolation to run experiments without isolation."
                )

    def describe(self) -> dict[str, Any]:
        if os.geteuid() != 0:
            processes = "RLIMIT_NPROC in the user namespace" if self.isolation else "not limited (no namespace)"
        else:
            processes = "pids cgroup" if cgroups_usable() else "not limited (root without a writable pids cgroup)"
        return {
            "backend": self.name,
            "isolation": "bubblewrap" if self.isolation else "none (unsafe)",
            "process_limit": processes,
        }

    def _bwrap_args(self, env: Mapping[str, str], cwd: Path) -> list[str]:
        args = [
            "bwrap",
            "--unshare-all",
            *(["--share-net"] if self.network else []),
            "--die-with-parent",
            "--new-session",
            "--cap-drop",
            "ALL",
            "--uid",
            str(_SANDBOX_UID),
            "--gid",
            str(_SANDBOX_UID),
            *_system_binds(),
            "--dev",
            "/dev",
            "--proc",
            "/proc",
            "--tmpfs",
            "/tmp",
        ]
        for path in self.ro_paths:
            resolved = str(Path(path).resolve())
            args += ["--ro-bind", resolved, resolved]
        args += ["--bind", str(self.workdir), str(self.workdir), "--chdir", str(cwd), "--clearenv"]
        for name, value in env.items():
            args += ["--setenv", name, value]
        return args

    def _command(
        self, cmd: Sequence[str], limits: Limits, env: Mapping[str, str] | None, cwd: str | None, timeout: float
    ) -> tuple[list[str], dict[str, str], Path, PidsCgroup | None]:
        """The full argv (cgroup entry, bubblewrap, rlimits, command), its environment and directory."""
        workdir = self.resolve(cwd or ".")
        full_env = sandbox_environment(str(self.workdir), env)
        if self.isolation:
            inner = _prlimit_args(limits, timeout, with_nproc=True)
            argv = [*self._bwrap_args(full_env, workdir), "--", *inner, *cmd]
        else:
            argv = [*_prlimit_args(limits, timeout, with_nproc=False), *cmd]
        cgroup = PidsCgroup.create(limits.processes) if limits.processes is not None and os.geteuid() == 0 else None
        if cgroup is not None:
            argv = [*cgroup.enter_prefix(), *argv]
        return argv, full_env, workdir, cgroup

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
        argv, full_env, workdir, cgroup = self._command(cmd, limits, env, cwd, timeout)
        try:
            return run_process(
                argv,
                env=full_env,
                cwd=workdir,
                timeout=timeout,
                output_bytes=limits.output_bytes,
                input=input,
            )
        finally:
            if cgroup is not None:
                cgroup.remove()

    def spawn(
        self,
        cmd: Sequence[str],
        *,
        limits: Limits | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
    ) -> SandboxProcess:
        limits = limits or self.limits
        argv, full_env, workdir, cgroup = self._command(cmd, limits, env, cwd, timeout=limits.cpu_seconds or 86_400)
        return HostProcess(
            argv,
            env=full_env,
            cwd=workdir,
            stderr_bytes=limits.output_bytes,
            on_exit=cgroup.remove if cgroup is not None else (lambda: None),
        )
