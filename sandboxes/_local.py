"""The local backend: bubblewrap namespaces, a cgroup and rlimits, on the host, with no daemon.

Inside the sandbox the system is read-only and shows little of the host (/usr and /opt; of /etc and /sys
only the allow-listed entries `ETC_ALLOWED` and `SYS_ALLOWED`; users, groups, names written for the
sandbox, `SYNTHETIC_ETC`; a host name of its own), /proc/sys is read-only, /tmp is a private tmpfs of
`tmp_bytes`, the network and PIDs are unshared, all capabilities are dropped, `no_new_privs` is
set, the kernel keyring calls are refused (`_seccomp.py`), no user namespace can be created inside
(bubblewrap 0.8+), and the experiment directory (mounted nosuid; read-only paths inside it are mounted
over it) is the only writable place. When labgate runs as root, every command runs as a fresh unprivileged
host uid (`_identity.py`) so nothing inside maps to host root. Aggregate limits: a cgroup per command bounds
memory and processes of the whole tree where the machine allows one (root); rlimits bound each process
everywhere; the disk and file-count limits of the directory are watched while the command runs (`_quota.py`).

A command runs as: [cgroup entry (root)] -> [setpriv to the sandbox uid (root)] -> bwrap -> prlimit -> cmd;
as root with a C compiler the first two steps and the rlimits are one program, labgate-launch (`_launch.py`):
labgate-launch (root) -> bwrap -> cmd.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import shutil
import stat
import subprocess
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runs import LabgateError
from sandboxes._base import (
    Command,
    ExecResult,
    Limits,
    ResourceLimitError,
    Sandbox,
    SandboxProcess,
    SandboxUnavailableError,
    prlimit_args,
    rlimit_values,
    sandbox_environment,
    split_read_only,
)
from sandboxes._cgroup import SandboxCgroup, cgroup_limits_usable
from sandboxes._guarded_shell import GUARDED_SHELL, guarded_shell, guarded_shell_source
from sandboxes._identity import HostIdentity
from sandboxes._launch import launcher
from sandboxes._ownership import strip_set_id_bits
from sandboxes._process import HostProcess, run_process
from sandboxes._quota import QuotaWatch
from sandboxes._seccomp import keyring_filter, keyring_program
from sandboxes._workdirs import confirm_unmoved, lend_workdir

_SYSTEM_DIRS = ("/usr", "/opt")
_MERGED_USR_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_SANDBOX_UID = 65534
SANDBOX_HOSTNAME = "sandbox"
# What the wrappers (cgroup entry, setpriv, bubblewrap) start with; the command gets its own through bubblewrap.
_WRAPPER_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}

# The host's /etc is not the sandbox's: it holds what other services and users put there (API keys in
# /etc/environment, /etc/docker, the machine id, the host's name, other daemons' configuration). A
# sandbox sees only these entries of it, each bound read-only (a symlink is re-created as the same
# link), looked up when each command starts so a package installed later is seen; a pattern is matched
# with fnmatch against the names in /etc. Everything else in /etc does not exist inside.
ETC_ALLOWED: dict[str, str] = {
    "ld.so.cache": "the dynamic linker's library index (every binary)",
    "ld.so.conf": "library search path configuration (ldconfig, dlopen fallbacks)",
    "ld.so.conf.d": "library search path fragments (CUDA, multiarch)",
    "alternatives": "Debian's alternatives links (mpirun, mpicc, c++, cc, ...)",
    "OpenCL": "ICD vendor files: how pyopencl finds PoCL",
    "openmpi": "Open MPI's default MCA parameters and host file (parallel OpenFOAM)",
    "nsswitch.conf": "name-service sources for the synthesised passwd, group and hosts",
    "host.conf": "resolver options (Open MPI resolves the host name)",
    "gai.conf": "getaddrinfo address ordering",
    "protocols": "protocol numbers (getprotobyname: MPI's TCP transport)",
    "services": "service ports (getservbyname)",
    "localtime": "the time zone of timestamps in logs",
    "timezone": "the time zone's name",
    "os-release": "distribution identity (the compilers' and PoCL's host detection)",
    "debian_version": "distribution identity (the compilers' host detection)",
    "ocamlfind.conf": "findlib configuration (coqc, coqidetop)",
    "ocamlfind.conf.d": "findlib configuration fragments (coqc, coqidetop)",
    "python3*": "Debian's site configuration of the system Python (sitecustomize)",
    "fonts": "fontconfig configuration (figures rendered by matplotlib)",
    "env.d": "compiler environment fragments on distributions that use them (PoCL's clang)",
}

# Files of /etc written for the sandbox instead of bound: the host's copies list its users, groups and names.
SYNTHETIC_ETC: dict[str, str] = {
    "passwd": (
        "root:x:0:0:root:/nonexistent:/usr/sbin/nologin\n"
        f"nobody:x:{_SANDBOX_UID}:{_SANDBOX_UID}:nobody:/nonexistent:/usr/sbin/nologin\n"
    ),
    "group": f"root:x:0:\nnogroup:x:{_SANDBOX_UID}:\n",
    "hosts": f"127.0.0.1 localhost {SANDBOX_HOSTNAME}\n::1 localhost ip6-localhost ip6-loopback\n",
    "hostname": f"{SANDBOX_HOSTNAME}\n",
}

# What of /sys the sandbox sees: the CPU and NUMA topology PoCL, hwloc and Open MPI size their work by.
# The rest (the host's cgroups and their process lists, network interfaces and their addresses, DMI
# identity, block devices, kernel and module state) is absent.
SYS_ALLOWED: dict[str, str] = {
    "devices/system/cpu": "cores, caches and frequencies (PoCL's device info, hwloc's topology)",
    "devices/system/node": "NUMA nodes and their memory (hwloc, Open MPI binding)",
}

_probe_lock = threading.Lock()
_probe_result: str | None = None  # "" means bubblewrap works
# bubblewrap 0.8+ can forbid user namespaces inside the sandbox (older ones cannot; describe() says so):
# a nested user namespace gives the candidate every capability over new mount, network and other
# namespaces of its own, the kernel surface most local privilege escalations go through.
_NO_NESTED_USERNS = ["--unshare-user", "--disable-userns"]
_nested_userns_refused = False
# What to do when bubblewrap is installed but the kernel refuses it a user namespace: reinstalling
# bubblewrap would change nothing, so the advice names the settings that refuse them.
USERNS_ADVICE = (
    "Allow unprivileged user namespaces (sysctl user.max_user_namespaces=15000, and where they exist "
    "kernel.unprivileged_userns_clone=1 or, on Ubuntu 24.04+, kernel.apparmor_restrict_unprivileged_userns=0; "
    "in a container, run it with a seccomp profile that allows unshare), or use --sandbox docker"
)


def _try_bubblewrap(bwrap: str) -> str:
    """Run an empty sandbox the way every command will run; "" when it works, else why not."""
    identity = HostIdentity.for_this_process()
    if identity is not None and shutil.which("setpriv") is None:
        return "setpriv (util-linux) is not installed; as root it drops each sandbox's privileges. Install util-linux"
    global _nested_userns_refused
    prefix = identity.setpriv_prefix() if identity is not None else []
    base = [*prefix, bwrap, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "--chdir", "/"]
    strict = subprocess.run([*base, *_NO_NESTED_USERNS, "true"], capture_output=True, timeout=30, check=False)
    if strict.returncode == 0:
        _nested_userns_refused = True
        return ""
    probe = subprocess.run([*base, "true"], capture_output=True, text=True, timeout=30, check=False)
    if probe.returncode == 0:
        return ""
    as_whom = " for an unprivileged uid" if identity is not None else ""
    why = probe.stderr.strip() or probe.returncode
    return f"bubblewrap cannot create namespaces{as_whom} here: {why}. {USERNS_ADVICE}"


def _probe_bubblewrap() -> str:
    """Why bubblewrap cannot isolate here, or "" when it can. Probed once per process.

    As root the probe runs dropped to an unprivileged uid first, so a machine that refuses
    unprivileged user namespaces is found here, not at the first experiment.
    """
    global _probe_result
    with _probe_lock:
        if _probe_result is None:
            bwrap = shutil.which("bwrap")
            _probe_result = (
                "bubblewrap (bwrap) is not installed. Install it with ./scripts/setup (or apt-get install bubblewrap)"
                if bwrap is None
                else _try_bubblewrap(bwrap)
            )
        return _probe_result


def isolation_gaps() -> list[str]:
    """What the isolated local backend cannot enforce on this machine that the README promises it does.

    As root the promise includes a cgroup per command bounding the whole tree's memory and processes;
    where /sys/fs/cgroup is not writable (a container, a read-only mount) only per-process rlimits
    remain. Everywhere it includes the keyring filter and, with bubblewrap 0.8+, no nested user
    namespaces. A run still proceeds; the front door prints each gap so the weaker isolation is
    never silent (the run's recorded environment, `describe()`, says the same).
    """
    gaps: list[str] = []
    if os.geteuid() == 0:
        usable = cgroup_limits_usable()
        if "memory_bytes" not in usable:
            gaps.append("memory is bounded per process only (no writable memory cgroup under /sys/fs/cgroup)")
        if "processes" not in usable:
            gaps.append("processes are bounded by RLIMIT_NPROC only (no writable pids cgroup under /sys/fs/cgroup)")
    if keyring_program() is None:
        gaps.append("the kernel keyring calls are not filtered (no seccomp program for this machine)")
    if not _probe_bubblewrap() and not _nested_userns_refused:
        gaps.append("a sandbox can create user namespaces of its own (bubblewrap older than 0.8)")
    return gaps


def _allowed_entries(root: Path, allowed: Mapping[str, str]) -> list[os.DirEntry[str]]:
    """The entries of `root` an allow-list names, sorted; a pattern is matched against the names in `root`.

    This runs for every command: one listing says which entries exist and which are links, where a
    check per entry took half a millisecond of each command's start.
    """
    try:
        with os.scandir(root) as listing:
            present = {entry.name: entry for entry in listing}
    except OSError:
        return []
    names = {name for name in allowed if name in present}
    for pattern in (name for name in allowed if any(mark in name for mark in "*?[")):
        names.update(fnmatch.filter(present, pattern))
    return [present[name] for name in sorted(names)]


def _entry_binds(entries: Sequence[Path]) -> list[str]:
    """Bind each entry read-only where it is, or re-create it as the same symlink."""
    args: list[str] = []
    for entry in entries:
        if entry.is_symlink():
            args += ["--symlink", str(entry.readlink()), str(entry)]
        elif entry.exists():
            args += ["--ro-bind", str(entry), str(entry)]
    return args


# A host /etc file larger than this is bound rather than copied into the sandbox at each command.
_ETC_COPY_BYTES = 1 << 20


def _open_etc_file(path: str, readable_by_all: bool = False) -> int | None:
    """A read-only descriptor of the regular file `path` small enough to copy (and with `readable_by_all`, one
    others may read), else None (bound instead)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    info = os.fstat(fd)
    readable = not readable_by_all or info.st_mode & stat.S_IROTH
    if stat.S_ISREG(info.st_mode) and info.st_size <= _ETC_COPY_BYTES and readable:
        return fd
    os.close(fd)
    return None


_ETC_DIR_ENTRIES = 16
"""An allowed /etc directory with at most this many entries (all of them world-readable regular files, links
and folders) is copied into the sandbox like a file, not bound: each bind costs bubblewrap two mounts and a
read of the whole mount table (about 0.15 ms of CPU a bind on the 2-core machine). Larger ones stay bound."""


def _copy_etc_dir(top: str, files: dict[str, int]) -> list[str] | None:
    """bubblewrap arguments re-creating the small directory `top`: its folders with their modes, and its links;
    its files are added to `files` as descriptors, for `--file` once the folders exist. None when it must be
    bound instead: too many entries, an entry others may not read (a copy made by root would show it), or one
    that is neither file, link nor folder; then nothing is left open."""
    try:
        info = os.lstat(top)
    except OSError:
        return None
    seen = (info.st_dev, info.st_ino, info.st_mtime_ns, info.st_ctime_ns)
    if _etc_dirs_bound.get(top) == seen:
        return None  # too large when last looked at, and no entry added or removed since
    args: list[str] = []
    opened: dict[str, int] = {}
    pending = [top]
    count = 0
    try:
        while pending:
            folder = pending.pop()
            info = os.lstat(folder)
            if not stat.S_ISDIR(info.st_mode) or info.st_mode & 0o005 != 0o005:
                raise _NotCopiedError
            args += ["--perms", f"{stat.S_IMODE(info.st_mode) & 0o755:04o}", "--dir", folder]
            entries = []
            with os.scandir(folder) as listing:
                for entry in listing:  # a large folder is given up on at its limit, not listed whole
                    count += 1
                    if count > _ETC_DIR_ENTRIES:
                        _etc_dirs_bound[top] = seen  # an allowed folder this large (alternatives) stays so
                        raise _NotCopiedError
                    entries.append(entry)
            for entry in sorted(entries, key=lambda entry: entry.name):
                if entry.is_symlink():
                    args += ["--symlink", os.readlink(entry.path), entry.path]
                elif entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                else:
                    fd = _open_etc_file(entry.path, readable_by_all=True)
                    if fd is None:
                        raise _NotCopiedError
                    # Copied as the allowed files directly in /etc are (`etc_view`'s `--file`, after the folders).
                    opened[entry.path] = fd
    except (_NotCopiedError, OSError):
        _close_all(list(opened.values()))
        return None
    files.update(opened)
    return args


_etc_dirs_bound: dict[str, tuple[int, int, int, int]] = {}
"""The allowed /etc folders found too large to copy, with their identity and times then: looked at again only
once they change (listing /etc/alternatives, 425 links, took 0.15 ms of every command's start)."""


class _NotCopiedError(LabgateError):
    """An /etc directory that must be bound rather than copied."""


def etc_view() -> tuple[list[str], dict[str, int]]:
    """The sandbox's /etc: bubblewrap arguments for the allowed host directories and links, and one
    descriptor per file bubblewrap copies in (`--file`): the synthesised ones and the allowed small files.

    A copy is read afresh at each command, as a bind would show it, and costs no mount: eighteen binds
    took about 1 ms of each command's start, copies of the eleven files among them a third of that.
    The copies live in bubblewrap's root, which is read-only once the sandbox is built. The caller passes
    the descriptors to the child and closes them.
    """
    args = ["--dir", "/etc"]
    files: dict[str, int] = {}
    try:
        for name, text in SYNTHETIC_ETC.items():
            fd = os.memfd_create(f"labgate-etc-{name}", os.MFD_CLOEXEC)
            files[f"/etc/{name}"] = fd
            os.write(fd, text.encode())
            os.lseek(fd, 0, os.SEEK_SET)
        for entry in _allowed_entries(Path("/etc"), ETC_ALLOWED):
            if entry.name in SYNTHETIC_ETC:
                continue
            if entry.is_symlink():
                args += ["--symlink", os.readlink(entry.path), entry.path]
                continue
            if entry.is_dir(follow_symlinks=False):
                copied_dir = _copy_etc_dir(entry.path, files)
                args += ["--ro-bind", entry.path, entry.path] if copied_dir is None else copied_dir
                continue
            copied = _open_etc_file(entry.path) if entry.is_file(follow_symlinks=False) else None
            if copied is None:
                args += ["--ro-bind", entry.path, entry.path]
            else:
                files[entry.path] = copied
    except BaseException:
        _close_all(list(files.values()))
        raise
    return args, files


def sys_binds() -> list[str]:
    """bubblewrap arguments for the sandbox's /sys: the allowed host directories, nothing else."""
    entries = [Path("/sys") / relative for relative in SYS_ALLOWED]
    return ["--dir", "/sys", *_entry_binds([e for e in entries if e.is_dir()])]


def _guarded_shell_bind() -> list[str]:
    """The execute-only shell labgate's scripts run in (`_guarded_shell`), where it could be made."""
    source = guarded_shell_source()
    return [] if source is None else ["--ro-bind", str(source), GUARDED_SHELL]


def _system_binds(etc: Sequence[str]) -> list[str]:
    args: list[str] = []
    for directory in _SYSTEM_DIRS:
        if os.path.isdir(directory):
            args += ["--ro-bind", directory, directory]
    args += [*etc, *sys_binds()]
    for link in _MERGED_USR_LINKS:
        try:
            mode = os.lstat(link).st_mode
        except OSError:
            continue
        if stat.S_ISLNK(mode):
            args += ["--symlink", os.readlink(link), link]
        elif stat.S_ISDIR(mode):
            args += ["--ro-bind", link, link]
    return args


@functools.cache
def _host_bwrap() -> str | None:
    """bubblewrap's real path on the wrappers' fixed PATH, looked up once per process."""
    found = shutil.which("bwrap", path=_WRAPPER_ENV["PATH"])
    return os.path.realpath(found) if found is not None else None


def _close_all(fds: Sequence[int]) -> None:
    for fd in fds:
        os.close(fd)


def _prlimit_args(limits: Limits, timeout: float, with_nproc: bool) -> list[str]:
    """The rlimits prefix, naming prlimit by its host path.

    bubblewrap looks its command up on the sandbox's PATH, which a caller may set: a directory of the
    experiment first on it would let a `prlimit` the candidate wrote start the command with no rlimits.
    """
    found = shutil.which("prlimit", path=_WRAPPER_ENV["PATH"])
    if found is None:
        raise SandboxUnavailableError("prlimit (util-linux) is not installed; it applies the sandbox's rlimits")
    # Applied inside the user namespace, RLIMIT_NPROC counts only the sandbox's own processes. See _cgroup for root.
    _, *rest = prlimit_args(limits, timeout, with_nproc)
    return [os.path.realpath(found), *rest]


@dataclass
class LocalSandbox(Sandbox):
    """Runs commands on this machine; `isolation=False` is the explicit, unsafe opt-out."""

    isolation: bool = True
    ro_paths: Sequence[Path] = field(default_factory=tuple)
    network: bool = False
    name: str = "local"
    _identity: HostIdentity | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.workdir = lend_workdir(self.workdir)
        if self.isolation:
            problem = _probe_bubblewrap()
            if problem:
                raise SandboxUnavailableError(
                    f"{problem}, or pass --unsafe-no-isolation to run experiments without isolation."
                )
            self._identity = HostIdentity.for_this_process()

    @property
    def shell(self) -> str:
        return guarded_shell() if self.isolation else "sh"

    @property
    def host_uid(self) -> int:
        """The host uid the sandbox's processes run as (this process's own uid unless labgate is root)."""
        return self._identity.uid if self._identity is not None else os.getuid()

    def describe(self) -> dict[str, Any]:
        usable = cgroup_limits_usable() if os.geteuid() == 0 else frozenset()
        if "processes" in usable:
            processes = "pids cgroup per command"
        elif not self.isolation:
            processes = "not limited (no namespace)"
        elif os.geteuid() != 0:
            processes = "RLIMIT_NPROC in the user namespace"
        else:
            processes = "RLIMIT_NPROC of the sandbox's own uid only (no writable pids cgroup)"
        memory = (
            "memory cgroup per command (the whole tree, /tmp included) and RLIMIT_AS per process"
            if "memory_bytes" in usable
            else "RLIMIT_AS per process only (no writable memory cgroup: not aggregated)"
        )
        if not self.isolation:
            user = "this process's own uid (no isolation)"
        elif self._identity is not None:
            dropper = "labgate-launch" if self._launch_programs(self._identity) is not None else "setpriv"
            user = (
                f"a fresh unprivileged host uid per sandbox ({dropper}, no_new_privs); directory lent, then taken back"
            )
        else:
            user = f"uid {os.getuid()} through bubblewrap's user namespace"
        return {
            "backend": self.name,
            "isolation": "bubblewrap" if self.isolation else "none (unsafe)",
            "user": user,
            "process_limit": processes,
            "memory_limit": memory,
            "aggregate_limits": sorted(usable),
            "disk_limit": "experiment directory watched while commands run (disk_bytes, files)",
            "tmp": "private tmpfs of tmp_bytes" if self.isolation else "the host's /tmp (no isolation)",
            "nested_user_namespaces": "refused (bubblewrap --disable-userns)"
            if self.isolation and _nested_userns_refused
            else "allowed (bubblewrap older than 0.8 or no isolation)",
            "system_view": f"/usr and /opt read-only; of /etc only {len(ETC_ALLOWED)} allowed entries, passwd, group, "
            "hosts and hostname written for the sandbox; of /sys only the CPU and NUMA topology"
            if self.isolation
            else "the whole host (no isolation)",
            "keyring": "kernel keyring calls refused (seccomp)"
            if self.isolation and keyring_program() is not None
            else "not filtered: the session keyring labgate started with is reachable",
        }

    def _bwrap_args(
        self,
        env: Mapping[str, str],
        cwd: Path,
        limits: Limits,
        read_only: tuple[Sequence[Path], Sequence[Path]],
        seccomp: int | None,
        etc: tuple[Sequence[str], Mapping[str, int]],
    ) -> list[str]:
        """bubblewrap's arguments; `read_only` is `split_read_only` of the sandbox's read-only paths, `etc`
        is `etc_view()`."""
        etc_binds, etc_files = etc
        tmp_size = ["--size", str(limits.tmp_bytes)] if limits.tmp_bytes is not None else []
        args = [
            "bwrap",
            # No kernel keyring calls: the session keyring labgate was started with is inherited (`_seccomp.py`).
            *(["--seccomp", str(seccomp)] if seccomp is not None else []),
            "--unshare-all",
            *(_NO_NESTED_USERNS if _nested_userns_refused else []),
            *(["--share-net"] if self.network else []),
            "--die-with-parent",
            "--new-session",
            # The command is the namespace's init: when it ends, the kernel kills everything left in
            # the namespace, and bubblewrap's monitor reaps it itself (no zombie left to the host's init).
            "--as-pid-1",
            "--cap-drop",
            "ALL",
            "--uid",
            str(_SANDBOX_UID),
            "--gid",
            str(_SANDBOX_UID),
            # The host's name is the host's: the sandbox has a name of its own in its UTS namespace.
            "--hostname",
            SANDBOX_HOSTNAME,
            *_system_binds(etc_binds),
            *[arg for path, fd in etc_files.items() for arg in ("--file", str(fd), path)],
            *_guarded_shell_bind(),
            "--dev",
            "/dev",
            # No pseudo-terminals: every sandbox's devpts draws on one kernel-wide pool (`kernel.pty.max`), and
            # one sandbox took all 3072 ptys outside the host's reserve. An empty tmpfs (made read-only below)
            # hides the devpts bubblewrap mounts, so /dev/ptmx leads nowhere; no tool labgate runs needs one.
            "--tmpfs",
            "/dev/pts",
            "--proc",
            "/proc",
            # Kernel tunables read-only whatever the uid mapping: the sandbox's own /proc/sys bound over itself.
            "--ro-bind",
            "/proc/sys",
            "/proc/sys",
            *tmp_size,
            "--tmpfs",
            "/tmp",
            *tmp_size,
            "--tmpfs",
            "/dev/shm",
        ]
        outer, inner = read_only
        for path in outer:
            resolved = str(Path(path).resolve())
            args += ["--ro-bind", resolved, resolved]
        # Every bind bubblewrap makes is nosuid; the directory is also handed back with set-id bits stripped.
        args += ["--bind", str(self.workdir), str(self.workdir)]
        # Read-only paths inside the directory come after its bind, which would otherwise cover them.
        for path in inner:
            args += ["--ro-bind", str(path), str(path)]
        # bubblewrap's own root and /dev are RAM filesystems the sandbox user owns, as large as half the
        # host's memory: once every mount point exists they become read-only, leaving /tmp and /dev/shm
        # (each `tmp_bytes`) and the experiment directory as the only writable places.
        args += [
            "--remount-ro",
            "/dev/pts",
            "--remount-ro",
            "/dev",
            "--remount-ro",
            "/",
            "--chdir",
            str(cwd),
            "--clearenv",
        ]
        for name, value in env.items():
            args += ["--setenv", name, value]
        return args

    def _command(
        self,
        command: Command,
        identity: HostIdentity | None,
        read_only: tuple[Sequence[Path], Sequence[Path]],
        seccomp: int | None,
        etc: tuple[Sequence[str], Mapping[str, int]],
    ) -> tuple[list[str], dict[str, str], SandboxCgroup | None]:
        """The full argv (cgroup entry, identity drop, bubblewrap, rlimits, command), the environment to start
        it with and its cgroup.

        With isolation the command's environment is handed to bubblewrap (`--clearenv`, `--setenv`) and the
        wrappers before it, which run as root, start with `_WRAPPER_ENV`: a caller's PATH or LD_* variable
        naming a directory a sandbox can write must never choose what root executes or loads.
        """
        limits = command.limits
        full_env = sandbox_environment(str(self.workdir), command.env)
        bwrap: list[str] = []
        if self.isolation:
            bwrap = self._bwrap_args(full_env, command.cwd, limits, read_only, seccomp, etc)
            full_env = dict(_WRAPPER_ENV)
        launch = self._launch_programs(identity)
        cgroup = None
        if os.geteuid() == 0:
            cgroup = SandboxCgroup.create(limits.processes, self._cgroup_memory(limits))
        try:
            if launch is not None and identity is not None:
                argv = self._launched(*launch, bwrap, command, identity, cgroup)
            else:
                argv = [*_prlimit_args(limits, command.timeout, with_nproc=self.isolation), *command.argv]
                if self.isolation:
                    argv = [*bwrap, "--", *argv]
                    if identity is not None:
                        argv = [*identity.setpriv_prefix(), *argv]
                if cgroup is not None:
                    argv = [*cgroup.enter_prefix(), *argv]
        except BaseException:
            if cgroup is not None:
                cgroup.remove()
            raise
        return argv, full_env, cgroup

    def _launch_programs(self, identity: HostIdentity | None) -> tuple[Path, str] | None:
        """labgate-launch and bubblewrap's host path, where a command is isolated, dropped to a uid of its
        own and the launcher could be built; None means the chain of shell, setpriv and prlimit."""
        if not self.isolation or identity is None:
            return None
        launch = launcher()
        bwrap = _host_bwrap()
        if launch is None or bwrap is None:
            return None
        return launch, bwrap

    def _launched(
        self,
        launch: Path,
        bwrap_path: str,
        bwrap: list[str],
        command: Command,
        identity: HostIdentity,
        cgroup: SandboxCgroup | None,
    ) -> list[str]:
        """The argv through labgate-launch: cgroup entry, rlimits and the drop to the sandbox's uid in one
        exec before bubblewrap (`_launch.py`).

        Set before bubblewrap makes its user namespace, RLIMIT_NPROC would count every process of the
        sandbox's uid, its other commands included; so where the command's cgroup bounds its processes
        (threads and bubblewrap's monitor too) that limit is left to the cgroup, and elsewhere prlimit
        inside the namespace applies it as before.
        """
        limits = command.limits
        bounded = cgroup is not None and "processes" in cgroup.limited
        values = rlimit_values(limits, command.timeout, with_nproc=False)
        inner = [] if bounded or limits.processes is None else _prlimit_args(limits, command.timeout, with_nproc=True)
        return [
            str(launch),
            *(f"--join={path}" for path in (cgroup.join_files() if cgroup is not None else [])),
            *(f"--rlimit={name}:{value}" for name, value in values.items()),
            f"--uid={identity.uid}",
            "--",
            bwrap_path,
            *bwrap[1:],
            "--",
            *inner,
            *command.argv,
        ]

    def _cgroup_memory(self, limits: Limits) -> int | None:
        memory = limits.memory_bytes
        if memory is not None and limits.tmp_bytes is not None and self.isolation:
            memory += limits.tmp_bytes  # /tmp is RAM and is charged to the same cgroup
        return memory

    def _start(self, command: Command) -> tuple[list[str], dict[str, str], SandboxCgroup | None, tuple[int, ...]]:
        """Lend the directory and build the command; on any failure the loan ends again.

        The last item holds the descriptors bubblewrap reads (the seccomp program, the synthesised /etc
        files; none without isolation); the caller passes them to the child and closes them.
        """
        confirm_unmoved(self.workdir)
        read_only = split_read_only(self.workdir, self.ro_paths) if self.isolation else ([], [])
        identity = None
        if self._identity is not None:
            try:
                identity = self._identity.lend(self.workdir, read_only[0])  # the directory itself is lent whole
            except OSError as error:
                raise SandboxUnavailableError(
                    f"cannot lend {self.workdir} to the sandbox's uid {self._identity.uid}: {error}"
                ) from None
        seccomp = None
        etc: tuple[list[str], dict[str, int]] = ([], {})
        try:
            seccomp = keyring_filter() if self.isolation else None
            etc = etc_view() if self.isolation else ([], {})
            argv, full_env, cgroup = self._command(command, identity, read_only, seccomp, etc)
        except BaseException:
            _close_all(([] if seccomp is None else [seccomp]) + list(etc[1].values()))
            self._finish(None)
            raise
        return argv, full_env, cgroup, (*([] if seccomp is None else [seccomp]), *etc[1].values())

    def _finish(self, cgroup: SandboxCgroup | None) -> None:
        """Kill what is left of a command, drop its cgroup, and take the directory back (set-id bits stripped)."""
        try:
            if cgroup is not None:
                cgroup.remove()
        finally:
            if self._identity is not None:
                HostIdentity.give_back(self.workdir)
            elif self.isolation:
                strip_set_id_bits(self.workdir)

    def _exec(self, command: Command, input: bytes | None) -> ExecResult:
        limits = command.limits
        argv, full_env, cgroup, fds = self._start(command)
        try:
            result = run_process(
                argv,
                env=full_env,
                cwd=command.cwd,
                timeout=command.timeout,
                output_bytes=limits.output_bytes,
                input=input,
                watch=QuotaWatch.for_limits(self.workdir, limits, cgroup.pids if cgroup is not None else None),
                kill_tree=cgroup.kill_all if cgroup is not None else None,
                pass_fds=fds,
            )
        finally:
            _close_all(fds)
            oom_kills = cgroup.oom_kills() if cgroup is not None else 0
            self._finish(cgroup)
        if oom_kills:
            raise ResourceLimitError(
                f"memory_bytes: the sandbox used more than its {limits.memory_bytes} bytes of memory "
                f"and the kernel killed {oom_kills} of its processes",
                "memory_bytes",
                result,
            )
        return result

    def _spawn(self, command: Command) -> SandboxProcess:
        limits = command.limits
        argv, full_env, cgroup, fds = self._start(command)
        try:
            return HostProcess(
                argv,
                env=full_env,
                cwd=command.cwd,
                stderr_bytes=limits.output_bytes,
                on_exit=lambda: self._finish(cgroup),
                watch=QuotaWatch.for_limits(self.workdir, limits, cgroup.pids if cgroup is not None else None),
                kill_tree=cgroup.kill_all if cgroup is not None else None,
                pass_fds=fds,
                members=cgroup.pids if cgroup is not None else None,
            )
        except BaseException:
            self._finish(cgroup)
            raise
        finally:
            _close_all(fds)
