"""Kernel gates against a fourth round of attacks: constant scalars, and residue sizes near one centre only.

- Scalar arguments were constants (saxpy's a = 1.75, lbm's omega, nbody's eps2, ...), so a kernel
  ignoring its argument and using the literal (`y[i] = 1.75f * x[i] + y[i]`) passed both gates. Every
  task now declares a range for each scalar its contract lets vary, and every run draws them per size
  from its seed; the host program and the reference read the same drawn values from the size.
- The correctness-only sizes of other arithmetic kinds were drawn near the smallest held-out centre
  only, so a kernel wrong at large sizes whose odd part has a factor 3, 5 or 7 (n = 3,000,000) passed.
  They are now drawn around every held-out centre (and within every range of a task file).
"""

from __future__ import annotations

import itertools
import math
import secrets
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest
import yaml

from sandboxes import LocalSandbox, Sandbox
from tests.conftest import opencl_usable, require_tool
from tools import TaskError
from tools.kernels import SUITE, Evaluation, Harness, KernelTask, Worker, kernel_task, read_definition_files
from tools.kernels._heldout import RESIDUE_PICKERS, around
from tools.kernels._judge import input_key

CONSTANT_A = """//@params LOCAL=64 VEC=1
__kernel void saxpy(const int n, const float a, __global const float* x, __global float* y) {
    int i = get_global_id(0);
    if (i < n) y[i] = 1.75f * x[i] + y[i];
}
"""
"""Ignores `a` and uses the value every run once passed."""

WRONG_ABOVE_THE_SMALL_CENTRE = """//@params LOCAL=64 VEC=1
__kernel void saxpy(const int n, const float a, __global const float* x, __global float* y) {
    int i = get_global_id(0);
    if (i >= n) return;
    int m = n >> ctz(n);
    int fast = n > 140000 && (m % 3 == 0 || m % 5 == 0 || m % 7 == 0);
    y[i] = fast ? y[i] : a * x[i] + y[i];
}
"""
"""Skips the update for n above 1.3x the smaller held-out centre wherever the odd part has a factor 3, 5 or 7."""

WRONG_BETWEEN_CHECKED_SIZES = """//@params LOCAL=64 VEC=1
__kernel void saxpy(const int n, const float a, __global const float* x, __global float* y) {
    int i = get_global_id(0);
    if (i >= n) return;
    int pow2 = (n & (n - 1)) == 0;
    int skip = !pow2 && (n < 70000 || (n > 140000 && n < 2100000));
    y[i] = skip ? y[i] : a * x[i] + y[i];
}
"""
"""Right at powers of two and within 0.75-1.3x of both held-out centres, wrong at every other size: it passed both
gates before a size was drawn in each stretch between checked sizes."""

WRONG_NEAR_THE_RANGE_ENDS = """//@params LOCAL=64 VEC=1
__kernel void saxpy(const int n, const float a, __global const float* x, __global float* y) {
    int i = get_global_id(0);
    if (i >= n) return;
    float b = fabs(a) > 3.5f ? copysign(3.5f, a) : a;
    y[i] = b * x[i] + y[i];
}
"""
"""Clamps a to [-3.5, 3.5] (saxpy's range is [-4, 4]): an approximation that breaks only near the range's ends,
where uniform draws alone land in about one judging run in ten."""

SCALAR_RESIDUE_CHEATS: dict[str, tuple[str, str, str, str]] = {
    # name: (task, source, which, a phrase the rejection must contain), as `KERNEL_CHEATS`; "residue" is
    # the held-out gate's correctness-only sizes (`Harness.residue_sizes`)
    "hard-codes-its-scalar": ("saxpy", CONSTANT_A, "train", "INCORRECT"),
    "wrong-only-at-large-composite-sizes": ("saxpy", WRONG_ABOVE_THE_SMALL_CENTRE, "residue", "INCORRECT"),
}
"""The two payloads, as `bench/cheats_kernels.py` runs them."""

