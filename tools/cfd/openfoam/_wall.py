"""Wall quantities read two independent ways: OpenFOAM's wallShearStress output, and the raw cell values.

`wall_reading` returns both along one wall patch: the skin friction OpenFOAM wrote (reader A) and the
tangential velocity of the cell beside each wall face with its wall distance (reader B), from which
skin friction (for resolved walls) and the sign of the near-wall flow (for any wall treatment) follow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tools.cfd.openfoam._fields import (
    FieldFormatError,
    FloatArray,
    latest_time,
    mesh_folder,
    read_cell_centres,
    read_internal_field,
)
from tools.cfd.openfoam._patches import patch_cells, read_patch_field


@dataclass(frozen=True)
class WallReading:
    """Along one wall, sorted by x: both readers' skin friction and the near-wall flow."""

    x: FloatArray
    y: FloatArray
    cf_foam: FloatArray
    cf_cells: FloatArray
    tangential: FloatArray
    distance: FloatArray
    time: float
    files: tuple[str, ...]


def wall_reading(
    case: Path,
    patch: str,
    *,
    nu: float,
    speed: float,
    keep: Callable[[FloatArray, FloatArray], np.ndarray] | None = None,
) -> WallReading:
    """Skin friction along `patch` at the latest time: Cf = 2 tau_x / U^2 with tau the shear the fluid exerts.

    OpenFOAM's wallShearStress is the stress on the wall with the opposite sign convention, so
    Cf_foam = -2 tau_x / U^2. The cell reader uses Cf = 2 nu u_t / (d U^2), valid where the first cell
    lies in the viscous sublayer; its sign (the near-wall flow direction) is valid for any wall treatment.

    Scores and held-out checks read `cf_cells` (and `tangential`), never `cf_foam`: wallShearStress is
    computed in the solver's process from the turbulence model's effective viscosity, so a compiled model
    (a candidate's C++) can change it without changing the flow. A model edit that forced the eddy
    viscosity's wall values on the last iteration left the velocity byte-identical to plain SA and lowered
    the hill's Cf RMSE by 6 % (accepted by every gate then). `cf_cells` rests only on the velocity the
    solver computed and the viscosity the task sets; `cf_foam` stays as the second reader that must agree.
    `keep(x, y)` selects the wall faces to report (e.g. the floor behind a step).
    """
    latest = latest_time(case)
    if latest is None:
        raise FieldFormatError(f"{case} has no time directory after 0: the solver wrote no result")
    time, folder = latest
    cells = patch_cells(case, patch, folder)
    faces = read_patch_field(folder / "C", patch, within=case, expected=len(cells))
    shear = read_patch_field(folder / "wallShearStress", patch, within=case, expected=len(faces))
    centres = read_cell_centres(case, folder)
    velocity = read_internal_field(folder / "U", within=case, expected=len(centres))
    if len(cells) != len(faces):
        raise FieldFormatError(f"patch {patch!r}: {len(cells)} faces in the mesh but {len(faces)} in the fields")
    order = np.argsort(faces[:, 0], kind="stable")
    faces, shear, cells = faces[order], shear[order], cells[order]
    if keep is not None:
        selected = np.asarray(keep(faces[:, 0], faces[:, 1]), dtype=bool)
        faces, shear, cells = faces[selected], shear[selected], cells[selected]
    if len(faces) < 3:
        raise FieldFormatError(f"patch {patch!r} has fewer than 3 faces in the selected range")
    tangent = np.gradient(faces[:, :2], axis=0)
    tangent /= np.maximum(np.linalg.norm(tangent, axis=1), 1e-300)[:, None]
    tangent *= np.sign(tangent[:, :1] + 1e-300)
    offset = centres[cells, :2] - faces[:, :2]
    normal = offset - (offset * tangent).sum(axis=1)[:, None] * tangent
    distance = np.linalg.norm(normal, axis=1)
    tangential = (velocity[cells, :2] * tangent).sum(axis=1)
    tau_x = (shear[:, :2] * tangent).sum(axis=1)
    mesh = mesh_folder(case, folder).relative_to(case)
    files = (f"{folder.name}/C", f"{folder.name}/wallShearStress", f"{folder.name}/U", f"{mesh}/owner")
    return WallReading(
        x=faces[:, 0].copy(),
        y=faces[:, 1].copy(),
        cf_foam=-2.0 * tau_x / speed**2,
        cf_cells=2.0 * nu * tangential / np.maximum(distance, 1e-300) / speed**2,
        tangential=tangential,
        distance=distance,
        time=time,
        files=files,
    )


def zero_crossings(x: FloatArray, values: FloatArray) -> list[tuple[float, int]]:
    """Where `values` changes sign, linearly interpolated, with the direction (+1 rising, -1 falling)."""
    found = []
    for k in range(len(values) - 1):
        a, b = values[k], values[k + 1]
        if (a < 0 <= b) or (a >= 0 > b):
            where = x[k] - a * (x[k + 1] - x[k]) / (b - a) if b != a else x[k]
            found.append((float(where), 1 if b > a else -1))
    return found


def separation_and_reattachment(x: FloatArray, cf: FloatArray) -> tuple[float | None, float | None]:
    """First falling crossing (separation) and the first rising crossing after it (reattachment)."""
    crossings = zero_crossings(x, cf)
    separation = next((where for where, direction in crossings if direction < 0), None)
    if separation is None:
        return None, None
    reattachment = next((where for where, direction in crossings if direction > 0 and where > separation), None)
    return separation, reattachment
