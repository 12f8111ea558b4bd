"""labgate-launch: the one program root runs before bubblewrap, compiled once per machine from `_launch.c`.

Started as root, a sandboxed command used to pass through three programs before bubblewrap: a shell that
moved it into its cgroups, `setpriv` that dropped root, and `prlimit` inside the sandbox for the rlimits.
Each exec cost 0.7-1.2 ms on the 2-core machine, about 2 ms per command and 4 of the 15 ms a two-command
experiment added over running it directly (`bench/sandbox_overhead.py --empty`). The launcher does the
same steps, each checked, in one exec.

Root executes the binary, so it is trusted only where nobody else can change it: the cached file and
every folder above it must be root's and writable by no one else. Where that fails, or no C compiler is
installed, there is no launcher and the sandbox starts commands through the three programs as before.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import hashlib
import os
import shutil
import stat
import subprocess
import tempfile
import threading
from pathlib import Path

_SOURCE = Path(__file__).with_name("_launch.c")
_lock = threading.Lock()
_built: dict[str, Path | None] = {}


def _cache_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "labgate" / "launcher"


def only_root_can_change(path: Path) -> bool:
    """Whether `path` and every folder above it belong to root and no one else can write to them.

    A world-writable folder with the sticky bit (/tmp) is accepted: others cannot rename or remove root's
    entries in it.
    """
    try:
        resolved = path.resolve(strict=True)
        info = resolved.stat()
    except OSError:
        return False
    if info.st_uid != 0 or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return False
    for folder in resolved.parents:
        try:
            held = folder.stat()
        except OSError:
            return False
        sticky = bool(held.st_mode & stat.S_ISVTX)
        if held.st_uid != 0 or (held.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not sticky):
            return False
    return True


def _compile(source: bytes, target: Path) -> bool:
    """Compile `source` to `target` (mode 0755, root's) through a file beside it; False when it cannot."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        return False
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor, scratch = tempfile.mkstemp(prefix=".launch-", dir=target.parent)
    os.close(descriptor)
    source_file = Path(scratch + ".c")
    try:
        source_file.write_bytes(source)
        built = subprocess.run(
            [compiler, "-O2", "-Wall", "-o", scratch, str(source_file)],
            capture_output=True,
            timeout=120,
            check=False,
            env={"PATH": "/usr/local/bin:/usr/bin:/bin", "LC_ALL": "C"},
        )
        if built.returncode != 0:
            return False
        os.chmod(scratch, 0o755)
        os.replace(scratch, target)
        return True
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        with contextlib.suppress(OSError):
            os.unlink(scratch)
        with contextlib.suppress(OSError):
            source_file.unlink()


@functools.cache
def _source() -> tuple[bytes, str] | None:
    """The launcher's C source and its digest, read once per process (`launcher()` runs for every command)."""
    try:
        source = _SOURCE.read_bytes()
    except OSError:
        return None
    return source, hashlib.sha256(source).hexdigest()[:16]


def launcher() -> Path | None:
    """The trusted labgate-launch binary for this process, built on first use; None when labgate is not
    root, when it is switched off (`LABGATE_SANDBOX_LAUNCHER=0`) or when it cannot be built."""
    if os.geteuid() != 0 or os.environ.get("LABGATE_SANDBOX_LAUNCHER", "1") == "0":
        return None
    found_source = _source()
    if found_source is None:
        return None  # an installation without the source: the three programs, as before
    source, digest = found_source
    with _lock:
        if digest in _built:
            found = _built[digest]
            return found if found is None or only_root_can_change(found) else None
        target = _cache_root() / f"labgate-launch-{digest}"
        with contextlib.suppress(OSError):
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        trusted = only_root_can_change(target.parent)
        if not trusted:
            # The usual cache is not root's alone (an odd XDG_CACHE_HOME): build into a folder of this process.
            private = tempfile.mkdtemp(prefix="labgate-launch-")
            atexit.register(shutil.rmtree, private, ignore_errors=True)
            target = Path(private) / "labgate-launch"
            trusted = only_root_can_change(target.parent)
        if trusted and not (target.exists() and only_root_can_change(target)):
            trusted = _compile(source, target) and only_root_can_change(target)
        _built[digest] = target if trusted else None
        return _built[digest]
