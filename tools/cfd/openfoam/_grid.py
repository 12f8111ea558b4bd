"""Turning the cell list of a 2-D rectilinear mesh back into rows and columns."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from runs import LabgateError

FloatArray = NDArray[np.float64]

MIN_DIGITS = 6
"""OpenFOAM's default writePrecision: coordinates are assumed written with at least this many digits."""
MAX_DIGITS = 10
"""Beyond this many significant digits the written values carry arithmetic noise, not mesh geometry."""


class GridShapeError(LabgateError, ValueError):
    """The cells do not form the rectilinear grid the caller expected."""


def written_digits(values: FloatArray) -> int:
    """Significant digits the values were written with, as far as they show it (MIN_DIGITS..MAX_DIGITS).

    A value written with p digits is an integer once scaled by 10^(p - 1 - exponent); the smallest p
    that makes every value one is what the file shows. Values that happen to be short decimals show
    fewer digits than were written, hence the floor of OpenFOAM's default.
    """
    nonzero = np.abs(values[values != 0])
    if nonzero.size == 0:
        return MIN_DIGITS
    exponents = np.floor(np.log10(nonzero))
    for digits in range(MIN_DIGITS, MAX_DIGITS + 1):
        scaled = nonzero / 10.0 ** (exponents - digits + 1)
        if np.all(np.abs(scaled - np.rint(scaled)) <= 1e-6 * np.maximum(scaled, 1.0) + 1e-3):
            return digits
    return MAX_DIGITS


def _rows(coordinates: FloatArray, axis: str) -> tuple[NDArray[np.int64], float]:
    """A row label per value, grouping values that differ by no more than the written precision allows.

    Two cells of one row are written with coordinates that differ by at most one unit in the last written
    digit (their exact values straddle a rounding boundary); the tolerance is that unit at the axis's
    largest magnitude, so rows closer than the file can resolve are never told apart by accident.
    """
    largest = float(np.max(np.abs(coordinates))) if coordinates.size else 0.0
    if largest == 0.0:
        return np.zeros(len(coordinates), dtype=np.int64), 0.0
    digits = written_digits(coordinates)
    tolerance = 1.5 * 10.0 ** (np.floor(np.log10(largest)) - digits + 1)
    order = np.argsort(coordinates, kind="stable")
    ordered = coordinates[order]
    starts = np.concatenate([[True], np.diff(ordered) > tolerance])
    labels_sorted = np.cumsum(starts) - 1
    first = ordered[starts]
    last = np.append(ordered[np.flatnonzero(starts)[1:] - 1], ordered[-1])
    spread = float(np.max(last - first))
    if spread > tolerance:
        raise GridShapeError(
            f"{axis} coordinates drift by {spread:.3g} along a row, more than the {tolerance:.3g} that "
            f"{digits}-digit values allow: the mesh is not rectilinear"
        )
    labels = np.empty(len(coordinates), dtype=np.int64)
    labels[order] = labels_sorted
    return labels, tolerance


def structured_2d(centres: FloatArray, values: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(x, y, grid) with grid[j, i] the value of the cell at (x[i], y[j]).

    Rows and columns are told apart to the precision the centres were written with (see `_rows`), so a
    case written with OpenFOAM's default 6 digits reads like one written with 10; a mesh whose cells do
    not line up in rows and columns, each (row, column) holding exactly one cell, is refused.
    """
    if centres.ndim != 2 or centres.shape[1] < 2 or len(centres) != len(values):
        raise GridShapeError("cell centres and values do not match")
    column, _ = _rows(np.asarray(centres[:, 0], dtype=np.float64), "x")
    row, _ = _rows(np.asarray(centres[:, 1], dtype=np.float64), "y")
    nx, ny = int(column.max()) + 1, int(row.max()) + 1
    occupied = np.unique(row * nx + column).size
    if nx * ny != len(centres) or occupied != len(centres):
        raise GridShapeError(f"{len(centres)} cells do not form a {nx} x {ny} rectilinear grid")
    order = np.lexsort((column, row))
    shape = (ny, nx, *values.shape[1:])
    grid = values[order].reshape(shape)
    ordered = centres[order].reshape(ny, nx, -1)
    return ordered[0, :, 0].copy(), ordered[:, 0, 1].copy(), grid
