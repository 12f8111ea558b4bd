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

from tools.cfd.openfoam._fields import FieldFormatError, FloatArray, parse_internal_field, read_output_text
from tools.cfd.openfoam._foamread import FoamParseError, parse_foam_dict

_HEADER = re.compile(r"FoamFile\s*\{.*?\}", re.DOTALL)
_LIST_HEAD = re.compile(r"(\d+)\s*\(")


@dataclass(frozen=True)
class PatchInfo:
    name: str
    kind: str
    start: int
    size: int


def mesh_patches(case: Path) -> dict[str, PatchInfo]:
    path = case / "constant" / "polyMesh" / "boundary"
    text = _HEADER.sub("", read_output_text(path, within=case), count=1)
    text = re.sub(r"//[^\n]*", "", text)
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
    text = _HEADER.sub("", read_output_text(path, within=within), count=1)
    text = re.sub(r"//[^\n]*", "", text)
    head = _LIST_HEAD.search(text)
    if head is None:
        raise FieldFormatError(f"{path}: no list found")
    count = int(head.group(1))
    body = text[head.end() : text.index(")", head.end())]
    values = np.array(body.split(), dtype=np.int64)
    if values.size != count:
        raise FieldFormatError(f"{path}: expected {count} labels, found {values.size}")
    return values


def patch_cells(case: Path, patch: str) -> NDArray[np.int64]:
    """Index of the cell owning each face of the patch, in the patch's face order."""
    patches = mesh_patches(case)
    if patch not in patches:
        raise FieldFormatError(f"the mesh has no patch {patch!r} (patches: {', '.join(patches)})")
    info = patches[patch]
    owner = read_label_list(case / "constant" / "polyMesh" / "owner", within=case)
    return owner[info.start : info.start + info.size]


def read_patch_field(
    path: Path, patch: str, n_faces: int | None = None, *, within: Path | None = None, expected: int | None = None
) -> FloatArray:
    """The `value` of one patch in a field file, as an (n,) or (n, k) array (no link below `within` followed).

    `expected`: the patch's face count (`patch_face_count`) when the caller knows it; a value list of
    another length is then an error naming the file, rather than values judged as the patch's.
    """
    text = read_output_text(path, within=within)
    boundary = text.find("boundaryField")
    match = re.search(r"\b" + re.escape(patch) + r"\s*\{", text[boundary:]) if boundary >= 0 else None
    if match is None:
        raise FieldFormatError(f"{path} has no boundary entry for patch {patch!r}")
    block_start = boundary + match.end()
    value_at = text.find("value", block_start)
    if value_at < 0 or value_at > text.find("}", block_start):
        raise FieldFormatError(f"{path}: patch {patch!r} carries no value")
    snippet = "internalField " + text[value_at + len("value") :]
    return parse_internal_field(snippet, f"{path} (patch {patch})", n_faces, expected=expected)


def patch_face_count(case: Path, patch: str) -> int:
    """The number of faces of `patch`, from `constant/polyMesh/boundary`'s nFaces."""
    patches = mesh_patches(case)
    if patch not in patches:
        raise FieldFormatError(f"the mesh has no patch {patch!r} (patches: {', '.join(patches)})")
    return patches[patch].size
