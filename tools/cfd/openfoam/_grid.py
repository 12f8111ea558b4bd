"""Turning the cell list of a 2-D rectilinear mesh back into rows and columns."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from runs import LabgateError

FloatArray = NDArray[np.float64]


class GridShapeError(LabgateError, ValueError):
    """The cells do not form the rectilinear grid the caller expected."""


def structured_2d(centres: FloatArray, values: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(x, y, grid) with grid[j, i] the value of the cell at (x[i], y[j]).

    Coordinates are compared after rounding to 1e-7 of the domain size, because centres written
    in ASCII differ in their last digits along a row; exact comparison would interleave rows.
    """
    if centres.ndim != 2 or centres.shape[1] < 2 or len(centres) != len(values):
        raise GridShapeError("cell centres and values do not match")
    extent = float(np.ptp(centres[:, :2])) or 1.0
    quantum = extent * 1e-7
    keys = np.round(centres[:, :2] / quantum).astype(np.int64)
    xs_keys = np.unique(keys[:, 0])
    ys_keys = np.unique(keys[:, 1])
    if len(xs_keys) * len(ys_keys) != len(centres):
        raise GridShapeError(f"{len(centres)} cells do not form a {len(xs_keys)} x {len(ys_keys)} rectilinear grid")
    order = np.lexsort((keys[:, 0], keys[:, 1]))
    shape = (len(ys_keys), len(xs_keys), *values.shape[1:])
    grid = values[order].reshape(shape)
    ordered = centres[order].reshape(len(ys_keys), len(xs_keys), -1)
    return ordered[0, :, 0].copy(), ordered[:, 0, 1].copy(), grid
