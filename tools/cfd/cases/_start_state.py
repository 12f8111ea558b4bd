"""Start fields given cell by cell: values only the original mesh can take, and where a planted result can hide.

A user case starts from its first time folder. Where a field there is `uniform` (or made by `setFields` from
a `setFieldsDict`, which labgate runs on every mesh it builds), labgate can put the same start on any mesh.
Where it is `nonuniform` the case brings one value per cell of its own mesh: an earlier run's output, a
field computed elsewhere, or one written by hand. A red-team pass planted the converged fields of a cavity
in a folder `3/` with `endTime 3.02`: four solver steps, a clean log, a reproduction that matched cell by
cell. What stopped it was only that `refineMesh` does not carry start fields to the finer mesh, so the mesh
gate's run died on a size mismatch. That is now a rule with its own reason (`refusal`): a refined run
refuses to start from fields given cell by cell, naming them, before any tool runs.

Hand-run tutorials that keep `T.orig` for their Allrun (`cp 0/T.orig 0/T; setFields`) leave `0/T`
nonuniform after setFields; where the original is uniform and the case has a `setFieldsDict`, labgate
starts from the original and runs setFields itself (`start_from_originals`), as the Allrun would.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from tools.cfd.openfoam._fields import FieldFormatError, field_text, read_field_text, without_comments

_INTERNAL_KIND = re.compile(r"\binternalField\s+([^\s;]+)")
"""The first word of every internalField entry: only `uniform` shows a value any mesh can take (a `$macro`
or a directive there may stand for a list)."""
_DIRECTIVE = re.compile(r"#(\w+)\s*(\"[^\"]*\")?")
_OPTIONAL_INCLUDES = ("includeIfPresent", "sinclude")
_HARMLESS = ("inputMode", "remove")
"""Directives that bring no values into the file; any other (an unknown one included) cannot be shown not to."""
_MAX_INCLUDE_DEPTH = 4


def _field_names(start: Path) -> list[str]:
    """The field files of a start folder, by the name OpenFOAM reads (`U` for `U.gz`); originals excluded."""
    names = set()
    for path in start.iterdir():
        if path.is_symlink() or not path.is_file() or path.name.endswith((".orig", ".orig.gz")):
            continue
        names.add(path.name.removesuffix(".gz"))
    return sorted(names)


def _given_cell_by_cell(path: Path, within: Path, depth: int = 0) -> bool:
    """Whether the field at `path` (or `path.gz`) may give its internal field as a list, here or in a file it
    includes (OpenFOAM takes the last of two entries, so an included one counts wherever it lies). What
    cannot be read or followed counts as given: it cannot be shown uniform. `#includeEtc` reads
    OpenFOAM's installed files, which hold no fields of a case."""
    try:
        text = without_comments(read_field_text(path, within=within))
    except (FieldFormatError, OSError):
        return True
    if any(kind.lower() != "uniform" for kind in _INTERNAL_KIND.findall(field_text(text))):
        return True
    for directive, target in _DIRECTIVE.findall(text):
        if directive in _HARMLESS or directive == "includeEtc":
            continue
        if directive != "include" and directive not in _OPTIONAL_INCLUDES:
            return True  # `#includeFunc`, `#eval`, one this version does not know: nothing shows it uniform
        name = target.strip('"')
        if depth >= _MAX_INCLUDE_DEPTH or not name or "$" in name or name.startswith("/"):
            return True
        included = path.parent / name
        if not included.exists() and directive in _OPTIONAL_INCLUDES:
            continue
        if _given_cell_by_cell(included, within, depth + 1):
            return True
    return False


def given_start_fields(case: Path, start: Path) -> list[str]:
    """The fields of the start folder `start` of `case` given cell by cell (see the module doc)."""
    return [name for name in _field_names(start) if _given_cell_by_cell(start / name, case)]


def start_from_originals(case: Path, start: Path) -> list[str]:
    """Where the case has a `setFieldsDict`, replace each field given cell by cell whose `.orig` is uniform by
    that original (setFields will rewrite it on the mesh labgate builds); returns the fields replaced."""
    if not (case / "system" / "setFieldsDict").is_file():
        return []
    replaced = []
    for name in given_start_fields(case, start):
        for suffix in ("", ".gz"):
            original = start / f"{name}.orig{suffix}"
            if original.is_symlink() or not original.is_file() or _given_cell_by_cell(start / f"{name}.orig", case):
                continue
            for stale in (start / name, start / f"{name}.gz"):
                stale.unlink(missing_ok=True)
            shutil.copyfile(original, start / f"{name}{suffix}")
            replaced.append(name)
            break
    return replaced


def refusal(start: Path, given: list[str]) -> str:
    """Why a run on a finer mesh than the case's own cannot start from `given` fields of `start`."""
    return (
        f"the case starts from fields given cell by cell in {start.name}/ ({', '.join(given)}: "
        "internalField nonuniform): they hold one value per cell of the original mesh, so no finer mesh can "
        "start from them and mesh independence cannot be shown; a result reached from given fields may be "
        "little more than those fields. Start the case from uniform fields (labgate runs topoSet and setFields "
        "on each mesh when the case has their dictionaries)"
    )
