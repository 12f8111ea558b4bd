"""Content-addressed artifact files: the same bytes are stored once, under their sha256.

Addressing by content means a gate's evidence list stays valid forever: a later write under the
same name can never change what a recorded digest points to.
"""

from __future__ import annotations

import contextlib
import hashlib
import mimetypes
import os
import re
import stat
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import BinaryIO

from runs._errors import DamagedRecordError, LabgateError
from runs._untrusted import read_untrusted_path

MAX_ARTIFACT_BYTES = 256 << 20
"""The largest file stored as an artifact; anything larger left by a sandbox is refused, not read."""
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_TEXT_SUFFIXES = {".log", ".md", ".txt", ".csv", ".v", ".cl", ".cu", ".lean", ".thy", ".foam", ".dat"}


class ArtifactNotFoundError(LabgateError, LookupError):
    """No stored file has that digest."""


class DamagedArtifactError(DamagedRecordError):
    """The stored file of a digest no longer holds the digest's bytes (a write torn by a crash or a power loss,
    a file changed by something else, damage on the disk): they are never served or read as the digest's.
    Storing the same bytes again repairs it."""


VERIFIED_FILES_KEPT = 4096
"""How many stored files' checked digests one store remembers (by file identity), so each is hashed once."""

_FileIdentity = tuple[int, int, int, int, int]


def _identity(info: os.stat_result) -> _FileIdentity:
    """What changes whenever a file's bytes do: a rewrite in place moves the change time, which no program
    can set back, and a replacement is another inode."""
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def sha256_file(path: Path) -> str:
    with path.open("rb") as handle:
        return _sha256_of(handle)


