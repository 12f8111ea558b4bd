"""A run's docker sandboxes and the warm containers they share.

Starting a container costs far more than an exec (see bench/sandbox_overhead.py), so a run keeps
warm containers, one per experiment running at the same time, and hands a finished experiment's
container to the next after a reset. That is only safe when experiments cannot reach each other,
so reuse needs two things:

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
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sandboxes._base import Limits, SandboxUnavailableError
from sandboxes._docker import DockerSandbox
from sandboxes._docker_container import KEEPALIVE_UID, ContainerSpec, WarmContainer, prune_orphans
from sandboxes._docker_process import DockerProcess
from sandboxes._engine import connect
from sandboxes._images import require_image, resolve_image
from sandboxes._ownership import UidAllocator, ensure_traversable

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
        # Mount points for paths under /root are made inside this directory; only root needs it
        # (a normal user's files are not under /root), and as root's it is read-only to every sandbox.
        self._root_mask = Path(tempfile.mkdtemp(prefix="labgate-root-mask-")) if self.hands_out_uids else None
        if self._root_mask is not None:
            self._root_mask.chmod(0o755)
        self.shared_root = shared_root.resolve() if shared_root is not None and reuse else None
        self._uids = UidAllocator()
        self._idle: list[WarmContainer] = []
        self._live: dict[str, WarmContainer] = {}
        self._processes: list[DockerProcess] = []

        self._lock = threading.RLock()
        self._ready = threading.Condition(self._lock)
        self._resetting = 0
        self._closed = False
        self.started = 0
        self.reused = 0
        self.discarded = 0

    def __call__(self, workdir: Path, *, ro_paths: Sequence[Path] = ()) -> DockerSandbox:
        workdir.mkdir(parents=True, exist_ok=True)
        workdir = workdir.resolve()
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
        return root is not None and self.hands_out_uids and root in workdir.parents

    def spec_for(self, workdir: Path, limits: Limits, *, shared: bool, ro_paths: Sequence[Path] = ()) -> ContainerSpec:
        mount = self.shared_root if shared and self.shared_root is not None else workdir
        return ContainerSpec(
            image=self.reference,
            mounts=((mount, True), *((path, False) for path in (*self.ro_paths, *ro_paths))),
            memory_bytes=limits.memory_bytes,
            pids=limits.processes,
            nano_cpus=self.nano_cpus,
            tmp_bytes=self.tmp_bytes,
            root_mask=self._root_mask,
        )

    def checkout(self, workdir: Path, limits: Limits, ro_paths: Sequence[Path] = ()) -> WarmContainer:
        """A container for `workdir`: a reset warm one where sharing is safe, otherwise a new one.

        A container still being reset is waited for (a reset takes about one exec; a new container
        several times that).
        """
        shared = self._shares(workdir)
        spec = self.spec_for(workdir, limits, shared=shared, ro_paths=ro_paths)
        if shared:
            assert self.shared_root is not None
            ensure_traversable(self.shared_root, workdir)
            with self._ready:
                while True:
                    for index, candidate in enumerate(self._idle):
                        if candidate.spec == spec:
                            container = self._idle.pop(index)
                            container.experiments += 1
                            self.reused += 1
                            return container
                    if not self._resetting or not self._ready.wait(timeout=_RESET_WAIT):
                        break
        container = WarmContainer.start(self.client, spec, shared=shared)
        with self._lock:
            self._live[container.id] = container
            self.started += 1
        container.experiments = 1
        return container

    def checkin(self, container: WarmContainer, uid: int, gid: int) -> None:
        """Reset a shared container for the next experiment in the background; others are removed.

        The experiment's commands have all ended and their leftovers were killed after each one, so
        nothing of the departing uid runs while the reset cleans up and its directory is handed back.
        """
        if container.shared and not container.removed:
            with self._lock:
                self._resetting += 1
            threading.Thread(target=self._reset, args=(container, uid, gid), daemon=True).start()
            return
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
        if self._root_mask is not None:
            shutil.rmtree(self._root_mask, ignore_errors=True)
