"""A user's reference data for their own case: a CSV of point values, compared by labgate's own reader.

The CSV has a header row and one row per point: `quantity,x,y,z,value,tolerance`. A profile is many
rows of one quantity; a scalar is one row. `quantity` is a field of the case's latest time (`p`, `k`,
`nut`...), a vector component (`Ux`, `Uy`, `Uz`) or a magnitude (`magU`). `tolerance` is absolute
(`0.01`) or relative to the reference value (`5%`). Lines starting with `#` are comments.

The simulated value at each point is interpolated linearly from the raw cell-centre field files
(`C` and the field itself, read by `tools.cfd.openfoam`), never from the solver's sampling output.
On a one-cell-thick (2-D) mesh the thin direction is ignored. A point outside the cell centres'
hull is an error: the reference does not describe this case.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from runs import LabgateError, UntrustedFileError, read_untrusted_path_text
from tools.cfd.cases._own_fields import CENTRE_FIELDS, FIELD_HEAD_BYTES, VOLUME_FIELD, field_class
from tools.cfd.cases._solution import SolutionFields
from tools.cfd.openfoam._fields import (
    FieldFormatError,
    FieldSizeError,
    FloatArray,
    mesh_cell_count,
    parse_internal_field,
    read_cell_centres,
    read_field_text,
    read_internal_field,
)

COLUMNS = ("quantity", "x", "y", "z", "value", "tolerance")
MAX_REFERENCE_BYTES = 8 << 20
_COMPONENT = {"x": 0, "y": 1, "z": 2}


class ReferenceFormatError(LabgateError, ValueError):
    """The reference CSV cannot be read: the message names the file, the line and what is wrong."""


@dataclass(frozen=True)
class ReferencePoint:
    quantity: str
    location: tuple[float, float, float]
    value: float
    tolerance: float
    """Absolute tolerance, or a fraction of |value| when `relative`."""
    relative: bool

    def allowed(self) -> float:
        return self.tolerance * abs(self.value) if self.relative else self.tolerance


def parse_reference(text: str, name: str) -> list[ReferencePoint]:
    """The points of a reference CSV's text; `name` only names the file in errors.

    Raises:
        ReferenceFormatError: a missing or wrong header, a row with the wrong number of columns,
            a non-numeric or non-finite number, a negative tolerance, or no row at all.
    """
    text = text.removeprefix("\ufeff")  # the byte-order mark spreadsheets write before a "CSV UTF-8" file
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise ReferenceFormatError(f"{name} holds no rows (expected the header {','.join(COLUMNS)})")
    rows = list(csv.reader(io.StringIO("\n".join(lines))))
    header = [cell.strip().lower() for cell in rows[0]]
    if header != list(COLUMNS):
        raise ReferenceFormatError(f"{name}: the header must be {','.join(COLUMNS)}, not {','.join(rows[0])}")
    points: list[ReferencePoint] = []
    seen: dict[tuple[str, float, float, float], int] = {}
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(COLUMNS):
            raise ReferenceFormatError(f"{name} row {number}: {len(row)} columns, expected {len(COLUMNS)}")
        quantity = row[0].strip()
        if not quantity or not all(char.isascii() and (char.isalnum() or char == "_") for char in quantity):
            raise ReferenceFormatError(f"{name} row {number}: {quantity!r} is not a field name (e.g. Ux, magU, p)")
        if quantity in _GEOMETRY_QUANTITIES:
            # labgate writes these itself from the mesh: compared, they agree with any reference placed at the
            # cell centres, and as the mesh gate's monitor they never change.
            raise ReferenceFormatError(
                f"{name} row {number}: {quantity!r} is the mesh's geometry (cell centres or volumes), not a result "
                "of the case; compare a field the case computes (e.g. Ux, magU, p)"
            )
        try:
            x, y, z, value = (_decimal(cell) for cell in row[1:5])
            raw = row[5].strip()
            relative = raw.endswith("%")
            tolerance = _decimal(raw.removesuffix("%")) / (100 if relative else 1)
        except ValueError:
            raise ReferenceFormatError(f"{name} row {number}: non-numeric entry in {','.join(row)}") from None
        where = (quantity, x, y, z)
        if where in seen:
            raise ReferenceFormatError(
                f"{name} row {number}: {quantity} at ({x:g}, {y:g}, {z:g}) is given already, in row {seen[where]}"
            )
        seen[where] = number
        if not all(math.isfinite(v) for v in (x, y, z, value, tolerance)) or tolerance < 0:
            raise ReferenceFormatError(f"{name} row {number}: numbers must be finite and the tolerance >= 0")
        points.append(ReferencePoint(quantity, (x, y, z), value, tolerance, relative))
    if not points:
        raise ReferenceFormatError(f"{name} has a header but no data row")
    return points


_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def _decimal(cell: str) -> float:
    """A number written in ASCII decimal: `float` also reads `1_000`, Arabic-Indic and full-width digits, which
    a reference file meant as something else as often as not."""
    text = cell.strip()
    if not _DECIMAL.fullmatch(text):
        raise ValueError(text)
    return float(text)


def read_reference(path: Path) -> list[ReferencePoint]:
    """The points of the reference CSV at `path` (read as untrusted input, never following a link)."""
    try:
        text = read_untrusted_path_text(path, within=path.parent, max_bytes=MAX_REFERENCE_BYTES)
    except UntrustedFileError as error:
        raise ReferenceFormatError(f"cannot read the reference {path}: {error.reason}") from None
    return parse_reference(text, str(path))


def _volume_field(path: Path, case: Path, n_cells: int) -> FloatArray:
    """A volume field's cell values; any other file named like a quantity is refused.

    A hand-written `magU` (a dictionary header, or none) was read as the quantity a reference named while
    the reproduction, which compares the volume fields the case writes, passed over it.
    """
    text = read_field_text(path, within=case)
    kind = field_class(text[:FIELD_HEAD_BYTES].encode(errors="replace"))
    if kind is None or not kind.startswith("vol"):
        what = f"declares class {kind}" if kind else "declares no class"
        raise FieldFormatError(f"{path} is not a volume field as OpenFOAM writes one: its header {what}")
    return parse_internal_field(text, str(path), expected=n_cells)


_GEOMETRY_QUANTITIES = frozenset({*CENTRE_FIELDS, "magC", VOLUME_FIELD})


def _field_values(folder: Path, case: Path, quantity: str, n_cells: int) -> FloatArray:
    """The cell values of `quantity` (a field, a component of a vector field, or a magnitude)."""
    if (folder / quantity).exists():
        values = _volume_field(folder / quantity, case, n_cells)
        if values.ndim != 1:
            raise FieldFormatError(f"{quantity} is not a scalar field; name a component ({quantity}x) or mag{quantity}")
        return values
    if quantity.startswith("mag") and len(quantity) > 3:
        vectors = _volume_field(folder / quantity[3:], case, n_cells)
        if vectors.ndim != 2:
            # A scalar's 'magnitude' was taken row by row of the wrong shape and failed deep in the probe.
            raise FieldFormatError(f"{quantity[3:]} is a scalar field: compare {quantity[3:]} itself, not {quantity}")
        return np.asarray(np.linalg.norm(vectors, axis=1), dtype=np.float64)
    base, component = quantity[:-1], quantity[-1]
    if component in _COMPONENT and base:
        vectors = _volume_field(folder / base, case, n_cells)
        if vectors.ndim != 2 or vectors.shape[1] != 3:
            raise FieldFormatError(f"{base} is not a vector field")
        return np.asarray(vectors[:, _COMPONENT[component]], dtype=np.float64)
    raise FieldFormatError(f"the case has no field {quantity!r} at time {folder.name}")


def probe(case: Path, folder: Path, quantity: str, locations: FloatArray) -> FloatArray:
    """`quantity` interpolated linearly from the cell values at `locations` (n, 3), from the raw fields."""
    from scipy.interpolate import LinearNDInterpolator

    centres = read_cell_centres(case, folder)
    values = _field_values(folder, case, quantity, len(centres))
    spread = np.ptp(centres, axis=0)
    axes = [k for k in range(3) if spread[k] > 1e-9 * max(float(spread.max()), 1e-300)]
    points = centres[:, axes]
    targets = locations[:, axes]
    if len(axes) == 1:
        order = np.argsort(points[:, 0])
        result = np.interp(targets[:, 0], points[order, 0], values[order], left=np.nan, right=np.nan)
    else:
        result = LinearNDInterpolator(points, values)(targets)
    return np.asarray(result, dtype=np.float64)


@dataclass(frozen=True)
class ReferenceComparison:
    quantity: str
    points: int
    worst_error: float
    worst_allowed: float
    worst_location: tuple[float, float, float]
    rmse: float
    failed: int
    outside: int


def compare_reference(case: Path, folder: Path, points: list[ReferencePoint]) -> list[ReferenceComparison]:
    """Per quantity: how the case's raw fields compare with the reference points."""
    results = []
    for quantity in sorted({point.quantity for point in points}):
        chosen = [point for point in points if point.quantity == quantity]
        locations = np.array([point.location for point in chosen], dtype=np.float64)
        simulated = probe(case, folder, quantity, locations)
        expected = np.array([point.value for point in chosen])
        allowed = np.array([point.allowed() for point in chosen])
        errors = np.abs(simulated - expected)
        inside = np.isfinite(errors)
        ratio = np.where(inside, errors / np.maximum(allowed, 1e-300), -1.0)
        worst = int(np.argmax(ratio))
        results.append(
            ReferenceComparison(
                quantity=quantity,
                points=len(chosen),
                worst_error=float(errors[worst]) if inside.any() else math.nan,
                worst_allowed=float(allowed[worst]),
                worst_location=chosen[worst].location,
                rmse=float(np.sqrt(np.mean(errors[inside] ** 2))) if inside.any() else math.nan,
                failed=int(np.sum(inside & (errors > allowed))),
                outside=int(np.sum(~inside)),
            )
        )
    return results


