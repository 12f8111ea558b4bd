"""A run's docker sandboxes and the warm containers they share.

Starting a container costs far more than an exec (see bench/sandbox_overhead.py), so a run keeps
warm containers, one per experiment running at the same time, and hands a finished experiment's
container to the next after a reset. That is only safe when experiments cannot reach each other,
so reuse needs two things, both only available to root:

- a mount per experiment: a shared container mounts an empty stage slot at the run's experiment
  root (`shared_root`) and receives the experiment's own directory there by mount propagation
  while the experiment holds the container (`_docker_stage.py`). The next experiment finds that
  directory gone: no finished experiment, no running one and no directory the harness is still
  preparing is ever visible in the container;
- a distinct uid per experiment (see `_ownership.py`): its directory becomes mode 0700 and owned
  by that uid, and nothing the previous uid left in /tmp, /dev/shm or IPC survives the reset.

When either is missing (a directory outside the shared root, labgate running as a normal user, a
host that refuses mounts), the sandbox gets a container of its own with only its directory
mounted, still reused by all of that experiment's commands. Between experiments the reset kills
the departing uid's processes and removes what it left; a container that cannot be shown clean is
discarded instead.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sandboxes._base import Limits, SandboxUnavailableError
from sandboxes._docker import DockerSandbox
from sandboxes._docker_container import KEEPALIVE_UID, ContainerSpec, WarmContainer, prune_orphans
from sandboxes._docker_filter import filter_binary
from sandboxes._docker_process import DockerProcess
from sandboxes._docker_stage import MountStage, StageUnavailableError
from sandboxes._engine import connect
from sandboxes._images import require_image, resolve_image
from sandboxes._ownership import UidAllocator
from sandboxes._workdirs import lend_workdir

_RESET_WAIT = 30.0  # seconds a checkout waits for a container being reset before starting a new one


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
        self.filter = filter_binary()
        # Mount points for paths under /root are made inside this directory; only root needs it
        # (a normal user's files are not under /root), and as root's it is read-only to every sandbox.
        self._root_mask = Path(tempfile.mkdtemp(prefix="labgate-root-mask-")) if self.hands_out_uids else None
        if self._root_mask is not None:
            self._root_mask.chmod(0o755)
        self.shared_root = shared_root.resolve() if shared_root is not None and reuse else None
        self._stage: MountStage | None = None
        if self.shared_root is not None and self.hands_out_uids:
            try:
                self._stage = MountStage.create()
            except StageUnavailableError:
                self._stage = None  # every sandbox gets a container of its own
        self._uids = UidAllocator()
        self._idle: list[WarmContainer] = []
        self._live: dict[str, WarmContainer] = {}
        self._processes: list[DockerProcess] = []

        self._lock = threading.RLock()
        self._ready = threading.Condition(self._lock)
        self._resetting = 0  # containers on their way to the idle list (being reset, or a spare starting)
        self._closed = False
        self.started = 0
        self.reused = 0
        self.discarded = 0

    def __call__(self, workdir: Path, *, ro_paths: Sequence[Path] = ()) -> DockerSandbox:
        workdir = lend_workdir(workdir, self.shared_root)
        extra = tuple(sorted({Path(p).resolve() for p in ro_paths} - set(self.ro_paths)))
        if self.hands_out_uids:
            uid = gid = self._uids.allocate()
        else:
            uid, gid = os.getuid(), os.getgid()
            if uid == KEEPALIVE_UID:
                raise SandboxUnavailableError("labgate cannot use the docker backend as the user `nobody`")
        return DockerSandbox(workdir=workdir, limits=self.limits, pool=self, uid=uid, gid=gid, ro_paths=extra)

    def _shares(self, workdir: Path) -> bool:
        root = self.shared_root
        return root is not None and self._stage is not None and self.hands_out_uids and root in workdir.parents

    def tmp_bytes_for(self, limits: Limits) -> int:
        """The size of /tmp under `limits`: theirs, or the pool's when they leave it open."""
        return limits.tmp_bytes if limits.tmp_bytes is not None else self.tmp_bytes

    def spec_for(self, workdir: Path, limits: Limits, *, shared: bool, ro_paths: Sequence[Path] = ()) -> ContainerSpec:
        staged = shared and self.shared_root is not None
        mount = self.shared_root if staged and self.shared_root is not None else workdir
        return ContainerSpec(
            image=self.reference,
            mounts=((mount, True), *((path, False) for path in (*self.ro_paths, *ro_paths))),
            memory_bytes=limits.memory_bytes,
            pids=limits.processes,
            nano_cpus=self.nano_cpus,
            tmp_bytes=self.tmp_bytes_for(limits),
            root_mask=self._root_mask,
            staged=staged,
            filter=self.filter,
        )

    def checkout(self, workdir: Path, limits: Limits, ro_paths: Sequence[Path] = ()) -> WarmContainer:
        """A container for `workdir`: a reset warm one where sharing is safe, otherwise a new one.

        A container still being reset is waited for (a reset takes about one exec; a new container
        several times that). A shared container gets `workdir` mounted into its slot before it is
        handed out, and only `workdir`.
        """
        # A staged container's mounts are fixed before the directory arrives: one inside it could not stay read-only.
        inside = any(workdir in Path(path).parents for path in (*self.ro_paths, *ro_paths))
        shared = self._shares(workdir) and not inside
        spec = self.spec_for(workdir, limits, shared=shared, ro_paths=ro_paths)
        container = self._take_idle(spec) if shared else None
        if container is None:
            try:
                container = self._start(spec, shared)
            except SandboxUnavailableError:
                with self._lock:
                    staged_before = any(live.slot is not None for live in self._live.values())
                if not shared or staged_before:
                    raise
                # The engine would not take the first staged mount (it sees another mount namespace
                # than ours): from now on every sandbox of this pool gets a container of its own.
                self._give_up_staging()
                return self.checkout(workdir, limits, ro_paths)
        if shared:
            self._attach(container, workdir)
        return container

    def _start(self, spec: ContainerSpec, shared: bool) -> WarmContainer:
        slot = self._stage.slot(secrets.token_hex(6)) if shared and self._stage is not None else None
        try:
            container = WarmContainer.start(self.client, spec, shared=shared, slot=slot)
        except BaseException:
            if slot is not None and self._stage is not None:
                self._stage.release(slot)
            raise
        with self._lock:
            self._live[container.id] = container
            self.started += 1
        container.experiments = 1
        return container

    def _give_up_staging(self) -> None:
        with self._lock:
            stage, self._stage = self._stage, None
            idle, self._idle = self._idle, []
        for container in idle:
            self._remove(container)
        if stage is not None:
            stage.close()

    def _take_idle(self, spec: ContainerSpec) -> WarmContainer | None:
        with self._ready:
            while True:
                for index, candidate in enumerate(self._idle):
                    if candidate.spec == spec:
                        container = self._idle.pop(index)
                        container.experiments += 1
                        self.reused += 1
                        return container
                if not self._resetting or not self._ready.wait(timeout=_RESET_WAIT):
                    return None

    def _attach(self, container: WarmContainer, workdir: Path) -> None:
        assert self._stage is not None and self.shared_root is not None and container.slot is not None
        try:
            container.attached = self._stage.attach(container.slot, workdir.relative_to(self.shared_root), workdir)
        except OSError as error:
            self.discard(container)
            raise SandboxUnavailableError(f"could not mount {workdir} into its container: {error}") from None

    def _detach(self, container: WarmContainer) -> bool:
        """Take the experiment's directory out of its container; False when it could not be shown gone."""
        if container.attached is None or container.slot is None or self._stage is None:
            return True
        point, container.attached = container.attached, None
        try:
            self._stage.detach(container.slot, point)
        except OSError:
            return False
        return True

    def checkin(self, container: WarmContainer, uid: int, gid: int) -> None:
        """Reset a shared container for the next experiment in the background; others are removed.

        The experiment's commands have all ended and their leftovers were killed after each one, so
        nothing of the departing uid runs while the reset cleans up and its directory is handed back.
        Its directory leaves the container first, before the call returns.
        """
        if container.shared and not container.removed and self._detach(container):
            with self._lock:
                # Without a spare, the next experiment of a sequence would wait for this reset (about
                # one exec); once a run has shown it reuses containers, a second one, started in the
                # background, lets them alternate.
                spare = not self._closed and self.reused > 0 and len(self._idle) + self._resetting == 0
                self._resetting += 2 if spare else 1
            threading.Thread(target=self._reset, args=(container, uid, gid), daemon=True).start()
            if spare:
                threading.Thread(target=self._start_spare, args=(container.spec,), daemon=True).start()
            return
        self.discard(container)

    def _start_spare(self, spec: ContainerSpec) -> None:
        """Best effort: a spare that fails to start only means the next experiment waits for a reset."""
        container = None
        with contextlib.suppress(Exception):
            container = self._start(spec, shared=True)
        with self._ready:
            self._resetting -= 1
            keep = container is not None and not self._closed
            if keep and container is not None:
                container.experiments = 0
                self._idle.append(container)
            self._ready.notify_all()
        if container is not None and not keep:
            self._remove(container)

    def _reset(self, container: WarmContainer, uid: int, gid: int) -> None:
        clean = container.reset(uid, gid)
        with self._ready:
            self._resetting -= 1
            keep = clean and not self._closed
            if keep:
                self._idle.append(container)
            elif not clean:
                self.discarded += 1
            self._ready.notify_all()
        if not keep:
            self._remove(container)

    def _remove(self, container: WarmContainer) -> None:
        container.remove()
        stage = self._stage
        if container.slot is not None and stage is not None:
            stage.release(container.slot)
        with self._lock:
            self._live.pop(container.id, None)

    def discard(self, container: WarmContainer) -> None:
        """Remove a container now (killed for a limit, a timeout, a flood) with its slot and mount."""
        self._remove(container)

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
            "seccomp": "the engine's profile, and on top labgate's: no keyring calls, vsock or io_uring"
            if self.filter is not None
            else "the engine's profile only (no labgate-filter binary: no C compiler or static C library)",
            "system_view": "the image's own /etc with host name 'sandbox', a loopback resolver and apt's "
            "configuration hidden; of /sys only the CPU and NUMA topology",
            "user": "a fresh uid per experiment (directory chowned, mode 0700)"
            if self.hands_out_uids
            else f"uid {os.getuid()} (the directory's owner)",
            "reuse": "warm containers shared across the run's experiments, each mounting only the experiment it serves"
            if self.shared_root is not None and self._stage is not None
            else "one container per experiment",
            "memory_bytes": self.limits.memory_bytes,
            "pids_limit": self.limits.processes,
            "aggregate_limits": ["disk_bytes", "files", "memory_bytes", "processes", "tmp_bytes"],
            "tmp_bytes": self.tmp_bytes_for(self.limits),
            "cpus": self.nano_cpus / 1e9,
            "process_limit": "RLIMIT_NPROC per experiment uid and pids cgroup"
            if self.hands_out_uids
            else "pids cgroup per container",
        }

    def stats(self) -> dict[str, int]:
        return {"started": self.started, "reused": self.reused, "discarded": self.discarded}

    def close(self) -> None:
        """Remove every container of the run, warm or still lent, and kill its workers."""
        with self._ready:
            self._closed = True
            self._ready.wait_for(lambda: self._resetting == 0, timeout=_RESET_WAIT)
            live, self._live, self._idle = list(self._live.values()), {}, []
            processes, self._processes = self._processes, []
        for process in processes:
            process.kill()
        for container in live:
            with contextlib.suppress(Exception):
                container.remove()
        if self._stage is not None:
            self._stage.close()
        if self._root_mask is not None:
            shutil.rmtree(self._root_mask, ignore_errors=True)
