"""The shell labgate's own scripts run in, inside a sandbox: one the commands it starts cannot rewrite.

A process may open `/proc/<pid>/mem` of any other process of its uid and write into it (the ban on `ptrace`
and `process_vm_writev` does not cover that file), unless the target is not dumpable. A step of a CFD run
used it to make the step shell print a report of every step done and exit 0 while the trusted step after it
never ran; in Docker, a candidate rewrote the wrapper's `kill -9 -1` into `true` and left a process that
lived on into the next experiment's container, unfiltered.

The kernel marks a process non-dumpable when it executes a file it may not read. So labgate's scripts run in
a copy of the host's shell that may be executed and not read (mode 0111), bound into every sandbox at
`GUARDED_SHELL`: nothing of the sandbox's uid can open that shell's memory, while the commands it starts,
ordinary programs, are dumpable as before.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from pathlib import Path

GUARDED_SHELL = "/labgate/sh"
"""Where the execute-only shell is bound inside every sandbox."""

_SOURCES = ("/bin/dash", "/usr/bin/dash", "/bin/sh")


def _cache_root() -> Path | None:
    """A folder of this user's under the temporary directory, which every sandbox uid can traverse (bubblewrap
    binds the copy after dropping to the sandbox's uid, and a home folder is often 0700); None where a folder
    of that name is someone else's or a link."""
    root = Path(tempfile.gettempdir()) / f"labgate-guarded-shell-{os.geteuid()}"
    try:
        root.mkdir(mode=0o755, exist_ok=True)
        info = os.lstat(root)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o022:
        return None
    return root


_made: list[Path] = []
"""The copy this process made or found last: checked again at each use, since a temporary folder is cleaned
(a server running for weeks would otherwise bind a file that is gone and fail every command)."""


def guarded_shell_source() -> Path | None:
    """The host's copy of the shell, mode 0111, made once per content (None where no shell can be copied).

    Raises nothing: a machine where the copy cannot be made runs the scripts in the image's own `sh`."""
    if _made and _is_guarded(_made[-1]):
        return _made[-1]
    found = _make_copy()
    if found is not None:
        _made[:] = [found]
    return found


def guarded_shell(fallback: str = "sh") -> str:
    """The shell to start labgate's scripts with inside a sandbox that binds the copy: `GUARDED_SHELL` where the
    copy could be made, else `fallback` (the image's own shell)."""
    return GUARDED_SHELL if guarded_shell_source() is not None else fallback


def _is_guarded(path: Path) -> bool:
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_mode & 0o7777 == 0o111 and info.st_uid == os.geteuid()


def _make_copy() -> Path | None:
    for candidate in _SOURCES:
        source = Path(candidate).resolve()
        if source.is_file():
            break
    else:
        return None
    root = _cache_root()
    if root is None:
        return None
    try:
        data = source.read_bytes()
        target = root / f"sh-{hashlib.sha256(data).hexdigest()[:16]}"
        if _is_guarded(target):
            return target
        fd, temporary = tempfile.mkstemp(dir=root, prefix=".sh-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o111)
        os.replace(temporary, target)
        return target
    except OSError:
        return None
