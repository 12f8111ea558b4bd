"""Whether two runs of a user's case are runs of the same case, and how far their fields lie apart.

Shared by the mesh gate's two comparisons: the finer run against the original, and, for a case the user
ran (`agent check --rerun`), the case re-run as given against the results in the folder. The folder's
results are the user's files: a coarse result replaced by a finer run's, interpolated, reads as
unchanged on the finer mesh, so they count only when the case, re-run as given, computes them.
"""

from __future__ import annotations

import gzip
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from runs import ExperimentSpec
from tools import ExperimentOutcome
from tools.cfd import (
    DERIVED_FIELDS,
    FIELD_HEAD_BYTES,
    VELOCITY,
    CaseDefinition,
    FieldFormatError,
    field_class,
    latest_time,
    mesh_cell_count,
    read_internal_field,
)
from verifiers._gate import GateContext
from verifiers.cfd._field_change import FieldChange, above_minimum, field_change
from verifiers.cfd._solver_log import finished_run_problem

REPRODUCED = 0.01
"""The largest RMS change of a field between the folder's results and the case re-run as given: the same
solver on the same mesh repeats its answer to its solvers' tolerances (a run decomposed in parallel
differs in the last digits)."""
REPRODUCED_CELL = 0.05
"""The largest change of any one cell, over the field's RMS, between the folder's results and the re-run: the
same solver on the same mesh repeats each cell to its solvers' tolerances too, and a whole-mesh RMS alone let
one cell of a large mesh move by several times the field's RMS (where a user's reference point may sit)."""
TIME_SLACK = 1e-6
"""How far apart (relatively) the folder's latest time and the re-run's may be and still be one time."""

_CELL_FIELDS = ("C", "U", "p", "p_rgh", "T")
"""Fields whose length is the cell count, where the mesh carries no note of it (a mesh written by an old
version, as in the airFoil2D tutorial): labgate's own cell centres first."""


def solved_cells(case: Path) -> int | None:
    """The cell count of the mesh the latest fields were solved on (`mesh_folder`), not merely of
    `constant/polyMesh`: a case solving on a mesh kept in a time folder never saw a refinement there.
    Without the mesh's note, the length of the first nonuniform cell field of the latest time."""
    latest = latest_time(case)
    noted = mesh_cell_count(case, latest[1] if latest is not None else None)
    if noted is not None or latest is None:
        return noted
    for name in _CELL_FIELDS:
        try:
            return len(read_internal_field(latest[1] / name, within=case))
        except FieldFormatError:
            continue
    return None


def inputs_changed(original: dict[str, Any], refined: dict[str, Any], *, required: bool) -> str | None:
    """Why the refined run did not run the original's case, when the two runs' copies of a user's case
    differ in their inputs (`tools.cfd.cases._case_inputs`): the folder changed between the runs."""
    first, second = original.get("inputs_digest"), refined.get("inputs_digest")
    if first is None and second is None and not required:
        return None
    if first is None or second is None:
        return "the runs do not both record the case they ran: whether the refined run ran the same one cannot be told"
    if first != second:
        return (
            "the case's files (or its reference data) changed between the original run and the refined one: "
            "the finer run is of another case, and says nothing about this one's mesh"
        )
    return None


def field_changes(definition: CaseDefinition[Any], original: Path, refined: Path) -> list[FieldChange] | str:
    """The change of every field the family compares (`mesh_fields`), or why one cannot be told."""
    names = definition.mesh_fields(original)
    if not names:
        return "the original run has no solution field to compare"
    before, after = solved_cells(original), solved_cells(refined)
    if before is None or after is None:
        return "a mesh does not say how many cells it has"
    changes = []
    for name in names:
        found = field_change(original, refined, name, (before, after))
        if isinstance(found, str):
            return found
        changes.append(found)
    return changes


def field_line(found: FieldChange, tolerance: float) -> str:
    where = ", ".join(f"{value:.3g}" for value in found.where)
    region = f" in the worst of {found.regions} unconnected regions ({found.cells} cells)" if found.regions > 1 else ""
    return (
        f"{found.field} field: {100 * found.change:.2f} % RMS change cell by cell{region} (largest "
        f"{100 * found.worst:.1f} % near ({where})), tolerance {100 * tolerance:g} %"
    )


