"""Each element judged against its own rounding scale where a reference knows it (`ALLOWED_ERROR`).

lj's `compressed` draws plant a few close pairs whose forces reach 10^15; a tolerance relative to the
largest force then let every other particle's force be off by 10^11. A kernel reading at most 28
particles of a cell (a fixed local array per cell, a plausible optimisation) was wrong wherever a cell
held more, and passed 1 to 4 draws in 12. The reference now bounds each particle's error by a fraction of
the sum of its pair forces' magnitudes, plus the pairs at the cutoff float32 may count either way.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest

from tests.conftest import opencl_usable, require_tool
from tests.test_redteam_kernels4 import factory
from tests.test_redteam_kernels6 import LJ_CELL_CAPACITY
from tools.kernels import SUITE, Harness, Worker
from tools.kernels._task import ALLOWED_ERROR, Size, bounded_check

LJ = SUITE["lj"]


def test_a_bounded_check_judges_every_element_against_its_own_bound() -> None:
    want = np.array([1e15, 1.0, 2.0, 0.0])
    allowed = np.array([1e11, 1e-4, 2e-4, 0.0])
    assert bounded_check(want + allowed * 0.9, want, allowed).ok
    off = want.copy()
    off[1] += 0.01  # far below 1e-4 of the largest value, far above its own bound
    check = bounded_check(off.astype(np.float32), want, allowed)
    assert not check.ok and "element 1" in check.detail and "allowed 0.0001" in check.detail
    assert math.isclose(check.tolerance, 1e-4) and check.error > 0.009
    nonfinite = want.copy()
    nonfinite[2] = np.nan
    assert "non-finite value at element 2" in bounded_check(nonfinite, want, allowed).detail
    assert not bounded_check(want[:3], want, allowed).ok  # a short output is not an answer
    assert not bounded_check(np.ones(4), want, allowed).ok  # an exact zero must stay zero


def _compressed(seed: int, dims: tuple[int, int, int] = (12, 12, 12)) -> tuple[Size, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    size = LJ.draw_scalars([Size("c", dims, distribution="compressed", correctness_only=True)], rng)[0]
    return size, LJ.inputs(size, rng)


def test_the_lj_reference_bounds_every_particle_by_its_own_forces() -> None:
    size, inputs = _compressed(0)
    expected = LJ.reference(size, inputs)
    force, allowed = expected["force"].reshape(-1, 4), expected["force" + ALLOWED_ERROR].reshape(-1, 4)
    largest = np.abs(force).max()
    assert largest > 1e8  # the planted close pairs
    typical = np.median(allowed[:, 0])
    assert typical < 1e-6 * largest  # the bound follows each particle, not the largest force
    assert np.all(allowed[:, 0] >= 1e-4 * np.linalg.norm(force[:, :3], axis=1) * (1 - 1e-12))
    # The float32 answer an honest kernel computes in a different order stays inside the bound.
    shuffled = force[:, :3].astype(np.float32)
    assert LJ.check_output(size, "force", np.pad(shuffled, ((0, 0), (0, 1))).reshape(-1), expected, inputs).ok


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    with Worker(factory, tmp_path_factory.mktemp("allowed") / "worker") as started:
        yield started


@pytest.mark.opencl
@pytest.mark.slow
def test_a_kernel_reading_at_most_28_particles_of_a_cell_fails_wherever_a_cell_holds_more(worker: Worker) -> None:
    harness = Harness(LJ, worker, ceilings=None, warmup=1, repeats=3)
    size, _ = _compressed(0)
    judged = 0
    for seed in range(4):
        first_run = LJ.draw_inputs(size, np.random.default_rng(seed))  # what the harness uploads for run 0
        if int(np.diff(first_run["start"]).max()) <= 28:
            continue
        judged += 1
        capped = harness.evaluate(LJ_CELL_CAPACITY, seed=seed, sizes=[size])
        assert capped.status == "incorrect" and "allowed" in capped.feedback(), (seed, capped.feedback())
        honest = harness.evaluate(LJ.seed, seed=seed, sizes=[size])
        assert honest.ok, (seed, honest.feedback())
    assert judged >= 2
