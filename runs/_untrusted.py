"""Reading what a sandbox left behind without trusting it.

Every file in an experiment directory was written, or could have been replaced, by code nobody
reviewed. A symlink named like a log (`log.icoFoam -> /proc/self/environ`) would make an ordinary
`open()` copy the host's secrets into the store; a FIFO or `/proc/kmsg` would hang the reader; a
sparse "1 GiB" log would cost gigabytes of memory. So every host-side read of sandbox output goes
through here:

- the path is walked one component at a time from a directory descriptor, each opened with
  `O_NOFOLLOW`, so no symlink is followed anywhere on the way, and `..` or absolute parts are refused;
- only regular files are read (`O_NONBLOCK` opens a FIFO without waiting; `fstat` then refuses it),
  on the directory's own filesystem, with a single link (a hard link could pull a foreign file in);
- the size is checked before reading and the read stops at the cap;
- a refusal is an `UntrustedFileError` whose message says what was refused and why, for a verdict
  (`UntrustedFileMissingError` when nothing is there, which callers usually report differently).

Callers that hold a full path pass `within=` the directory the harness owns (the experiment or
case directory), so every component below it, not only the last, is opened without following links.
Listings (`untrusted_listing`) report links as links, so a reader can refuse a linked time directory
by name instead of silently judging an older one.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from runs._errors import LabgateError
from runs._tree import TreeWalkError, tree_steps

DEFAULT_MAX_BYTES = 64 << 20
DEFAULT_TIMEOUT = 30.0
_CHUNK = 1 << 20
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


class UntrustedFileError(LabgateError, OSError):
    """A file left by a sandbox was refused: a link, not a regular file, too large, or unreadable."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class UntrustedFileMissingError(UntrustedFileError):
    """The file, or a directory on the way to it, does not exist (nothing was refused)."""


def _parts(relative: str | os.PathLike[str]) -> list[str]:
    text = os.fspath(relative)
    pure = PurePosixPath(text)
    if pure.is_absolute():
        raise UntrustedFileError(text, "an absolute path is not inside the experiment directory")
    parts = [part for part in pure.parts if part not in ("", ".")]
    if any(part == ".." for part in parts):
        raise UntrustedFileError(text, "'..' leaves the experiment directory")
    return parts


def _open_root(root: Path) -> int:
    try:
        return os.open(root, _DIR_FLAGS)
    except OSError as error:
        raise UntrustedFileError(str(root), f"the experiment directory cannot be opened ({error.strerror})") from None


def _open_dir_chain(rootfd: int, parts: list[str], shown: str) -> int:
    """A descriptor for the directory `parts` names under rootfd, no link followed; the caller closes it."""
    current = os.dup(rootfd)
    try:
        for part in parts:
            try:
                following = os.open(part, _DIR_FLAGS, dir_fd=current)
            except FileNotFoundError:
                raise UntrustedFileMissingError(shown, f"does not exist ({part!r} is missing)") from None
            except OSError as error:
                reason = "a symbolic link or not a directory" if error.errno in (40, 20) else error.strerror
                raise UntrustedFileError(shown, f"cannot enter {part!r}: {reason}") from None
            os.close(current)
            current = following
        return current
    except BaseException:
        os.close(current)
        raise


