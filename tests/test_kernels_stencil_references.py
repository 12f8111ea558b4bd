"""The stencil references work by blocks of rows or planes: they must equal the whole-grid update, bit for bit.

The blocks keep temporaries in cache; the arithmetic per point (and its order) is the whole-grid formula's,
so the outputs are the same float64 numbers. Grids whose blocks split unevenly, thin ones, and the smallest.
"""

from __future__ import annotations

import numpy as np
import pytest

from tools.kernels import SUITE
from tools.kernels._task import Size


def heat2d_whole(u: np.ndarray, r: float) -> np.ndarray:
    out = u.copy()
    lap = u[1:-1, :-2] + u[1:-1, 2:]
    lap += u[:-2, 1:-1]
    lap += u[2:, 1:-1]
    lap -= u[1:-1, 1:-1] * 4.0
    lap *= r
    out[1:-1, 1:-1] = u[1:-1, 1:-1] + lap
    return out


def wave3d_whole(cur: np.ndarray, prev: np.ndarray, c2: float) -> np.ndarray:
    out = np.zeros_like(cur)
    c = cur[1:-1, 1:-1, 1:-1]
    lap = (
        cur[1:-1, 1:-1, :-2]
        + cur[1:-1, 1:-1, 2:]
        + cur[1:-1, :-2, 1:-1]
        + cur[1:-1, 2:, 1:-1]
        + cur[:-2, 1:-1, 1:-1]
        + cur[2:, 1:-1, 1:-1]
        - 6.0 * c
    )
    out[1:-1, 1:-1, 1:-1] = 2.0 * c - prev[1:-1, 1:-1, 1:-1] + c2 * lap
    return out


@pytest.mark.parametrize("dims", [(3, 3), (2, 5), (97, 61), (1000, 300), (3000, 200), (5, 2000), (2000, 4)])
def test_the_heat2d_reference_is_the_whole_grid_update(dims: tuple[int, int]) -> None:
    task = SUITE["heat2d"]
    rng = np.random.default_rng(sum(dims))
    size = task.draw_scalars([Size("grid", dims)], rng)[0]
    inputs = task.inputs(size, rng)
    nx, ny = dims
    want = heat2d_whole(inputs["u"].reshape(ny, nx).astype(np.float64), task.scalar(size, "r"))
    assert np.array_equal(task.reference(size, inputs)["out"], want.reshape(-1))


@pytest.mark.parametrize("dims", [(3, 3, 3), (2, 4, 5), (97, 61, 53), (64, 64, 200), (200, 7, 5), (9, 300, 80)])
def test_the_wave3d_reference_is_the_whole_grid_update(dims: tuple[int, int, int]) -> None:
    task = SUITE["wave3d"]
    rng = np.random.default_rng(sum(dims))
    size = task.draw_scalars([Size("grid", dims)], rng)[0]
    inputs = task.inputs(size, rng)
    nx, ny, nz = dims
    cur, prev = (inputs[name].reshape(nz, ny, nx).astype(np.float64) for name in ("cur", "prev"))
    want = wave3d_whole(cur, prev, task.scalar(size, "c2"))
    assert np.array_equal(task.reference(size, inputs)["next"], want.reshape(-1))
