"""Which libraries a user's case may ask OpenFOAM to load: OpenFOAM's own, installed, named plainly.

A `libs (...)` entry makes OpenFOAM `dlopen` each name when it reads the dictionary (function objects,
fvOptions, dynamic meshes, boundary conditions of optional libraries). Stock tutorials use it for
OpenFOAM's own libraries (`sampling`, `fieldFunctionObjects`, `overset`, ...), so refusing every `libs`
refused one stock case in nine. What must never load is code the case brings: a path, a variable such
as `$FOAM_CASE`, or a name no installed OpenFOAM library answers to. A name is accepted only when it
resolves to a library in OpenFOAM's library folder that is OpenFOAM's (it is `libOpenFOAM.so` or links
against it); a case's own library is refused anyway by its content, whatever its name.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

OPENFOAM_LIBRARIES = Path("/usr/lib")
"""Where Debian's `libopenfoam` installs OpenFOAM's libraries (the folder the solvers link from)."""

_PLAIN_NAME = re.compile(r"(?:lib)?(?P<stem>[A-Za-z0-9_]+)(?:\.so)?")
_ELF = b"\x7fELF"
_CORE = b"libOpenFOAM.so"
_MAX_LIBRARY_BYTES = 512 << 20


def library_file(name: str) -> str | None:
    """The file OpenFOAM opens for `name` (`sampling`, `libsampling.so`, `"libsampling.so"` all give
    `libsampling.so`), or None when `name` is not a plain library name (a path, a variable, a version)."""
    match = _PLAIN_NAME.fullmatch(name.strip().strip('"'))
    return f"lib{match.group('stem')}.so" if match else None


def installed_library(name: str, folder: Path = OPENFOAM_LIBRARIES) -> str | None:
    """`library_file(name)` when that file is one of OpenFOAM's installed libraries, else None."""
    file_name = library_file(name)
    if file_name is None:
        return None
    path = folder / file_name
    try:
        stat = path.stat()
    except OSError:
        return None
    return file_name if _is_openfoam_library(str(path), stat.st_size, stat.st_mtime_ns) else None


@functools.lru_cache(maxsize=256)
def _is_openfoam_library(path: str, size: int, modified: int) -> bool:
    """An ELF file that is OpenFOAM's core library or names it among the libraries it needs.

    `size` and `modified` are part of the cache key, so a library replaced on disk is read again."""
    del modified
    if size > _MAX_LIBRARY_BYTES:
        return False
    try:
        data = Path(path).read_bytes()
    except OSError:
        return False
    return data.startswith(_ELF) and (Path(path).name == _CORE.decode() or _CORE + b"\x00" in data)


def refused_library_names(names: list[str], folder: Path = OPENFOAM_LIBRARIES) -> list[str]:
    """The names of `names` that are not installed OpenFOAM libraries named plainly."""
    return [name for name in names if installed_library(name, folder) is None]
