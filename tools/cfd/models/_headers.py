"""Where the OpenFOAM v1912 headers are: `scripts/openfoam-headers` fetches Debian's source once, checks
its hash and extracts the folders a turbulence model includes into a cache; compiled models need them.
"""

from __future__ import annotations

import os
from pathlib import Path

from tools._workload import ToolUnavailableError

SOURCE_SHA256 = "c75ca0f04cc4f49708296c1926cbde9d0138b3fef298fed54270dfe29e2df404"
"""sha256 of openfoam_1912.200626.orig.tar.bz2, the source Debian bookworm built its openfoam from."""

INCLUDE_FOLDERS = (
    "OpenFOAM",
    "OSspecific/POSIX",
    "finiteVolume",
    "meshTools",
    "TurbulenceModels/turbulenceModels",
    "TurbulenceModels/incompressible",
    "transportModels/incompressible",
)


class HeadersUnavailableError(ToolUnavailableError):
    """The OpenFOAM headers are not in the cache: compiled turbulence models cannot be built."""


def headers_root() -> Path:
    """The cache folder the headers live in (it may not exist yet)."""
    explicit = os.environ.get("LABGATE_OPENFOAM_HEADERS")
    if explicit:
        return Path(explicit)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "labgate" / "openfoam-headers" / SOURCE_SHA256[:16]


def headers_available() -> bool:
    return (headers_root() / ".complete").is_file()


def require_headers() -> Path:
    """The headers' root, or a clear error saying how to get them."""
    root = headers_root()
    if not (root / ".complete").is_file():
        raise HeadersUnavailableError(
            f"OpenFOAM headers unavailable (no complete cache at {root}): compiled turbulence models need them; "
            "run scripts/openfoam-headers (network access to deb.debian.org, once) or scripts/setup"
        )
    return root


def include_flags(root: Path) -> list[str]:
    """g++ -I flags for the model's includes, in the order wmake would give them."""
    src = root / "src"
    flags = [f"-I{src / 'transportModels'}"]
    flags += [f"-I{src / folder / 'lnInclude'}" for folder in INCLUDE_FOLDERS]
    flags.append(f"-I{src / 'OpenFOAM' / 'include'}")
    return flags
