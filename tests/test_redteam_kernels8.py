"""A red-team pass on the kernel gates: sizes past the contract's edges that no gate ever judged.

Every kernel in `tests/data/kernels_past_the_edges` is wrong only where no checked size reached, and each was
accepted by `agent check`: fft3d fused into one launch per axis and wrong past 128 points an axis (9.5x the
seed held out; every checked axis lay within 16-128), nbody keeping at most 4,096 bodies in local memory and
saxpy dropping `+ y` from n = 9,000,000 on (nothing above the largest searched size was checked), hmc
accepting every proposal where d < 12 or d == 32 (d was checked from 12 to 31 only), and ising flipping every
site on lattices narrower than 200 (no side below 256 was checked)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import opencl_usable, require_tool
from tests.test_redteam_kernels4 import factory, planner
from tools.kernels import SUITE, Harness

CHEATS = Path(__file__).parent / "data" / "kernels_past_the_edges"
WRONG = {
    "fft3d": "fft3d_fused_upto128.cl",
    "nbody": "nbody_local_all_upto4096.cl",
    "saxpy": "saxpy_wrong_above_9M.cl",
    "hmc": "hmc_linear_wrong_small_d.cl",
    "ising": "ising_wrong_below_200.cl",
}


@pytest.mark.parametrize("name", sorted(task for task in SUITE if SUITE[task].residue_checks))
def test_every_judging_run_checks_a_size_past_the_largest_checked_one(name: str) -> None:
    task = SUITE[name]
    largest = max(math.prod(size.dims) for size in (*task.sizes, *task.heldout))
    for seed in range(4):
        sizes = planner(task).residue_sizes(seed)
        assert any(math.prod(size.dims) > largest for size in sizes), (name, seed)


def test_fft3d_checks_an_axis_longer_than_its_held_out_draws() -> None:
    for seed in range(6):
        axes = [max(size.dims) for size in planner(SUITE["fft3d"]).residue_sizes(seed)]
        assert max(axes) >= 256, (seed, axes)


def test_hmc_checks_dimensions_at_both_ends_of_its_contract() -> None:
    for seed in range(4):
        dims = [size.dims[1] for size in planner(SUITE["hmc"]).residue_sizes(seed)]
        assert 32 in dims and min(dims) < 12, (seed, sorted(dims))


def test_ising_checks_lattices_below_the_searched_ones() -> None:
    for seed in range(4):
        sides = [min(size.dims) for size in planner(SUITE["ising"]).residue_sizes(seed)]
        assert min(sides) < 256 and all(side % 2 == 0 for side in sides), (seed, sorted(sides))


def test_the_above_centre_respects_a_declared_bound() -> None:
    centre = SUITE["hmc"]._above_centre(np.random.default_rng(0))
    assert centre.dims[1] <= 32 and centre.dims[0] > 8192


@pytest.mark.slow
@pytest.mark.opencl
@pytest.mark.parametrize("name", sorted(WRONG))
def test_kernels_wrong_past_the_checked_edges_now_fail_and_the_seeds_pass(tmp_path: Path, name: str) -> None:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    from tools.kernels import Worker

    task = SUITE[name]
    source = (CHEATS / WRONG[name]).read_text()
    with Worker(factory, tmp_path / "worker") as worker:
        harness = Harness(task, worker, ceilings=None, repeats=1)
        for seed in (1, 2):
            sizes = harness.residue_sizes(seed)
            wrong = harness.evaluate(source, "heldout", seed=seed, sizes=sizes, repeats=1)
            assert wrong.status == "incorrect", wrong.feedback()
            honest = harness.evaluate(task.seed, "heldout", seed=seed, sizes=sizes, repeats=1)
            assert honest.ok, honest.feedback()


def test_a_task_file_with_thousands_of_tunables_is_refused_at_once() -> None:
    """Each tunable's every value was checked at every size and launch with a copy of all the others: 4,000
    tunables took 8.6 s to load, and one 137 KB REST body 26 s."""
    from tests.conftest import within_seconds
    from tests.test_redteam_kernels4 import SCALED_TASK
    from tools import TaskError
    from tools.kernels import kernel_task

    many = {f"T{index}": [1, 2] for index in range(4000)}
    with within_seconds(5), pytest.raises(TaskError, match="at most 32"):
        kernel_task("scale", {**SCALED_TASK, "tunables": many})
    with pytest.raises(TaskError, match="at most 64"):
        kernel_task("scale", {**SCALED_TASK, "tunables": {"T": list(range(1, 100))}})
    assert kernel_task("scale", {**SCALED_TASK, "tunables": {"T": [1, 2]}}).tunables == {"T": (1, 2)}


@pytest.mark.opencl
def test_gradshaf_is_checked_at_magnitudes_far_from_its_usual_draw(tmp_path: Path) -> None:
    """Psi was always drawn at 0.1-300: a kernel that floored |pmax| at 0.005 ("guard the division") passed
    every gate and is wrong for any field of a smaller magnitude, which the contract allows."""
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    from tools.kernels import Size, Worker

    task = SUITE["gradshaf"]
    assert "far-scale" in task.other_distributions
    source = (CHEATS / "gradshaf_pmax_floor.cl").read_text()
    with Worker(factory, tmp_path / "worker") as worker:
        harness = Harness(task, worker, ceilings=None, repeats=1)
        caught = 0
        for seed in range(4):  # half the far draws lie decades above, where the floor never acts
            base = Size("far", (128, 128), distribution="far-scale", correctness_only=True)
            sizes = list(task.draw_scalars([base], np.random.default_rng(seed)))
            caught += harness.evaluate(source, "heldout", seed=seed, sizes=sizes, repeats=1).status == "incorrect"
            assert harness.evaluate(task.seed, "heldout", seed=seed, sizes=sizes, repeats=1).ok
        assert caught >= 1


def test_a_compiler_log_of_huge_lines_is_cut_to_a_readable_verdict() -> None:
    """A 30 KB identifier quoted in 25 of the compiler's messages made a 750 KB compile_error verdict."""
    from tools.kernels._opencl import _build_log

    log = _build_log(RuntimeError(("<source>:1:1: error: use of undeclared identifier '" + "x" * 30_000 + "'\n") * 25))
    assert len(log) <= 60 * 410 and log.count("\n") == 24 and log.endswith("[...]")


def test_saxpy_judges_a_fused_multiply_add_by_its_terms_not_by_a_cancelled_result() -> None:
    """At n = 2 (the smallest edge size) the seed itself was refused once in nine judging runs: its terms near
    1 cancelled to 0.0115, and the fused a*x+y differs from the unfused one by an ulp of the terms."""
    from tools.kernels import Size

    task = SUITE["saxpy"]
    size = Size("edge-smallest", (2,), scalars=(("a", 1.5),))
    rng = np.random.default_rng(0)
    for _ in range(200):
        x = rng.uniform(0.5, 1.0, 2).astype(np.float32)
        y = (-np.float32(1.5) * x + rng.uniform(0.005, 0.02, 2)).astype(np.float32)
        expected = task.reference(size, {"x": x, "y": y})["y"]
        fused = (1.5 * x.astype(np.float64) + y.astype(np.float64)).astype(np.float32)
        assert task.check(size, "y", fused, expected, {"x": x, "y": y}).ok
        wrong = expected + np.float32(1e-3)
        assert not task.check(size, "y", wrong, expected, {"x": x, "y": y}).ok
