"""Kernel candidates against an eighth red-team pass: kernels right on every input the task draws and wrong
elsewhere inside their own contract, and a task file whose tolerance accepts an output of zeros.

- lbm took 1/rho from a series about rho = 1 (every drawn density lies in [0.9, 1.1]); nbody clamped every
  mass above any drawn one (each within a factor 2 of 1/n); gradshaf's reduction started its maximum at 0
  (every drawn field had a positive maximum); saxpy dropped `+ y` below n = 16384 (no checked size was
  under 32768). Each passed the correctness and held-out gates at 0.97-1.0x the seed. Now lbm's populations
  are scale-free (one step maps c fin to c fout), nbody and gradshaf declare other input distributions the
  held-out gate checks (`KernelTask.other_distributions`), and tasks whose contract allows sizes below the
  search's declare the smallest (`KernelTask.smallest`), below which the gate draws sizes too.
- A task file with `atol` above every output accepted a kernel writing zeros, 5x faster than the seed.
  Every judged size now also checks that the task's check refuses all zeros where the reference is not.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import opencl_usable, require_tool
from tests.test_redteam_kernels4 import SCALED_TASK, factory, judge_as_the_bench_does, planner
from tools.kernels import SUITE, Harness, Worker, kernel_task, open_harness

LBM_SERIES_INVERSE = SUITE["lbm"].seed.replace(
    "ux /= rho; uy /= rho;",
    "float d = 1.0f - rho; float inv = 1.0f + d * (1.0f + d * (1.0f + d * (1.0f + d * (1.0f + d))));"
    " ux *= inv; uy *= inv;",
)
"""1/rho as a series about 1: within float32 rounding for densities in [0.9, 1.1], off far from 1."""

NBODY_MASS_CLAMP = SUITE["nbody"].seed.replace(
    "float s = pj.w * inv * inv * inv;", "float s = fmin(pj.w, 0.002f) * inv * inv * inv;"
)
"""Every mass clamped to 0.002, above any the usual draw makes at the sizes checked (at most 1/750)."""

NBODY_DISTANCE_BOUND = SUITE["nbody"].seed.replace(
    "float inv = rsqrt(dx * dx + dy * dy + dz * dz + eps2);",
    "float inv = rsqrt(fmin(dx * dx + dy * dy + dz * dz, 12.0f) + eps2);",
)
"""Every squared distance bounded by 12, the unit box's squared diagonal: right while every body is drawn in that
box, wrong wherever two bodies are farther apart (the contract allows any positions)."""

LJ_CELL_CAPACITY = SUITE["lj"].seed.replace(
    "for (int j = start[nc]; j < start[nc + 1]; ++j) {",
    "for (int j = start[nc]; j < min(start[nc + 1], start[nc] + 28); ++j) {",
)
"""At most 28 particles read from each cell: the usual lattice draw never puts more than 27 in one."""

LJ_CLOSE_PAIRS_CLAMPED = SUITE["lj"].seed.replace("float inv2 = 1.0f / r2;", "float inv2 = 1.0f / fmax(r2, 1.0f);")
"""Pairs closer than 1 treated as at distance 1: the usual draw keeps every pair near a lattice shell (1.03 up)."""

NBODY_DISTANCE_BOUND_FARTHER = NBODY_DISTANCE_BOUND.replace("12.0f", "1600.0f")
"""The same bound at 40 units: past every cluster of far-clusters' first version (centres within 16)."""

LJ_CLOSE_PAIRS_CLAMPED_NEARER = LJ_CLOSE_PAIRS_CLAMPED.replace("fmax(r2, 1.0f)", "fmax(r2, 0.25f)")
"""Pairs closer than 0.5 treated as at 0.5: below every pair the squeezed lattice alone makes (about 0.6)."""

LBM_VELOCITY_CLAMP_FASTER = SUITE["lbm"].seed.replace(
    "ux /= rho; uy /= rho;", "ux /= rho; uy /= rho; ux = clamp(ux, -0.75f, 0.75f); uy = clamp(uy, -0.75f, 0.75f);"
)
"""The velocity clamped at 0.75: above every speed of fast-flow's first version (about 0.59 after the pull)."""

