"""Row-loop rewrites of gradshaf (`gradshaf-rowloop`: a contiguous chunk per work-item for the maximum, row
loops for the Jacobi sweep) and ising (`ising-rowloop`: one work-item walks its row's sites of the launch's
colour). Each is offered where the host's grid fits it, tried first, and judged correct by the harness at
odd sizes, drawn scalars and other input distributions at every setting the search may give it; twins that
skip one element are rejected."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from random import Random

import pytest

from agents.kernel_search import BuiltinProposer, Individual
from agents.kernel_search._library import Variant, unmet_precondition, variant_of, variants_for
from agents.kernel_search._transforms import UseVariant
from sandboxes import LocalSandbox, Sandbox
from tests.conftest import opencl_usable, require_tool
from tools.kernels import SUITE, Evaluation, Harness, Worker
from tools.kernels._task import HostProgram, Launch, Size
from tools.kernels.suite._gradshaf import Gradshaf
from tools.kernels.suite._ising import Ising

TASK = SUITE["gradshaf"]
ISING = SUITE["ising"]


def factory(workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
    return LocalSandbox(workdir=workdir, ro_paths=tuple(ro_paths))


def rowloop(task: str = "gradshaf") -> Variant:
    (found,) = (v for v in variants_for(task) if v.name == f"{task}-rowloop")
    return found


class ShortRows(Gradshaf):
    """A gradshaf whose host launches the sweep over half the rows: a per-item kernel could loop over two
    rows, a row sweeper that owns one row per item would leave half the field unwritten."""

    def host(self, size: Size, params: dict[str, int]) -> HostProgram:
        program = super().host(size, params)
        reduce, sweep = program.launches
        gx, gy = sweep.global_size
        half = -(-gy // 2)
        if sweep.local_size is not None:
            half = -(-half // sweep.local_size[1]) * sweep.local_size[1]
        return replace(program, launches=(reduce, Launch(sweep.kernel, (gx, half), sweep.local_size, sweep.args)))


def test_the_rewrite_is_offered_on_gradshaf_starting_at_its_widest_row_segment() -> None:
    swap = UseVariant(TASK, rowloop())
    assert swap.why_not(TASK.seed) is None
    rewritten = swap.apply(TASK.seed, Random(0)).source
    assert variant_of(rewritten) == "gradshaf-rowloop"
    assert TASK.parse(rewritten).params["LX"] == 128
    # Every setting the tunables allow keeps the sweep's grid whole (the reduction's grid is not checked:
    # the contract fixes it).
    assert unmet_precondition(TASK, rowloop()) is None


def test_the_rewrite_is_not_offered_where_the_sweep_leaves_rows_out() -> None:
    task = ShortRows()
    reason = UseVariant(task, rowloop()).why_not(task.seed)
    assert reason is not None and "jacobi" in reason and "does not cover the domain" in reason, reason


@pytest.mark.parametrize("name", ["gradshaf", "ising"])
def test_the_rewrite_is_the_first_move_of_the_builtin_proposer(name: str) -> None:
    task = SUITE[name]
    done = Evaluation(task=name, source_sha256="x", which="train", seed=0, status="ok")
    seed = Individual(0, task.seed, done)
    (proposal,) = BuiltinProposer(task).propose(seed, [seed], Random(1))
    assert variant_of(proposal.source) == f"{name}-rowloop"


class HalfColumns(Ising):
    """An ising whose host launches one item per two columns without HALF: a row walker that owns one
    column per item would leave half of each row out."""

    def host(self, size: Size, params: dict[str, int]) -> HostProgram:
        program = super().host(size, params)
        if params["HALF"]:
            return program
        launches = []
        for launch in program.launches:
            gx, gy = launch.global_size
            half = -(-gx // 2)
            if launch.local_size is not None:
                half = -(-half // launch.local_size[0]) * launch.local_size[0]
            launches.append(Launch(launch.kernel, (half, gy), launch.local_size, launch.args))
        return replace(program, launches=tuple(launches))


def test_the_ising_rewrite_counts_two_columns_per_item_with_half_and_one_without() -> None:
    swap = UseVariant(ISING, rowloop("ising"))
    assert swap.why_not(ISING.seed) is None
    params = ISING.parse(swap.apply(ISING.seed, Random(0)).source).params
    assert (params["LX"], params["HALF"]) == (128, 0)
    assert unmet_precondition(ISING, rowloop("ising")) is None
    reason = unmet_precondition(HalfColumns(), rowloop("ising"))
    assert reason is not None and "'HALF': 0" in reason and "1 columns per item" in reason, reason


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    with Worker(factory, tmp_path_factory.mktemp("gradshaf") / "worker") as shared:
        yield shared


def odd_sizes() -> list[Size]:
    """Prime dimensions with drawn scalars, a field of negative values (its maximum below zero), a field
    smaller than the reduction's work-items, and single rows and columns."""
    scalars = (("r0", 1.7), ("width", 0.6))
    return [
        Size("odd", (67, 37), scalars=scalars),
        Size("negative", (53, 41), distribution="negative"),
        Size("tiny", (29, 3)),
        Size("column", (3, 31)),
    ]