@dataclass(frozen=True)
class Reproduction:
    """The case re-run as given (into `reproduce/`), and whether it computes the folder's results."""

    problem: str | None
    """Why the folder's results are not what the case computes; None when every field reproduced."""
    change: float
    """The largest RMS change of a field, folder against re-run (0 where none was compared)."""
    spec: ExperimentSpec
    outcome: ExperimentOutcome
    """The re-run's outcome; its files lie under `directory`."""
    directory: Path
    fields: tuple[str, ...] = ()
    """The fields compared cell by cell."""


def cell_fields(time_directory: Path) -> list[str]:
    """The volume fields (one value per cell) a time directory holds, less those labgate's own post-processing
    writes: the solver's fields, and any a function object of the case wrote beside them. Files that are no
    OpenFOAM field at all (no header, or a dictionary) are listed too: a gate or a reference could read one by
    its name, and only the re-run can say the case writes it (it cannot, as a volume field)."""
    names = []
    for entry in sorted(time_directory.iterdir()):
        if not entry.is_file() or entry.is_symlink():
            continue
        name = entry.name.removesuffix(".gz")
        if name in DERIVED_FIELDS:
            continue
        try:
            with gzip.open(entry) if entry.name.endswith(".gz") else entry.open("rb") as handle:
                head = handle.read(FIELD_HEAD_BYTES)
        except (OSError, EOFError):
            names.append(name)  # unreadable: listed, so that the comparison says so instead of skipping it
            continue
        kind = field_class(head) or ""
        if not kind.startswith(("surface", "point")):
            names.append(name)
    return names


def reproduction_problem(context: GateContext, definition: CaseDefinition[Any]) -> tuple[str | None, float]:
    """For results the user brought (an adopted case), why the case re-run as given (into `reproduce/`) does
    not compute them, or None; and the largest field change found. Other results were computed by labgate
    itself: (None, 0.0) without a run."""
    found = reproduce(context, definition)
    return (None, 0.0) if found is None else (found.problem, found.change)


def reproduce(context: GateContext, definition: CaseDefinition[Any]) -> Reproduction | None:
    """The case the user brought re-run as given, compared field by field with the results in its folder.

    None for results labgate computed itself, or where no new run is allowed. Every volume field the folder's
    latest time holds is compared, not only those the mesh comparison reads: a gate may read any of them (a
    user's reference names a pressure, a temperature), and one written by hand beside a reproduced velocity
    was read as the case's. A field the re-run does not write is not a result of the case.
    """
    if not context.outcome.info.get("adopted") or context.rerun is None:
        return None
    spec = ExperimentSpec(
        key=f"{context.experiment.key}-reproduce",
        task_id=context.experiment.task_id,
        params=dict(context.experiment.params),
        parent_key=context.experiment.key,
        rationale="the case re-run as given: do the results in its folder reproduce?",
    )
    directory = context.directory / "reproduce"
    outcome = context.rerun(spec, directory)

    def failed(problem: str, change: float = 0.0) -> Reproduction:
        return Reproduction(problem, change, spec, outcome, directory)

    if outcome.status != "completed":
        return failed(
            f"the case re-run as given failed, so its results in the folder cannot be reproduced: {outcome.error}"
        )
    problem = inputs_changed(context.outcome.info, outcome.info, required=definition.user_mesh) or finished_run_problem(
        directory, outcome
    )
    if problem is not None:
        return failed(f"the case re-run as given: {problem}")
    original, again = context.path("case"), directory / "case"
    times = latest_time(original), latest_time(again)
    if times[0] is None or times[1] is None:
        return failed("the folder's results or the re-run's have no time after 0")
    if abs(times[0][0] - times[1][0]) > TIME_SLACK * max(abs(times[1][0]), 1e-300):
        return failed(
            f"the folder's results are at t = {times[0][1].name}, the case re-run as given ends at "
            f"t = {times[1][1].name}: they are not the results of this case as it stands"
        )
    cells = solved_cells(original), solved_cells(again)
    if cells[0] != cells[1]:
        return failed(f"the folder's results are on {cells[0]} cells, the case re-run as given meshes {cells[1]}")
    held = cell_fields(times[0][1])
    names = sorted({*held, *definition.mesh_fields(original), VELOCITY} - {"C"})
    written = set(cell_fields(times[1][1]))
    worst: tuple[float, str] = (0.0, "")
    for name in names:
        if name not in written:
            if name == VELOCITY and VELOCITY not in held:
                continue  # a case that solves no velocity (a scalar transported in a given one)
            return failed(
                f"the folder's results hold a field {name!r} that the case re-run as given does not write: "
                "it is not a result of this case"
            )
        found = same_mesh_changes(original, again, name, cells[0] or 0)
        if isinstance(found, str):
            return failed(f"whether the folder's results reproduce cannot be told: {found}")
        if found[1] > REPRODUCED_CELL:
            return failed(
                f"the results in the folder are not what its case computes: re-run as given, one cell of its {name} "
                f"differs by {100 * found[1]:.3g} % of the field's RMS (tolerance {100 * REPRODUCED_CELL:g} % in any "
                "cell)",
                found[0],
            )
        worst = max(worst, (found[0], name))
    if worst[0] > REPRODUCED:
        return failed(
            f"the results in the folder are not what its case computes: re-run as given, its {worst[1]} differs by "
            f"{100 * worst[0]:.2f} % RMS, cell by cell (tolerance {100 * REPRODUCED:g} %)",
            worst[0],
        )
    return Reproduction(None, worst[0], spec, outcome, directory, tuple(names))


