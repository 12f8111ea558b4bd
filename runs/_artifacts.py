"""Content-addressed artifact files: the same bytes are stored once, under their sha256.

Addressing by content means a gate's evidence list stays valid forever: a later write under the
same name can never change what a recorded digest points to.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
import stat
import tempfile
from pathlib import Path

from runs._errors import LabgateError
from runs._untrusted import read_untrusted_path

MAX_ARTIFACT_BYTES = 256 << 20
"""The largest file stored as an artifact; anything larger left by a sandbox is refused, not read."""
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_TEXT_SUFFIXES = {".log", ".md", ".txt", ".csv", ".v", ".cl", ".cu", ".lean", ".thy", ".foam", ".dat"}


class ArtifactNotFoundError(LabgateError, LookupError):
    """No stored file has that digest."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
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

    def open_path(self, sha256: str) -> Path:
        """The stored file for a digest: only a regular file this store wrote, never a link placed there."""
        path = self.path_for(sha256)
        try:
            info = path.lstat()
        except OSError:
            raise ArtifactNotFoundError(f"no artifact with digest {sha256}") from None
        if not stat.S_ISREG(info.st_mode):
            raise ArtifactNotFoundError(f"no artifact with digest {sha256}")
        return path

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
        sha = hashlib.sha256(data).hexdigest()
        target = self.path_for(sha)
        if not target.exists():
            self._write_atomically(target, data)
        return sha, len(data)

    @staticmethod
    def _write_atomically(target: Path, data: bytes) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(tmp, 0o444)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