SCALED_TASK: dict[str, Any] = {
    "title": "scale: y = s * x",
    "contract": "__kernel void scale(const int n, const float s, __global const float* x, __global float* y): "
    "y[i] = s * x[i] for i < n.",
    "dims": ["n"],
    "sizes": {"small": {"n": 4096}},
    "heldout": {"heldout": {"n": [20000, 40000]}, "heldout-small": {"n": [1000, 3000]}},
    "args": [
        {"name": "n", "type": "i32", "value": "n"},
        {"name": "s", "type": "f32", "value": 1.5, "range": [-3.0, 3.0]},
        {"name": "x", "type": "buffer", "dtype": "float32", "shape": "n", "role": "in", "init": {"uniform": [-1, 1]}},
        {"name": "y", "type": "buffer", "dtype": "float32", "shape": "n", "role": "out"},
    ],
    "launches": [{"kernel": "scale", "global": ["n"], "local": [64]}],
    "tolerance": {"rtol": 1e-6, "atol": 1e-6},
    "work": {"bytes": "8 * n", "flops": "n"},
    "reference": "reference.py",
    "seed": "seed.cl",
    "files": {
        "reference.py": "def reference(n, s, x):\n    return s * x.astype('float64')\n",
        "seed.cl": "__kernel void scale(const int n, const float s, __global const float* x, __global float* y) {\n"
        "    int i = get_global_id(0);\n    if (i < n) y[i] = s * x[i];\n}\n",
    },
}
"""A task file whose scalar `s` is declared with a range: its default 1.5 is what the hard-coding kernel uses."""


