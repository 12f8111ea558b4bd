"""The references that work by blocks (stencils, lattice Boltzmann and Ising by rows or planes, nbody by bodies)
must equal the whole-grid (all-bodies) computation, bit for bit.

The blocks keep temporaries in cache; the arithmetic per point (and its order) is the whole-grid formula's,
so the outputs are the same float64 numbers. Grids whose blocks split unevenly, thin ones, and the smallest.
"""

from __future__ import annotations

import numpy as np
import pytest

from tools.kernels import SUITE
from tools.kernels._task import KernelTask, Size
from tools.kernels.suite._ising import mix32, thresholds
from tools.kernels.suite._lbm import CX, CY, _equilibrium_q


def drawn(name: str, dims: tuple[int, ...]) -> tuple[KernelTask, Size, dict[str, np.ndarray]]:
    """The suite task `name` at `dims`, with its scalars and inputs drawn from a generator seeded by `dims`."""
    task = SUITE[name]
    rng = np.random.default_rng(sum(dims))
    size = task.draw_scalars([Size("grid", dims)], rng)[0]
    return task, size, task.inputs(size, rng)


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
    task, size, inputs = drawn("heat2d", dims)
    nx, ny = dims
    want = heat2d_whole(inputs["u"].reshape(ny, nx).astype(np.float64), task.scalar(size, "r"))
    assert np.array_equal(task.reference(size, inputs)["out"], want.reshape(-1))


@pytest.mark.parametrize("dims", [(3, 3, 3), (2, 4, 5), (97, 61, 53), (64, 64, 200), (200, 7, 5), (9, 300, 80)])
def test_the_wave3d_reference_is_the_whole_grid_update(dims: tuple[int, int, int]) -> None:
    task, size, inputs = drawn("wave3d", dims)
    nx, ny, nz = dims
    cur, prev = (inputs[name].reshape(nz, ny, nx).astype(np.float64) for name in ("cur", "prev"))
    want = wave3d_whole(cur, prev, task.scalar(size, "c2"))
    assert np.array_equal(task.reference(size, inputs)["next"], want.reshape(-1))


def lbm_whole(fin: np.ndarray, omega: float) -> np.ndarray:
    """Pull streaming of whole planes (periodic), then BGK collision, in float64: the definition."""
    f = np.stack([np.roll(np.roll(fin[q], CY[q], axis=0), CX[q], axis=1) for q in range(9)]).astype(np.float64)
    rho = f.sum(axis=0)
    ux = np.tensordot(CX, f, axes=1) / rho
    uy = np.tensordot(CY, f, axes=1) / rho
    usq = 1.5 * (ux**2 + uy**2)
    return np.stack([f[q] - omega * (f[q] - _equilibrium_q(q, rho, ux, uy, usq)) for q in range(9)])


@pytest.mark.parametrize(
    "dims", [(1, 1), (3, 2), (64, 64), (1000, 300), (1024, 1024), (64, 5000), (2, 3000), (3000, 5)]
)
def test_the_lbm_reference_is_the_whole_grid_update(dims: tuple[int, int]) -> None:
    """Rows pulled across the periodic edges (the first and last blocks) included; (1000, 300), (1024, 1024)
    and (64, 5000) split into several blocks, the last one short."""
    task, size, inputs = drawn("lbm", dims)
    nx, ny = dims
    want = lbm_whole(inputs["fin"].reshape(9, ny, nx), task.scalar(size, "omega"))
    got = task.reference(size, inputs)["fout"]
    assert np.allclose(got, want.reshape(-1), rtol=1e-12, atol=0)
    assert np.array_equal(got, want.reshape(-1))


def ising_whole(spins: np.ndarray, keys: np.ndarray, beta: float) -> np.ndarray:
    """One checkerboard Metropolis sweep over the whole periodic grid, colour 0 then colour 1: the definition."""
    spins = spins.astype(np.int32)
    ny, nx = spins.shape
    y, x = np.indices((ny, nx))
    hashed = mix32((y * nx + x).astype(np.uint32))
    t4, t8 = thresholds(beta)
    for color in (0, 1):
        nb = np.roll(spins, 1, 0) + np.roll(spins, -1, 0) + np.roll(spins, 1, 1) + np.roll(spins, -1, 1)
        de = 2 * spins * nb
        r = mix32(hashed ^ keys[color])
        flip = (((x + y) & 1) == color) & ((de <= 0) | (r < np.where(de == 4, np.uint32(t4), np.uint32(t8))))
        spins = np.where(flip, -spins, spins)
    return spins.astype(np.int8)


@pytest.mark.parametrize("dims", [(2, 2), (4, 6), (64, 64), (2048, 130), (64, 5000), (2, 3000), (3000, 2)])
def test_the_ising_reference_is_the_whole_grid_sweep(dims: tuple[int, int]) -> None:
    """Colour 1 reads colour 0's new spins across block edges and the periodic edges."""
    task, size, inputs = drawn("ising", dims)
    nx, ny = dims
    want = ising_whole(inputs["spins"].reshape(ny, nx), inputs["keys"], task.scalar(size, "beta"))
    assert np.array_equal(task.reference(size, inputs)["spins"], want.reshape(-1))


@pytest.mark.parametrize("n", [1, 15, 17, 1000, 4096])
def test_the_nbody_reference_is_the_sum_over_all_bodies_at_once(n: int) -> None:
    """Blocks of bodies, the last one short; each body's sums are those of one (n, n) computation."""
    task, size, inputs = drawn("nbody", (n,))
    pos = inputs["pos"].reshape(n, 4).astype(np.float64)
    x, y, z, mass = (np.ascontiguousarray(pos[:, k]) for k in range(4))
    dx, dy, dz = x[None, :] - x[:, None], y[None, :] - y[:, None], z[None, :] - z[:, None]
    r2 = dx * dx + dy * dy + dz * dz + float(np.float32(task.scalar(size, "eps2")))
    weight = mass[None, :] / (r2 * np.sqrt(r2))
    want = np.zeros((n, 4))
    for axis, d in enumerate((dx, dy, dz)):
        want[:, axis] = np.einsum("ij,ij->i", weight, d)
    assert np.array_equal(task.reference(size, inputs)["acc"], want.reshape(-1))
