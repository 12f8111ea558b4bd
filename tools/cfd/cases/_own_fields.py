"""Which fields a user's case brings, as against those labgate's post-processing writes into it.

OpenFOAM's writeCellCentres and writeCellVolumes name their output `C` (`Cx`, `Cy`, `Cz`) and `V`
whatever the case calls its own fields, so labgate must know when a case already has a field of one of
those names (financialFoam solves for `V`) before it adds them.
"""

from __future__ import annotations

import re
from pathlib import Path

from tools.cfd.openfoam._fields import time_directories

CENTRE_FIELDS = ("C", "Cx", "Cy", "Cz")
VOLUME_FIELD = "V"


def own_fields(case: Path) -> set[str]:
    """The names of the fields the case starts from (its first time directory, `.orig` copies restored),
    less the cell centres and volumes OpenFOAM's own utilities wrote there (a user who ran
    `postProcess -func writeCellCentres` keeps a `0/C`; that is not a field of theirs)."""
    times = time_directories(case)
    if not times:
        return set()
    folder = times[0][1]
    found = set()
    for entry in folder.iterdir():
        if not entry.is_file() or entry.is_symlink() or entry.name.endswith((".orig", ".orig.gz")):
            continue
        name = entry.name.removesuffix(".gz")
        if name not in _GEOMETRY_HEADERS or not _is_geometry(entry, name):
            found.add(name)
    return found


_GEOMETRY_HEADERS = {
    **{name: ("volScalarField", "[0 1 0 0 0 0 0]") for name in ("Cx", "Cy", "Cz")},
    "C": ("volVectorField", "[0 1 0 0 0 0 0]"),
    "V": ("volScalarField", "[0 3 0 0 0 0 0]"),
}
_CLASS = re.compile(rb"^\s*class\s+(\w+)\s*;", re.MULTILINE)
FIELD_HEAD_BYTES = 4096
"""What a field file's header fits in: the class and dimensions come before any value."""
_DIMENSIONS = re.compile(rb"^\s*dimensions\s+(\[[^\]]*\])\s*;", re.MULTILINE)


def field_class(head: bytes) -> str | None:
    """The `class` a field file's header declares (`volVectorField`, `surfaceScalarField`...), or None."""
    found = _CLASS.search(head)
    return found.group(1).decode(errors="replace") if found is not None else None


def _is_geometry(path: Path, name: str) -> bool:
    """Whether field file `path` is cell centres or volumes as writeCellCentres/-Volumes write them."""
    with path.open("rb") as handle:
        head = handle.read(FIELD_HEAD_BYTES)
    kind, dimensions = field_class(head), _DIMENSIONS.search(head)
    if kind is None or dimensions is None:
        return False
    spaced = b" ".join(dimensions.group(1).strip(b"[]").split())
    return (kind, f"[{spaced.decode(errors='replace')}]") == _GEOMETRY_HEADERS[name]
