"""Typed kernel rewrites: preconditions refuse what cannot apply, and what applies is judged correct by the harness."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from random import Random
from typing import ClassVar

import numpy as np
import pytest

from agents.kernel_search import BuiltinProposer, Individual, run_search
from agents.kernel_search._clite import SourceSyntaxError, kernels, tokenize, written_names
from agents.kernel_search._library import variant_of, variants_for
from agents.kernel_search._transforms import ConstInputs, RestrictPointers, UnrollLoop, UseVariant, allowed_values
from runs import Budget
from sandboxes import LocalSandbox, Sandbox
from tests.conftest import opencl_usable, require_tool
from tools import TaskError
from tools.kernels import (
    SUITE,
    Evaluation,
    Harness,
    KernelSearchParams,
    Worker,
    parse_params,
    search_budget,
    with_params,
)
from tools.kernels._task import Size
from tools.kernels.suite._saxpy import Saxpy


def factory(workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
    return LocalSandbox(workdir=workdir, ro_paths=tuple(ro_paths))


# -- the token reader ---------------------------------------------------------------------------------------


def test_every_suite_seed_reads_with_its_global_pointers() -> None:
    for task in SUITE.values():
        found = kernels(task.seed)
        assert found, task.name
        assert any(p.is_global_pointer for k in found for p in k.parameters), task.name


def test_comments_and_directives_are_not_code() -> None:
    source = "// __kernel void x(__global float* restrict a) {}\n#define K restrict\n__kernel void f() { }\n"
    assert [k.name for k in kernels(source)] == ["f"]
    assert [t.kind for t in tokenize(source)[:2]] == ["comment", "directive"]
    with pytest.raises(SourceSyntaxError):
        tokenize("int a = `b`;")


def test_written_names_see_stores_but_not_loads() -> None:
    source = SUITE["lbm"].seed
    (kernel,) = kernels(source)
    written = written_names(source, kernel)
    assert "fout" in written and "fin" not in written


# -- preconditions ------------------------------------------------------------------------------------------


def test_restrict_applies_to_seeds_and_is_refused_once_applied() -> None:
    rewrite = RestrictPointers(SUITE["heat2d"])
    assert rewrite.why_not(SUITE["heat2d"].seed) is None
    done = rewrite.apply(SUITE["heat2d"].seed, Random(0)).source
    assert "const float* restrict u" in done and "float* restrict out" in done
    assert rewrite.why_not(done) == "no __global pointer parameter without restrict"


class AliasingSaxpy(Saxpy):
    """saxpy whose host passes the same buffer as x and y: restrict would be a false promise."""

    name: ClassVar[str] = "saxpy-aliased"

    def host(self, size: Size, params: dict[str, int]):  # type: ignore[no-untyped-def]
        program = super().host(size, params)
        launch = program.launches[0]
        args = tuple(arg if arg.value != "x" else type(arg)("buf", "y") for arg in launch.args)
        return type(program)(
            program.buffers,
            (type(launch)(launch.kernel, launch.global_size, launch.local_size, args),),
            program.outputs,
        )


def test_restrict_is_refused_when_the_host_aliases_buffers() -> None:
    reason = RestrictPointers(AliasingSaxpy()).why_not(Saxpy.seed)
    assert reason is not None and "alias" in reason


def test_const_restores_a_missing_const_and_refuses_written_pointers() -> None:
    seed = SUITE["heat2d"].seed
    stripped = seed.replace("__global const float* u", "__global float* u")
    rewrite = ConstInputs()
    assert rewrite.why_not(seed) is not None
    assert rewrite.why_not(stripped) is None
    restored = rewrite.apply(stripped, Random(0)).source
    assert restored == seed  # u regains its const; out, written by the kernel, stays writable
    assert "__global float* out" in restored


def test_unroll_is_refused_without_a_loop() -> None:
    assert UnrollLoop().why_not(SUITE["ising"].seed) == "no for loop"
    assert UnrollLoop().why_not(SUITE["saxpy"].seed) is None


def test_a_variant_is_not_offered_on_itself_and_keeps_its_required_tunables() -> None:
    task = SUITE["heat2d"]
    variant = next(v for v in variants_for("heat2d") if v.name == "heat2d-rowvec")
    swap = UseVariant(task, variant)
    rewritten = swap.apply(task.seed, Random(1)).source
    assert variant_of(rewritten) == "heat2d-rowvec"
    assert task.parse(rewritten).params["VEC"] in (2, 4, 8, 16)
    assert swap.why_not(rewritten) == "already heat2d-rowvec"
    assert allowed_values(task, rewritten, "VEC") == (2, 4, 8, 16)
    assert allowed_values(task, task.seed, "VEC") == task.tunables["VEC"]


def test_a_variant_starts_at_its_own_values_from_any_parent_and_only_where_the_task_allows_them() -> None:
    task = SUITE["wave3d"]
    variant = next(v for v in variants_for("wave3d") if v.name == "wave3d-rowloop")
    assert variant.start == {"VEC": 16}
    swap = UseVariant(task, variant)
    for vec in (1, 2, 4, 8):
        parent = with_params(task.seed, {**task.defaults(), "LX": 64, "VEC": vec})
        for seed in range(5):
            params = task.parse(swap.apply(parent, Random(seed)).source).params
            assert params["VEC"] == 16 and params["LX"] == 64  # the start, and the parent's other tunables
    # A start value the task does not declare, or one outside what the variant requires, is never used.
    odd = replace(variant, start={"VEC": 32, "LY": 3})
    params = task.parse(UseVariant(task, odd).apply(task.seed, Random(0)).source).params
    assert params["VEC"] in (4, 8, 16) and params["LY"] == task.defaults()["LY"]


def test_proposer_never_leaves_a_variants_allowed_tunables() -> None:
    task = SUITE["heat2d"]
    variant = next(v for v in variants_for("heat2d") if v.name == "heat2d-rowvec")
    source = UseVariant(task, variant).apply(task.seed, Random(2)).source
    proposer = BuiltinProposer(task)
    parent = Individual(0, source, Evaluation(task="heat2d", source_sha256="x", which="train", seed=0, status="ok"))
    rng = Random(3)
    for _ in range(200):
        for proposal in proposer.propose(parent, [parent], rng):
            params = task.parse(proposal.source).params
            if variant_of(proposal.source) == "heat2d-rowvec":
                assert params["VEC"] in (2, 4, 8, 16)


def test_opencl_only_variants_are_not_offered_on_cuda() -> None:
    cuda = BuiltinProposer(SUITE["nbody"], backend="cuda")
    assert not [t for t in cuda.applicable(SUITE["nbody"].seed) if isinstance(t, UseVariant)]
    lbm = [t for t in BuiltinProposer(SUITE["lbm"], backend="cuda").applicable(SUITE["lbm"].seed)]
    assert any(isinstance(t, UseVariant) for t in lbm)


def test_tunables_only_proposer_offers_no_rewrite() -> None:
    proposer = BuiltinProposer(SUITE["nbody"], rewrites=False)
    assert {t.kind for t in proposer.transformations} == {"unroll"}


def test_every_structural_variant_is_tried_once_from_any_parent_in_library_order() -> None:
    """The tournament seldom picks the seed again, so untried variants are proposed from the current parent."""
    task = SUITE["nbody"]
    names = [variant.name for variant in variants_for("nbody")]
    proposer = BuiltinProposer(task)
    done = Evaluation(task="nbody", source_sha256="x", which="train", seed=0, status="ok")
    history = [Individual(0, task.seed, done)]
    parent = history[0]
    for expected in names:
        (proposal,) = proposer.propose(parent, history, Random(5))
        assert variant_of(proposal.source) == expected
        parent = Individual(len(history), proposal.source, done)
        history.append(parent)
    (proposal,) = proposer.propose(parent, history, Random(5))
    assert variant_of(proposal.source) in names  # then tunables and small rewrites on the winners
    assert not proposal.note.startswith("rewrite as")


# -- the budget of a kernels search --------------------------------------------------------------------------


def test_budget_caps_evaluations_and_seconds_are_validated() -> None:
    params = KernelSearchParams(kernel="saxpy", evaluations=40, seconds=12.5)
    assert search_budget(params, Budget(experiments=8)) == (8, 12.5)
    assert search_budget(params, Budget(experiments=100_000)) == (40, 12.5)
    with pytest.raises(TaskError, match="seconds"):
        parse_params({"kernel": "saxpy", "seconds": 0})
    with pytest.raises(TaskError, match="evaluations"):
        parse_params({"kernel": "saxpy", "evaluations": 0})


# -- the harness judges every rewrite ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    with Worker(factory, tmp_path_factory.mktemp("transforms") / "worker") as shared:
        yield shared


def odd_sizes(name: str) -> list[Size]:
    """The smallest in-distribution size and a small odd one (prime dimensions: every tail path runs; for
    ising, whose periodic checkerboard needs even sides, twice primes; for fft3d, whose contract is powers
    of two, three different ones, the longest in the middle)."""
    task = SUITE[name]
    primes = {1: (997,), 2: (67, 37), 3: (23, 19, 17)}
    odd = {"ising": (74, 38), "fft3d": (8, 64, 4)}.get(name, primes[len(task.sizes[0].dims)])
    return [task.sizes[0], Size("odd", odd)]


REWRITES = [(name, variant.name) for name in sorted(SUITE) for variant in variants_for(name)] + [
    (name, "restrict") for name in ("heat2d", "nbody", "lbm", "wave3d", "saxpy")
]


@pytest.mark.opencl
@pytest.mark.parametrize(("name", "rewrite"), REWRITES, ids=[f"{n}-{r}" for n, r in REWRITES])
def test_every_rewrite_is_judged_correct_where_it_applies(worker: Worker, name: str, rewrite: str) -> None:
    task = SUITE[name]
    if rewrite == "restrict":
        source = RestrictPointers(task).apply(task.seed, Random(0)).source
    else:
        variant = next(v for v in variants_for(name) if v.name == rewrite)
        source = UseVariant(task, variant).apply(task.seed, Random(0)).source
    assert source != task.seed
    evaluation = Harness(task, worker, ceilings=None, repeats=1).evaluate(source, sizes=odd_sizes(name), seed=9)
    assert evaluation.status == "ok", evaluation.feedback()


STRONGEST = [
    ("heat2d", "heat2d-rowloop", {"LX": 16, "LY": 4, "VEC": 16}),
    ("wave3d", "wave3d-rowloop", {"LX": 16, "LY": 4, "VEC": 16}),
    ("nbody", "nbody-ilanes16", {"LOCAL": 128}),
    ("nbody", "nbody-ilanes8", {"LOCAL": 0}),
    ("lbm", "lbm-rowvec", {"LX": 0, "VEC": 8}),
    ("lbm", "lbm-rowvec", {"LX": 32, "LY": 2, "VEC": 16}),
    ("hmc", "hmc-lanes8", {"LOCAL": 256}),
    ("hmc", "hmc-lanes16", {"LOCAL": 16}),
    ("fft3d", "fft3d-pow2", {"LOCAL": 256}),
    ("lj", "lj-images", {"LOCAL": 64}),
]


@pytest.mark.slow
@pytest.mark.opencl
@pytest.mark.parametrize(("name", "rewrite", "params"), STRONGEST, ids=[f"{n}-{r}" for n, r, _ in STRONGEST])
def test_the_fastest_variants_are_correct_at_every_suite_and_heldout_size(
    worker: Worker, name: str, rewrite: str, params: dict[str, int]
) -> None:
    """The variants the search picks, at the settings it picks, judged at every size a search or a gate uses."""
    task = SUITE[name]
    variant = next(v for v in variants_for(name) if v.name == rewrite)
    chosen = {**task.defaults(), **params}
    assert all(chosen[k] in allowed for k, allowed in variant.requires.items())
    source = variant.source(chosen)
    harness = Harness(task, worker, ceilings=None, repeats=1)
    evaluation = harness.evaluate(source, sizes=[*task.sizes, *task.heldout], seed=11)
    assert evaluation.status == "ok", evaluation.feedback()
    assert [size.label for size in evaluation.sizes] == [size.label for size in (*task.sizes, *task.heldout)]


@pytest.mark.opencl
def test_a_wrong_rewrite_is_still_rejected(worker: Worker) -> None:
    """A variant whose tail loop is dropped is wrong at odd n: the harness says so, as for any candidate."""
    task = SUITE["nbody"]
    variant = next(v for v in variants_for("nbody") if v.name == "nbody-lanes8")
    broken = UseVariant(task, variant).apply(task.seed, Random(0)).source.replace("j < n;", "j < 0;")
    assert "j < 0;" in broken
    evaluation = Harness(task, worker, ceilings=None, repeats=1).evaluate(broken, sizes=odd_sizes("nbody"), seed=9)
    assert evaluation.status != "ok"


@pytest.mark.slow
@pytest.mark.opencl
def test_search_with_rewrites_beats_tunables_only_on_nbody(tmp_path: Path) -> None:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    from tools.kernels import open_harness

    task = SUITE["nbody"]
    params = KernelSearchParams(kernel="nbody", evaluations=10, remeasure=2)
    with open_harness(task, tmp_path / "worker", factory) as harness:
        found = {
            rewrites: run_search(
                task, params, harness, BuiltinProposer(task, rewrites=rewrites), seed=4, seconds=math.inf
            )
            for rewrites in (True, False)
        }
    winner, plain = found[True]["winner"], found[False]["winner"]
    assert winner.evaluation.ok and variant_of(winner.source) != "seed", winner.note
    # The lane-vectorised kernels run 2.5-4x the seed here; a generous margin keeps noise out.
    assert winner.fitness > 1.5 * plain.fitness, (winner.fitness, plain.fitness)
    assert np.isfinite(winner.fitness)


@pytest.mark.opencl
@pytest.mark.parametrize("width", [8, 16])
@pytest.mark.parametrize("path", ["processor estimate", "portable estimate"])
def test_the_nbody_lanes_reciprocal_square_root_is_accurate_on_either_path(width: int, path: str) -> None:
    """The lane kernels' 1/sqrt takes the processor's estimate on x86 with AVX and a bit-level one elsewhere.

    Both are judged over every r^2 a task draw gives (eps2 from 2e-3 up to far bodies at 1e4 units): the
    portable path is otherwise never compiled on an AVX host, so a slip there would show only on other devices.
    """
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    import pyopencl as cl

    variant = next(v for v in variants_for("nbody") if v.name == f"nbody-ilanes{width}")
    helper = variant.body[: variant.body.index("__kernel")]
    assert "rsqrt_estimate" in helper and "defined(__AVX__)" in helper
    if path == "portable estimate":
        helper = helper.replace("defined(__AVX__)", "0")
    source = helper + (
        f"__kernel void probe(__global const float{width}* x, __global float{width}* y, __global int* avx) {{\n"
        f"    const int i = get_global_id(0);\n    y[i] = rsqrt_estimate(x[i]);\n"
        "#if defined(__AVX__)\n    if (i == 0) *avx = 1;\n#endif\n}\n"
    )
    context = cl.Context(cl.get_platforms()[0].get_devices()[:1])
    queue = cl.CommandQueue(context)
    with warnings.catch_warnings():  # float16 arguments without AVX-512 make clang note an ABI change, harmlessly
        warnings.simplefilter("ignore")
        program = cl.Program(context, source).build()
    x = np.geomspace(2e-3, 3e8, 64 * width * 1024, dtype=np.float32)
    flags = cl.mem_flags
    xs = cl.Buffer(context, flags.READ_ONLY | flags.COPY_HOST_PTR, hostbuf=x)
    ys = cl.Buffer(context, flags.WRITE_ONLY, x.nbytes)
    avx = np.zeros(1, dtype=np.int32)
    avxs = cl.Buffer(context, flags.READ_WRITE | flags.COPY_HOST_PTR, hostbuf=avx)
    program.probe(queue, (x.size // width,), None, xs, ys, avxs)
    y = np.empty_like(x)
    cl.enqueue_copy(queue, y, ys)
    cl.enqueue_copy(queue, avx, avxs)
    queue.finish()
    if path == "processor estimate" and not avx[0]:
        pytest.skip("this OpenCL device compiles for no x86 AVX target: the portable path is its only path")
    error = np.abs(y.astype(np.float64) * np.sqrt(x.astype(np.float64)) - 1.0).max()
    # One Newton step from the 12-bit estimate lands near 2e-7, two from the bit-level one near 5e-6; one step
    # fewer on either path gives 4e-4 or 2e-3, past the task's 2e-4 tolerance.
    assert error < (5e-7 if path == "processor estimate" else 1e-5), error


@pytest.mark.opencl
@pytest.mark.parametrize("axis", ["x", "z"])
def test_an_lj_image_rewrite_that_forgets_one_wrap_is_rejected(worker: Worker, axis: str) -> None:
    """lj-images shifts i's position by a box length where a neighbour cell wraps: a twin that forgets the
    shift along one axis is wrong only for pairs across that face of the box, and the harness finds it."""
    task = SUITE["lj"]
    variant = next(v for v in variants_for("lj") if v.name == "lj-images")
    source = UseVariant(task, variant).apply(task.seed, Random(0)).source
    forgetful = source.replace(f"q{axis} += l{axis};", "").replace(f"q{axis} -= l{axis};", "")
    assert forgetful != source
    evaluation = Harness(task, worker, ceilings=None, repeats=1).evaluate(forgetful, sizes=odd_sizes("lj"), seed=9)
    assert evaluation.status == "incorrect", evaluation.feedback()
