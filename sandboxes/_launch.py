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


def only_owner_can_change(path: Path, owner: int = 0) -> bool:
    """Whether `path` and every folder above it belong to root (or `owner`) and no one else can write to them.

    A world-writable folder with the sticky bit (/tmp) is accepted: others cannot rename or remove root's
    entries in it.
    """
    owners = {0, owner}
    try:
        resolved = path.resolve(strict=True)
        info = resolved.stat()
    except OSError:
        return False
    if info.st_uid not in owners or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return False
    for folder in resolved.parents:
        try:
            held = folder.stat()
        except OSError:
            return False
        sticky = bool(held.st_mode & stat.S_ISVTX)
        if held.st_uid not in owners or (held.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not sticky):
            return False
    return True


def only_root_can_change(path: Path) -> bool:
    """`only_owner_can_change` for root alone: what root may execute."""
    return only_owner_can_change(path, 0)


def _compile(source: bytes, target: Path, static: bool) -> bool:
    """Compile `source` to `target` (mode 0755) through a file beside it; False when it cannot."""
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
            [compiler, "-O2", "-Wall", *(["-static"] if static else []), "-o", scratch, str(source_file)],
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
def _source(path: Path) -> tuple[bytes, str] | None:
    """A program's C source and its digest, read once per process (`launcher()` runs for every command)."""
    try:
        source = path.read_bytes()
    except OSError:
        return None
    return source, hashlib.sha256(source).hexdigest()[:16]


def built_program(source_path: Path, name: str, *, static: bool = False) -> Path | None:
    """The binary compiled from `source_path`, cached by its digest, that only root or this user can change;
    None where the source is missing, no compiler works, or no trusted place to keep it exists."""
    found_source = _source(source_path)
    if found_source is None:
        return None  # an installation without the source
    source, digest = found_source
    owner = os.geteuid()
    with _lock:
        key = f"{name}-{digest}"
        if key in _built:
            found = _built[key]
            return found if found is None or only_owner_can_change(found, owner) else None
        target = _cache_root() / key
        with contextlib.suppress(OSError):
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        trusted = only_owner_can_change(target.parent, owner)
        if not trusted:
            # The usual cache is shared with others (an odd XDG_CACHE_HOME): build into a folder of this process.
            private = tempfile.mkdtemp(prefix=f"{name}-")
            atexit.register(shutil.rmtree, private, ignore_errors=True)
            target = Path(private) / name
            trusted = only_owner_can_change(target.parent, owner)
        if trusted and not (target.exists() and only_owner_can_change(target, owner)):
            trusted = _compile(source, target, static) and only_owner_can_change(target, owner)
        _built[key] = target if trusted else None
        return _built[key]


def launcher() -> Path | None:
    """The trusted labgate-launch binary for this process, built on first use; None when labgate is not
    root, when it is switched off (`LABGATE_SANDBOX_LAUNCHER=0`) or when it cannot be built."""
    if os.geteuid() != 0 or os.environ.get("LABGATE_SANDBOX_LAUNCHER", "1") == "0":
        return None
    # Linked statically where a static C library is installed: the dynamic loader's work took 0.13 of the
    # launcher's 0.9 ms per command on the 2-core machine. Dynamically linked otherwise.
    return built_program(_SOURCE, "labgate-launch-static", static=True) or built_program(_SOURCE, "labgate-launch")