def same_mesh_change(original: Path, again: Path, name: str, cells: int) -> float | str:
    """The RMS difference of field `name` between two runs on one mesh, over the original's RMS, each cell
    matched to the re-run's cell at the same centre (`C`; a renumbered mesh still matches), or why the two
    cannot be matched: a centre with no cell on it is another mesh."""
    found = same_mesh_changes(original, again, name, cells)
    return found if isinstance(found, str) else found[0]


def same_mesh_changes(original: Path, again: Path, name: str, cells: int) -> tuple[float, float] | str:
    """`same_mesh_change`, and the largest change of any one cell over the same RMS: an RMS over the whole
    mesh lets one cell of N move by about sqrt(N) times the tolerance (3x the field's RMS on 100k cells)."""
    from scipy.spatial import cKDTree

    values = []
    centres = []
    for case in (original, again):
        latest = latest_time(case)
        if latest is None:
            return f"{case.name} has no result"
        try:
            centres.append(read_internal_field(latest[1] / "C", within=case, expected=cells))
            field = read_internal_field(latest[1] / name, n_cells=cells, within=case, expected=cells)
        except FieldFormatError as error:
            return str(error)
        values.append(field.reshape(cells, -1))
    distance, match = cKDTree(centres[1]).query(centres[0])
    if cells > 1:
        # Within a quarter of the way to the nearest other centre: written centres are rounded (6 digits by
        # default), and the match must still be the cell itself, not a neighbour.
        spacing, _ = cKDTree(centres[0]).query(centres[0], k=2)
        if np.any(distance > 0.25 * spacing[:, 1]):
            return "the re-run's cells do not stand where the folder's do: another mesh"
    first, second = values[0], values[1][match]
    if first.shape[1] != second.shape[1] or not (np.isfinite(first).all() and np.isfinite(second).all()):
        return f"{name} differs in shape or is not finite"
    first, second = above_minimum(first, second)  # a scalar above its minimum, as the mesh comparison reads it
    size = float(np.sqrt(np.mean(np.sum(first**2, axis=1))))
    squares = np.sum((first - second) ** 2, axis=1)
    change, worst = float(np.sqrt(np.mean(squares))), float(np.sqrt(np.max(squares, initial=0.0)))
    if size > 0:
        return change / size, worst / size
    return (0.0, 0.0) if worst == 0 else (math.inf, math.inf)