def factory(workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
    return LocalSandbox(workdir=workdir, ro_paths=tuple(ro_paths))


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    with Worker(factory, tmp_path_factory.mktemp("rt4") / "worker") as started:
        yield started


def planner(task: KernelTask) -> Harness:
    """A harness used only to draw sizes (no worker runs anything)."""
    return Harness(task, cast(Worker, None))


# -- scalars are inputs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SUITE))
def test_every_suite_task_draws_its_scalars_within_their_ranges_or_says_why_not(name: str) -> None:
    task = SUITE[name]
    if not task.scalar_ranges:
        assert task.fixed_scalars, f"{name} declares no scalar range and no reason for fixed scalars"
        return
    harness = planner(task)
    for seed in (1, 2, 3):
        sizes = (*harness.sizes_for("train", seed), *harness.sizes_for("heldout", seed), *harness.residue_sizes(seed))
        for size in sizes:
            assert [scalar for scalar, _ in size.scalars] == list(task.scalar_ranges), size
            for scalar, value in size.scalars:
                spec = task.scalar_ranges[scalar]
                assert value in spec.choices if spec.choices else spec.low <= value <= spec.high, (scalar, value)
        assert harness.sizes_for("train", seed) == harness.sizes_for("train", seed)  # reproducible from the seed
    for scalar, spec in task.scalar_ranges.items():
        assert spec.default is not None and spec.low <= spec.default <= spec.high, (scalar, spec)
        values = {
            value for seed in range(6) for size in harness.sizes_for("train", seed) for value in [size.scalar(scalar)]
        }
        assert len(values) >= 2, (scalar, values)


@pytest.mark.parametrize("name", sorted(name for name, task in SUITE.items() if task.scalar_ranges))
def test_every_judged_set_of_sizes_checks_each_scalars_range_ends_at_sizes_its_seed_picks(name: str) -> None:
    """Got through before: uniform draws alone left a range's edges unchecked in most runs, so a kernel wrong
    only next to heat2d's stability limit (r > 0.235) passed about one judging run in four."""
    task = SUITE[name]
    harness = planner(task)
    where: set[tuple[str, int]] = set()
    for seed in (1, 2, 3):
        sets = {"train": harness.sizes_for("train", seed), "residue": harness.residue_sizes(seed)}
        for which, sizes in sets.items():
            for scalar, spec in task.scalar_ranges.items():
                pinned = spec.pinned()
                assert all(spec.low <= value <= spec.high for value in pinned), (scalar, pinned)
                seen = [size.scalar(scalar) for size in sizes]
                checked = [value for value in seen if value in pinned]
                assert len(set(checked)) >= min(len(pinned), len(sizes) // 2), (scalar, which, pinned, seen)
                if not (spec.integer or spec.choices):  # a draw of a few whole numbers may meet a pinned one
                    assert len(seen) - len(checked) >= len(sizes) - len(sizes) // 2  # the rest stay drawn
                if which == "residue":
                    assert set(pinned) <= set(seen), (scalar, pinned, seen)  # the held-out gate sees every one
                    where.add((scalar, seen.index(pinned[0])))
    assert len(where) > len(task.scalar_ranges), where  # not always at the same size


def test_a_ranges_pinned_values_are_its_ends_default_and_zero_when_signed() -> None:
    from tools.kernels._task import ScalarRange

    assert ScalarRange(-4.0, 4.0, default=1.75).pinned() == (-4.0, 4.0, 1.75, 0.0)
    assert ScalarRange(0.02, 0.33, default=0.2).pinned()[1] <= 0.33  # float32(0.33) is above 0.33: stepped back
    assert ScalarRange(1, 8, default=4, integer=True).pinned() == (1.0, 8.0, 4.0)
    assert ScalarRange(0, 1, choices=(2.01, 2.28, 2.5)).pinned() == (2.01, 2.28, 2.5)


@pytest.mark.parametrize("name", sorted(name for name, task in SUITE.items() if task.scalar_ranges))
def test_the_host_program_and_the_reference_both_read_the_drawn_scalars(name: str) -> None:
    """Two draws of the scalars at one size and one input: the launches' arguments and the reference both change."""
    task = SUITE[name]
    base = task.sizes[0]
    low = task.draw_scalars([base], np.random.default_rng(1))[0]
    high = low
    for seed in range(2, 50):
        high = task.draw_scalars([base], np.random.default_rng(seed))[0]
        if all(a != b for (_, a), (_, b) in zip(low.scalars, high.scalars, strict=True)):
            break
    assert low.scalars != high.scalars
    params = task.defaults()
    assert [launch.args for launch in task.host(low, params).launches] != [
        launch.args for launch in task.host(high, params).launches
    ]
    assert task.host(low, params).buffers == task.host(high, params).buffers  # the rival (seed) always applies
    inputs = task.inputs(base, np.random.default_rng(7))
    first, second = task.reference(low, inputs), task.reference(high, inputs)
    assert any(not np.array_equal(first[out], second[out]) for out in first), name
    assert input_key(low, inputs) != input_key(high, inputs)  # a cached reference never answers for other scalars


def test_the_reference_at_the_drawn_scalars_is_what_the_contract_says() -> None:
    task = SUITE["saxpy"]
    size = planner(task).sizes_for("train", 5)[0]
    a = size.scalar("a")
    assert a is not None and a != 1.75 and a == float(np.float32(a))
    inputs = task.inputs(size, np.random.default_rng(0))
    assert np.array_equal(task.reference(size, inputs)["y"], np.float32(a) * inputs["x"] + inputs["y"])
    (launch,) = task.host(size, task.defaults()).launches
    assert launch.args[1].value == a


# -- residue sizes around every centre -------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(name for name, task in SUITE.items() if task.residue_checks))
def test_every_kind_of_residue_size_is_drawn_around_every_heldout_centre(name: str) -> None:
    task = SUITE[name]
    kinds = [kind for kind, _ in RESIDUE_PICKERS]
    for seed in (1, 2):
        sizes = planner(task).residue_sizes(seed)
        labels = [size.label for size in sizes]
        assert all(size.correctness_only for size in sizes)  # no yardstick is run beside them
        assert not any(size.correctness_only for size in planner(task).sizes_for("heldout", seed))
        for centre in task.heldout:
            around_it = [
                label.removeprefix(f"{centre.label}-") for label in labels if label.rsplit("-", 1)[0] == centre.label
            ]
            assert {"even2", "composite", "any1", "any2"} <= set(around_it) <= set(kinds), (name, centre, labels)
            for size in sizes:
                if size.label.rsplit("-", 1)[0] != centre.label:
                    continue
                for dim, middle in zip(size.dims, centre.dims, strict=True):
                    low, high = around(middle, minimum=1)
                    assert low // 2 - 2 <= dim <= high + 2, (name, size, centre)  # ising halves, then doubles


@pytest.mark.parametrize("name", sorted(name for name, task in SUITE.items() if task.residue_checks and task.heldout))
def test_no_stretch_between_checked_sizes_is_left_without_a_size_of_its_own(name: str) -> None:
    """Got through before: checked only at powers of two and within 0.75-1.3x of each held-out centre, a saxpy
    kernel wrong at every other size below 70,000 and between 140,000 and 2,100,000 passed both gates."""
    task = SUITE[name]
    anchors = sorted({math.prod(size.dims) for size in (*task.sizes, *task.heldout)})
    for seed in (1, 2, 3):
        checked = sorted(math.prod(size.dims) for size in task.draw_residues(np.random.default_rng(seed)))
        for low, high in itertools.pairwise(anchors):
            if high > 2 * low:
                inside = [n for n in checked if low < n < high]
                assert inside, (name, seed, low, high, checked)


def test_saxpy_residue_sizes_reach_the_large_centre() -> None:
    task = SUITE["saxpy"]
    large = max(math.prod(centre.dims) for centre in task.heldout)
    small = min(math.prod(centre.dims) for centre in task.heldout)
    for seed in range(5):
        dims = [size.dims[0] for size in planner(task).residue_sizes(seed)]
        assert sum(n > 1.3 * small for n in dims) >= 6 and max(dims) >= 0.75 * large, dims


def test_a_task_file_draws_every_kind_in_every_range() -> None:
    task = kernel_task("scale", SCALED_TASK)
    sizes = planner(task).residue_sizes(4)
    for label, (low, high) in (("heldout", (20000, 40000)), ("heldout-small", (1000, 3000))):
        inside = [size for size in sizes if size.label.rsplit("-", 1)[0] == label]
        assert len(inside) == len(RESIDUE_PICKERS), sizes
        assert all(low <= size.dims[0] <= high for size in inside), inside
    drawn = [size.scalar("s") for size in sizes]
    assert all(value is not None and -3.0 <= value <= 3.0 for value in drawn), drawn


# -- scalars of a task file ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        ({"name": "s", "type": "f32", "value": 1.5, "range": [3.0, -3.0]}, "low < high"),
        ({"name": "s", "type": "f32", "value": 1.5, "range": [1.0, 1.00000001]}, "one value"),
        ({"name": "s", "type": "f32", "value": 1.5, "range": [0.0, 1e39]}, "float32"),
        ({"name": "s", "type": "i32", "value": 1, "range": [0.5, 4.0]}, "whole numbers"),
        ({"name": "s", "type": "u32", "value": 1, "range": [-1, 4]}, "does not fit u32"),
        ({"name": "s", "type": "buffer", "dtype": "float32", "shape": 1, "role": "in", "range": [0, 1]}, "no range"),
    ],
)
def test_a_bad_scalar_range_is_bad_input_naming_the_field(arg: dict[str, Any], message: str) -> None:
    definition = {**SCALED_TASK, "args": [SCALED_TASK["args"][0], arg, *SCALED_TASK["args"][2:]]}
    with pytest.raises(TaskError, match=r"params\.definition\.args\[1\]\.range: .*" + message):
        kernel_task("scale", definition)


