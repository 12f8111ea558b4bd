"""Per-experiment mounts in a running container, through a host directory that propagates mounts.

A running container cannot be given a new bind mount, but it can receive one by propagation: the
container mounts a *slot* (an empty host directory) at the run's experiment root with `rslave`
propagation, and whatever the host later mounts inside that slot appears inside the container.
So a warm container serves one experiment at a time: the experiment's directory is bind-mounted
into the slot when the experiment checks the container out and unmounted when it checks it in.
The next experiment sees its own directory and nothing else: no finished experiment, no running
one, no directory the harness is still preparing.

The stage (the parent of every slot of one pool) must be a shared mount for the engine to accept
`rslave`, so it is bind-mounted onto itself and marked shared. Mounting needs root with
CAP_SYS_ADMIN in the engine's mount namespace; where that fails `MountStage.create` raises
`StageUnavailableError` and the pool falls back to a container per experiment. A stage left by a
labgate process that died is unmounted and removed by the next one.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import os
import tempfile
from pathlib import Path

from runs import LabgateError

_MS_NOSUID = 2
_MS_NODEV = 4
_MS_REMOUNT = 32
_MS_BIND = 4096
_MS_SHARED = 1 << 20
_MNT_DETACH = 2
_PREFIX = "labgate-stage-"


class StageUnavailableError(LabgateError, OSError):
    """The host cannot make propagating mounts here (not root, no CAP_SYS_ADMIN, no mount(2))."""


@functools.cache
def _libc() -> ctypes.CDLL:
    """Loaded once: finding the library runs `ldconfig`, far slower than the mounts themselves."""
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _mount(source: Path | None, target: Path, flags: int) -> None:
    src = str(source).encode() if source is not None else None
    if _libc().mount(src, str(target).encode(), None, flags, None) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"mount {source} on {target}: {os.strerror(errno)}")


def _unmount(target: Path) -> None:
    """Detach lazily: the unmount propagates to every container at once, even while a process is inside."""
    if _libc().umount2(str(target).encode(), _MNT_DETACH) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"umount {target}: {os.strerror(errno)}")


def _mounts_under(directory: Path) -> list[Path]:
    """Mount points at or below `directory` in this mount namespace, deepest first."""
    found = []
    prefix = str(directory)
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            point = line.split()[4].replace("\\040", " ")
            if point == prefix or point.startswith(prefix + "/"):
                found.append(Path(point))
    return sorted(found, key=lambda path: len(path.parts), reverse=True)


def _clear(directory: Path) -> None:
    """Unmount everything under `directory`, then remove its empty directories.

    Only `rmdir` is used (a stage holds nothing but empty directories and mount points), and nothing
    is removed while a mount is left, so an experiment's files behind a stuck mount are never touched.
    """
    for point in _mounts_under(directory):
        with contextlib.suppress(OSError):
            _unmount(point)
    if _mounts_under(directory):
        return
    for current, _, _ in os.walk(directory, topdown=False):
        with contextlib.suppress(OSError):
            os.rmdir(current)


def prune_stale_stages(parent: Path) -> int:
    """Unmount and remove stages whose labgate process is gone; returns how many."""
    removed = 0
    with contextlib.suppress(OSError):
        for entry in parent.iterdir():
            if not entry.name.startswith(_PREFIX):
                continue
            pid = entry.name[len(_PREFIX) :].split("-", 1)[0]
            if pid.isdigit() and not Path("/proc", pid).exists():
                _clear(entry)
                removed += 1
    return removed


class MountStage:
    """A pool's propagating directory: `slot()` makes a container's mount source, `attach()` lends it a directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def create(cls, parent: Path | None = None) -> MountStage:
        parent = parent or Path(tempfile.gettempdir())
        if os.geteuid() != 0:
            raise StageUnavailableError("only root can stage mounts")
        prune_stale_stages(parent)
        root = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-", dir=parent))
        root.chmod(0o711)
        try:
            _mount(root, root, _MS_BIND)
        except OSError as error:
            os.rmdir(root)
            raise StageUnavailableError(str(error)) from None
        try:
            _mount(None, root, _MS_SHARED)
        except OSError as error:
            _clear(root)
            raise StageUnavailableError(str(error)) from None
        return cls(root)

    def slot(self, name: str) -> Path:
        """An empty directory for one container to mount (root-owned, passable, not listable)."""
        path = self.root / name
        path.mkdir(mode=0o711)
        path.chmod(0o711)
        return path

    def attach(self, slot: Path, relative: Path, directory: Path) -> Path:
        """Bind-mount `directory` at `slot/relative` (no set-id, no devices); returns the mount point."""
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            raise ValueError(f"bad relative path {relative}")
        point = slot
        for part in relative.parts:
            point = point / part
            with contextlib.suppress(FileExistsError):
                point.mkdir(mode=0o711)
        _mount(directory, point, _MS_BIND)
        try:
            _mount(None, point, _MS_REMOUNT | _MS_BIND | _MS_NOSUID | _MS_NODEV)
        except OSError:
            _unmount(point)
            raise
        return point

    def detach(self, slot: Path, point: Path) -> None:
        """Unmount what `attach` mounted and remove the directories it made inside the slot."""
        _unmount(point)
        current = point
        while current != slot and slot in current.parents:
            with contextlib.suppress(OSError):
                current.rmdir()
            current = current.parent

    def release(self, slot: Path) -> None:
        """Forget a slot whose container is gone."""
        _clear(slot)

    def close(self) -> None:
        _clear(self.root)
