"""The held-out gate checks scale-free inputs decades above and below their usual magnitude.

Inputs came from one distribution (`signed_values`: |x| below about 60), so a saxpy that dropped `a * x`
wherever |x| >= 1e4 was accepted by both gates. Tasks whose outputs are linear in some inputs declare
them (`KernelTask.scale_free_inputs`); about half the held-out gate's correctness-only sizes then draw
those inputs 10^3 to 10^8 times larger or smaller, at sizes and magnitudes no kernel can predict.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import opencl_usable, require_tool
from tests.test_redteam_kernels4 import SCALED_TASK, factory, planner
from tools import TaskError
from tools.kernels import SUITE, Harness, Worker, kernel_task, open_harness
from tools.kernels._task import SCALE_DECADES

WRONG_FOR_LARGE_INPUTS = """//@params LOCAL=64 VEC=1
__kernel void saxpy(const int n, const float a, __global const float* x, __global float* y) {
    int i = get_global_id(0);
    if (i >= n) return;
    float xv = x[i];
    y[i] = fabs(xv) < 1e4f ? a * xv + y[i] : y[i];
}
"""
"""Right wherever |x| < 1e4, which every input of the usual distribution is."""

WRONG_FOR_SMALL_INPUTS = """//@params LOCAL=64 VEC=1
__kernel void saxpy(const int n, const float a, __global const float* x, __global float* y) {
    int i = get_global_id(0);
    if (i >= n) return;
    float xv = x[i];
    y[i] = fabs(xv) > 1e-7f ? a * xv + y[i] : y[i];
}
"""
"""Drops the product for |x| <= 1e-7: in the usual distribution a few elements in millions, each off by less
than the tolerance."""

INPUT_SCALE_CHEATS: dict[str, tuple[str, str, str, str]] = {
    # name: (task, source, which, a phrase the rejection must contain), as `SCALAR_RESIDUE_CHEATS`
    "wrong-only-for-large-inputs": ("saxpy", WRONG_FOR_LARGE_INPUTS, "residue", "INCORRECT"),
    "wrong-only-for-small-inputs": ("saxpy", WRONG_FOR_SMALL_INPUTS, "residue", "INCORRECT"),
}
"""The payloads, as `bench/cheats_kernels.py` runs them."""

SCALE_FREE = sorted(name for name, task in SUITE.items() if task.scale_free_inputs)


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    with Worker(factory, tmp_path_factory.mktemp("scales") / "worker") as started:
        yield started


def test_the_linear_tasks_declare_their_scale_free_inputs_and_the_structured_ones_none() -> None:
    assert SCALE_FREE == ["fft3d", "heat2d", "lbm", "saxpy", "wave3d"]
    for name in SCALE_FREE:
        task = SUITE[name]
        drawn = task.inputs(task.heldout[0], np.random.default_rng(0))
        assert set(task.scale_free_inputs) <= set(drawn), name


@pytest.mark.parametrize("name", SCALE_FREE)
def test_each_judging_run_checks_inputs_decades_above_and_below_at_sizes_its_seed_picks(name: str) -> None:
    low, high = SCALE_DECADES
    picked = set()
    for seed in range(6):
        sizes = planner(SUITE[name]).residue_sizes(seed)
        exponents = [np.log10(size.input_scale) for size in sizes if size.input_scale != 1.0]
        assert any(low <= e <= high for e in exponents) and any(-high <= e <= -low for e in exponents), (seed, sizes)
        assert all(low <= abs(e) <= high for e in exponents)
        assert all(size.correctness_only for size in sizes if size.input_scale != 1.0)
        picked.add(tuple(size.label for size in sizes if size.input_scale != 1.0))
    # which sizes are scaled changes with the seed (fft3d's two correctness-only sizes are both scaled)
    assert len(picked) > 1 or len(next(iter(picked))) == len(sizes) == 2


@pytest.mark.parametrize("name", sorted(set(SUITE) - set(SCALE_FREE)))
def test_tasks_with_structured_inputs_keep_their_distribution(name: str) -> None:
    assert all(size.input_scale == 1.0 for size in planner(SUITE[name]).residue_sizes(3))


def test_the_scaled_inputs_are_the_drawn_ones_times_the_scale_and_the_reference_follows() -> None:
    task = SUITE["saxpy"]
    size = next(size for size in planner(task).residue_sizes(1) if size.input_scale > 1.0)
    plain = task.draw_inputs(replace(size, input_scale=1.0), np.random.default_rng(9))
    scaled = task.draw_inputs(size, np.random.default_rng(9))
    factor = np.float32(size.input_scale)
    for name in ("x", "y"):
        assert scaled[name].dtype == np.float32
        np.testing.assert_array_equal(scaled[name], plain[name] * factor)
    reference = task.reference(size, scaled)["y"]
    assert float(np.max(np.abs(reference))) > 1e3 * float(np.max(np.abs(task.reference(size, plain)["y"]))) / 10
    assert "inputs x" in size.describe()


@pytest.mark.slow
@pytest.mark.opencl
@pytest.mark.parametrize("cheat", sorted(INPUT_SCALE_CHEATS))
def test_a_kernel_wrong_only_outside_the_usual_magnitudes_fails_the_heldout_check(worker: Worker, cheat: str) -> None:
    task, source, _, phrase = INPUT_SCALE_CHEATS[cheat]
    harness = Harness(SUITE[task], worker, ceilings=None, repeats=1)
    scaled = [size for size in harness.residue_sizes(5) if size.input_scale != 1.0]
    # At the usual magnitudes it is right, at the very sizes the gate scales.
    usual = [replace(size, input_scale=1.0) for size in scaled]
    assert harness.evaluate(source, "heldout", seed=5, sizes=usual, repeats=1).ok
    evaluation = harness.evaluate(source, "heldout", seed=5, sizes=scaled, repeats=1)
    assert evaluation.status == "incorrect" and phrase in evaluation.feedback(), evaluation.feedback()
    assert "inputs x" in evaluation.feedback()


@pytest.mark.opencl
@pytest.mark.parametrize("name", SCALE_FREE)
def test_each_seed_is_right_at_every_scaled_size(worker: Worker, name: str) -> None:
    task = SUITE[name]
    harness = Harness(task, worker, ceilings=None, repeats=1)
    scaled = sorted(harness.residue_sizes(8), key=lambda size: np.prod(size.dims))
    smallest = [next(size for size in scaled if size.input_scale > 1.0), next(s for s in scaled if s.input_scale < 1.0)]
    evaluation = harness.evaluate(task.seed, "heldout", seed=8, sizes=smallest, repeats=1)
    assert evaluation.ok, evaluation.feedback()


# -- task files ------------------------------------------------------------------------------------------------


def scale_free_task(**x_fields: Any) -> dict[str, Any]:
    """`SCALED_TASK` (y = s * x) with `x_fields` added to its input buffer x."""
    args = list(SCALED_TASK["args"])
    args[2] = {**args[2], **x_fields}
    return {**SCALED_TASK, "args": args}


@pytest.mark.parametrize(
    ("index", "fields", "message"),
    [
        (3, {"scale_free": True}, "only float in or inout buffers"),
        (1, {"scale_free": True}, "only buffers can be scale-free"),
        (2, {"scale_free": True, "init": {"uniform": [-1e33, 1e33]}}, "exceed float32"),
        (2, {"scale_free": True, "init": {"normal": [0, 1e31]}}, "exceed float32"),
    ],
)
def test_a_scale_free_field_where_it_cannot_hold_is_bad_input_naming_it(
    index: int, fields: dict[str, Any], message: str
) -> None:
    args = list(SCALED_TASK["args"])
    args[index] = {**args[index], **fields}
    with pytest.raises(TaskError, match=rf"params\.definition\.args\[{index}\]\.scale_free: .*{message}"):
        kernel_task("scale", {**SCALED_TASK, "args": args})


def test_a_task_files_scale_free_buffers_are_drawn_at_other_scales_with_atol_scaled_alike() -> None:
    task = kernel_task("scale", scale_free_task(scale_free=True))
    assert task.scale_free_inputs == ("x",)
    sizes = planner(task).residue_sizes(2)
    scaled = [size for size in sizes if size.input_scale != 1.0]
    assert any(size.input_scale > 1e3 for size in scaled) and any(size.input_scale < 1e-3 for size in scaled)
    size = next(size for size in scaled if size.input_scale < 1e-3)
    want = np.full(4, 1e-3 * size.input_scale)
    # atol 1e-6 at scale 1: an error of a thousandth of a unit would pass unscaled, not at 1e-3 and below
    assert task.check(replace(size, input_scale=1.0), "y", want + 1e-7, want, {}).ok
    assert not task.check(size, "y", want + 1e-7, want, {}).ok
    assert kernel_task("scale", SCALED_TASK).scale_free_inputs == ()


@pytest.mark.opencl
def test_a_task_files_kernel_wrong_only_for_large_inputs_fails_where_the_seed_passes(tmp_path: Path) -> None:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    task = kernel_task("scale", scale_free_task(scale_free=True))
    large_wrong = SCALED_TASK["files"]["seed.cl"].replace("y[i] = s * x[i]", "y[i] = fabs(x[i]) < 1e4f ? s * x[i] : 0")
    with open_harness(task, tmp_path / "worker", factory) as harness:
        scaled = [size for size in harness.residue_sizes(3) if size.input_scale != 1.0]
        honest = harness.evaluate(task.seed, "heldout", seed=3, sizes=scaled, repeats=1)
        assert honest.ok, honest.feedback()
        cheat = harness.evaluate(large_wrong, "heldout", seed=3, sizes=scaled, repeats=1)
        assert cheat.status == "incorrect" and "inputs x" in cheat.feedback(), cheat.feedback()
