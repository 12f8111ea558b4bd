"""Handing an experiment directory to a container user, and taking it back.

Docker without user-namespace remapping runs a container's uid as the same uid on the host, and
the container has no capability to override file permissions. So the uid a command runs as must
own what it has to write:

- labgate running as a normal user (the usual laptop case, a member of the `docker` group): the
  container runs as that user's uid and gid, which already own the directory. Nothing changes hands.
- labgate running as root (CI, servers): commands never run as root. Each sandbox gets its own
  unprivileged uid (a high, randomly placed range no account uses); the directory is chowned to
  it with mode 0700 before each command, so it can write there and no other sandbox can even look
  in; when the sandbox closes, everything it owned goes back to the directory's original owner,
  with set-uid/set-gid bits stripped so a candidate cannot leave a root-owned set-uid file behind.

The tree walks (`runs.tree_steps`) act through directory file descriptors and never follow symbolic
links, so a candidate swapping a directory for a link mid-walk cannot redirect a root-owned chown to
files outside its directory; they hold one descriptor and do not recurse, so a tree nested thousands
deep (made faster than the disk watch looks) is taken back whole. What is taken back loses set-id bits
and write access for others. Files with several hard links that the sandbox does not already own are
left alone: a hard link is the one way a candidate could pull a foreign file into its directory.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from runs import tree_steps

# Sandbox uids live above two thousand million: far from login accounts (1000+) and from the
# subordinate ranges rootless containers use (100000+), below 2**31 where some tools misbehave.
_UID_FLOOR = 2_000_000_000
_UID_BLOCKS = 100_000
_UID_BLOCK_SIZE = 1_000
_UNSAFE_BITS = stat.S_ISUID | stat.S_ISGID | stat.S_IWGRP | stat.S_IWOTH
_ACLS = ("system.posix_acl_access", "system.posix_acl_default")
"""POSIX ACLs a command may set on what it made: entries for its own uid, which a later experiment is lent."""
_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class UidAllocator:
    """Fresh uids for sandboxes, from a block picked at random so that concurrent runs do not collide."""

    def __init__(self) -> None:
        self._next = _UID_FLOOR + secrets.randbelow(_UID_BLOCKS) * _UID_BLOCK_SIZE
        self._last = self._next + _UID_BLOCK_SIZE - 1
        self._lock = threading.Lock()

    def allocate(self) -> int:
        with self._lock:
            if self._next > self._last:
                self._next = _UID_FLOOR + secrets.randbelow(_UID_BLOCKS) * _UID_BLOCK_SIZE
                self._last = self._next + _UID_BLOCK_SIZE - 1
            uid = self._next
            self._next += 1
            return uid


def _walk_chown(root: Path, uid: int, gid: int, wanted: Callable[[os.stat_result], bool]) -> None:
    """chown every entry under root (root included) for which `wanted(lstat)` holds; links are not followed.

    What changes hands also loses its set-id bits and write access for others (`_clear_unsafe_bits`).
    """
    rootfd = os.open(root, _DIRECTORY)
    try:
        top = os.fstat(rootfd)
        if wanted(top):
            os.fchown(rootfd, uid, gid)
            _drop_acls_of(rootfd)
        for step in tree_steps(rootfd):
            if step.kind != "entry" or not wanted(step.info):
                continue
            with contextlib.suppress(FileNotFoundError):
                os.chown(step.name, uid, gid, dir_fd=step.dirfd, follow_symlinks=False)
                _drop_acls(step.name, step.dirfd, step.info)
                _clear_unsafe_bits(step.name, step.dirfd, step.info)
    finally:
        os.close(rootfd)


def _drop_acls(name: str, dirfd: int, info: os.stat_result) -> None:
    """Remove the POSIX ACLs of a regular file or directory, named through its directory's descriptor.

    An ACL outlives the hand-back's chown and mode changes: a command could grant its own uid (lent to
    later experiments) or, where the ACL names a group, others access to what it left. The last component
    is not followed (`follow_symlinks=False`), and the path goes through the open directory.
    """
    if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
        return
    _drop_acls_of(f"/proc/self/fd/{dirfd}/{name}")


def _drop_acls_of(where: str | int) -> None:
    """Remove the ACLs of a path (its last component not followed) or of an open descriptor."""
    follow = isinstance(where, int)
    try:
        present = os.listxattr(where, follow_symlinks=follow)
    except OSError:
        return
    for acl in _ACLS:
        if acl in present:
            with contextlib.suppress(OSError):
                os.removexattr(where, acl, follow_symlinks=follow)


def _clear_unsafe_bits(name: str, dirfd: int, info: os.stat_result) -> None:
    """Clear set-uid, set-gid and group's and others' write through a descriptor opened without following links
    (chmod has no lchmod); only regular files and directories carry them meaningfully.

    Directories lose them too: a set-gid directory would hand its group to whatever the harness writes
    there later, and a world-writable one would let any local user put files among an experiment's outputs.
    """
    if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)) or not info.st_mode & _UNSAFE_BITS:
        return
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dirfd)
    except OSError:
        return
    try:
        now = os.fstat(fd)
        same = (now.st_dev, now.st_ino) == (info.st_dev, info.st_ino)
        if same and (stat.S_ISREG(now.st_mode) or stat.S_ISDIR(now.st_mode)):
            os.fchmod(fd, stat.S_IMODE(now.st_mode) & ~_UNSAFE_BITS)
    finally:
        os.close(fd)


@dataclass
class DirectoryGrant:
    """An experiment directory lent to one sandbox uid; `revoke()` gives it back."""

    root: Path
    uid: int
    gid: int
    original_uid: int
    original_gid: int
    original_mode: int

    @classmethod
    def lend(cls, root: Path, uid: int, gid: int) -> DirectoryGrant:
        info = os.lstat(root)
        if not stat.S_ISDIR(info.st_mode):
            raise NotADirectoryError(f"{root} is not a directory")
        owner, group, mode = info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)
        if owner >= _UID_FLOOR:
            # Still lent from a run that died before giving it back: the parent's owner is the real one.
            parent = os.lstat(root.parent)
            owner, group, mode = parent.st_uid, parent.st_gid, 0o755
        grant = cls(root, uid, gid, owner, group, mode)
        os.chmod(root, 0o700)
        grant.refresh()
        return grant

    def refresh(self) -> None:
        """Hand over what the harness wrote since the last command (inputs, edited files)."""

        def wanted(info: os.stat_result) -> bool:
            if info.st_uid == self.uid:
                return False
            return stat.S_ISDIR(info.st_mode) or info.st_nlink == 1

        _walk_chown(self.root, self.uid, self.gid, wanted)

    def revoke(self) -> None:
        """Everything the sandbox uid owns goes back to the directory's owner; set-id bits are stripped.

        A directory the host removed meanwhile (a run folder deleted while a kept prover session still
        held it, then closed at exit) has nothing left to hand back.
        """
        try:
            _walk_chown(self.root, self.original_uid, self.original_gid, lambda info: info.st_uid == self.uid)
        except FileNotFoundError:
            if os.path.lexists(self.root):
                raise
            return
        with contextlib.suppress(FileNotFoundError):
            os.chmod(self.root, self.original_mode)


def strip_set_id_bits(root: Path) -> None:
    """Clear set-uid/set-gid bits, group's and others' write and ACLs on everything under `root` (root included),
    following no link.

    For a sandbox that ran as the directory's own owner (labgate as an ordinary user): nothing
    changes hands, but a set-uid file left behind would still run as that user for whoever starts it,
    and a world-writable file or folder would let anyone change an output before it is judged. A folder
    the sandbox locked (`chmod 0`) is opened up to its owner again so that what it holds is reached too.
    """
    rootfd = os.open(root, _DIRECTORY)
    try:
        top = os.fstat(rootfd)
        _drop_acls_of(rootfd)
        if top.st_mode & _UNSAFE_BITS:
            os.fchmod(rootfd, stat.S_IMODE(top.st_mode) & ~_UNSAFE_BITS)
        for step in tree_steps(rootfd, unlock=True):
            if step.kind == "entry":
                _drop_acls(step.name, step.dirfd, step.info)
                _clear_unsafe_bits(step.name, step.dirfd, step.info)
    finally:
        os.close(rootfd)


def ensure_reachable(path: Path) -> None:
    """Let other uids pass through (search, not list) every directory above `path`.

    A sandbox uid must resolve the paths bubblewrap binds (its experiment directory, a venv) while
    it builds its mount namespace; after that the host tree is gone from its view. Only the
    search bit for others is added, and only where it is missing: nothing becomes listable or
    readable that was not before.
    """
    current = path.resolve().parent
    while True:
        info = os.stat(current)
        if stat.S_ISDIR(info.st_mode) and not info.st_mode & stat.S_IXOTH:
            os.chmod(current, stat.S_IMODE(info.st_mode) | stat.S_IXOTH)
        if current.parent == current:
            return
        current = current.parent