def test_a_size_passed_as_a_scalar_takes_no_range() -> None:
    definition = {
        **SCALED_TASK,
        "args": [{"name": "n", "type": "i32", "value": "n", "range": [1, 9]}, *SCALED_TASK["args"][1:]],
    }
    with pytest.raises(TaskError, match=r"args\[0\]\.range"):
        kernel_task("scale", definition)


def test_the_conv1d_example_still_loads_and_draws_no_scalars() -> None:
    folder = Path(__file__).resolve().parents[1] / "tools" / "kernels" / "examples" / "conv1d"
    params = read_definition_files(yaml.safe_load((folder / "task.yaml").read_text())["params"], folder)
    task = kernel_task("conv1d", params["definition"])
    assert task.scalar_ranges == {}
    assert all(size.scalars == () for size in planner(task).sizes_for("train", 1))


# -- the harness -----------------------------------------------------------------------------------------------


@pytest.mark.opencl
@pytest.mark.slow
def test_a_kernel_ignoring_its_scalar_is_incorrect_at_every_judged_set_of_sizes(worker: Worker) -> None:
    harness = Harness(SUITE["saxpy"], worker, ceilings=None, repeats=1)
    for seed in (1, 2, 3):
        for which in ("train", "heldout"):
            cheat = harness.evaluate(CONSTANT_A, which, seed=seed)
            assert cheat.status == "incorrect", cheat.feedback()
            assert "a=" in cheat.feedback()  # the proposer sees which value it was given
            honest = harness.evaluate(SUITE["saxpy"].seed, which, seed=seed)
            assert honest.ok, honest.feedback()
        residues = harness.evaluate(CONSTANT_A, "heldout", seed=seed, sizes=harness.residue_sizes(seed))
        assert residues.status == "incorrect", residues.feedback()


