"""Centreline profiles of a cavity case, read two independent ways, and their error against Ghia.

`profiles_from_fields` interpolates the raw cell values the solver wrote; `profiles_from_samples`
reads OpenFOAM's own line sampling. The comparator gate trusts a metric only when both agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tools.cfd.cases._cavity import CavityParams
from tools.cfd.cases._reference import ReferenceProfile
from tools.cfd.openfoam._fields import (
    FieldFormatError,
    FloatArray,
    latest_time,
    numbered_directories,
    read_cell_centres,
    read_internal_field,
    read_xy,
)
from tools.cfd.openfoam._grid import structured_2d


@dataclass(frozen=True)
class Centrelines:
    """u/U along the vertical centreline (at y/L) and v/U along the horizontal one (at x/L)."""

    y: FloatArray
    u: FloatArray
    x: FloatArray
    v: FloatArray
    time: float
    source: str


def profiles_from_fields(case: Path, params: CavityParams) -> Centrelines:
    latest = latest_time(case)
    if latest is None:
        raise FieldFormatError(f"{case} has no time directory after 0: the solver wrote no result")
    time, directory = latest
    centres = read_cell_centres(case, directory)
    velocity = read_internal_field(directory / "U", within=case, expected=len(centres))
    xs, ys, grid = structured_2d(centres, velocity)
    length, lid = params.length, params.lid_velocity
    u_mid = np.array([np.interp(length / 2, xs, grid[j, :, 0]) for j in range(len(ys))])
    v_mid = np.array([np.interp(length / 2, ys, grid[:, i, 1]) for i in range(len(xs))])
    # The walls bound the profiles: no slip below and at the sides, the lid speed on top.
    y = np.concatenate([[0.0], ys / length, [1.0]])
    u = np.concatenate([[0.0], u_mid / lid, [1.0]])
    x = np.concatenate([[0.0], xs / length, [1.0]])
    v = np.concatenate([[0.0], v_mid / lid, [0.0]])
    return Centrelines(y=y, u=u, x=x, v=v, time=time, source=f"cell values in {directory.name}/U")


def profiles_from_samples(case: Path, params: CavityParams) -> Centrelines:
    root = case / "postProcessing" / "centrelines"
    times = numbered_directories(case, "postProcessing/centrelines")
    if not times:
        raise FieldFormatError(f"{root} holds no sampled time: the line sampling did not run")
    time, directory = times[-1]
    vertical = read_xy(directory / "vertical_U.xy", within=case)
    horizontal = read_xy(directory / "horizontal_U.xy", within=case)
    length, lid = params.length, params.lid_velocity
    return Centrelines(
        y=vertical[:, 0] / length,
        u=vertical[:, 1] / lid,
        x=horizontal[:, 0] / length,
        v=horizontal[:, 2] / lid,
        time=time,
        source=f"postProcessing/centrelines/{directory.name}",
    )


def profile_errors(coordinate: FloatArray, value: FloatArray, reference: ReferenceProfile) -> FloatArray:
    """Simulated minus reference at the scored reference points."""
    points = reference.coordinate[reference.used]
    simulated = np.interp(points, coordinate, value)
    return np.asarray(simulated - reference.value[reference.used], dtype=np.float64)


def ghia_metrics(lines: Centrelines, u_ref: ReferenceProfile, v_ref: ReferenceProfile) -> dict[str, float]:
    errors_u = profile_errors(lines.y, lines.u, u_ref)
    errors_v = profile_errors(lines.x, lines.v, v_ref)
    return {
        "rmse_u": float(np.sqrt(np.mean(errors_u**2))),
        "rmse_v": float(np.sqrt(np.mean(errors_v**2))),
        "max_abs_u": float(np.max(np.abs(errors_u))),
        "max_abs_v": float(np.max(np.abs(errors_v))),
        "points_u": float(errors_u.size),
        "points_v": float(errors_v.size),
    }


def reader_disagreement(a: Centrelines, b: Centrelines) -> float:
    """Largest difference between two readings of the same profiles, on a common grid."""
    grid = np.linspace(0.02, 0.98, 49)
    du = np.interp(grid, a.y, a.u) - np.interp(grid, b.y, b.u)
    dv = np.interp(grid, a.x, a.v) - np.interp(grid, b.x, b.v)
    return float(max(np.max(np.abs(du)), np.max(np.abs(dv))))
