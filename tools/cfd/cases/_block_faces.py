"""Which one-cell directions of a blockMeshDict's blocks are a 2-D case's thickness, and may stay one cell.

A block whose count is 1 in a direction is either the thickness of a 2-D (or axisymmetric) mesh, bounded
on both sides by `empty` (or `wedge`) faces, where refining would change nothing the solver computes; or a
direction of the flow meshed with a single cell, which a finer mesh must split like any other. Scaling
every count but the ones was a hole: a cavity meshed as 36 one-cell blocks beside a large stagnant box kept
its 36 cells on the "finer" mesh (only the box grew) and was accepted as mesh-independent, and a 3-D cube
meshed 20x20x1 between no-slip walls was never refined across its depth, where 10 cells moved its velocity
by 31 % RMS.

Faces are matched as blockMesh matches them: by the vertex labels of the block's hex (OpenFOAM's local
numbering, faces 0-5), against the faces each patch lists; a face no patch lists and no other block shares
goes to `defaultPatch`, whose type is `empty` unless the dictionary says otherwise.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from tools.cfd.openfoam._foamread import FoamParseError, parse_foam_dict

FLAT_PATCH_TYPES = frozenset({"empty", "wedge"})
"""Patch types across which a mesh has no extent to refine: the 2-D thickness, the axisymmetric wedge."""

_AXIS_FACES = (
    ((0, 4, 7, 3), (1, 2, 6, 5)),
    ((0, 1, 5, 4), (3, 7, 6, 2)),
    ((0, 3, 2, 1), (4, 5, 6, 7)),
)
"""The two faces of a hex across each of its local directions x1, x2, x3, as corners of the hex's labels."""

Face = frozenset[int]


def flat_directions(text: str) -> list[tuple[bool, bool, bool]] | None:
    """Per `hex` block of the dictionary, in order: whether each local direction lies between two flat faces
    (`FLAT_PATCH_TYPES`), so that a count of 1 there is a 2-D thickness. None when that cannot be told (the
    dictionary does not parse, a block's vertices or a patch's faces are not plain labels): the caller then
    refines the mesh another way."""
    try:
        entries = parse_foam_dict(text)
    except FoamParseError:
        return None
    blocks = _block_vertices(entries.get("blocks"))
    types = _patch_face_types(entries)
    default = entries.get("defaultPatch")
    default_type = default.get("type", "empty") if isinstance(default, dict) else "empty"
    if blocks is None or types is None or not isinstance(default_type, str):
        return None
    shared = Counter(face for vertices in blocks for pair in _AXIS_FACES for face in _faces(vertices, pair))

    def flat(face: Face) -> bool:
        if shared[face] > 1:  # between two blocks: inside the mesh
            return False
        return types.get(face, default_type) in FLAT_PATCH_TYPES

    found: list[tuple[bool, bool, bool]] = []
    for vertices in blocks:
        x1, x2, x3 = (all(flat(face) for face in _faces(vertices, pair)) for pair in _AXIS_FACES)
        found.append((x1, x2, x3))
    return found


def _faces(vertices: tuple[int, ...], pair: tuple[tuple[int, ...], tuple[int, ...]]) -> tuple[Face, Face]:
    first, second = pair
    return frozenset(vertices[i] for i in first), frozenset(vertices[i] for i in second)


def _labels(value: Any, count: int | None = None) -> tuple[int, ...] | None:
    if not isinstance(value, list) or (count is not None and len(value) != count):
        return None
    if not all(isinstance(item, str) and item.isascii() and item.isdigit() for item in value):
        return None
    return tuple(int(item) for item in value)


def _block_vertices(blocks: Any) -> list[tuple[int, ...]] | None:
    """The eight vertex labels of each `hex` in `blocks`, in order; None where one is not eight labels."""
    if not isinstance(blocks, list):
        return None
    found: list[tuple[int, ...]] = []
    for at, item in enumerate(blocks):
        if item != "hex":
            continue
        vertices = _labels(blocks[at + 1] if at + 1 < len(blocks) else None, 8)
        if vertices is None:
            return None
        found.append(vertices)
    return found


def _patch_face_types(entries: dict[str, Any]) -> dict[Face, str] | None:
    """Each listed boundary face's patch type, from `boundary` (name { type; faces; }) or the older
    `patches` (type name (faces)); None where a face is not four plain labels (a block-face pair, a macro)."""
    listed: list[tuple[Any, Any]] = []
    boundary = entries.get("boundary")
    if isinstance(boundary, list):
        for item in boundary:
            if isinstance(item, dict):
                listed.append((item.get("type"), item.get("faces", [])))
    patches = entries.get("patches")
    if isinstance(patches, list):
        if len(patches) % 3:
            return None
        listed += [(patches[at], patches[at + 2]) for at in range(0, len(patches), 3)]
    elif patches is not None or (boundary is not None and not isinstance(boundary, list)):
        return None
    types: dict[Face, str] = {}
    for kind, faces in listed:
        if not isinstance(kind, str) or not isinstance(faces, list):
            return None
        for face in faces:
            labels = _labels(face, 4)
            if labels is None:
                return None
            types[frozenset(labels)] = kind
    return types