@pytest.mark.opencl
@pytest.mark.slow
def test_a_kernel_wrong_only_at_large_composite_sizes_fails_the_residue_sizes(worker: Worker) -> None:
    harness = Harness(SUITE["saxpy"], worker, ceilings=None, repeats=1)
    for seed in (1, 2, 3):
        drawn = harness.evaluate(WRONG_ABOVE_THE_SMALL_CENTRE, "heldout", seed=seed)
        assert drawn.ok, drawn.feedback()
        sizes = harness.residue_sizes(seed)
        residues = harness.evaluate(WRONG_ABOVE_THE_SMALL_CENTRE, "heldout", seed=seed, sizes=sizes, repeats=1)
        assert residues.status == "incorrect", residues.feedback()
        failed = [size for size in residues.sizes if not size.correct]
        assert failed and all(size.label.startswith(("heldout-", "gap")) and size.dims[0] > 140000 for size in failed)
        honest = harness.evaluate(SUITE["saxpy"].seed, "heldout", seed=seed, sizes=sizes, repeats=1)
        assert honest.ok, honest.feedback()


@pytest.mark.opencl
@pytest.mark.slow
@pytest.mark.parametrize("source", [WRONG_BETWEEN_CHECKED_SIZES, WRONG_NEAR_THE_RANGE_ENDS], ids=["gaps", "range-ends"])
def test_a_kernel_wrong_where_no_size_or_value_was_checked_before_fails_the_held_out_gates_sizes(
    worker: Worker, source: str
) -> None:
    """Both passed the held-out gate for most seeds before: every seed's correctness-only sizes now catch them,
    while the seed itself stays correct there."""
    harness = Harness(SUITE["saxpy"], worker, ceilings=None, repeats=1)
    for seed in (1, 2, 3):
        sizes = harness.residue_sizes(seed)
        cheat = harness.evaluate(source, "heldout", seed=seed, sizes=sizes, repeats=1)
        assert cheat.status == "incorrect", cheat.feedback()
        honest = harness.evaluate(SUITE["saxpy"].seed, "heldout", seed=seed, sizes=sizes, repeats=1)
        assert honest.ok, honest.feedback()


@pytest.mark.opencl
def test_a_task_file_scalar_reaches_the_kernel_and_the_reference_at_its_drawn_value(tmp_path: Path) -> None:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    from tools.kernels import open_harness

    task = kernel_task("scale", SCALED_TASK)
    hard_coded = SCALED_TASK["files"]["seed.cl"].replace("y[i] = s * x[i]", "y[i] = 1.5f * x[i]")
    with open_harness(task, tmp_path / "worker", factory) as harness:
        for seed in (1, 2):
            honest = harness.evaluate(task.seed, "train", seed=seed, repeats=1)
            assert honest.ok, honest.feedback()
            cheat = harness.evaluate(hard_coded, "heldout", seed=seed, repeats=1)
            assert cheat.status == "incorrect", cheat.feedback()


@pytest.mark.opencl
@pytest.mark.parametrize("cheat", sorted(SCALAR_RESIDUE_CHEATS))
def test_the_bench_cases_are_rejected_as_the_bench_judges_them(worker: Worker, cheat: str) -> None:
    task, source, which, phrase = SCALAR_RESIDUE_CHEATS[cheat]
    harness = Harness(SUITE[task], worker, ceilings=None, repeats=1)
    evaluation = judge_as_the_bench_does(harness, source, which, seed=5)
    assert evaluation.status == "incorrect" and phrase in evaluation.feedback(), evaluation.feedback()
    honest = judge_as_the_bench_does(harness, SUITE[task].seed, which, seed=5)
    assert honest.ok, honest.feedback()


def judge_as_the_bench_does(harness: Harness, source: str, which: str, seed: int | None = None) -> Evaluation:
    """`which` of `SCALAR_RESIDUE_CHEATS`: train or held-out sizes, or the held-out gate's residue sizes."""
    if which == "residue":
        seed = secrets.randbits(31) if seed is None else seed
        return harness.evaluate(source, "heldout", seed=seed, sizes=harness.residue_sizes(seed), repeats=3)
    return harness.evaluate(source, "heldout" if which == "heldout" else "train", seed=seed)


# -- the gates -------------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.opencl
@pytest.mark.parametrize(
    ("source", "which"), [(CONSTANT_A, "train"), (CONSTANT_A, "heldout"), (WRONG_ABOVE_THE_SMALL_CENTRE, "heldout")]
)
def test_both_payloads_fail_the_gates_measure(source: str, which: str) -> None:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    from verifiers.kernels._measure import measure

    task = SUITE["saxpy"]
    result = measure(task, source, which, factory, rounds=1, input_seed=11)  # type: ignore[arg-type]
    assert not result.candidate.ok, result.candidate.feedback()
    honest = measure(task, task.seed, which, factory, rounds=1, input_seed=11)  # type: ignore[arg-type]
    assert honest.candidate.ok, honest.candidate.feedback()
