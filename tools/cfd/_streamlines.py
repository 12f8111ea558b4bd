"""Evenly spaced streamlines of a 2-D velocity field on a uniform grid, traced over plain Python floats.

Why this exists: matplotlib's `streamplot` indexes masked arrays at every integration step, which made it
half of a small case's figure CPU (0.35-0.5 s of the velocity figure, as much as a 32x32 cavity's
solver). The method is the usual one for evenly spaced streamlines: a coarse occupancy grid over the
plane; seeds taken from the edges inward; each line traced both ways from its seed with a fixed-step
midpoint rule along the normalised velocity, and stopped where it leaves the plane, reaches a point of
no flow, or enters a grid cell that a line (itself included, so a closed orbit ends after one turn)
already crossed. A line shorter than `min_length` gives its cells back. Tracing over nested lists costs
a tenth of the masked-array version, which is what a figure drawn for every experiment needs.

Like `_draw`, this module is loaded on its own by a renderer process: numpy only, nothing of labgate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

CELLS_PER_DENSITY = 30
"""Occupancy cells across each axis at density 1: lines end up about a thirtieth of the plane apart."""


@dataclass(frozen=True)
class Streamline:
    """One traced line in data coordinates, with the point and direction where its arrow goes."""

    points: NDArray[np.float64]
    """(k, 2) points, in the direction of the flow."""
    arrow_at: tuple[float, float]
    arrow_direction: tuple[float, float]
    """Unit vector of the flow at `arrow_at`, in data coordinates."""


def trace(
    xs: NDArray[np.float64],
    ys: NDArray[np.float64],
    u: NDArray[np.float64],
    v: NDArray[np.float64],
    *,
    density: float = 1.0,
    step: float = 0.25,
    min_length: float = 0.08,
) -> list[Streamline]:
    """Streamlines of (u, v), given at the points of the uniform grid `xs` x `ys` (arrays of shape
    (len(ys), len(xs))). Non-finite values count as no flow. `step` is in occupancy cells, `min_length`
    a share of the plane's larger side.
    """
    xs, ys = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
    if xs.ndim != 1 or ys.ndim != 1 or len(xs) < 2 or len(ys) < 2:
        raise ValueError("streamlines need at least a 2x2 grid of points")
    if np.shape(u) != (len(ys), len(xs)) or np.shape(v) != (len(ys), len(xs)):
        raise ValueError(f"velocity arrays must have shape {(len(ys), len(xs))}, not {np.shape(u)} and {np.shape(v)}")
    span_x, span_y = float(xs[-1] - xs[0]), float(ys[-1] - ys[0])
    if not (span_x > 0 and span_y > 0):
        raise ValueError("grid coordinates must increase")
    for name, axis, span in (("x", xs, span_x), ("y", ys, span_y)):
        # The tracer maps positions to grid indices linearly: a graded grid would bend every line.
        if not np.allclose(np.diff(axis), span / (len(axis) - 1), rtol=1e-5, atol=1e-9 * span):
            raise ValueError(f"grid {name} coordinates must be equally spaced")
    cells_x = cells_y = max(2, round(CELLS_PER_DENSITY * density))
    # Velocity in occupancy cells per unit time, then sampled on the grid's points in those units.
    to_cells_x, to_cells_y = (cells_x - 1) / span_x, (cells_y - 1) / span_y
    field = _Field(_finite_or_nan(u) * to_cells_x, _finite_or_nan(v) * to_cells_y, cells_x, cells_y)
    tracer = _Tracer(field, cells_x, cells_y, step, min_length * max(cells_x, cells_y))
    lines: list[Streamline] = []
    for cell in _seeds(cells_x, cells_y):
        points = tracer.line_from(cell)
        if points is None:
            continue
        data = np.array(points) / (to_cells_x, to_cells_y) + (xs[0], ys[0])
        lines.append(_with_arrow(data))
    return lines


class _Field:
    """Bilinear interpolation of a grid sampled field, over nested lists (scalar indexing of numpy arrays
    costs several times a list's). A NaN at any of a point's four grid corners makes it a point without
    data (the arithmetic carries it through), where a line ends."""

    def __init__(self, u: NDArray[np.float64], v: NDArray[np.float64], cells_x: int, cells_y: int) -> None:
        self.u, self.v = u.tolist(), v.tolist()
        self.last_i, self.last_j = u.shape[1] - 1, u.shape[0] - 1
        # Occupancy-cell coordinates to grid-point indices.
        self.scale_x, self.scale_y = self.last_i / (cells_x - 1), self.last_j / (cells_y - 1)

    def direction(self, x: float, y: float) -> tuple[float, float] | None:
        """The unit flow direction at (x, y) in occupancy-cell coordinates; None where there is no flow."""
        gx, gy = x * self.scale_x, y * self.scale_y
        i, j = min(int(gx), self.last_i - 1), min(int(gy), self.last_j - 1)
        fx, fy = gx - i, gy - j
        u0, u1 = self.u[j], self.u[j + 1]
        v0, v1 = self.v[j], self.v[j + 1]
        a, b, c, d = (1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy
        du = a * u0[i] + b * u0[i + 1] + c * u1[i] + d * u1[i + 1]
        dv = a * v0[i] + b * v0[i + 1] + c * v1[i] + d * v1[i + 1]
        speed = math.hypot(du, dv)
        if not speed > 1e-12:  # no flow, or no data (NaN)
            return None
        return du / speed, dv / speed


class _Tracer:
    """Traces lines one after another over a shared occupancy grid."""

    def __init__(self, field: _Field, cells_x: int, cells_y: int, step: float, min_length: float) -> None:
        self.field = field
        self.cells_x, self.cells_y = cells_x, cells_y
        self.taken = [[False] * cells_x for _ in range(cells_y)]
        self.step = step
        self.min_length = min_length
        # No line is longer than a walk through every cell: a bound for fields that circle forever.
        self.max_steps = int(4 * cells_x * cells_y / step)

    def line_from(self, seed: tuple[int, int]) -> list[tuple[float, float]] | None:
        """The line through `seed`'s cell centre, or None if that cell is taken or the line is too short."""
        i, j = seed
        if self.taken[j][i]:
            return None
        self.taken[j][i] = True
        crossed = [(i, j)]
        start = (float(i), float(j))
        backward = self._walk(start, -1.0, crossed)
        forward = self._walk(start, 1.0, crossed)
        if self.step * (len(backward) + len(forward)) < self.min_length:
            for ci, cj in crossed:  # gives its cells back for later lines
                self.taken[cj][ci] = False
            return None
        backward.reverse()
        return [*backward, start, *forward]

    def _walk(
        self, start: tuple[float, float], sign: float, crossed: list[tuple[int, int]]
    ) -> list[tuple[float, float]]:
        """Points from `start` (not included) along sign x the flow, one step apart."""
        field, taken, h = self.field, self.taken, self.step
        limit_x, limit_y = self.cells_x - 1, self.cells_y - 1
        x, y = start
        cell = (round(x), round(y))
        points: list[tuple[float, float]] = []
        first = field.direction(x, y)
        for _ in range(self.max_steps):
            if first is None:
                break
            mx, my = x + 0.5 * h * sign * first[0], y + 0.5 * h * sign * first[1]
            if not (0.0 <= mx <= limit_x and 0.0 <= my <= limit_y):
                break
            second = field.direction(mx, my)
            if second is None:
                break
            nx, ny = x + h * sign * second[0], y + h * sign * second[1]
            if not (0.0 <= nx <= limit_x and 0.0 <= ny <= limit_y):
                break
            first = field.direction(nx, ny)  # also the next step's: a point without data is not drawn
            if first is None:
                break
            now = (round(nx), round(ny))
            if now != cell:
                if taken[now[1]][now[0]]:
                    break
                taken[now[1]][now[0]] = True
                crossed.append(now)
                cell = now
            x, y = nx, ny
            points.append((x, y))
        return points


def _finite_or_nan(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """The values as floats, infinities made NaN: both are points without data."""
    array = np.array(values, dtype=np.float64)
    array[~np.isfinite(array)] = np.nan
    return array


def _seeds(cells_x: int, cells_y: int) -> list[tuple[int, int]]:
    """Every occupancy cell, the outermost ring first and inwards, each ring walked round in turn: lines
    that start at the edges run the length of the plane before the interior is filled in."""

    def ring(cell: tuple[int, int]) -> int:
        i, j = cell
        return min(i, j, cells_x - 1 - i, cells_y - 1 - j)

    def around(cell: tuple[int, int]) -> float:
        return math.atan2(cell[1] - (cells_y - 1) / 2, cell[0] - (cells_x - 1) / 2)

    cells = [(i, j) for j in range(cells_y) for i in range(cells_x)]
    return sorted(cells, key=lambda cell: (ring(cell), around(cell)))


def _with_arrow(points: NDArray[np.float64]) -> Streamline:
    """The line with its arrow half-way along it."""
    steps = np.hypot(*np.diff(points, axis=0).T)
    along = np.concatenate(([0.0], np.cumsum(steps)))
    k = int(np.searchsorted(along, along[-1] / 2))
    k = min(max(k, 1), len(points) - 1)
    dx, dy = points[k] - points[k - 1]
    norm = math.hypot(dx, dy) or 1.0
    return Streamline(
        points=points,
        arrow_at=(float(points[k][0]), float(points[k][1])),
        arrow_direction=(float(dx / norm), float(dy / norm)),
    )
