"""The streamline tracer behind the velocity figures: lines follow the flow, stay evenly spaced, end at
closed orbits, stay out of regions with no data, and bad grids are refused by name."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tools.cfd import _draw
from tools.cfd._streamlines import CELLS_PER_DENSITY, trace


def _grid(n: int = 41, length: float = 2.0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    xs = np.linspace(0.0, length, n)
    ys = np.linspace(0.0, length, n)
    gx, gy = np.meshgrid(xs, ys)
    return xs, ys, gx, gy


def test_a_uniform_flow_gives_straight_lines_across_the_whole_plane_in_the_flow_direction() -> None:
    xs, ys, gx, _ = _grid()
    lines = trace(xs, ys, np.full_like(gx, 3.0), np.zeros_like(gx))
    assert len(lines) == CELLS_PER_DENSITY  # one per row of occupancy cells
    for line in lines:
        assert np.ptp(line.points[:, 1]) < 1e-12  # horizontal
        assert np.all(np.diff(line.points[:, 0]) > 0)  # in the flow's direction
        assert line.points[0, 0] < 0.1 and line.points[-1, 0] > 1.9  # edge to edge
        assert line.arrow_direction == pytest.approx((1.0, 0.0))
    heights = sorted(line.points[0, 1] for line in lines)
    assert np.diff(heights) == pytest.approx(np.full(len(heights) - 1, 2.0 / (CELLS_PER_DENSITY - 1)))


def test_lines_in_a_rotation_are_circles_each_ended_after_one_turn() -> None:
    xs, ys, gx, gy = _grid()
    u, v = -(gy - 1.0), gx - 1.0
    lines = trace(xs, ys, u, v)
    assert len(lines) > 5
    for line in lines:
        radius = np.hypot(line.points[:, 0] - 1.0, line.points[:, 1] - 1.0)
        assert np.ptp(radius) < 0.02 * 2.0 + 1e-3  # stays on its circle
        turned = np.unwrap(np.arctan2(line.points[:, 1] - 1.0, line.points[:, 0] - 1.0))
        assert abs(turned[-1] - turned[0]) <= 2 * math.pi + 0.5  # at most about one turn
        assert np.all(np.diff(turned) > 0)  # counter-clockwise, as (u, v) turns


def test_no_two_lines_cross_the_same_occupancy_cell() -> None:
    xs, ys, gx, gy = _grid(57)
    u = np.sin(3 * gx) * np.cos(2 * gy) + 0.3
    v = -np.cos(3 * gx) * np.sin(2 * gy)
    cells_per_unit = (CELLS_PER_DENSITY - 1) / 2.0
    owner: dict[tuple[int, int], int] = {}
    lines = trace(xs, ys, u, v)
    for number, line in enumerate(lines):
        for cell in {(round(x * cells_per_unit), round(y * cells_per_unit)) for x, y in line.points}:
            assert owner.setdefault(cell, number) == number, f"cell {cell} crossed by lines {owner[cell]} and {number}"
    assert len(owner) > 0.6 * CELLS_PER_DENSITY**2  # and they cover most of the plane


def test_lines_keep_out_of_regions_without_data_and_a_still_field_has_none() -> None:
    xs, ys, gx, _ = _grid()
    u, v = np.ones_like(gx), 0.2 * np.ones_like(gx)
    hole = (gx > 0.8) & (gx < 1.2)
    lines = trace(xs, ys, np.where(hole, np.nan, u), np.where(hole, np.nan, v))
    assert lines
    for line in lines:
        assert not np.any((line.points[:, 0] > 0.8 + 1e-9) & (line.points[:, 0] < 1.2 - 1e-9))
    assert trace(xs, ys, np.zeros_like(gx), np.zeros_like(gx)) == []
    assert trace(xs, ys, np.full_like(gx, np.inf), np.zeros_like(gx)) == []


def test_density_sets_how_many_lines_there_are() -> None:
    xs, ys, gx, _ = _grid()
    sparse = trace(xs, ys, np.ones_like(gx), np.zeros_like(gx), density=0.5)
    dense = trace(xs, ys, np.ones_like(gx), np.zeros_like(gx), density=2.0)
    assert len(sparse) == round(CELLS_PER_DENSITY * 0.5)
    assert len(dense) == round(CELLS_PER_DENSITY * 2.0)


@pytest.mark.parametrize(
    ("xs", "ys", "shape", "message"),
    [
        (np.linspace(0, 1, 5), np.linspace(0, 1, 1), (1, 5), "at least a 2x2 grid"),
        (np.linspace(0, 1, 5), np.linspace(0, 1, 4), (5, 4), "must have shape"),
        (np.linspace(1, 0, 5), np.linspace(0, 1, 4), (4, 5), "must increase"),
        (np.linspace(0, 1, 5) ** 2, np.linspace(0, 1, 4), (4, 5), "x coordinates must be equally spaced"),
    ],
)
def test_bad_grids_are_refused_by_name(xs: np.ndarray, ys: np.ndarray, shape: tuple[int, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        trace(xs, ys, np.ones(shape), np.ones(shape))


def test_the_velocity_figure_draws_its_streamlines_on_the_plane() -> None:
    plt = _draw.pyplot()
    xs, ys, gx, gy = _grid()
    figure, axis = plt.subplots()
    try:
        _draw.streamlines(axis, xs, ys, -(gy - 1.0), gx - 1.0, density=1.0, linewidth=0.5, arrowsize=0.5)
        segments = axis.collections[0].get_segments()
        arrows = axis.collections[1]
        assert len(segments) == len(trace(xs, ys, -(gy - 1.0), gx - 1.0))
        assert len(arrows.get_offsets()) == len(segments)  # one arrow per line
        points = np.concatenate(segments)
        assert points.min() >= 0.0 and points.max() <= 2.0
    finally:
        plt.close(figure)
