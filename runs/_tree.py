"""Walking a tree a sandbox wrote, with a bounded number of descriptors and no recursion.

A candidate shapes its directory as it likes: thousands of sibling folders, or folders nested thousands
deep in the tenth of a second before the disk watch looks. A walk that holds a descriptor for every
folder still to visit runs out of descriptors (for the whole process, not only itself) and, if it
shrugs that off, silently skips what lies beyond; a recursive walk (`os.fwalk`, `shutil.rmtree`) hits
Python's recursion limit a thousand levels down, leaving a tree half taken back or half removed.

`tree_steps` holds one descriptor, whatever the shape: it goes down by opening a child relative to the
current folder (no link followed) and back up by opening `..`, checked to be the very folder it came
from, so a tree moved under the walk is refused rather than walked somewhere else. Every entry is
seen once, its folder's descriptor at hand so the caller can act on it (chown, chmod, unlink) without
resolving a path; a folder is left (`leave` step) only after everything below it was seen.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from runs._errors import LabgateError

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_GONE = (errno.ENOENT, errno.ENOTDIR, errno.ELOOP)
"""A folder removed, or replaced by a file or a link, since it was listed: no longer there to walk."""


class TreeWalkError(LabgateError, OSError):
    """Part of a tree could not be walked: a folder that cannot be opened, or one moved during the walk."""

    def __init__(self, relative: str, reason: str) -> None:
        super().__init__(f"{relative}: {reason}")
        self.relative = relative
        self.reason = reason


@dataclass(frozen=True)
class TreeStep:
    """One entry seen (`entry`), or one folder whose whole content has been seen (`leave`).

    `dirfd` is the folder holding `name`, open only until the walk takes its next step; `info` is the
    entry's own `lstat` (a link is not followed).
    """

    kind: Literal["entry", "leave"]
    dirfd: int
    name: str
    relative: str
    info: os.stat_result


@dataclass
class _Frame:
    identity: tuple[int, int]
    prefix: str
    pending: list[str]


def _identity(info: os.stat_result) -> tuple[int, int]:
    return info.st_dev, info.st_ino


def _listing(dirfd: int) -> list[tuple[str, os.stat_result]]:
    """The entries of a folder, sorted by name, with their `lstat`; one removed meanwhile is left out."""
    found = []
    with os.scandir(dirfd) as entries:
        for entry in entries:
            try:
                found.append((entry.name, entry.stat(follow_symlinks=False)))
            except FileNotFoundError:
                continue
    return sorted(found, key=lambda item: item[0])


def _open_child(dirfd: int, name: str, relative: str, unlock: bool) -> int | None:
    """The child folder `name` (no link followed), None when it is gone; `unlock` lets its owner back in."""
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=dirfd)
    except OSError as error:
        if error.errno in _GONE:
            return None
        if not (unlock and error.errno == errno.EACCES):
            raise TreeWalkError(relative, f"the folder cannot be opened ({error.strerror})") from None
    try:
        # Listed as a folder a moment ago, and nothing of the sandbox runs any more: give its owner rights back.
        mode = stat.S_IMODE(os.stat(name, dir_fd=dirfd, follow_symlinks=False).st_mode)
        os.chmod(name, mode | stat.S_IRWXU, dir_fd=dirfd)
        return os.open(name, _DIR_FLAGS, dir_fd=dirfd)
    except OSError as error:
        if error.errno in _GONE:
            return None
        raise TreeWalkError(relative, f"the folder cannot be opened ({error.strerror})") from None


def tree_steps(rootfd: int, *, unlock: bool = False) -> Iterator[TreeStep]:
    """Every entry under the folder `rootfd` (borrowed, not closed), folders before what they hold.

    Each folder's entries come in name order, then each of its sub-folders is walked in turn and left.
    `unlock`: a folder its owner took the rights off (`chmod 0`) is given `u+rwx` so it can be walked
    (for taking a tree back or removing it; the folder must belong to this process's user).

    Raises:
        TreeWalkError: a folder cannot be opened, or was moved while the walk was inside it.
    """
    current = os.dup(rootfd)
    try:
        stack = [_Frame(_identity(os.fstat(current)), "", [])]
        listing = _listing(current)
        while True:
            frame = stack[-1]
            for name, info in listing:
                yield TreeStep("entry", current, name, frame.prefix + name, info)
                if stat.S_ISDIR(info.st_mode):
                    frame.pending.append(name)
            frame.pending.reverse()  # taken from the end: sub-folders in name order
            child: int | None = None
            while child is None:
                frame = stack[-1]
                if not frame.pending:
                    stack.pop()
                    if not stack:
                        return
                    parent = os.open("..", _DIR_FLAGS, dir_fd=current)
                    os.close(current)
                    current = parent
                    left = frame.prefix[:-1]
                    if _identity(os.fstat(current)) != stack[-1].identity:
                        raise TreeWalkError(left, "was moved while the walk was inside it")
                    name = left.rsplit("/", 1)[-1]
                    try:
                        info = os.stat(name, dir_fd=current, follow_symlinks=False)
                    except FileNotFoundError:
                        continue
                    yield TreeStep("leave", current, name, left, info)
                    continue
                name = frame.pending.pop()
                relative = frame.prefix + name
                child = _open_child(current, name, relative, unlock)
            os.close(current)
            current = child
            stack.append(_Frame(_identity(os.fstat(current)), relative + "/", []))
            listing = _listing(current)
    finally:
        os.close(current)
