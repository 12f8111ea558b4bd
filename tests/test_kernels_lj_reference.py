"""lj's reference against the definition: every pair of particles, minimum image, no cells.

The reference walks cell pairs for speed; what it must equal is the sum over all j != i within the cutoff,
whatever the cells. Checked on the usual lattice, the squeezed one with close pairs, and an odd box.
"""

from __future__ import annotations

import numpy as np
import pytest

from tools.kernels import SUITE
from tools.kernels._task import ALLOWED_ERROR, Size
from tools.kernels.suite._lj import CUTOFF_AMBIGUITY, TOLERANCE, lattice

LJ = SUITE["lj"]


def all_pairs(size: Size, inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Forces and per-particle bounds from every pair, one particle's row at a time (float64)."""
    _, lengths = lattice(size)
    pos = inputs["pos"].reshape(-1, 4)[:, :3].astype(np.float64)
    rc2 = float(np.float32(LJ.scalar(size, "rc") ** 2))
    force = np.zeros_like(pos)
    bound = np.zeros(len(pos))
    for i in range(len(pos)):
        r = pos[i] - np.delete(pos, i, axis=0)
        r -= lengths * np.rint(r / lengths)
        r2 = np.einsum("pd,pd->p", r, r)
        inside = r2 < rc2
        inv6 = r2[inside] ** -3
        magnitude = 24.0 * inv6 * (2.0 * inv6 - 1.0) / r2[inside]
        force[i] = magnitude @ r[inside]
        edge = r2[np.abs(r2 - rc2) <= CUTOFF_AMBIGUITY * rc2]
        edge6 = edge**-3
        bound[i] = TOLERANCE * np.sum(np.abs(magnitude) * np.sqrt(r2[inside])) + np.sum(
            np.abs(24.0 * edge6 * (2.0 * edge6 - 1.0)) / np.sqrt(edge)
        )
    return force, bound


@pytest.mark.parametrize(
    ("dims", "distribution"), [((12, 12, 12), ""), ((12, 12, 12), "compressed"), ((13, 17, 12), "compressed")]
)
def test_the_lj_reference_equals_the_sum_over_every_pair(dims: tuple[int, int, int], distribution: str) -> None:
    rng = np.random.default_rng(sum(dims) + len(distribution))
    size = LJ.draw_scalars([Size("box", dims, distribution=distribution)], rng)[0]
    inputs = LJ.inputs(size, rng)
    expected = LJ.reference(size, inputs)
    force = expected["force"].reshape(-1, 4)
    bound = expected["force" + ALLOWED_ERROR].reshape(-1, 4)
    want, want_bound = all_pairs(size, inputs)
    scale = np.abs(want).max()
    assert np.allclose(force[:, :3], want, rtol=1e-9, atol=1e-12 * scale)
    assert np.all(force[:, 3] == 0.0)
    assert np.allclose(bound, np.repeat(want_bound[:, None], 4, axis=1), rtol=1e-9, atol=0.0)