LBM_VELOCITY_CLAMP = SUITE["lbm"].seed.replace(
    "ux /= rho; uy /= rho;", "ux /= rho; uy /= rho; ux = clamp(ux, -0.2f, 0.2f); uy = clamp(uy, -0.2f, 0.2f);"
)
"""The flow's velocity clamped to 0.2: above any the usual near-rest draw reaches (|u| about 0.07 at most)."""

GRADSHAF_MAX_FROM_ZERO = SUITE["gradshaf"].seed.replace("float m = -INFINITY;", "float m = 0.0f;")
"""The reduction's running maximum starts at 0: right for any field whose maximum is positive."""

SAXPY_SMALL_N = """//@params LOCAL=64 VEC=1
__kernel void saxpy(const int n, const float a, __global const float* x, __global float* y) {
    int i = get_global_id(0);
    if (i >= n) return;
    y[i] = n < 16384 ? a * x[i] : a * x[i] + y[i];
}
"""
"""Drops `+ y` for every n below 16384: the contract allows any positive n."""

CONTRACT_DOMAIN_CHEATS: dict[str, tuple[str, str, str, str]] = {
    # name: (task, source, which, a phrase the rejection must contain), as `SCALAR_RESIDUE_CHEATS`
    "lbm-inverse-density-series": ("lbm", LBM_SERIES_INVERSE, "residue", "INCORRECT"),
    "nbody-masses-clamped": ("nbody", NBODY_MASS_CLAMP, "residue", "INCORRECT"),
    "lbm-velocity-clamped": ("lbm", LBM_VELOCITY_CLAMP, "residue", "INCORRECT"),
    "nbody-distances-bounded": ("nbody", NBODY_DISTANCE_BOUND, "residue", "INCORRECT"),
    "lj-cells-read-up-to-28": ("lj", LJ_CELL_CAPACITY, "residue", "INCORRECT"),
    "lj-close-pairs-clamped": ("lj", LJ_CLOSE_PAIRS_CLAMPED, "residue", "INCORRECT"),
    "nbody-distances-bounded-at-40": ("nbody", NBODY_DISTANCE_BOUND_FARTHER, "residue", "INCORRECT"),
    "lj-pairs-below-half-clamped": ("lj", LJ_CLOSE_PAIRS_CLAMPED_NEARER, "residue", "INCORRECT"),
    "lbm-velocity-clamped-at-0.75": ("lbm", LBM_VELOCITY_CLAMP_FASTER, "residue", "INCORRECT"),
    "gradshaf-maximum-from-zero": ("gradshaf", GRADSHAF_MAX_FROM_ZERO, "residue", "INCORRECT"),
    "saxpy-wrong-below-the-search-sizes": ("saxpy", SAXPY_SMALL_N, "residue", "INCORRECT"),
}
"""The payloads, as `bench/cheats_kernels.py` runs them."""

for _name, (_task, _source, _, _) in CONTRACT_DOMAIN_CHEATS.items():
    assert _source != SUITE[_task].seed, f"{_name}: the seed changed; the payload no longer applies"


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    with Worker(factory, tmp_path_factory.mktemp("domain") / "worker") as started:
        yield started


# -- what the held-out gate draws ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(name for name, task in SUITE.items() if task.other_distributions))
def test_every_judging_run_checks_each_other_distribution_at_sizes_its_seed_picks(name: str) -> None:
    task = SUITE[name]
    picked = set()
    for seed in range(6):
        sizes = planner(task).residue_sizes(seed)
        drawn = {size.distribution for size in sizes} - {""}
        assert drawn == set(task.other_distributions), (seed, sizes)
        assert all(size.correctness_only for size in sizes)
        assert any(not size.distribution for size in sizes)  # the usual distribution is checked too
        picked.add(tuple(size.label for size in sizes if size.distribution))
    assert len(picked) > 1


