"""The row-block stencil variants: offered only where the host's grid fits them, and judged correct.

`heat2d-rowblock` and `wave3d-rowblock` let one work-item per group sweep the group's whole block
(LX*VEC columns of LY rows); their code relies on the host launching VEC columns per item and one item
per row, in whole work-groups. These tests check that precondition is what decides whether the
rewrite is offered, and that the harness finds its output correct at every size a search or a gate
runs, for the settings the search may give it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from random import Random

import pytest

from agents.kernel_search import BuiltinProposer, Individual
from agents.kernel_search._library import Variant, rows_cover_grid, unmet_precondition, variant_of, variants_for
from agents.kernel_search._transforms import UseVariant
from sandboxes import LocalSandbox, Sandbox
from tests.conftest import opencl_usable, require_tool
from tools.kernels import SUITE, Evaluation, Harness, KernelTask, Worker
from tools.kernels._task import HostProgram, Launch, Size
from tools.kernels.suite._heat2d import Heat2d
from tools.kernels.suite._wave3d import Wave3d


def factory(workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
    return LocalSandbox(workdir=workdir, ro_paths=tuple(ro_paths))


def variant(task: str, name: str) -> Variant:
    return next(v for v in variants_for(task) if v.name == name)


class HalfRows(Heat2d):
    """A heat2d whose host launches one item per two rows: a per-item kernel could loop over both, a row
    sweeper that owns get_local_size(1) rows per group would leave half the grid unwritten."""

    def host(self, size: Size, params: dict[str, int]) -> HostProgram:
        program = super().host(size, params)
        (launch,) = program.launches
        gx, gy = launch.global_size
        local = launch.local_size
        half = -(-gy // 2)
        if local is not None:
            half = -(-half // local[1]) * local[1]
        return replace(program, launches=(Launch(launch.kernel, (gx, half), local, launch.args),))


class RaggedGroups(Wave3d):
    """A wave3d whose host passes a grid that is not whole work-groups at some settings (groups of 3 planes)."""

    def host(self, size: Size, params: dict[str, int]) -> HostProgram:
        program = super().host(size, params)
        (launch,) = program.launches
        gx, gy, gz = launch.global_size
        local = (launch.local_size[0], launch.local_size[1], 3) if launch.local_size else None
        return replace(program, launches=(Launch(launch.kernel, (gx, gy, gz), local, launch.args),))


ROW_SWEEPERS = [("heat2d", "heat2d-rowblock"), ("heat2d", "heat2d-rowloop"), ("wave3d", "wave3d-rowblock")]


@pytest.mark.parametrize(("task", "name"), ROW_SWEEPERS, ids=[n for _, n in ROW_SWEEPERS])
def test_a_row_sweeper_is_offered_on_its_suite_task_and_starts_at_its_own_block(task: str, name: str) -> None:
    suite = SUITE[task]
    swap = UseVariant(suite, variant(task, name))
    assert swap.why_not(suite.seed) is None
    rewritten = swap.apply(suite.seed, Random(0)).source
    assert variant_of(rewritten) == name
    params = suite.parse(rewritten).params
    assert params["VEC"] == 16
    assert {k: params[k] for k in variant(task, name).start} == variant(task, name).start


def test_a_row_sweeper_is_not_offered_where_the_host_grid_leaves_rows_out() -> None:
    task = HalfRows()
    for name in ("heat2d-rowblock", "heat2d-rowloop"):
        reason = UseVariant(task, variant("heat2d", name)).why_not(task.seed)
        assert reason is not None and "does not cover the domain" in reason, reason
        assert f"{name} does not fit this task" in reason
    # A variant with no precondition (the per-item row vectors) is still offered there.
    assert UseVariant(task, variant("heat2d", "heat2d-rowvec")).why_not(task.seed) is None
    assert BuiltinProposer(task).applicable(task.seed)  # the other rewrites stay available


def test_a_row_sweeper_is_not_offered_where_the_grid_is_not_whole_work_groups() -> None:
    task = RaggedGroups()
    reason = UseVariant(task, variant("wave3d", "wave3d-rowblock")).why_not(task.seed)
    assert reason is not None and "not whole work-groups" in reason, reason


def test_the_precondition_is_checked_at_every_setting_the_search_may_give_the_variant() -> None:
    """A grid that fits at the starting values but not at one the tunable moves can reach is refused."""

    class NarrowAtVec4(Heat2d):
        def host(self, size: Size, params: dict[str, int]) -> HostProgram:
            program = super().host(size, params)
            if params["VEC"] != 4:
                return program
            (launch,) = program.launches
            gx, gy = launch.global_size
            return replace(program, launches=(Launch(launch.kernel, (gx // 2, gy), None, launch.args),))

    task = NarrowAtVec4()
    block = variant("heat2d", "heat2d-rowblock")
    assert rows_cover_grid(task, {**task.defaults(), **block.start}) is None
    reason = unmet_precondition(task, block)
    assert reason is not None and "VEC': 4" in reason, reason
    narrowed = replace(block, requires={"VEC": (8, 16)})
    assert unmet_precondition(task, narrowed) is None


def test_the_row_block_is_the_first_rewrite_the_proposer_tries() -> None:
    for task_name in ("heat2d", "wave3d"):
        task = SUITE[task_name]
        done = Evaluation(task=task_name, source_sha256="x", which="train", seed=0, status="ok")
        seed = Individual(0, task.seed, done)
        (proposal,) = BuiltinProposer(task).propose(seed, [seed], Random(1))
        assert variant_of(proposal.source) == f"{task_name}-rowblock"


# -- judged by the harness -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    with Worker(factory, tmp_path_factory.mktemp("rowblock") / "worker") as shared:
        yield shared


SETTINGS = [
    ("heat2d", {"LX": 64, "LY": 8, "VEC": 16}),
    ("heat2d", {"LX": 0, "LY": 1, "VEC": 4}),
    ("heat2d", {"LX": 8, "LY": 2, "VEC": 8}),
    ("wave3d", {"LX": 16, "LY": 8, "VEC": 16}),
    ("wave3d", {"LX": 256, "LY": 4, "VEC": 4}),
    ("wave3d", {"LX": 0, "LY": 1, "VEC": 8}),
]


def judged(task: KernelTask, worker: Worker, source: str, sizes: Sequence[Size]) -> Evaluation:
    return Harness(task, worker, ceilings=None, repeats=1).evaluate(source, sizes=sizes, seed=13)


def odd_sizes(task: KernelTask) -> list[Size]:
    """Prime dimensions (every tail and boundary path), and a one-column and one-row strip."""
    if len(task.sizes[0].dims) == 2:
        return [Size("odd", (67, 37)), Size("column", (1, 29)), Size("row", (61, 1))]
    return [Size("odd", (23, 19, 17)), Size("thin", (1, 7, 5)), Size("flat", (37, 3, 3))]


@pytest.mark.opencl
@pytest.mark.parametrize(("task_name", "params"), SETTINGS, ids=[f"{t}-{p}" for t, p in SETTINGS])
def test_the_row_block_is_correct_at_odd_sizes(worker: Worker, task_name: str, params: dict[str, int]) -> None:
    task = SUITE[task_name]
    source = variant(task_name, f"{task_name}-rowblock").source(params)
    evaluation = judged(task, worker, source, odd_sizes(task))
    assert evaluation.status == "ok", evaluation.feedback()


@pytest.mark.slow
@pytest.mark.opencl
@pytest.mark.parametrize("task_name", ["heat2d", "wave3d"])
def test_the_row_block_is_correct_at_every_suite_and_heldout_size(worker: Worker, task_name: str) -> None:
    task = SUITE[task_name]
    block = variant(task_name, f"{task_name}-rowblock")
    source = block.source({**task.defaults(), **block.start})
    evaluation = judged(task, worker, source, [*task.sizes, *task.heldout])
    assert evaluation.status == "ok", evaluation.feedback()


@pytest.mark.opencl
def test_a_row_block_that_skips_a_blocks_last_row_is_rejected(worker: Worker) -> None:
    task = SUITE["heat2d"]
    block = variant("heat2d", "heat2d-rowblock")
    broken = block.source({**task.defaults(), **block.start}).replace("y < ye;", "y < ye - 1;")
    assert "y < ye - 1;" in broken
    evaluation = judged(task, worker, broken, odd_sizes(task)[:1])
    assert evaluation.status == "incorrect", evaluation.feedback()
