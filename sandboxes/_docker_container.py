"""One hardened container: how it is created, reset for the next experiment, and removed.

Every container labgate starts has no network, a read-only root filesystem with a private tmpfs
`/tmp`, no capabilities, `no-new-privileges`, an init process that reaps orphans, memory equal to
memory+swap, a pids limit, a CPU quota, core dumps off, a private IPC namespace, a host name of its
own, a resolver that names nothing of the host, of /sys only the CPU and NUMA topology, and only
the directories it was given mounted: the experiment directory read-write at the same path as on
the host, extra paths read-only (the engine mounts them in order of depth, so one inside the experiment
directory lies over its read-write mount and stays read-only). A warm container that serves one
experiment after another mounts an empty slot at the run's experiment root instead, and receives each
experiment's directory there by mount propagation while that experiment holds it (`_docker_stage.py`);
a sandbox with a read-only path inside its directory never gets one.

A warm container's main process is `cat` on a stdin the pool holds attached: if labgate dies, the
engine closes that stdin, `cat` ends and the container removes itself, so none outlives its run.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandboxes._base import MIB, SandboxUnavailableError
from sandboxes._docker_cgroup import ContainerCgroup
from sandboxes._docker_filter import FILTER_TARGET
from sandboxes._docker_stream import hang_up
from sandboxes._engine import docker_module, engine_errors, is_not_found
from sandboxes._guarded_shell import GUARDED_SHELL, guarded_shell, guarded_shell_source
from sandboxes._local import SYS_ALLOWED

LABEL = "org.labgate.sandbox"
SANDBOX_HOSTNAME = "sandbox"
# With no network a resolver is useless, yet the engine copies the host's /etc/resolv.conf into every
# container (its nameservers, search domains and options name the host's network). A loopback
# nameserver with no search domain and the resolver's defaults fails every lookup at once and says
# nothing of the host.
RESOLVER: dict[str, list[str]] = {"dns": ["127.0.0.1"], "dns_search": ["."], "dns_opt": ["ndots:1"]}
KEEPALIVE_UID = 65534  # nobody: the uid of a warm container's `cat`, never a sandbox's own uid
PIDS_HEADROOM = 16  # init, the keep-alive, the exec wrapper and a reset, on top of the commands' own limit


# Build-time configuration in the image that no command needs at run time (there is no network):
# apt's sources name the mirror the image was built from, with its credentials where the URL had
# them (`agent images build --mirror http://user:token@host/debian`). Empty read-only tmpfs over each.
BUILD_ONLY_PATHS = ("/etc/apt",)


def no_ptys(types: Any) -> list[Any]:
    """An empty read-only tmpfs over /dev/pts, so /dev/ptmx (a link into it) leads nowhere: every container's
    devpts draws on one kernel-wide pool (`kernel.pty.max`), and one sandbox held 1000 ptys at once (3072
    would leave none outside the host's reserve). No tool labgate runs needs a terminal."""
    return [types.Mount(target="/dev/pts", source=None, type="tmpfs", read_only=True, tmpfs_size=4096)]


def hidden_build_config(types: Any) -> list[Any]:
    """An empty read-only tmpfs over each of `BUILD_ONLY_PATHS`."""
    return [
        types.Mount(target=path, source=None, type="tmpfs", read_only=True, tmpfs_size=64 * 1024, tmpfs_mode=0o755)
        for path in BUILD_ONLY_PATHS
    ]


def sys_mounts(types: Any) -> list[Any]:
    """/sys as the local backend shows it: an empty read-only tmpfs with only `SYS_ALLOWED` bound in.

    The engine's sysfs shows the host's block devices and their serial numbers, its PCI devices,
    loaded modules and kernel state (`/sys/kernel/vmcoreinfo` gives a physical address), and the
    container's own cgroup; none of it helps a solver. The engine mounts a user's /sys instead of
    its own, and its cgroup mount then lies hidden under the tmpfs.
    """
    mounts = [types.Mount(target="/sys", source=None, type="tmpfs", read_only=True, tmpfs_size=MIB, tmpfs_mode=0o755)]
    for relative in SYS_ALLOWED:
        path = Path("/sys") / relative
        if path.is_dir():
            mounts.append(types.Mount(target=str(path), source=str(path), type="bind", read_only=True))
    return mounts


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


@dataclass(frozen=True)
class ContainerSpec:
    """Everything that fixes a container at creation; two specs that compare equal can share one."""

    image: str
    mounts: tuple[tuple[Path, bool], ...]  # (host path, writable), each mounted at the same path
    memory_bytes: int | None
    pids: int | None
    nano_cpus: int
    tmp_bytes: int
    shm_bytes: int = 64 * MIB
    root_mask: Path | None = None  # an empty root-owned 0755 directory mounted over /root (see the pool)
    staged: bool = False  # the first mount's target is served by a stage slot (see `_docker_stage.py`)
    filter: Path | None = None  # labgate-filter, mounted at FILTER_TARGET (see `_docker_filter.py`)

    def create_kwargs(
        self,
        *,
        command: Sequence[str],
        user: str,
        environment: dict[str, str] | None = None,
        working_dir: str | None = None,
        auto_remove: bool = True,
        slot: Path | None = None,
    ) -> dict[str, Any]:
        types = docker_module().types
        if self.staged and slot is None:
            raise ValueError("a staged container needs its slot")
        mounts = [
            types.Mount(target=str(path), source=str(path), type="bind", read_only=not writable)
            for path, writable in self.mounts
        ]
        if self.staged and slot is not None:
            target = self.mounts[0][0]
            mounts[0] = types.Mount(target=str(target), source=str(slot), type="bind", propagation="rslave")
        if self.root_mask is not None and any(Path("/root") in path.parents for path, _ in self.mounts):
            # Debian images keep /root at 0700 (and a tmpfs there copies that mode), which would hide
            # a directory mounted from under the host's /root from the unprivileged uid.
            mounts.insert(0, types.Mount(target="/root", source=str(self.root_mask), type="bind"))
        mounts += sys_mounts(types) + hidden_build_config(types) + no_ptys(types)
        if self.filter is not None:
            mounts.append(types.Mount(target=FILTER_TARGET, source=str(self.filter), type="bind", read_only=True))
        guarded = guarded_shell_source()
        if guarded is not None:  # labgate's scripts run in it: no process of the uid can write its memory
            mounts.append(types.Mount(target=GUARDED_SHELL, source=str(guarded), type="bind", read_only=True))
        kwargs: dict[str, Any] = {
            "image": self.image,
            "command": list(command),
            "user": user,
            "network_mode": "none",
            "read_only": True,
            # exec: as in the local backend, JIT compilers (PoCL) load the code they write to /tmp.
            "tmpfs": {"/tmp": f"rw,exec,nosuid,nodev,size={self.tmp_bytes},mode=1777"},
            "shm_size": self.shm_bytes,
            "mounts": mounts,
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges"],
            "init": True,
            "ipc_mode": "private",
            "nano_cpus": self.nano_cpus,
            "ulimits": [types.Ulimit(name="core", soft=0, hard=0)],
            "hostname": SANDBOX_HOSTNAME,
            **RESOLVER,
            "labels": {
                LABEL: "1",
                "org.labgate.pid": str(os.getpid()),
                "org.labgate.host": socket.gethostname(),
                "org.labgate.boot": _boot_id(),
            },
            "name": f"labgate-{os.getpid()}-{secrets.token_hex(4)}",
            # With stdin open and not detached, the engine sets StdinOnce: stdin closes when the
            # attached client goes away, which is what ends a warm container if labgate dies.
            "stdin_open": True,
            "auto_remove": auto_remove,
            # Output is read through the attached streams, capped there; the engine's own json-file log kept
            # everything a process wrote, uncapped, on the host's disk (a flooding worker: 329 MiB in 3 s).
            "log_config": types.LogConfig(type="none"),
            "environment": environment or {},
        }
        if working_dir is not None:
            kwargs["working_dir"] = working_dir
        if self.memory_bytes is not None:
            kwargs["mem_limit"] = self.memory_bytes
            kwargs["memswap_limit"] = self.memory_bytes
        if self.pids is not None:
            kwargs["pids_limit"] = self.pids + PIDS_HEADROOM
        return kwargs


def remove_quietly(client: Any, container_id: str) -> None:
    """Kill and remove; a container already gone (auto-removed) is not an error.

    A container whose last process ends while the engine kills it makes the engine answer "Could not kill
    running container ..., cannot remove - Container ... is not running" (a 500 seen in CI, the container left
    behind); it is stopped by then, so the removal is asked for once more."""
    for attempt in range(2):
        try:
            client.api.remove_container(container_id, force=True)
            return
        except engine_errors() as error:
            if is_not_found(error) or "already in progress" in str(error):
                return
            if attempt == 0 and "is not running" in str(error):
                continue
            raise


@dataclass
class WarmContainer:
    """A running container that waits for `docker exec`s; `memory_bytes` tracks its current cgroup limit."""

    client: Any
    id: str
    spec: ContainerSpec
    keepalive: Any
    memory_bytes: int | None
    shared: bool = False
    experiments: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    removed: bool = False
    cgroup: ContainerCgroup | None = None
    pid: int = 0  # the host pid of the container's init (0: not visible from here)
    slot: Path | None = None  # the stage slot a shared container mounts at the experiment root
    attached: Path | None = None  # the mount point in the slot of the experiment it serves now

    @classmethod
    def start(cls, client: Any, spec: ContainerSpec, *, shared: bool, slot: Path | None = None) -> WarmContainer:
        kwargs = spec.create_kwargs(command=["cat"], user=f"{KEEPALIVE_UID}:{KEEPALIVE_UID}", slot=slot)
        try:
            container = client.containers.create(**kwargs)
        except engine_errors() as error:
            raise SandboxUnavailableError(f"the Docker engine could not create a container: {error}") from None
        try:
            keepalive = client.api.attach_socket(container.id, params={"stdin": 1, "stream": 1})
            container.start()
            pid = int(client.api.inspect_container(container.id)["State"].get("Pid") or 0)
        except engine_errors() as error:
            remove_quietly(client, container.id)
            raise SandboxUnavailableError(f"the Docker engine could not start a container: {error}") from None
        warm = cls(client, container.id, spec, keepalive, spec.memory_bytes, shared=shared, slot=slot)
        warm.cgroup = ContainerCgroup.find(pid)
        warm.pid = pid if warm.cgroup is not None else 0
        return warm

    @property
    def tmp(self) -> Path | None:
        """The container's /tmp as the host reaches it (through its init's root), when visible."""
        return Path(f"/proc/{self.pid}/root/tmp") if self.pid > 0 else None

    def oom_killed(self) -> bool:
        """The engine's flag: some process of this container was killed for memory since it started."""
        try:
            state = self.client.api.inspect_container(self.id).get("State", {})
        except engine_errors():
            return False
        return bool(state.get("OOMKilled"))

    def ensure_memory(self, memory_bytes: int | None) -> None:
        """Raise (never lower below the spec) the container's memory cgroup to what a command asks for."""
        wanted = max(memory_bytes or 0, self.spec.memory_bytes or 0) or None
        if wanted is None or wanted == self.memory_bytes or self.memory_bytes is None:
            return
        self.client.api.update_container(self.id, mem_limit=wanted, memswap_limit=wanted)
        self.memory_bytes = wanted

    def reset(self, uid: int, gid: int) -> bool:
        """Remove every trace of `uid` (processes, /tmp, shared memory, queues); False when it cannot be sure."""
        try:
            script = [guarded_shell(), "-c", RESET_SCRIPT]
            exec_id = self.client.api.exec_create(self.id, script, user=f"{uid}:{gid}")["Id"]
            self.client.api.exec_start(exec_id)
            code = self.client.api.exec_inspect(exec_id).get("ExitCode")
        except engine_errors():
            return False
        if code != 0:
            return False
        if self.memory_bytes != self.spec.memory_bytes and self.spec.memory_bytes is not None:
            try:
                self.client.api.update_container(
                    self.id, mem_limit=self.spec.memory_bytes, memswap_limit=self.spec.memory_bytes
                )
            except engine_errors():
                return False
            self.memory_bytes = self.spec.memory_bytes
        return True

    def remove(self) -> None:
        if self.removed:
            return
        self.removed = True
        hang_up(self.keepalive)
        remove_quietly(self.client, self.id)


# Runs as the departing experiment's uid, with shell built-ins where it can: it must work even
# when that uid's processes are at their limit. It kills them (kill -1 reaches every process the
# uid may signal, never init or the keep-alive, which run as other uids), removes what the uid left
# in the container's writable places, and fails unless /proc and those places are then clean. (Only
# the uid's own entries count: the engine's root-owned mount points may sit in /tmp.)
RESET_SCRIPT = r"""
me=$$
for round in 1 2 3 4 5; do
  kill -9 -1 2>/dev/null
  left=
  for p in /proc/[0-9]*; do
    [ "${p#/proc/}" = "$me" ] && continue
    [ -O "$p" ] && left=1
  done
  [ -z "$left" ] && break
done
[ -z "$left" ] || exit 3
uid=$(id -u)
for d in /tmp /dev/shm /dev/mqueue; do
  [ -d "$d" ] || continue
  find "$d" -mindepth 1 -maxdepth 1 -user "$uid" -exec chmod -R u+rwx {} + -exec rm -rf {} + 2>/dev/null
  [ -z "$(find "$d" -mindepth 1 -maxdepth 1 -user "$uid" 2>/dev/null)" ] || exit 4
done
for table in shm sem msg; do
  f=/proc/sysvipc/$table
  [ -r "$f" ] || continue
  n=0
  while read -r _; do n=$((n + 1)); done < "$f"
  [ "$n" -le 1 ] || exit 5
done
exit 0
"""


def _living(pid: str) -> bool:
    """Not a zombie: a killed process stays in /proc until init reaps it, but it runs nothing."""
    try:
        state = Path("/proc", pid, "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def kill_leftovers(container_id: str, uid: int, seconds: float = 5.0) -> int:
    """SIGKILL, from the host, every process of `uid` in the container; returns how many were killed.

    The exec wrapper already does this from inside, but a candidate runs as the same uid and can kill
    its wrapper first. The host sees the container's processes in its own /proc: a process is the
    container's when its cgroup path names the container id. Where labgate cannot see them (it runs
    in a container itself) this finds nothing and the wrapper and the reset remain.
    """
    killed = 0
    deadline = time.monotonic() + seconds
    while True:
        found = []
        with contextlib.suppress(OSError):
            for entry in os.scandir("/proc"):
                if not entry.name.isdigit():
                    continue
                try:
                    if entry.stat().st_uid != uid or container_id not in Path(entry.path, "cgroup").read_text():
                        continue
                except OSError:
                    continue
                if _living(entry.name):
                    found.append(int(entry.name))
        if not found or time.monotonic() > deadline:
            return killed
        for pid in found:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
                killed += 1
        time.sleep(0.01)


def prune_orphans(client: Any) -> int:
    """Remove labgate containers left by processes of this host that no longer exist; returns how many."""
    host, boot, removed = socket.gethostname(), _boot_id(), 0
    try:
        found = client.api.containers(all=True, filters={"label": LABEL})
    except engine_errors():
        return 0
    for item in found:
        labels = item.get("Labels") or {}
        if labels.get("org.labgate.host") != host:
            continue
        pid = int(labels.get("org.labgate.pid", "0") or 0)
        alive = labels.get("org.labgate.boot") == boot and pid > 0 and Path(f"/proc/{pid}").exists()
        if not alive:
            with contextlib.suppress(Exception):
                remove_quietly(client, item["Id"])
                removed += 1
    return removed