def test_the_other_distributions_reach_what_the_usual_draw_leaves_out() -> None:
    rng = np.random.default_rng(4)
    nbody = SUITE["nbody"]
    size = next(size for size in planner(nbody).residue_sizes(4) if size.distribution == "spread-masses")
    usual = nbody.inputs(type(size)(size.label, size.dims), rng)["pos"].reshape(-1, 4)[:, 3]
    spread = nbody.inputs(size, rng)["pos"].reshape(-1, 4)[:, 3]
    assert usual.max() / usual.min() <= 2.0 + 1e-6 and usual.max() <= 1.0 / size.dims[0]
    assert spread.max() / spread.min() > 1e3 and spread.max() >= 1.0
    gradshaf = SUITE["gradshaf"]
    size = next(size for size in planner(gradshaf).residue_sizes(4) if size.distribution == "negative")
    psi = gradshaf.inputs(size, rng)["psi"]
    assert psi.max() < 0 and "negative inputs" in size.describe()


@pytest.mark.parametrize("name", sorted(name for name, task in SUITE.items() if task.smallest))
def test_sizes_below_the_searched_ones_are_checked_where_the_contract_allows_them(name: str) -> None:
    task = SUITE[name]
    smallest_searched = min(int(np.prod(size.dims)) for size in (*task.sizes, *task.heldout))
    for seed in range(6):
        below = [size for size in planner(task).residue_sizes(seed) if np.prod(size.dims) < smallest_searched]
        assert below and all(np.prod(size.dims) >= np.prod(task.smallest or ()) for size in below), seed


def test_lbm_populations_are_scale_free_as_one_step_is() -> None:
    task = SUITE["lbm"]
    assert task.scale_free_inputs == ("fin",)
    size = task.draw_scalars(task.sizes[:1], np.random.default_rng(0))[0]
    fin = task.inputs(size, np.random.default_rng(1))["fin"].astype(np.float64)
    plain = task.reference(size, {"fin": fin})["fout"]
    scaled = task.reference(size, {"fin": fin * 1e6})["fout"]
    np.testing.assert_allclose(scaled, plain * 1e6, rtol=1e-9)


# -- the payloads ----------------------------------------------------------------------------------------------


@pytest.mark.opencl
@pytest.mark.parametrize(
    "cheat",
    [
        pytest.param(name, marks=[pytest.mark.slow] if name != "nbody-masses-clamped" else [])
        for name in CONTRACT_DOMAIN_CHEATS
    ],
)
def test_a_kernel_right_only_on_the_usual_draws_fails_the_heldout_check_the_seed_passes(
    worker: Worker, cheat: str
) -> None:
    task, source, which, phrase = CONTRACT_DOMAIN_CHEATS[cheat]
    harness = Harness(SUITE[task], worker, ceilings=None, repeats=1)
    assert harness.evaluate(source, "train", seed=3, repeats=1).ok  # right where the search looks
    evaluation = judge_as_the_bench_does(harness, source, which, seed=3)
    assert evaluation.status == "incorrect" and phrase in evaluation.feedback(), evaluation.feedback()
    honest = judge_as_the_bench_does(harness, SUITE[task].seed, which, seed=3)
    assert honest.ok, honest.feedback()


def _coarse_tolerance_task() -> dict[str, Any]:
    """`SCALED_TASK` (y = s * x) with x drawn within +-1e-3 and an atol of 1e-2: above every output."""
    args = list(SCALED_TASK["args"])
    args[2] = {**args[2], "init": {"uniform": [-1e-3, 1e-3]}}
    return {**SCALED_TASK, "args": args, "tolerance": {"rtol": 1e-5, "atol": 1e-2}}


@pytest.mark.opencl
def test_a_task_whose_tolerance_accepts_zeros_judges_no_kernel_correct(tmp_path: Path) -> None:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    for definition, judged in ((_coarse_tolerance_task(), False), (SCALED_TASK, True)):
        task = kernel_task("scale", definition)
        with open_harness(task, tmp_path / f"judged-{judged}", factory) as harness:
            evaluation = harness.evaluate(task.seed, "train", seed=1, repeats=1)
        assert evaluation.ok is judged, evaluation.feedback()
        assert ("its check accepts all zeros" in evaluation.feedback()) is not judged, evaluation.feedback()
