"""Disk and file-count limits on an experiment directory, enforced while the command runs.

Neither backend can give a bind-mounted host directory a filesystem quota of its own without
privileges the machine may not grant (project quotas, loop mounts), so the directory is watched
instead: a walk that never follows links adds up allocated blocks (a sparse file costs what it
really uses) and entries, and stops as soon as either limit is crossed, so a flood of a million
files costs the watcher no more than the limit itself. What it cannot measure (a directory it
cannot open, nesting deeper than it descends) counts as a breach. A backend polls
`QuotaWatch.check()` a few times a second and kills the whole sandbox at the first breach; rlimits
(`RLIMIT_FSIZE`) still cap each single file, so the overshoot between two polls is bounded by the
write rate. Files the command holds open with no name left (unlinked, `O_TMPFILE`) are counted through
its processes' descriptors where the backend can list its processes.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from runs import LabgateError
from sandboxes._base import Limits

POLL_SECONDS = 0.2

MAX_DEPTH = 128
"""Levels of directories the watch descends; a deeper directory is a breach (the walk holds one descriptor a level)."""

_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True)
class QuotaUsage:
    bytes: int
    files: int
    complete: bool  # False when the walk stopped early at a limit or at `unmeasured`
    unmeasured: str | None = None  # why part of the directory could not be measured, if it could not


def measure(root: Path, *, max_bytes: int | None = None, max_files: int | None = None) -> QuotaUsage:
    """Bytes (`charged_bytes`) and entries under `root` (not counting root), stopping once a limit is crossed.

    Depth first, holding one open directory per level and only the names of the directories still
    to visit: a candidate's thousands of sibling directories cannot exhaust labgate's descriptors
    (or hide what lies past the point where opening failed). A directory that cannot be opened,
    other than one that just vanished, or one nested deeper than `MAX_DEPTH`, ends the walk with
    `unmeasured` set, since what it holds is unknown.
    """
    total_bytes = 0
    total_files = 0
    try:
        opened: int | None = os.open(root, _DIRECTORY)
    except OSError:
        return QuotaUsage(0, 0, True)
    stack: list[tuple[int, list[str]]] = []
    try:
        while True:
            if opened is not None:
                subdirectories = []
                with contextlib.suppress(OSError), os.scandir(opened) as entries:
                    for entry in entries:
                        total_files += 1
                        try:
                            info = entry.stat(follow_symlinks=False)
                        except OSError:
                            continue
                        total_bytes += charged_bytes(info)
                        if (max_files is not None and total_files > max_files) or (
                            max_bytes is not None and total_bytes > max_bytes
                        ):
                            return QuotaUsage(total_bytes, total_files, False)
                        if stat.S_ISDIR(info.st_mode):
                            subdirectories.append(entry.name)
                stack.append((opened, subdirectories))
                opened = None
            if not stack:
                return QuotaUsage(total_bytes, total_files, True)
            dirfd, subdirectories = stack[-1]
            if not subdirectories:
                os.close(dirfd)
                stack.pop()
                continue
            name = subdirectories.pop()
            if len(stack) >= MAX_DEPTH:
                return QuotaUsage(total_bytes, total_files, False, f"directories nest deeper than {MAX_DEPTH} levels")
            try:
                opened = os.open(name, _DIRECTORY, dir_fd=dirfd)
            except OSError as error:
                if error.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
                    continue  # removed, or replaced by a file or a link, since it was listed
                return QuotaUsage(total_bytes, total_files, False, f"a directory cannot be opened ({error.strerror})")
    finally:
        for dirfd, _ in stack:
            os.close(dirfd)
        if opened is not None:
            os.close(opened)


def charged_bytes(info: os.stat_result) -> int:
    """What an entry costs against `disk_bytes`: its allocated bytes, and for a regular file at least its size.

    A sparse file allocates almost nothing, yet whatever labgate copies or stores of it is written out whole:
    four 64 MiB sparse files under a 64 MiB limit were charged 20 KiB and added 256 MiB to the artifact store.
    """
    allocated = info.st_blocks * 512
    return max(allocated, info.st_size) if stat.S_ISREG(info.st_mode) else allocated


MAX_MAPS_BYTES = 4 << 20
"""The most of its processes' `/proc/<pid>/maps` together one check reads: a solver's run to tens of KiB (a few
hundred mappings). The sandbox decides how long those files are (65,530 mappings a process, each named by a
path of up to 4 KiB): read whole, four processes' maps took 39 s per check, the check ran in the loop that
enforces the wall clock, and a 30 s command ran 96 s while its directory grew past its disk limit."""

MAX_HELD_ENTRIES = 1 << 16
"""The most descriptors and unnamed mappings, of all the command's processes together, one check looks at."""


class UnmeasuredHoldingsError(LabgateError, OSError):
    """The command holds more open files or mappings than the watch reads: what it holds cannot be measured."""