SETTINGS = [
    {"LOCAL_R": 64, "LX": 128, "LY": 1},
    {"LOCAL_R": 16, "LX": 0, "LY": 1},
    {"LOCAL_R": 256, "LX": 8, "LY": 4},
    {"LOCAL_R": 32, "LX": 64, "LY": 8},
]


def judged(worker: Worker, source: str, sizes: Sequence[Size]) -> Evaluation:
    return Harness(TASK, worker, ceilings=None, repeats=1).evaluate(source, sizes=sizes, seed=17)


@pytest.mark.opencl
@pytest.mark.parametrize("params", SETTINGS, ids=[str(p) for p in SETTINGS])
def test_the_rewrite_is_correct_at_odd_sizes_and_other_inputs(worker: Worker, params: dict[str, int]) -> None:
    evaluation = judged(worker, rowloop().source(params), odd_sizes())
    assert evaluation.status == "ok", evaluation.feedback()
    assert len(evaluation.sizes) == len(odd_sizes())


@pytest.mark.opencl
@pytest.mark.parametrize(
    ("original", "broken"),
    [
        ("const int end = min(start + chunk, n);", "const int end = min(start + chunk - 1, n);"),
        ("for (int i = max(xs, 1); i < hi; ++i) {", "for (int i = max(xs, 1); i < hi - 1; ++i) {"),
    ],
    ids=["chunk-without-its-last-element", "row-segment-without-its-last-column"],
)
def test_a_twin_that_skips_one_element_per_chunk_or_segment_is_rejected(
    worker: Worker, original: str, broken: str
) -> None:
    source = rowloop().source({**TASK.defaults(), **rowloop().start})
    assert original in source
    evaluation = judged(worker, source.replace(original, broken), odd_sizes())
    assert evaluation.status == "incorrect", evaluation.feedback()


ISING_SETTINGS = [
    {"LX": 64, "LY": 1, "HALF": 1},
    {"LX": 0, "LY": 1, "HALF": 0},
    {"LX": 8, "LY": 4, "HALF": 0},
    {"LX": 128, "LY": 8, "HALF": 1},
]


def ising_sizes() -> list[Size]:
    """Even sides (the contract's periodic checkerboard), drawn temperatures: odd halves (every parity of a
    group's first column), two-column and two-row strips (each neighbour is the wrap's)."""
    return [
        Size("odd-halves", (74, 38), scalars=(("beta", 0.9),)),
        Size("narrow", (2, 46), scalars=(("beta", 0.2),)),
        Size("flat", (130, 2)),
    ]


def judged_ising(worker: Worker, source: str, sizes: Sequence[Size]) -> Evaluation:
    return Harness(ISING, worker, ceilings=None, repeats=1).evaluate(source, sizes=sizes, seed=19)


@pytest.mark.opencl
@pytest.mark.parametrize("params", ISING_SETTINGS, ids=[str(p) for p in ISING_SETTINGS])
def test_the_ising_rewrite_is_bit_exact_at_odd_sizes(worker: Worker, params: dict[str, int]) -> None:
    evaluation = judged_ising(worker, rowloop("ising").source(params), ising_sizes())
    assert evaluation.status == "ok", evaluation.feedback()


@pytest.mark.opencl
@pytest.mark.parametrize(
    ("original", "broken"),
    [("x < xe; x += 2)", "x < xe - 1; x += 2)"), ("(x == nx - 1 ? 0 : x + 1)", "(x + 1)")],
    ids=["row-segment-without-its-last-site", "no-wrap-on-the-right"],
)
def test_an_ising_twin_that_skips_a_site_or_a_wrap_is_rejected(worker: Worker, original: str, broken: str) -> None:
    source = rowloop("ising").source({**ISING.defaults(), **rowloop("ising").start})
    assert original in source
    evaluation = judged_ising(worker, source.replace(original, broken), ising_sizes())
    assert evaluation.status == "incorrect", evaluation.feedback()


@pytest.mark.slow
@pytest.mark.opencl
def test_the_ising_rewrite_is_bit_exact_at_every_suite_and_heldout_size(worker: Worker) -> None:
    for half in (1, 0):
        source = rowloop("ising").source({**ISING.defaults(), "LX": 64, "HALF": half})
        evaluation = judged_ising(worker, source, [*ISING.sizes, *ISING.heldout])
        assert evaluation.status == "ok", f"HALF={half}: {evaluation.feedback()}"


@pytest.mark.slow
@pytest.mark.opencl
def test_the_rewrite_is_correct_at_every_suite_and_heldout_size_at_every_row_segment(worker: Worker) -> None:
    for lx, ly in itertools.product((128, 16), (1, 2)):
        source = rowloop().source({**TASK.defaults(), "LX": lx, "LY": ly})
        evaluation = judged(worker, source, [*TASK.sizes, *TASK.heldout])
        assert evaluation.status == "ok", f"LX={lx} LY={ly}: {evaluation.feedback()}"