def solved_fields(solution: SolutionFields) -> list[str]:
    """The solution fields the solver solved for; all of them when it solved none of them (a given field
    is an input: scalarTransportFoam's `U` never moves, whatever the mesh)."""
    return [name for name in solution.names if name not in solution.given] or list(solution.names)


def monitored_field(solution: SolutionFields) -> str:
    """The field a case's mesh comparison reads without a reference: its velocity where solved, else its
    first solved field."""
    solved = solved_fields(solution)
    return solution.velocity if solution.velocity in solved else solved[0]


def monitor_value(
    case: Path, folder: Path, points: list[ReferencePoint] | None, solution: SolutionFields, *, volumes: bool = True
) -> float:
    """The quantity compared across meshes: the mean of the reference's first quantity at its points;
    without a reference the volume-weighted mean speed (cell volumes V where labgate wrote them), or for a case with
    no velocity the volume-weighted mean of its first solved field above that field's minimum (a
    temperature's mean in kelvin would hide any change in its distribution)."""
    if points:
        quantity = points[0].quantity
        locations = np.array([p.location for p in points if p.quantity == quantity], dtype=np.float64)
        values = probe(case, folder, quantity, locations)
        return float(np.nanmean(values))
    cells = mesh_cell_count(case, folder)
    name = monitored_field(solution)
    field = read_internal_field(folder / name, n_cells=1, within=case, expected=cells)
    if field.ndim == 2 or name == solution.velocity:
        magnitude = np.linalg.norm(np.atleast_2d(field), axis=1)
    else:
        magnitude = field - np.min(field)
    weights = np.ones_like(magnitude)
    if volumes:  # `volumes=False`: the case's own `V` is no cell volume
        try:
            weights = read_internal_field(folder / "V", within=case, expected=len(magnitude))
        except FieldSizeError:
            raise
        except FieldFormatError:  # no volumes written: an unweighted mean
            pass
    return float(np.sum(magnitude * weights) / np.sum(weights))
