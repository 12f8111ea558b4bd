"""Wall patches read from the mesh and field files: face centres, values and the cells beside them.

These let a gate compute wall quantities (shear stress, separation points) from the raw cell
values next to a wall, independently of OpenFOAM's own wallShearStress output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from tools.cfd.openfoam._fields import (
    FieldFormatError,
    FloatArray,
    field_text,
    mesh_folder,
    parse_internal_field,
    read_field_text,
    read_output_text,
    without_comments,
)
from tools.cfd.openfoam._foamread import FoamParseError, parse_foam_dict

_HEADER_START = re.compile(r"FoamFile\s*\{")


def _without_header(text: str) -> str:
    """`text` without its first `FoamFile { ... }` block (one that is never closed is left).

    Matched as a lazy regular expression, every unclosed `FoamFile{` was a scan to the end: 20,000 of them in a
    mesh's `boundary` took 12 s per read."""
    start = _HEADER_START.search(text)
    if start is None:
        return text
    close = text.find("}", start.end())
    return text if close < 0 else text[: start.start()] + text[close + 1 :]


_LIST_HEAD = re.compile(r"(?<!\d)(\d{1,12})\s*\(")
"""A label list's count and opening: `\\d+` tried every start of a long run of digits to its end (40,000: 37 s)."""
_BRACES = re.compile(r"[{}]")


@dataclass(frozen=True)
class PatchInfo:
    name: str
    kind: str
    start: int
    size: int


def mesh_patches(case: Path, folder: Path | None = None) -> dict[str, PatchInfo]:
    """The patches of the mesh the fields of `folder` (else the case's own mesh) live on (`mesh_folder`)."""
    path = mesh_folder(case, folder) / "boundary"
    # Both kinds of comment go before anything is looked for (a list in a `/* */` comment is none OpenFOAM reads).
    text = _without_header(without_comments(read_output_text(path, within=case)))
    if "(" not in text:
        raise FieldFormatError(f"{path}: no list of patches found")
    start = text.index("(")
    try:
        entries = parse_foam_dict(text[start + 1 : text.rindex(")")])
    except FoamParseError as error:
        raise FieldFormatError(f"{path}: {error}") from None
    patches = {}
    for name, body in entries.items():
        if isinstance(body, dict) and "startFace" in body:
            patches[name] = PatchInfo(name, str(body.get("type", "")), int(body["startFace"]), int(body["nFaces"]))
    return patches


def read_label_list(path: Path, *, within: Path | None = None) -> NDArray[np.int64]:
    """An ASCII label list (`owner`, `neighbour`), or its `.gz` as OpenFOAM reads it (`read_field_text`)."""
    # Block comments too: a made-up face list inside `/* */`, which OpenFOAM skips, was read as the mesh's
    # connectivity, and the mesh gate judged a cavity beside a converged channel as one region (accepted).
    text = _without_header(without_comments(read_field_text(path, within=within)))
    head = _LIST_HEAD.search(text)
    if head is None:
        raise FieldFormatError(f"{path}: no list found")
    count = int(head.group(1))
    body = text[head.end() : text.index(")", head.end())]
    values = np.array(body.split(), dtype=np.int64)
    if values.size != count:
        raise FieldFormatError(f"{path}: expected {count} labels, found {values.size}")
    return values


def patch_cells(case: Path, patch: str, folder: Path | None = None) -> NDArray[np.int64]:
    """Index of the cell owning each face of the patch, in the patch's face order (on `mesh_folder`'s mesh)."""
    patches = mesh_patches(case, folder)
    if patch not in patches:
        raise FieldFormatError(f"the mesh has no patch {patch!r} (patches: {', '.join(patches)})")
    info = patches[patch]
    owner = read_label_list(mesh_folder(case, folder) / "owner", within=case)
    return owner[info.start : info.start + info.size]


def read_patch_field(
    path: Path, patch: str, n_faces: int | None = None, *, within: Path | None = None, expected: int | None = None
) -> FloatArray:
    """The `value` of one patch in a field file, as an (n,) or (n, k) array (no link below `within` followed).

    `expected`: the patch's face count (`patch_face_count`) when the caller knows it; a value list of
    another length is then an error naming the file, rather than values judged as the patch's.
    """
    text = field_text(read_field_text(path, within=within))
    boundary = re.search(r"\bboundaryField\s*\{", text)
    entry = re.compile(r"(?<![\w.:-])" + re.escape(patch) + r"\s*\{")
    match = entry.search(text, boundary.end()) if boundary else None
    if boundary is None or match is None:
        raise FieldFormatError(f"{path} has no boundary entry for patch {patch!r}")
    block = text[match.end() : _closing_brace(text, match.end() - 1, path)]
    # `\bvalue\b` is not `valueFraction`; two entries (OpenFOAM reads the last) are refused, not read either way
    values = list(re.finditer(r"\bvalue\b", block))
    if not values:
        raise FieldFormatError(f"{path}: patch {patch!r} carries no value")
    if len(values) > 1:
        raise FieldFormatError(f"{path}: patch {patch!r} has {len(values)} value entries: ambiguous")
    snippet = "internalField " + block[values[0].end() :]
    return parse_internal_field(snippet, f"{path} (patch {patch})", n_faces, expected=expected)


_BOUNDARY = re.compile(r"\bboundaryField\s*\{")
_ENTRY = re.compile(r"([^\s{};]+)\s*\{")


def parse_boundary_values(text: str, path: str) -> dict[str, FloatArray]:
    """The `value` of every patch of a field file's text that carries one (a uniform value as one row);
    {} when the text has no boundaryField. What a range check reads beside the internal field: a value
    OpenFOAM wrote on a boundary is as much the solution as the cells'.

    Raises:
        FieldFormatError: a patch's value is unreadable, or given twice.
    """
    clean = field_text(text)
    boundary = _BOUNDARY.search(clean)
    if boundary is None:
        return {}
    end = _closing_brace(clean, boundary.end() - 1, Path(path))
    found: dict[str, FloatArray] = {}
    position = boundary.end()
    while (entry := _ENTRY.search(clean, position, end)) is not None:
        close = _closing_brace(clean, entry.end() - 1, Path(path))
        block = clean[entry.end() : close]
        values = list(re.finditer(r"\bvalue\b", block))
        if len(values) > 1:
            raise FieldFormatError(f"{path}: patch {entry.group(1)!r} has {len(values)} value entries: ambiguous")
        if values:
            snippet = "internalField " + block[values[0].end() :]
            found[entry.group(1)] = parse_internal_field(snippet, f"{path} (patch {entry.group(1)})", 1)
        position = close + 1
    return found


def _closing_brace(text: str, start: int, path: Path) -> int:
    """The index of the brace closing the one at `start` (in a text whose comments and strings are blanked)."""
    depth = 0
    for found in _BRACES.finditer(text, start):
        depth += 1 if found.group() == "{" else -1
        if depth == 0:
            return found.start()
    raise FieldFormatError(f"{path}: unbalanced braces: the file is truncated")


def patch_face_count(case: Path, patch: str, folder: Path | None = None) -> int:
    """The number of faces of `patch`, from the boundary file's nFaces (of `mesh_folder`'s mesh)."""
    patches = mesh_patches(case, folder)
    if patch not in patches:
        raise FieldFormatError(f"the mesh has no patch {patch!r} (patches: {', '.join(patches)})")
    return patches[patch].size
