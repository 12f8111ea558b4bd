"""Periodic-hill quantities against the DNS: lower-wall Cf (in-sample) and mean-velocity profiles (held out)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tools.cfd.cases._hill import HillParams
from tools.cfd.cases._reference import hill_cf_reference, hill_profile_reference
from tools.cfd.openfoam._fields import FieldFormatError, FloatArray, latest_time, read_cell_centres, read_internal_field
from tools.cfd.openfoam._wall import WallReading, separation_and_reattachment, wall_reading

WALL = "hills"


def hill_wall(case: Path, params: HillParams) -> WallReading:
    return wall_reading(case, WALL, nu=params.nu, speed=1.0)


def cf_rmse(x: FloatArray, cf: FloatArray) -> float:
    """RMSE of Cf against the DNS on the reference x-grid (the in-sample search metric)."""
    x_ref, cf_ref = hill_cf_reference()
    return float(np.sqrt(np.mean((np.interp(x_ref, x, cf) - cf_ref) ** 2)))


def bubble(x: FloatArray, cf: FloatArray) -> tuple[float | None, float | None]:
    return separation_and_reattachment(x, cf)


def velocity_profiles(case: Path, params: HillParams) -> tuple[dict[float, tuple[FloatArray, FloatArray]], str]:
    """u/Ub against y/h at the DNS stations, interpolated in x along each mesh row of the raw fields."""
    latest = latest_time(case)
    if latest is None:
        raise FieldFormatError(f"{case} has no time directory after 0: the solver wrote no result")
    _, folder = latest
    centres = read_cell_centres(case, folder)
    velocity = read_internal_field(folder / "U", within=case, expected=len(centres))
    ny, nx = params.cells_y, params.cells_x
    if len(centres) != nx * ny:
        raise FieldFormatError(f"{len(centres)} cells, expected {nx} x {ny} for this case")
    c = centres.reshape(ny, nx, 3)
    u = velocity.reshape(ny, nx, 3)
    profiles = {}
    for station in hill_profile_reference():
        ys = np.array([np.interp(station, c[j, :, 0], c[j, :, 1]) for j in range(ny)])
        us = np.array([np.interp(station, c[j, :, 0], u[j, :, 0]) for j in range(ny)])
        profiles[station] = (ys, us)
    return profiles, f"{folder.name}/U"


def profile_rmse(profiles: dict[float, tuple[FloatArray, FloatArray]]) -> tuple[float, dict[float, float]]:
    """RMSE of u/Ub against the DNS over all stations (and per station), on the DNS points inside the RANS range."""
    reference = hill_profile_reference()
    errors: list[FloatArray] = []
    per_station = {}
    for station, (y_ref, u_ref) in reference.items():
        ys, us = profiles[station]
        inside = (y_ref >= ys.min()) & (y_ref <= ys.max())
        error = np.interp(y_ref[inside], ys, us) - u_ref[inside]
        per_station[station] = float(np.sqrt(np.mean(error**2)))
        errors.append(error)
    joined = np.concatenate(errors)
    return float(np.sqrt(np.mean(joined**2))), per_station
