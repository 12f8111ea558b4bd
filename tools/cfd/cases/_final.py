"""The figures and files every steady RANS/laminar case family produces the same way.

Residual history, the final velocity/pressure panels and the final fields as artifacts: written
once here so that each case family's analysis only adds what is specific to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tools._workload import OutputFile
from tools.cfd._draw import on_a_line
from tools.cfd._render import render_field_panels_tri, render_residuals, render_solution_panels
from tools.cfd.cases._solution import SolutionFields
from tools.cfd.openfoam._fields import (
    FieldFormatError,
    FloatArray,
    latest_time,
    read_cell_centres,
    read_internal_field,
)
from tools.cfd.openfoam._logs import SolverLog

# Wall-only fields (shear, y+) hold zeros inside the domain: their content lives on the patches.
WALL_FIELDS = frozenset({"wallShearStress", "yPlus"})


@dataclass(frozen=True)
class FinalState:
    time: float
    folder: Path
    centres: FloatArray
    velocity: FloatArray
    pressure: FloatArray


def plane_axes(centres: FloatArray) -> tuple[int, int]:
    """The two coordinate axes a case's cells spread over most, in order: the plane of a 2-D case,
    whichever it is (an axisymmetric case in x-z drawn in x-y would be a line, which no triangulation takes)."""
    spread = np.ptp(np.atleast_2d(centres)[:, :3], axis=0)
    first, second = sorted(int(axis) for axis in np.argsort(-spread, kind="stable")[:2])
    return first, second


def _residuals(
    case: Path, directory: Path, log: SolverLog, title: str
) -> tuple[Path, list[OutputFile], tuple[float, Path] | None]:
    """The figures folder, the residual history drawn in it (as the first output), and the latest time."""
    figures = directory / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    render_residuals(figures / "residuals.png", log, title=f"{title}: residual history")
    outputs = [OutputFile(path="figures/residuals.png", kind="image", role="residual-figure")]
    return figures, outputs, latest_time(case)


def residuals_and_fields(
    case: Path,
    directory: Path,
    log: SolverLog,
    title: str,
    *,
    fields: tuple[str, ...],
    velocity_scale: float,
    length_scale: float,
    **panel_options: Any,
) -> tuple[FinalState | None, list[OutputFile]]:
    """Draw the residual history and the final fields; list them and the final field files as outputs."""
    figures, outputs, latest = _residuals(case, directory, log, title)
    if latest is None:
        return None, outputs
    time, folder = latest
    centres = read_cell_centres(case, folder)
    velocity = read_internal_field(folder / "U", within=case, expected=len(centres))
    pressure = read_internal_field(folder / "p", within=case, expected=len(centres))
    across, up = plane_axes(centres)
    in_plane = velocity[:, [across, up, 3 - across - up]] if velocity.ndim == 2 and velocity.shape[1] == 3 else velocity
    render_field_panels_tri(
        figures / "fields.png",
        centres[:, across],
        centres[:, up],
        in_plane,
        pressure,
        title=f"{title}, iteration {time:g}",
        velocity_scale=velocity_scale,
        length_scale=length_scale,
        **panel_options,
    )
    outputs.append(OutputFile(path="figures/fields.png", kind="image", role="field-figure"))
    for name in fields:
        kind = "data" if name in WALL_FIELDS else "field"
        outputs.append(OutputFile(path=f"case/{folder.name}/{name}", kind=kind, role=f"field-{name}"))
    return FinalState(time, folder, centres, velocity, pressure), outputs


PROFILE_ROLE = "profile-figure"
"""The role of the solution figure of a case whose cells lie on a line (profiles, not a filled field:
the vision gate's blank-area check does not apply to it)."""
SOLUTION_ROLE = "solution-"
"""Role prefix of a user's case's solution fields (`solution-U`, `solution-T`): the deliverables gate
requires at least one (`solution-*`), whichever the solver solved."""


@dataclass(frozen=True)
class SolutionState:
    """The final fields of a user's case, whichever it solved."""

    time: float
    folder: Path
    centres: FloatArray
    solution: SolutionFields
    values: dict[str, FloatArray]


def solution_figure_and_fields(
    case: Path,
    directory: Path,
    log: SolverLog,
    title: str,
    *,
    fields_of: Any,
    velocity_scale: float,
) -> tuple[SolutionState | None, list[OutputFile]]:
    """Draw the residual history and the final solution fields of a user's case; list them as outputs.

    `fields_of(folder, solved)` chooses the solution fields (`CaseDefinition.solution_fields`).

    Raises:
        FieldFormatError: the final time holds no solution field, or one cannot be read."""
    figures, outputs, latest = _residuals(case, directory, log, title)
    if latest is None:
        return None, outputs
    time, folder = latest
    solution: SolutionFields | None = fields_of(folder, tuple(log.residuals))
    if solution is None:
        raise FieldFormatError(f"{folder} holds no field the solver solved (residuals of: {', '.join(log.residuals)})")
    centres = read_cell_centres(case, folder)
    values = {name: read_internal_field(folder / name, within=case, expected=len(centres)) for name in solution.names}
    across, up = plane_axes(centres)
    panels = [(name, values[name], name == solution.velocity) for name in solution.names]
    render_solution_panels(
        figures / "fields.png",
        centres[:, across],
        centres[:, up],
        [
            (name, data[:, [across, up, 3 - across - up]] if data.ndim == 2 and data.shape[1] == 3 else data, velocity)
            for name, data, velocity in panels
        ],
        title=f"{title}, t = {time:g}",
        velocity_scale=velocity_scale,
        axis_names=("xyz"[across], "xyz"[up]),
    )
    role = PROFILE_ROLE if on_a_line(centres[:, across], centres[:, up]) else "field-figure"
    outputs.append(OutputFile(path="figures/fields.png", kind="image", role=role))
    for name in solution.names:
        solved = name not in solution.given  # a field the solver only carried may be uniform
        role = f"{SOLUTION_ROLE}{name}" if solved else f"field-{name}"
        outputs.append(OutputFile(path=f"case/{folder.name}/{name}", kind="field", role=role, required=solved))
    outputs.append(OutputFile(path=f"case/{folder.name}/C", kind="field", role="field-C"))
    return SolutionState(time, folder, centres, solution, values), outputs
