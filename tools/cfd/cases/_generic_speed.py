"""The reference speed of a user's case: the largest speed OpenFOAM imposes on the mesh that ran.

The physical-range gate bounds |U| by a multiple of this speed, so a value that OpenFOAM never applies
must not count: a `0/U` entry naming a patch the mesh does not have, a patch with no faces, a `value`
that a boundary condition only starts from (zeroGradient, flowRateInletVelocity...). Entries are
matched to the mesh's patches as OpenFOAM matches them (`GeometricBoundaryField::readField`): plain
keys naming the patch first, then plain keys naming one of its groups (`inGroups`, the last entry
winning), then keys written in quotes, which OpenFOAM takes as regular expressions (one spelling the
name exactly, else the last one matching in full); `empty` patches hold no values. Everything is read
from the run's own copy of the case, after meshing, never from the user's folder.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runs import LabgateError
from tools.cfd.cases._solution import is_velocity
from tools.cfd.openfoam._foamread import (
    FoamParseError,
    UnreadPatternError,
    _tokens,  # the tokenizer itself: only it knows which keys were written in quotes (patterns)
    foam_pattern,
    read_foam_dict,
    read_foam_text,
)

FALLBACK_SPEED = 1.0
"""m/s, when nothing imposes a speed (a case driven by a body force or a pressure drop)."""

_IMPOSED: dict[str, tuple[str, ...]] = {
    "fixedValue": ("value",),
    "movingWallVelocity": ("value",),
    "uniformFixedValue": ("uniformValue",),
    "freestream": ("freestreamValue",),
    "freestreamVelocity": ("freestreamValue",),
    "inletOutlet": ("inletValue",),
    "outletInlet": ("outletValue",),
    "uniformInletOutlet": ("uniformInletValue",),
}
"""The boundary conditions whose entry states the velocity OpenFOAM applies, and which entry. Any other
type imposes nothing labgate can read without OpenFOAM (zero, a flow rate, a profile) or recomputes its
`value` (flowRateInletVelocity, rotatingWallVelocity...): a `value uniform (1e30 0 0)` there is only a
starting value and would otherwise let any velocity field pass as in range."""


@dataclass(frozen=True)
class ImposedSpeed:
    speed: float
    basis: str
    """How the speed was found, for the verdict: the patch, the internal field, or why it fell back."""


@dataclass(frozen=True)
class _Patch:
    name: str
    kind: str
    faces: int
    groups: frozenset[str]


class MeshPatchError(LabgateError, ValueError):
    """The mesh's patch list (`constant/polyMesh/boundary`) cannot be read."""


def _velocity_file(folder: Path) -> str:
    """`U`, or where the case has none the first phase velocity `U.<phase>` of `folder`."""
    if (folder / "U").exists() or (folder / "U.gz").exists():
        return "U"
    try:
        phases = sorted(entry.name for entry in folder.iterdir() if entry.name != "U" and is_velocity(entry.name))
    except OSError:
        return "U"
    return phases[0] if phases else "U"


def imposed_speed(case: Path) -> ImposedSpeed:
    """The largest finite speed `case/0/U` imposes on the patches of `case/constant/polyMesh/boundary`,
    or its uniform internal field; FALLBACK_SPEED when none. When the mesh cannot be read no boundary
    value is trusted (only the internal field counts) and the basis says so. A case with no `0/U` but
    phase velocities (`0/U.air`, the Euler multiphase solvers) is read from the first of those."""
    name = _velocity_file(case / "0")
    path = case / "0" / name
    try:
        text = read_foam_text(path, within=case)
        body = read_foam_dict(path, text=text)
    except FoamParseError as error:
        return ImposedSpeed(
            FALLBACK_SPEED, f"U_ref = {FALLBACK_SPEED:g} m/s: 0/{name} cannot be read ({error}); set u_ref"
        )
    internal = speed_of(body.get("internalField"))
    try:
        patches = mesh_boundary(case)
    except MeshPatchError as error:
        if internal > 0:
            return ImposedSpeed(
                internal, f"U_ref = {internal:.3g} m/s, the uniform internal field; no boundary value counted: {error}"
            )
        return ImposedSpeed(
            FALLBACK_SPEED, f"U_ref = {FALLBACK_SPEED:g} m/s: no boundary value counted ({error}); set u_ref"
        )
    boundary = body.get("boundaryField")
    try:
        entries = _entries(boundary if isinstance(boundary, dict) else {}, _quoted_keys(text))
    except UnreadPatternError as error:
        return ImposedSpeed(
            FALLBACK_SPEED, f"U_ref = {FALLBACK_SPEED:g} m/s: 0/{name} cannot be read ({error}); set u_ref"
        )
    best, where = internal, "the uniform internal field"
    for patch in patches:
        if patch.faces <= 0 or patch.kind == "empty":
            continue
        entry = _entry_for(patch, entries)
        if entry is None:
            continue
        for key in _IMPOSED.get(str(entry.get("type")), ()):
            speed = speed_of(entry.get(key))
            if speed > best:
                best, where = speed, f"patch {patch.name} ({entry.get('type')} {key})"
    if best > 0:
        return ImposedSpeed(best, f"U_ref = {best:.3g} m/s, the largest speed 0/{name} imposes on the mesh: {where}")
    reason = f"U_ref = {FALLBACK_SPEED:g} m/s: 0/{name} imposes no speed on the mesh; set u_ref"
    return ImposedSpeed(FALLBACK_SPEED, reason)


