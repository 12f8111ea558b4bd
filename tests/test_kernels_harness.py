"""The kernel harness on a real OpenCL device (PoCL here): seeds, planted wrong kernels, hangs, diagnostics."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from random import Random

import pytest

from agents.kernel_search import Evaluator, Individual, Proposal, SearchBudget, one_plus_one
from sandboxes import LocalSandbox, Sandbox
from tests.conftest import opencl_usable, require_tool
from tools.kernels import SUITE, Harness, Size, Worker

pytestmark = [pytest.mark.opencl]


def factory(workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
    return LocalSandbox(workdir=workdir, ro_paths=tuple(ro_paths))


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    with Worker(factory, tmp_path_factory.mktemp("kernels") / "worker") as shared:
        yield shared


def harness(worker: Worker, name: str, timeout: float = 60.0) -> Harness:
    return Harness(SUITE[name], worker, ceilings=None, timeout=timeout, repeats=3)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SUITE))
def test_every_seed_passes_its_own_check_at_all_sizes(worker: Worker, name: str) -> None:
    for which in ("train", "heldout"):
        evaluation = harness(worker, name).evaluate(SUITE[name].seed, which, seed=11)
        assert evaluation.status == "ok", evaluation.feedback()
        assert all(size.correct and size.seconds > 0 for size in evaluation.sizes)
        assert len(evaluation.sizes) == (3 if which == "train" else 2)


def test_suite_has_ten_tasks_with_distinct_sizes() -> None:
    assert len(SUITE) >= 10
    for task in SUITE.values():
        assert len(task.sizes) == 3 and len(task.heldout) == 2
        assert not set(task.sizes) & set(task.heldout)
        assert all(task.work(size).bytes > 0 for size in task.sizes)


HEAT_OFF_BY_ONE = SUITE["heat2d"].seed.replace("x == nx - 1 ||", "x == nx ||")
ISING_RACE = SUITE["ising"].seed.replace("|| ((x + y) & 1) != color) return;", ") return;")
NBODY_LOW_PRECISION = SUITE["nbody"].seed.replace(
    "float inv = rsqrt(dx * dx + dy * dy + dz * dz + eps2);",
    "float r2 = dx * dx + dy * dy + dz * dz + eps2; float inv = as_float(0x5f3759df - (as_int(r2) >> 1));"
    " inv = inv * (1.5f - 0.5f * r2 * inv * inv);",
)


@pytest.mark.parametrize(
    ("name", "source", "expected"),
    [
        ("heat2d", HEAT_OFF_BY_ONE, "INCORRECT"),
        ("ising", ISING_RACE, "elements differ"),
        ("nbody", NBODY_LOW_PRECISION, "INCORRECT"),
    ],
    ids=["off-by-one-halo", "race", "precision-loss"],
)
def test_planted_wrong_kernels_fail(worker: Worker, name: str, source: str, expected: str) -> None:
    assert source != SUITE[name].seed
    evaluation = harness(worker, name).evaluate(source, seed=5)
    assert evaluation.status == "incorrect"
    assert evaluation.fitness == 0.0
    assert expected in evaluation.feedback()


def test_compile_errors_come_back_with_line_numbers(worker: Worker) -> None:
    broken = SUITE["saxpy"].seed.replace("y[i + k] = a * x[i + k] + y[i + k];", "y[i + k] = a * x[i + k] + ;")
    line = broken.splitlines().index(next(text for text in broken.splitlines() if "+ ;" in text)) + 1
    evaluation = harness(worker, "saxpy").evaluate(broken)
    assert evaluation.status == "compile_error"
    assert f"<kernel>:{line}:" in evaluation.message
    assert "expected expression" in evaluation.feedback()


def test_out_of_bounds_writes_are_caught_by_the_guard(worker: Worker) -> None:
    overflow = SUITE["saxpy"].seed.replace("if (i + k < n) {", "if (i + k < n + 64) {")
    evaluation = harness(worker, "saxpy").evaluate(overflow, "heldout")
    assert evaluation.status == "incorrect"
    assert "wrote past the end of buffer y" in evaluation.feedback()


@pytest.mark.slow
def test_infinite_loop_is_killed_and_the_search_continues(tmp_path: Path) -> None:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    hang = SUITE["saxpy"].seed.replace(
        "int i = get_global_id(0) * VEC;", "int i = get_global_id(0) * VEC;\n    while (n > 0) { y[0] += 1.0f; }"
    )
    faster = SUITE["saxpy"].seed.replace("LOCAL=64", "LOCAL=128")

    class Scripted:
        def __init__(self) -> None:
            self.queue = [Proposal(hang, "hangs"), Proposal(faster, "bigger groups")]

        def propose(self, parent: Individual, history: Sequence[Individual], rng: Random) -> list[Proposal]:
            return [self.queue.pop(0)] if self.queue else []

    with Worker(factory, tmp_path / "worker") as own:
        h = Harness(SUITE["saxpy"], own, ceilings=None, timeout=8.0, repeats=3)
        evaluator = Evaluator(lambda source: h.evaluate(source, seed=1), SearchBudget(3))
        one_plus_one(evaluator, SUITE["saxpy"].seed, Scripted(), Random(0))
        statuses = [i.evaluation.status for i in evaluator.individuals]
        assert statuses == ["ok", "timeout", "ok"]
        assert own.starts == 2
        assert "worker was killed" in evaluator.individuals[1].evaluation.message


VECTOR_SAXPY = """//@params LOCAL=64 VEC=4
__kernel void saxpy(const int n, const float a, __global const float* x, __global float* y) {
    int i = get_global_id(0) * 4;
    if (i + 3 < n) {
        vstore4(a * vload4(0, x + i) + vload4(0, y + i), 0, y + i);
    } else {
        for (int k = i; k < n; ++k) y[k] = a * x[k] + y[k];
    }
}
"""


@pytest.mark.slow
def test_llm_proposer_rewrites_are_evaluated_by_the_harness(worker: Worker) -> None:
    from agents.kernel_search import LLMProposer
    from tests.test_kernels_search import ScriptedLLM

    llm = ScriptedLLM([(f"vectorise with float4\n```c\n{VECTOR_SAXPY}```\n", -0.3)], budget=1)
    h = harness(worker, "saxpy")
    evaluator = Evaluator(lambda source: h.evaluate(source, seed=2), SearchBudget(5))
    one_plus_one(evaluator, SUITE["saxpy"].seed, LLMProposer(SUITE["saxpy"], llm, edit="rewrite"), Random(0))
    assert [i.note for i in evaluator.individuals] == ["seed", "vectorise with float4"]
    assert evaluator.individuals[1].evaluation.status == "ok"
    assert evaluator.individuals[1].evaluation.params == {"LOCAL": 64, "VEC": 4}
    heldout = h.evaluate(VECTOR_SAXPY, "heldout", seed=3)
    assert heldout.status == "ok", heldout.feedback()


class _NeverBypassed(set[tuple[int, ...]]):
    def add(self, element: tuple[int, ...]) -> None:
        return None


def test_finalists_on_one_seed_share_references_and_every_evaluation_says_where_its_time_went(
    worker: Worker,
) -> None:
    h = harness(worker, "nbody")
    assert h.references is not None
    # The cache computes a size directly once a reference took less time than hashing its inputs, which a loaded
    # machine decides for this small size now and then: the sharing is what is tested here, so never bypass.
    h.references.bypassed = _NeverBypassed()
    sizes = [Size("small", (256,))]
    first = h.evaluate(SUITE["nbody"].seed, seed=21, sizes=sizes)
    again = h.evaluate(SUITE["nbody"].seed + "\n// another finalist\n", seed=21, sizes=sizes)
    assert first.ok and again.ok, (first.feedback(), again.feedback())
    assert h.references is not None
    assert h.references.hits >= 1, "run 0 of a shared seed has the same inputs: its reference is computed once"
    elsewhere = h.evaluate(SUITE["nbody"].seed, seed=22, sizes=sizes)
    assert elsewhere.ok
    assert h.references.misses >= len(first.sizes[0].checked_runs) + len(elsewhere.sizes[0].checked_runs)
    for phase in ("worker_compile", "worker_prepare", "worker_launch", "worker_observe", "ipc", "reference"):
        assert phase in first.phases, phase
    assert 0 < sum(first.phases.values()) <= first.wall_seconds + 1e-6
