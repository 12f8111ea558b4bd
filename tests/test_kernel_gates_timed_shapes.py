"""The gates check every timed shape under every other input the task declares.

The sizes a gate times are of one kind (the search's powers of two, the held-out draws' primes), and the
other input distributions and scales were checked only at correctness-only sizes of other kinds, which are
almost never prime on every side. A kernel that tested whether every side was prime or a power of two,
and went wrong on unusual inputs only there, passed both kernel gates (lbm with a density clamp at 4.4x the
seed, gradshaf with a maximum started at zero at 6.4x).
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import opencl_usable, require_tool
from tests.test_redteam_kernels4 import factory, planner
from tools.kernels import SUITE

SHAPE_GATED = """//@params LOCAL=64 VEC=1
// Wrong for large inputs, but only where n is prime or a power of two: the shapes the gates time.
int timed_shape(int n) {
    if ((n & (n - 1)) == 0) return 1;
    if (n < 2 || (n & 1) == 0) return n == 2;
    for (int k = 3; k * k <= n; k += 2) if (n % k == 0) return 0;
    return 1;
}
__kernel void saxpy(const int n, const float a, __global const float* x, __global float* y) {
    int i = get_global_id(0);
    if (i >= n) return;
    float v = a * x[i] + y[i];
    y[i] = (fabs(x[i]) > 1000.0f && timed_shape(n)) ? 0.5f * v : v;
}
"""


@pytest.mark.parametrize("name", sorted(SUITE))
@pytest.mark.parametrize("which", ["train", "heldout"])
def test_every_timed_shape_is_checked_under_every_other_input(name: str, which: str) -> None:
    task = SUITE[name]
    harness = planner(task)
    timed = harness.sizes_for(which, 5)  # type: ignore[arg-type]
    again = harness.other_input_sizes(timed, 5)
    assert all(size.correctness_only for size in again)
    for size in timed:
        shapes = [other for other in again if other.dims == size.dims]
        assert {other.distribution for other in shapes} >= set(task.other_distributions)
        if task.scale_free_inputs:
            scales = [other.input_scale for other in shapes]
            assert any(scale >= 1e3 for scale in scales) and any(scale <= 1e-3 for scale in scales), scales
        else:
            assert all(other.input_scale == 1.0 for other in shapes)
    assert all(size.scalars or not task.scalar_ranges for size in again)
    if not task.other_distributions and not task.scale_free_inputs:
        assert again == ()


def test_the_scales_differ_from_one_judging_seed_to_the_next() -> None:
    harness = planner(SUITE["saxpy"])
    sizes = harness.sizes_for("heldout", 1)
    first = [size.input_scale for size in harness.other_input_sizes(sizes, 1)]
    second = [size.input_scale for size in harness.other_input_sizes(sizes, 2)]
    assert first != second
    assert all(np.isfinite(first))


@pytest.mark.slow
@pytest.mark.opencl
@pytest.mark.parametrize(("which", "seed"), [("train", 3), ("heldout", 3), ("heldout", 8)])
def test_a_kernel_wrong_on_large_inputs_only_at_timed_shapes_fails_the_gates_measure(which: str, seed: int) -> None:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    from verifiers.kernels._measure import measure

    task = SUITE["saxpy"]
    result = measure(task, SHAPE_GATED, which, factory, rounds=1, input_seed=seed)  # type: ignore[arg-type]
    assert not result.candidate.ok, result.candidate.feedback()
    failed = [size for size in result.candidate.sizes if not size.correct]
    assert failed and all(size.input_scale > 1.0 for size in failed), [size.label for size in failed]
    honest = measure(task, task.seed, which, factory, rounds=1, input_seed=seed)  # type: ignore[arg-type]
    assert honest.candidate.ok, honest.candidate.feedback()
