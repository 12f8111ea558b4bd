"""Sandbox directories must be real directories: never a path through a link a sandbox could have made.

Every backend binds (or mounts) and hands over whatever a directory's path resolves to. A link a
candidate left in its directory (`worker -> /srv/secrets`) would make the next sandbox made at that
path bind a host directory read-write, and the ownership hand-over would give it to a sandbox uid;
a part of the path swapped for a link while a sibling sandbox runs would do the same at the next
command. Both are refused here, for every backend, with `SandboxPathError`.
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

from sandboxes._base import SandboxPathError


class _LentDirectories:
    """Every directory this process lent to a sandbox: a link below one may have been made by a sandbox.

    Process-wide, not per pool: a Ray worker (and `get_sandbox`) makes a pool per sandbox, and the
    sandbox of one experiment's `worker` must still know that `run/` above it was a sandbox's. Pruned
    of directories that no longer exist once it grows past `limit`.
    """

    def __init__(self, limit: int = 4096) -> None:
        self.limit = limit
        self._paths: set[Path] = set()
        self._lock = threading.Lock()

    def add(self, path: Path) -> None:
        with self._lock:
            self._paths.add(path)
            if len(self._paths) > self.limit:
                self._paths = {known for known in self._paths if known.is_dir()}
                self.limit = max(self.limit, 2 * len(self._paths))

    def covers(self, path: Path) -> bool:
        """`path` is a lent directory or lies below one."""
        with self._lock:
            return path in self._paths or any(parent in self._paths for parent in path.parents)


LENT = _LentDirectories()


def refuse_linked_workdir(workdir: Path, shared_root: Path | None = None) -> None:
    """Refuse a directory reached through a symbolic link a sandbox could have made.

    A link is refused when it is the directory itself, lies under `shared_root` (a run's experiment
    root a warm container serves) or under a directory this process lent to a sandbox, or belongs to
    neither root nor labgate's own uid. Links above all that (a home directory on another disk) are
    the host's own and resolve.
    """
    path = Path(os.path.abspath(workdir))
    for current in (path, *path.parents):
        try:
            info = current.lstat()
        except FileNotFoundError:
            continue
        except OSError as error:
            raise SandboxPathError(f"sandbox directory {workdir}: cannot inspect {current}: {error}") from None
        if not stat.S_ISLNK(info.st_mode):
            continue
        above = Path(os.path.realpath(current.parent))  # lent paths and the shared root are resolved
        shared = shared_root is not None and (above == shared_root or shared_root in above.parents)
        if current == path or shared or LENT.covers(above) or info.st_uid not in (0, os.getuid()):
            raise SandboxPathError(
                f"sandbox directory {workdir} goes through the symbolic link {current} "
                f"(owned by uid {info.st_uid}): a sandbox's directory must be a real directory"
            )


def lend_workdir(workdir: Path, shared_root: Path | None = None) -> Path:
    """`workdir` made (if missing), checked before and after, resolved and recorded as lent."""
    refuse_linked_workdir(workdir, shared_root)
    workdir.mkdir(parents=True, exist_ok=True)
    refuse_linked_workdir(workdir, shared_root)
    resolved = workdir.resolve()
    LENT.add(resolved)
    return resolved


def confirm_unmoved(workdir: Path) -> None:
    """Refuse a directory whose path now resolves elsewhere: a part of it became a link since the sandbox
    was made (a command of a sibling sandbox could do that), and the next bind or hand-over would follow it."""
    real = Path(os.path.realpath(workdir))
    if real != workdir:
        raise SandboxPathError(
            f"sandbox directory {workdir} now leads to {real}: a part of its path became a symbolic link"
        )