def _sha256_of(handle: BinaryIO) -> str:
    """The sha256 of what is left to read from `handle`, a megabyte at a time."""
    digest = hashlib.sha256()
    for block in iter(lambda: handle.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


_TEXT_KINDS = {"log", "source", "kernel", "proof", "table"}


def media_type_for(name: str, kind: str | None = None) -> str:
    """By the name's suffix; a file of a textual kind whose name says nothing (`log.icoFoam`) is text."""
    suffix = Path(name).suffix.lower()
    if suffix in _TEXT_SUFFIXES:
        return "text/markdown" if suffix == ".md" else "text/plain"
    guessed, _ = mimetypes.guess_type(name)
    if guessed is None and kind in _TEXT_KINDS:
        return "text/plain"
    return guessed or "application/octet-stream"


class ArtifactStore:
    """Files on disk under `root/<first two hex digits>/<digest>`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._verified: OrderedDict[_FileIdentity, str] = OrderedDict()
        self._verified_lock = threading.Lock()

    def path_for(self, sha256: str) -> Path:
        """The file for a digest; refuses anything that is not a digest, so no path can escape the root."""
        if not _SHA256.match(sha256):
            raise ArtifactNotFoundError(f"{sha256!r} is not a sha256 digest")
        return self.root / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        try:
            self.open_path(sha256)
        except ArtifactNotFoundError:
            return False
        return True

    def open_path(self, sha256: str, size: int | None = None) -> Path:
        """The stored file for a digest: only a regular file this store wrote, never a link placed there, and
        only while it holds the digest's bytes.

        Each file is hashed once per store object and remembered by its identity (device, inode, size,
        modification and change times); a later read of an unchanged file costs a `stat`. A file rewritten with
        its size kept was served as the digest's content before, since only the size was compared. `size` (what
        the artifact's record says was stored) refuses a torn file without reading it.

        Raises:
            ArtifactNotFoundError: no regular file is stored under the digest.
            DamagedArtifactError: the stored file's size is not `size`, or its bytes are not the digest's.
        """
        path = self.path_for(sha256)
        try:
            info = path.lstat()
        except OSError:
            raise ArtifactNotFoundError(f"no artifact with digest {sha256}") from None
        if not stat.S_ISREG(info.st_mode):
            raise ArtifactNotFoundError(f"no artifact with digest {sha256}")
        if size is not None and info.st_size != size:
            raise DamagedArtifactError(
                f"the stored file of artifact {sha256} is damaged: it holds {info.st_size} bytes where "
                f"{size} were stored (a write cut short by a crash, or a change by another program); "
                "storing the same bytes again repairs it"
            )
        self._check_digest(path, sha256)
        return path

    def _check_digest(self, path: Path, sha256: str) -> None:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            raise ArtifactNotFoundError(f"no artifact with digest {sha256}") from None
        with os.fdopen(fd, "rb") as handle:
            identity = _identity(os.fstat(handle.fileno()))
            with self._verified_lock:
                if self._verified.get(identity) == sha256:
                    self._verified.move_to_end(identity)
                    return
            if _sha256_of(handle) != sha256 or _identity(os.fstat(handle.fileno())) != identity:
                raise DamagedArtifactError(
                    f"the stored file of artifact {sha256} is damaged: its bytes are not the digest's (changed "
                    "by another program, or damaged on the disk); storing the same bytes again repairs it"
                )
        self._remember(identity, sha256)

    def _remember(self, identity: _FileIdentity, sha256: str) -> None:
        with self._verified_lock:
            self._verified[identity] = sha256
            self._verified.move_to_end(identity)
            while len(self._verified) > VERIFIED_FILES_KEPT:
                self._verified.popitem(last=False)

    def put_file(
        self, source: Path, *, within: Path | None = None, max_bytes: int = MAX_ARTIFACT_BYTES
    ) -> tuple[str, int]:
        """Copy a file in (once per content) and return its digest and size.

        The bytes are read once, through the link-refusing reader, and both the digest and the
        stored copy come from that one read: a symlink, FIFO, device or oversize file named like an
        output is refused instead of pulling host files (or this store) into an artifact.
        `within` is the directory the caller owns; every component of `source` below it is untrusted.

        Raises:
            UntrustedFileError: the file is a link, not regular, too large, or unreadable.
        """
        return self.put_bytes(read_untrusted_path(source, within=within, max_bytes=max_bytes))

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        """Store `data` under its digest (once) and return the digest and size.

        A file already stored under the digest is kept only when it is a regular file holding exactly `data`.
        One of another size is what a write torn by a crash leaves (or a change by another program); it was
        kept before because it existed, and served as the digest's content for good. Kept on its size alone,
        a file planted under a digest someone could predict stayed the digest's content too. It is rewritten.
        """
        sha = hashlib.sha256(data).hexdigest()
        target = self.path_for(sha)
        if not (_holds_size(target, len(data)) and _holds_bytes(target, data)):
            write_atomically(target, data)
        with contextlib.suppress(OSError):
            self._remember(_identity(target.lstat()), sha)  # these very bytes: no need to hash them again
        return sha, len(data)


def write_atomically(target: Path, data: bytes) -> None:
    """Write to a temporary file, then rename it over `target`: a reader sees no file or the whole file.

    The rename alone orders nothing on disk: after a power loss, the new name can be there with
    none of its data (an empty file under a digest). The data is synced before the rename, and the
    folder after it, so a digest recorded once the write returns names the bytes on the disk.
    """
    created = not target.parent.is_dir()
    target.parent.mkdir(parents=True, exist_ok=True)
    if created:
        _sync_folder(target.parent.parent)  # the new shard folder's own name, or the rename below is lost
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o444)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _sync_folder(target.parent)


def _holds_bytes(path: Path, data: bytes) -> bool:
    """Whether the file at `path` (already known to be a regular file of the right size) holds `data`."""
    try:
        with path.open("rb") as handle:
            return handle.read(len(data) + 1) == data
    except OSError:
        return False


def _holds_size(path: Path, size: int) -> bool:
    """Whether `path` is a regular file (not a link placed there) of `size` bytes."""
    try:
        info = path.lstat()
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_size == size


def _sync_folder(folder: Path) -> None:
    """Make a folder's entries (a new or renamed file in it) durable; a file system that cannot sync a folder
    (some network and FUSE file systems refuse) loses only that durability, never the write."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