def speed_of(value: Any) -> float:
    """|U| of an entry written `uniform (a b c)`, `constant (a b c)` or `(a b c)`; 0 for anything else, a
    non-finite value included."""
    if isinstance(value, list) and len(value) == 2 and value[0] in ("uniform", "constant"):
        value = value[1]
    if isinstance(value, list) and len(value) == 3:
        try:
            speed = math.hypot(*(float(v) for v in value))
        except (TypeError, ValueError):
            return 0.0
        # `inf` (or 1e200, whose norm overflows) would make every speed a vanishing fraction of it.
        return speed if math.isfinite(speed) else 0.0
    return 0.0


def mesh_boundary(case: Path) -> list[_Patch]:
    """The patches of `case/constant/polyMesh/boundary`, in order.

    Raises:
        MeshPatchError: the file is missing, refused or not a patch list.
    """
    path = case / "constant" / "polyMesh" / "boundary"
    try:
        body = read_foam_dict(path, within=case)
    except FoamParseError as error:
        raise MeshPatchError(f"the mesh's patches cannot be read: {error}") from None
    lists = [(key, value) for key, value in body.items() if key not in ("FoamFile", "#directives")]
    if len(lists) != 1 or not lists[0][0].isdigit() or not isinstance(lists[0][1], list):
        raise MeshPatchError(f"{path} is not a patch list")
    count, items = int(lists[0][0]), lists[0][1]
    if len(items) != 2 * count:
        raise MeshPatchError(f"{path} announces {count} patches but holds {len(items) // 2}")
    patches = []
    for name, entry in zip(items[::2], items[1::2], strict=True):
        if not isinstance(name, str) or not isinstance(entry, dict):
            raise MeshPatchError(f"{path} is not a patch list")
        try:
            faces = int(entry.get("nFaces", ""))
        except (TypeError, ValueError):
            raise MeshPatchError(f"{path}: patch {name} has no face count") from None
        patches.append(_Patch(name, str(entry.get("type", "")), faces, _groups(entry.get("inGroups"))))
    return patches


def _groups(value: Any) -> frozenset[str]:
    """`inGroups List<word> 2(wall top)` (or `2(wall top)`, `(wall top)`) as a set of names."""
    if isinstance(value, list) and value and isinstance(value[-1], list):
        value = value[-1]
    if not isinstance(value, list):
        return frozenset()
    return frozenset(item for item in value if isinstance(item, str))


@dataclass(frozen=True)
class _Entry:
    key: str
    pattern: re.Pattern[str] | None
    body: dict[str, Any]


def _entries(boundary: dict[str, Any], quoted: set[str]) -> list[_Entry]:
    """The boundaryField's dictionary entries in order; a key written in quotes is a pattern, even without a
    regular-expression character (`foam_pattern`, which refuses one it cannot match safely).

    Raises:
        UnreadPatternError: a quoted key is a pattern labgate does not evaluate.
    """
    entries = []
    for key, body in boundary.items():
        if key.startswith("#") or not isinstance(body, dict):
            continue
        pattern = foam_pattern(key) if key in quoted else None  # UnreadPatternError: no speed is trusted
        entries.append(_Entry(key, pattern, body))
    return entries


def _entry_for(patch: _Patch, entries: list[_Entry]) -> dict[str, Any] | None:
    """The entry OpenFOAM gives `patch`: a plain key naming it, else the last plain key naming one of its
    groups, else a pattern spelling its name (the dictionary's exact lookup), else the last pattern
    matching its name in full."""
    literal = [entry for entry in entries if entry.pattern is None]
    for entry in literal:
        if entry.key == patch.name:
            return entry.body
    for entry in reversed(literal):
        if entry.key in patch.groups:
            return entry.body
    patterns = [entry for entry in entries if entry.pattern is not None]
    for entry in patterns:
        if entry.key == patch.name:
            return entry.body
    for entry in reversed(patterns):
        if entry.pattern is not None and entry.pattern.fullmatch(patch.name):
            return entry.body
    return None


def _quoted_keys(text: str) -> set[str]:
    """Keys of the top-level `boundaryField` block written in quotes (what OpenFOAM takes as patterns); the
    parsed dictionary has lost the quotes."""
    tokens = _tokens(text)
    first: dict[str, bool] = {}
    depth, inside = 0, False
    for index, token in enumerate(tokens):
        if token in ("{", "("):
            if depth == 0 and token == "{":
                inside = index > 0 and tokens[index - 1] == "boundaryField"
            depth += 1
        elif token in ("}", ")"):
            depth -= 1
        elif depth == 1 and inside and tokens[index + 1 : index + 2] == ["{"]:
            # The first writing of a key decides: a later duplicate is merged into it, as OpenFOAM does.
            first.setdefault(token.strip('"'), token.startswith('"'))
    return {key for key, quoted in first.items() if quoted}
