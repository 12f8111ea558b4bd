"""A kernel that reaches its worker's own memory: refused before it runs, and judged where nothing trusted ran.

On PoCL's CPU device a kernel is native code inside the worker process. A red-team pass walked from a
private variable's address to the thread's TLS, libc, the loader's list and the Python interpreter's
frames, using only integer casts of pointers and loops; with that, one kernel (nbody, wrong beyond
r^2 = 16) swapped the seed's compiled kernel into the worker's cache under its own key, so every later
launch of "the candidate" ran the seed and the held-out gate accepted it, and another divided the timed
runs' durations the worker had recorded (the seed scored 837x faster than itself). Both payloads are
kept here as they were run (`tests/data/redteam_kernels/`).

Now the worker refuses programs that convert between pointers and integers or move pointers through
memory (read from the LLVM bitcode PoCL built, `tools/kernels/_pointer_casts.py`), programs defining
kernels no launch runs (a second, correct kernel to swap in), and the gates judge correctness once more
in a worker that never built the seed (`verifiers/kernels/_measure.clean_harness`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import opencl_usable, require_tool
from tests.test_redteam_kernels4 import factory
from tools.kernels import SUITE, Harness, Worker, open_harness
from verifiers.kernels import _measure

pytestmark = [pytest.mark.opencl]

PAYLOADS = Path(__file__).parent / "data" / "redteam_kernels"
SAXPY = SUITE["saxpy"]
NBODY = SUITE["nbody"]

UNION_PUN = """//@params LOCAL=64 VEC=1
__kernel void saxpy(const int n, const float a, __global const float* x, __global float* y) {
    union { __global float* p; ulong u; } pun; pun.p = y; ulong at = pun.u;
    union { __global float* p; ulong u; } back; back.u = at + 64; back.p[0] = 1.0f;
    int i = get_global_id(0);
    if (i < n) y[i] = a * x[i] + y[i];
}"""
"""An address read through a union, and a pointer made from a number the same way (no cast written)."""

SLOT_PUN = """//@params LOCAL=64 VEC=1
__kernel void saxpy(const int n, const float a, __global const float* x, __global float* y) {
    __global float* volatile p = y;
    ulong at = *(volatile ulong*)&p;
    volatile ulong moved = at + 64;
    __global float* q = *(__global float* volatile*)&moved;
    int i = get_global_id(0);
    if (i < n) y[i] = a * x[i] + y[i] + (i == 0 ? q[0] * 0.0f : 0.0f);
}"""
"""The same through a reinterpreted private slot, kept in memory by `volatile`."""

BUILTINS = """//@params LOCAL=64 VEC=1
__kernel void saxpy(const int n, const float a, __global const float* x, __global float* y) {
    int i = get_global_id(0);
    if (i >= n) return;
    float c; float s = sincos(x[i], &c);
    int e; float m = frexp(a, &e);
    float whole; float part = modf(x[i], &whole);
    y[i] = a * x[i] + y[i] + 0.0f * (s + c + m + e + part + whole);
}"""
"""Builtins with pointer arguments (outputs written through a private address): nothing of the above."""


def _source(name: str) -> str:
    return (PAYLOADS / name).read_text()


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    with Worker(factory, tmp_path_factory.mktemp("process") / "worker") as started:
        yield started


@pytest.mark.parametrize("payload", ["nbody_swaps_in_the_seed.cl", "nbody_forges_its_times.cl"])
def test_the_red_team_s_payloads_are_refused_before_they_run(worker: Worker, payload: str) -> None:
    evaluation = Harness(NBODY, worker, ceilings=None, repeats=3).evaluate(_source(payload), seed=1)
    assert evaluation.status == "compile_error", evaluation.feedback()
    assert "converts between pointers and integers" in evaluation.feedback(), evaluation.feedback()


@pytest.mark.parametrize("source", [UNION_PUN, SLOT_PUN], ids=["union", "slot"])
def test_an_address_taken_without_a_cast_is_refused_too(worker: Worker, source: str) -> None:
    evaluation = Harness(SAXPY, worker, ceilings=None, repeats=3).evaluate(source, seed=1)
    assert evaluation.status == "compile_error", evaluation.feedback()
    assert "pointer" in evaluation.feedback(), evaluation.feedback()


def test_builtins_writing_through_private_addresses_still_run(worker: Worker) -> None:
    evaluation = Harness(SAXPY, worker, ceilings=None, repeats=3).evaluate(BUILTINS, seed=1)
    assert evaluation.ok, evaluation.feedback()


def test_a_kernel_no_launch_runs_is_refused(worker: Worker) -> None:
    """A correct second kernel beside a wrong named one: the one a swap would put in its place."""
    spare = SAXPY.seed.replace("__kernel void saxpy(", "__kernel void spare(").split("\n", 1)[1]  # one //@params
    evaluation = Harness(SAXPY, worker, ceilings=None, repeats=3).evaluate(SAXPY.seed + "\n" + spare, seed=1)
    assert evaluation.status == "compile_error", evaluation.feedback()
    assert "defines kernels no launch runs (spare)" in evaluation.feedback(), evaluation.feedback()


WRONG = SAXPY.seed.replace("a * x[i + k] + y[i + k];", "a * x[i + k];")


def test_correctness_is_judged_again_where_the_seed_never_ran(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shared worker played as the swap left it (the seed run in the candidate's place): the gate still
    finds the wrong kernel, in the worker of its own."""
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    assert SAXPY.seed != WRONG
    original = open_harness

    @contextmanager
    def swapped(*args: Any, **kwargs: Any) -> Iterator[Harness]:
        with original(*args, **kwargs) as harness:
            evaluate = harness.evaluate

            def in_its_place(source: str, *more: Any, **named: Any) -> Any:
                return evaluate(SAXPY.seed if source == WRONG else source, *more, **named)

            harness.evaluate = in_its_place  # type: ignore[method-assign]
            yield harness

    monkeypatch.setattr("verifiers.kernels._measure.open_harness", swapped)
    for which in ("train", "heldout"):
        result = _measure.measure(SAXPY, WRONG, which, factory, rounds=1, input_seed=7)
        assert not result.candidate.ok, (which, result.candidate.feedback())
        assert result.candidate.status == "incorrect", result.candidate.feedback()
    monkeypatch.setattr("verifiers.kernels._measure.open_harness", original)
    honest = _measure.measure(SAXPY, SAXPY.seed.replace("LOCAL=64", "LOCAL=128"), "heldout", factory, rounds=1)
    assert honest.candidate.ok, honest.candidate.feedback()
