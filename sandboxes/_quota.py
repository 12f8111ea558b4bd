"""Disk and file-count limits on an experiment directory, enforced while the command runs.

Neither backend can give a bind-mounted host directory a filesystem quota of its own without
privileges the machine may not grant (project quotas, loop mounts), so the directory is watched
instead: a walk that never follows links adds up allocated blocks (a sparse file costs what it
really uses) and entries, and stops as soon as either limit is crossed, so a flood of a million
files costs the watcher no more than the limit itself. A backend polls `QuotaWatch.check()` a few
times a second and kills the whole sandbox at the first breach; rlimits (`RLIMIT_FSIZE`) still cap
each single file, so the overshoot between two polls is bounded by the write rate.
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from sandboxes._base import Limits

POLL_SECONDS = 0.2


@dataclass(frozen=True)
class QuotaUsage:
    bytes: int
    files: int
    complete: bool  # False when the walk stopped early at a limit


def measure(root: Path, *, max_bytes: int | None = None, max_files: int | None = None) -> QuotaUsage:
    """Allocated bytes and entries under `root` (not counting root), stopping once a limit is crossed."""
    total_bytes = 0
    total_files = 0
    stack: list[int] = []
    try:
        stack.append(os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC))
    except OSError:
        return QuotaUsage(0, 0, True)
    try:
        while stack:
            dirfd = stack.pop()
            try:
                with contextlib.suppress(OSError), os.scandir(dirfd) as entries:
                    for entry in entries:
                        total_files += 1
                        try:
                            info = entry.stat(follow_symlinks=False)
                        except OSError:
                            continue
                        total_bytes += info.st_blocks * 512
                        if (max_files is not None and total_files > max_files) or (
                            max_bytes is not None and total_bytes > max_bytes
                        ):
                            return QuotaUsage(total_bytes, total_files, False)
                        if stat.S_ISDIR(info.st_mode):
                            with contextlib.suppress(OSError):
                                stack.append(
                                    os.open(
                                        entry.name,
                                        os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
                                        dir_fd=dirfd,
                                    )
                                )
            finally:
                os.close(dirfd)
    finally:
        for fd in stack:
            with contextlib.suppress(OSError):
                os.close(fd)
    return QuotaUsage(total_bytes, total_files, True)


@dataclass
class QuotaWatch:
    """The disk and file-count limits of one experiment directory; `check()` names a crossed limit."""

    root: Path
    disk_bytes: int | None
    files: int | None
    _next_check: float = field(default=0.0, repr=False)

    @classmethod
    def for_limits(cls, root: Path, limits: Limits) -> QuotaWatch | None:
        if limits.disk_bytes is None and limits.files is None:
            return None
        return cls(root, limits.disk_bytes, limits.files)

    def check(self) -> str | None:
        """The message for a crossed limit, or None. Cheap to call often: it measures at most every poll period."""
        now = time.monotonic()
        if now < self._next_check:
            return None
        self._next_check = now + POLL_SECONDS
        return self.check_now()

    def check_now(self) -> str | None:
        usage = measure(self.root, max_bytes=self.disk_bytes, max_files=self.files)
        if self.files is not None and usage.files > self.files:
            return f"files: the experiment directory holds more than {self.files} entries"
        if self.disk_bytes is not None and usage.bytes > self.disk_bytes:
            return f"disk_bytes: the experiment directory uses more than {self.disk_bytes} bytes of disk"
        return None


def limit_name(message: str) -> str:
    """The limit a `check()` message names (its prefix)."""
    return message.split(":", 1)[0]