def _open_regular(dirfd: int, name: str, shown: str, device: int) -> tuple[int, os.stat_result]:
    try:
        info = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
    except FileNotFoundError:
        raise UntrustedFileMissingError(shown, "does not exist") from None
    except OSError as error:
        raise UntrustedFileError(shown, f"cannot be inspected ({error.strerror})") from None
    if stat.S_ISLNK(info.st_mode):
        raise UntrustedFileError(shown, "is a symbolic link; links are never followed")
    if not stat.S_ISREG(info.st_mode):
        raise UntrustedFileError(shown, f"is not a regular file ({_kind(info.st_mode)})")
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=dirfd)
    except OSError as error:
        raise UntrustedFileError(shown, f"cannot be opened ({error.strerror})") from None
    now = os.fstat(fd)
    problem = None
    if not stat.S_ISREG(now.st_mode) or (now.st_dev, now.st_ino) != (info.st_dev, info.st_ino):
        problem = "was replaced while it was being opened"
    elif now.st_dev != device:
        problem = "lies on another filesystem than the experiment directory"
    elif now.st_nlink > 1:
        problem = f"has {now.st_nlink} hard links; a linked file may belong to someone else"
    if problem is not None:
        os.close(fd)
        raise UntrustedFileError(shown, problem)
    return fd, now


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _read_fd(fd: int, size: int, shown: str, max_bytes: int, deadline: float, *, stop_at_cap: bool = False) -> bytes:
    """Up to `max_bytes` from `fd`; past the cap a growing file is refused, or with `stop_at_cap` simply cut."""
    if size > max_bytes:
        raise UntrustedFileError(shown, f"is {size} bytes, more than the {max_bytes} bytes read from a sandbox file")
    chunks: list[bytes] = []
    total = 0
    while True:
        if time.monotonic() > deadline:
            raise UntrustedFileError(shown, "reading it took too long")
        chunk = os.read(fd, min(_CHUNK, max_bytes + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        if stop_at_cap and total >= max_bytes:
            return b"".join(chunks)[:max_bytes]
        if total > max_bytes:
            raise UntrustedFileError(shown, f"grew past the {max_bytes} bytes read from a sandbox file")
    return b"".join(chunks)


@contextlib.contextmanager
def _regular_file(root: Path, relative: str | os.PathLike[str]) -> Iterator[tuple[int, os.stat_result, str]]:
    """An open descriptor of the regular file `root/relative`, reached with no link followed on the same
    filesystem, its stat and its name as errors show it; every descriptor is closed on leaving."""
    parts = _parts(relative)
    shown = "/".join(parts) or "."
    if not parts:
        raise UntrustedFileError(shown, "names the experiment directory itself, not a file")
    rootfd = _open_root(root)
    try:
        device = os.fstat(rootfd).st_dev
        dirfd = _open_dir_chain(rootfd, parts[:-1], shown)
        try:
            fd, info = _open_regular(dirfd, parts[-1], shown, device)
        finally:
            os.close(dirfd)
        try:
            yield fd, info, shown
        finally:
            os.close(fd)
    finally:
        os.close(rootfd)


def read_untrusted(
    root: Path,
    relative: str | os.PathLike[str],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = DEFAULT_TIMEOUT,
) -> bytes:
    """The bytes of `root/relative`, read as described in the module docstring.

    Raises:
        UntrustedFileError: the file is missing, a link, not regular, too large, or unreadable.
    """
    deadline = time.monotonic() + timeout
    with _regular_file(root, relative) as (fd, info, shown):
        return _read_fd(fd, info.st_size, shown, max_bytes, deadline)


def read_untrusted_text(
    root: Path,
    relative: str | os.PathLike[str],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = DEFAULT_TIMEOUT,
) -> str:
    """Like `read_untrusted`, decoded as UTF-8 with undecodable bytes replaced."""
    return read_untrusted(root, relative, max_bytes=max_bytes, timeout=timeout).decode("utf-8", errors="replace")


def split_under(path: Path, within: Path | None) -> tuple[Path, str]:
    """`(root, relative)` for a full path: `within` is the directory the harness owns, the rest is untrusted.

    Without `within`, only the last component is untrusted (the caller vouches for the directories
    above it). A path that is not lexically under `within` is refused rather than read from elsewhere.

    Raises:
        UntrustedFileError: `path` does not lie under `within`.
    """
    if within is None:
        return path.parent, path.name
    try:
        relative = path.relative_to(within)
    except ValueError:
        raise UntrustedFileError(str(path), f"is not inside {within}") from None
    return within, relative.as_posix()


def read_untrusted_path(
    path: Path,
    *,
    within: Path | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = DEFAULT_TIMEOUT,
) -> bytes:
    """Read a file given by full path; every component below `within` is opened without following links.

    For callers that hold a path rather than (root, relative). Without `within` only the final
    component is checked, so pass the experiment or case directory whenever the directories in
    between were written by the sandbox.
    """
    root, relative = split_under(path, within)
    return read_untrusted(root, relative, max_bytes=max_bytes, timeout=timeout)


def read_untrusted_path_text(
    path: Path,
    *,
    within: Path | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = DEFAULT_TIMEOUT,
) -> str:
    """Like `read_untrusted_path`, decoded as UTF-8 with undecodable bytes replaced."""
    data = read_untrusted_path(path, within=within, max_bytes=max_bytes, timeout=timeout)
    return data.decode("utf-8", errors="replace")


def read_untrusted_path_head(
    path: Path,
    *,
    within: Path | None = None,
    max_bytes: int = 4096,
    timeout: float = DEFAULT_TIMEOUT,
) -> bytes:
    """The first `max_bytes` bytes (at most) of a file, opened as `read_untrusted_path` opens it: for a
    header (a mesh's cell count in its owner list's note) without reading a file of any size whole.

    Raises:
        UntrustedFileError: the file is missing, a link, not regular, or unreadable.
    """
    root, relative = split_under(path, within)
    deadline = time.monotonic() + timeout
    with _regular_file(root, relative) as (fd, _info, shown):
        return _read_fd(fd, 0, shown, max_bytes, deadline, stop_at_cap=True)


def read_untrusted_path_tail(
    path: Path,
    *,
    within: Path | None = None,
    max_bytes: int = 64 << 10,
    timeout: float = DEFAULT_TIMEOUT,
) -> tuple[bytes, bool]:
    """The last `max_bytes` bytes (at most) of a file, opened as `read_untrusted_path` opens it, and whether
    the file holds more before them: for watching a log that grows, whatever its size, without reading it whole.

    Raises:
        UntrustedFileError: the file is missing, a link, not regular, or unreadable.
    """
    root, relative = split_under(path, within)
    deadline = time.monotonic() + timeout
    with _regular_file(root, relative) as (fd, info, shown):
        start = max(0, info.st_size - max_bytes)
        os.lseek(fd, start, os.SEEK_SET)
        return _read_fd(fd, 0, shown, max_bytes, deadline, stop_at_cap=True), start > 0


def untrusted_listing(root: Path, relative: str | os.PathLike[str] = "") -> dict[str, str]:
    """Name -> kind ('file', 'dir', 'link', 'other') of the entries directly inside `root/relative`.

    No link is followed on the way or inside; an absent or unreachable directory lists as empty.
    """
    try:
        parts = _parts(relative)
        rootfd = _open_root(root)
    except UntrustedFileError:
        return {}
    try:
        try:
            dirfd = _open_dir_chain(rootfd, parts, "/".join(parts) or ".")
        except UntrustedFileError:
            return {}
        try:
            with os.scandir(dirfd) as entries:
                return {entry.name: _entry_kind(entry.stat(follow_symlinks=False).st_mode) for entry in entries}
        finally:
            os.close(dirfd)
    finally:
        os.close(rootfd)


def _entry_kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    return "other"


def untrusted_subdirectories(root: Path, relative: str | os.PathLike[str] = "") -> list[str]:
    """Names of the real directories directly inside `root/relative`; links and files are left out.

    An absent or unreachable directory (a link on the way, say) has none: callers that look for
    time or sample folders then report that nothing was written.
    """
    return sorted(name for name, kind in untrusted_listing(root, relative).items() if kind == "dir")


def untrusted_kind(root: Path, relative: str | os.PathLike[str]) -> str | None:
    """'file', 'dir', 'link', 'other' for an entry under root (no link followed on the way), None if absent."""
    try:
        parts = _parts(relative)
    except UntrustedFileError:
        return None
    if not parts:
        return "dir"
    rootfd = _open_root(root)
    try:
        try:
            dirfd = _open_dir_chain(rootfd, parts[:-1], "/".join(parts))
        except UntrustedFileError:
            return None
        try:
            info = os.stat(parts[-1], dir_fd=dirfd, follow_symlinks=False)
        except OSError:
            return None
        finally:
            os.close(dirfd)
    finally:
        os.close(rootfd)
    return _entry_kind(info.st_mode)


@dataclass(frozen=True)
class UntrustedEntry:
    relative: str
    kind: str  # 'file', 'dir', 'link', 'other'
    size: int


def walk_untrusted(root: Path, *, max_entries: int = 100_000) -> Iterator[UntrustedEntry]:
    """Every entry under root, folders before their content, without following links.

    One descriptor is held whatever the tree's shape (`runs._tree`), so neither thousands of sibling
    folders nor folders nested thousands deep exhaust the process's descriptors or hide what lies beyond.

    Raises:
        UntrustedFileError: more than `max_entries` entries, or a folder that cannot be walked (one that
            cannot be opened, or was moved during the walk): what it holds is unknown, so it is not skipped.
    """
    count = 0
    rootfd = _open_root(root)
    try:
        for step in tree_steps(rootfd):
            if step.kind != "entry":
                continue
            count += 1
            if count > max_entries:
                raise UntrustedFileError(str(root), f"holds more than {max_entries} entries")
            mode = step.info.st_mode
            if stat.S_ISDIR(mode):
                yield UntrustedEntry(step.relative, "dir", 0)
            elif stat.S_ISLNK(mode):
                yield UntrustedEntry(step.relative, "link", 0)
            elif stat.S_ISREG(mode):
                yield UntrustedEntry(step.relative, "file", step.info.st_size)
            else:
                yield UntrustedEntry(step.relative, "other", 0)
    except TreeWalkError as error:
        raise UntrustedFileError(error.relative, error.reason) from None
    finally:
        os.close(rootfd)


def copy_untrusted_tree(
    source: Path,
    target: Path,
    *,
    max_file_bytes: int = DEFAULT_MAX_BYTES,
    max_total_bytes: int = 4 << 30,
    max_entries: int = 100_000,
    skip: tuple[str, ...] = (),
) -> list[str]:
    """Copy regular files and directories from an untrusted tree; links and special files are skipped.

    Returns the refusals (`'path: reason'`), so a caller can report them. A folder whose path in the
    copy would be longer than the system allows (names of 255 characters, a few dozen deep) is refused
    once, with everything below it. Raises UntrustedFileError when the tree as a whole is over its limits.
    """
    refused: list[str] = []
    unplaced: set[str] = set()  # folders refused: what they hold is not copied nor named again
    total = 0
    target.mkdir(parents=True, exist_ok=True)
    for entry in walk_untrusted(source, max_entries=max_entries):
        top = entry.relative.split("/", 1)[0]
        if any(PurePosixPath(top).match(pattern) for pattern in skip):
            continue
        if entry.relative.rpartition("/")[0] in unplaced:
            if entry.kind == "dir":
                unplaced.add(entry.relative)
            continue
        destination = target / entry.relative
        try:
            if entry.kind == "dir":
                destination.mkdir(parents=True, exist_ok=True)
            elif entry.kind == "file":
                total += entry.size
                if total > max_total_bytes:
                    raise UntrustedFileError(str(source), f"holds more than {max_total_bytes} bytes")
                try:
                    data = read_untrusted(source, entry.relative, max_bytes=max_file_bytes)
                except UntrustedFileError as error:
                    refused.append(str(error))
                    continue
                destination.parent.mkdir(parents=True, exist_ok=True)
                destination.write_bytes(data)
            else:
                what = "a symbolic link" if entry.kind == "link" else "a special file"
                refused.append(f"{entry.relative}: {what}, not copied")
        except OSError as error:
            if error.errno != errno.ENAMETOOLONG:
                raise  # a full disk, say: the caller's to report, not this entry's
            refused.append(f"{entry.relative}: its path is longer than the system allows, not copied")
            if entry.kind == "dir":
                unplaced.add(entry.relative)
    return refused


def remove_untrusted_tree(path: Path) -> None:
    """Remove a tree a sandbox wrote; links are removed, never followed.

    The sandbox runs as the same user and may have taken the rights off its own folders (a `chmod 0555`
    keeps their files from being unlinked, a `chmod 0` from being listed): each folder is given its
    owner's rights back before it is emptied, so nothing it held survives into the next attempt. The
    walk holds one descriptor and does not recurse (`runs._tree`), so folders nested thousands deep go
    too. An immutable file or a busy mount point still raises.

    Raises:
        OSError: something in the tree cannot be removed (`TreeWalkError` for a folder that cannot be walked).
    """
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(info.st_mode):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return
    _give_owner_rights(path, info)
    try:
        rootfd = os.open(path, _DIR_FLAGS)
    except FileNotFoundError:
        return
    try:
        for step in tree_steps(rootfd, unlock=True):
            with contextlib.suppress(FileNotFoundError):
                if step.kind == "leave":
                    os.rmdir(step.name, dir_fd=step.dirfd)
                elif stat.S_ISDIR(step.info.st_mode):
                    _give_owner_rights(step.name, step.info, step.dirfd)
                else:
                    os.unlink(step.name, dir_fd=step.dirfd)
    finally:
        os.close(rootfd)
    with contextlib.suppress(FileNotFoundError):
        path.rmdir()


def write_untrusted_text(root: Path, relative: str | os.PathLike[str], text: str) -> None:
    """Replace the file `relative` under a folder a sandbox wrote with `text`, whatever stood there (a file,
    a link, a folder) removed first, no link followed on the way: a `system` folder the sandbox replaced
    with a link to a host folder once had labgate, as root, delete and rewrite a `controlDict` there.

    Raises:
        UntrustedFileError: a folder on the way is missing, a link or not a folder, or the file cannot be
            written.
    """
    parts = _parts(relative)
    shown = os.fspath(relative)
    if not parts:
        raise UntrustedFileError(shown, "names no file")
    rootfd = _open_root(root)
    try:
        dirfd = _open_dir_chain(rootfd, parts[:-1], shown)
    finally:
        os.close(rootfd)
    name = parts[-1]
    try:
        with contextlib.suppress(FileNotFoundError):
            info = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
            if stat.S_ISDIR(info.st_mode):
                remove_untrusted_tree(Path(f"/proc/self/fd/{dirfd}") / name)
            else:
                os.unlink(name, dir_fd=dirfd)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            fd = os.open(name, flags, 0o644, dir_fd=dirfd)
        except OSError as error:
            raise UntrustedFileError(shown, f"cannot be written ({error.strerror})") from None
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
    finally:
        os.close(dirfd)


def _give_owner_rights(name: str | Path, info: os.stat_result, dirfd: int | None = None) -> None:
    """`u+rwx` on a folder that lacks them, so what it holds can be listed and unlinked."""
    if info.st_mode & stat.S_IRWXU != stat.S_IRWXU:
        os.chmod(name, stat.S_IMODE(info.st_mode) | stat.S_IRWXU, dir_fd=dirfd)