def unnamed_bytes(pids: Iterable[int], device: int) -> int:
    """Allocated bytes of the files on `device` that `pids` hold open and no directory names any more.

    A file unlinked while open, or made with `O_TMPFILE`, takes disk space that no walk of the directory
    finds: sixteen of them held 960 MiB against a 32 MiB `disk_bytes`. Each is counted once, through the
    holders' descriptors (`/proc/<pid>/fd`) and their memory maps (a file mapped shared and its descriptor
    closed held 180 MiB that no descriptor showed); a process, descriptor or map that goes away meanwhile
    counts nothing.

    A solver maps a hundred or more library segments, and this runs several times a second beside it: of
    the maps, only those the kernel marks ` (deleted)` in `/proc/<pid>/maps` (it marks every mapping whose
    name was unlinked or never linked, `O_TMPFILE` included) are looked at through `/proc/<pid>/map_files`.
    A name that merely ends in those words costs one more look, nothing else. What one call reads is bounded
    (`MAX_MAPS_BYTES` of maps, `MAX_HELD_ENTRIES` descriptors and mappings), since the command sets its size.

    Not found: a descriptor in flight in a unix socket's queue (sent with `SCM_RIGHTS`, then closed), which no
    process lists. The kernel bounds those by the sender's `RLIMIT_NOFILE`, each by `RLIMIT_FSIZE` (at most
    `disk_bytes`, see `rlimit_values`), and they are released when the command ends.

    Raises:
        UnmeasuredHoldingsError: the processes' maps are longer than `MAX_MAPS_BYTES` together, or they hold
            more than `MAX_HELD_ENTRIES` descriptors and unnamed mappings.
    """
    seen: set[int] = set()
    total = 0
    looked = 0
    maps_left = MAX_MAPS_BYTES
    for pid in pids:
        unlinked, maps_left = _unlinked_map_paths(pid, maps_left)
        for path in (*_descriptor_paths(pid), *unlinked):
            looked += 1
            if looked > MAX_HELD_ENTRIES:
                raise UnmeasuredHoldingsError(
                    f"its processes hold more than {MAX_HELD_ENTRIES} open files and unnamed mappings"
                )
            try:
                info = os.stat(path)
            except OSError:
                continue
            if info.st_dev != device or info.st_nlink != 0 or not stat.S_ISREG(info.st_mode):
                continue
            if info.st_ino not in seen:
                seen.add(info.st_ino)
                total += info.st_blocks * 512
    return total


def _descriptor_paths(pid: int) -> list[str]:
    folder = f"/proc/{pid}/fd"
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return [f"{folder}/{name}" for name in names[: MAX_HELD_ENTRIES + 1]]


def _unlinked_map_paths(pid: int, budget: int) -> tuple[list[str], int]:
    """`/proc/<pid>/map_files` entries of the mappings whose file has no name (one per mapped range), and what
    is left of `budget` bytes of maps to read.

    Raises:
        UnmeasuredHoldingsError: the maps are longer than `budget`.
    """
    try:
        with open(f"/proc/{pid}/maps", "rb") as maps:
            text = maps.read(budget + 1)
    except OSError:
        return [], budget
    if len(text) > budget:
        raise UnmeasuredHoldingsError(
            f"its processes' memory maps are longer than the {MAX_MAPS_BYTES} bytes the watch reads"
        )
    # Only a newline ends a line: the kernel escapes those in names, not a carriage return, so a file named
    # `a\rb` must not split its own line and hide the mark at its end.
    paths = [
        f"/proc/{pid}/map_files/{line.split(b' ', 1)[0].decode('ascii', 'replace')}"
        for line in text.split(b"\n")
        if line.endswith(b" (deleted)")
    ]
    return paths, budget - len(text)


@dataclass
class QuotaWatch:
    """The disk and file-count limits of one experiment directory; `check()` names a crossed limit.

    `holders`, where the backend can list the command's processes (its cgroup), adds the files they hold
    open that no name in the directory reaches (`unnamed_bytes`) to the directory's disk use.
    """

    root: Path
    disk_bytes: int | None
    files: int | None
    holders: Callable[[], Iterable[int]] | None = None
    _next_check: float = field(default=0.0, repr=False)

    @classmethod
    def for_limits(
        cls, root: Path, limits: Limits, holders: Callable[[], Iterable[int]] | None = None
    ) -> QuotaWatch | None:
        if limits.disk_bytes is None and limits.files is None:
            return None
        # Made as the command starts: the first poll is one period in, not at once. A command ending sooner
        # is measured by the check after its end (`check_now`), one running longer every period as before.
        return cls(root, limits.disk_bytes, limits.files, holders, time.monotonic() + POLL_SECONDS)

    def check(self) -> str | None:
        """The message for a crossed limit, or None. Cheap to call often: it measures at most every poll period."""
        now = time.monotonic()
        if now < self._next_check:
            return None
        self._next_check = now + POLL_SECONDS
        return self.check_now()

    def check_now(self) -> str | None:
        usage = measure(self.root, max_bytes=self.disk_bytes, max_files=self.files)
        if self.disk_bytes is not None and self.holders is not None and usage.bytes <= self.disk_bytes:
            try:
                hidden = unnamed_bytes(self.holders(), os.stat(self.root).st_dev)
                usage = QuotaUsage(usage.bytes + hidden, usage.files, usage.complete, usage.unmeasured)
            except UnmeasuredHoldingsError as error:
                usage = QuotaUsage(usage.bytes, usage.files, False, f"the command's open files: {error}")
            except OSError:
                pass
        if self.files is not None and usage.files > self.files:
            return f"files: the experiment directory holds more than {self.files} entries"
        if self.disk_bytes is not None and usage.bytes > self.disk_bytes:
            return f"disk_bytes: the experiment directory uses more than {self.disk_bytes} bytes of disk"
        if usage.unmeasured is not None:
            # What cannot be measured cannot be shown to fit: a breach of the limit it might hide.
            limit = "disk_bytes" if self.disk_bytes is not None else "files"
            return f"{limit}: the experiment directory cannot be measured: {usage.unmeasured}"
        return None


def limit_name(message: str) -> str:
    """The limit a `check()` message names (its prefix)."""
    return message.split(":", 1)[0]
