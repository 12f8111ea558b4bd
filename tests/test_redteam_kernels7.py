"""A red-team pass on the kernel gates: joint residues of two sides, sides below the search's sizes, the gaps
between a task file's declared sizes, a task file's grid that reaches 0 between its checked sizes, `//@params`
integers past Python's limit, and fractions of the roofline above 1.

Each residue size gave every side one kind, so a heat2d kernel wrong only where nx = 2 and ny = 3 (mod 4) went
unchecked in two judging runs of three; multi-dimensional suite tasks never checked a side below 256; a task
file's kernel writing zeros between its declared sizes was accepted at 2.55x its seed.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import opencl_usable, require_tool, within_seconds
from tests.test_redteam_kernels4 import SCALED_TASK, factory, planner
from tools import TaskError
from tools.kernels import SUITE, Harness, Size, kernel_task
from tools.kernels._harness import SizeResult
from tools.kernels._heldout import residue_rows, with_residue
from tools.kernels._task import CandidateError

MULTI_DIMENSIONAL = sorted(name for name, task in SUITE.items() if len(task.heldout[0].dims) >= 2)


@pytest.mark.parametrize("dimensions", [2, 3, 4, 5])
def test_residue_rows_take_every_pair_of_residues_of_every_two_sides(dimensions: int) -> None:
    rows = residue_rows(dimensions, np.random.default_rng(dimensions))
    assert len(rows) == 16
    for first, second in itertools.combinations(range(dimensions), 2):
        assert {(row[first], row[second]) for row in rows} == set(itertools.product(range(4), repeat=2))


def test_a_residue_picker_draws_only_its_class() -> None:
    rng = np.random.default_rng(0)
    assert {with_residue(3)(100, 140, rng) % 4 for _ in range(50)} == {3}


@pytest.mark.parametrize("name", MULTI_DIMENSIONAL)
def test_every_judging_run_checks_every_joint_residue_of_two_sides_its_shape_rule_allows(name: str) -> None:
    task = SUITE[name]
    for seed in range(4):
        dims = [size.dims for size in planner(task).residue_sizes(seed)]
        for first, second in itertools.combinations(range(len(task.heldout[0].dims)), 2):
            pairs = {(d[first] % 4, d[second] % 4) for d in dims}
            allowed = {(a % 4, b % 4) for a, b in itertools.product(range(4), repeat=2)}
            if name in {"ising", "fft3d"}:  # even sides, powers of two: their shape rule allows fewer classes
                continue
            assert pairs >= allowed, (seed, first, second, sorted(allowed - pairs))


@pytest.mark.parametrize("name", ["heat2d", "wave3d", "lbm", "gradshaf"])
def test_grid_tasks_check_sides_below_the_searched_ones(name: str) -> None:
    task = SUITE[name]
    assert task.smallest is not None
    smallest_searched = min(min(size.dims) for size in (*task.sizes, *task.heldout))
    for seed in range(6):
        sides = [min(size.dims) for size in planner(task).residue_sizes(seed)]
        assert min(sides) < smallest_searched, (seed, min(sides))
        assert min(sides) >= min(task.smallest)


def test_a_task_files_gaps_between_its_declared_sizes_are_checked() -> None:
    """`SCALED_TASK` declares n = 4096 and held-out ranges [1000, 3000] and [20000, 40000]: a kernel wrong for every
    n in (4096, 20000) or above 40000 passed while no checked size lay there."""
    task = kernel_task("scale", {**SCALED_TASK, "sizes": {"small": {"n": 4096}, "large": {"n": 262144}}})
    for seed in range(6):
        checked = [size.dims[0] for size in planner(task).residue_sizes(seed)]
        assert any(4096 * 1.3 < n < 20000 * 0.75 for n in checked), (seed, sorted(checked))
        assert any(40000 * 1.3 < n < 262144 * 0.75 for n in checked), (seed, sorted(checked))


def test_a_task_files_grid_that_reaches_zero_between_its_checked_sizes_is_the_tasks_fault() -> None:
    launches = [{**SCALED_TASK["launches"][0], "global": ["n * (n % 2)"]}]
    definition = {
        **SCALED_TASK,
        "sizes": {"small": {"n": 4097}},
        "heldout": {"heldout": {"n": [20001, 40001]}},
        "launches": launches,
    }
    task = kernel_task("scale", definition)  # odd at every declared size and range end: read without complaint
    with pytest.raises(TaskError, match=r"evaluates to global \[0\].*a fault of the task file, not of the candidate"):
        task.host(Size("even", (30000,)), task.defaults())


def test_a_params_integer_past_pythons_limit_is_an_invalid_candidate() -> None:
    """`int()` of 5,000 digits raised a ValueError: a traceback from `agent check`, a 500 from the REST API, and
    one such model reply ended a whole search."""
    source = f"//@params LX={'1' * 5000}\n" + SUITE["heat2d"].seed.split("\n", 1)[1]
    with pytest.raises(CandidateError, match=r"at most 18 digits"):
        SUITE["heat2d"].parse(source)


def test_a_fraction_above_the_measured_ceiling_is_flagged_where_it_is_shown() -> None:
    line = SizeResult(
        label="small", dims=[4096], correct=True, seconds=1e-3, gbps=50.0, fraction=1.96, bound="bandwidth"
    ).line()
    assert "196.0% of the bandwidth ceiling" in line and "above the measured ceiling" in line
    honest = SizeResult(label="small", dims=[4096], correct=True, seconds=1e-3, fraction=0.5, bound="bandwidth")
    assert "above the measured ceiling" not in honest.line()


HEAT2D_WRONG_AT_JOINT_RESIDUES = SUITE["heat2d"].seed.replace(
    "if (x == 0 || y == 0 || x == nx - 1 || y == ny - 1) {",
    "if (x == 0 || y == 0 || x == nx - 1 || y == ny - 1 || (nx % 4 == 2 && ny % 4 == 3)) {",
)
HEAT2D_WRONG_BELOW_200 = SUITE["heat2d"].seed.replace(
    "if (x == 0 || y == 0 || x == nx - 1 || y == ny - 1) {",
    "if (x == 0 || y == 0 || x == nx - 1 || y == ny - 1 || nx < 200 || ny < 200) {",
)


@pytest.mark.slow
@pytest.mark.opencl
@pytest.mark.parametrize("source", [HEAT2D_WRONG_AT_JOINT_RESIDUES, HEAT2D_WRONG_BELOW_200])
def test_heat2d_kernels_wrong_where_no_size_looked_now_fail_the_residue_check(tmp_path: Path, source: str) -> None:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    from tools.kernels import Worker

    assert source != SUITE["heat2d"].seed
    with Worker(factory, tmp_path / "worker") as worker:
        harness = Harness(SUITE["heat2d"], worker, ceilings=None, repeats=1)
        for seed in (1478020666, 206659883):
            sizes = harness.residue_sizes(seed)
            evaluation = harness.evaluate(source, "heldout", seed=seed, sizes=sizes, repeats=1)
            assert evaluation.status == "incorrect", evaluation.feedback()
        honest = harness.evaluate(SUITE["heat2d"].seed, "heldout", seed=7, sizes=harness.residue_sizes(7), repeats=1)
        assert honest.ok, honest.feedback()


@pytest.mark.parametrize(
    "tail",
    [
        "#" + "/**/" * 40 + "x\n",  # one model reply of this held a search, and its cancel, for good
        "#" + "/*\n*/" * 5000 + "x\n",
        "#/*" * 30000,  # quadratic before: 10 s per 60,000 characters
    ],
)
def test_a_kernels_directives_are_read_in_time_linear_in_its_length(tail: str) -> None:
    with within_seconds(5):
        SUITE["saxpy"].parse(SUITE["saxpy"].seed + "\n" + tail)


@pytest.mark.parametrize(
    "hidden",
    [
        '#/**/include "x.h"\n',
        '#/*\n*/include "x.h"\n',
        'constant char* a = "/*";\n#include "x.h"\nconstant char* b = "*/";\n',
        "#pragma unroll /*\n*/ 4\n",
    ],
)
def test_directives_behind_comments_or_inside_string_tricks_are_still_refused(hidden: str) -> None:
    with pytest.raises(CandidateError):
        SUITE["saxpy"].parse(SUITE["saxpy"].seed + "\n" + hidden)
