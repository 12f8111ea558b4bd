"""Kernel gates against a third round of attacks (see `test_kernel_gates_hostile`, `test_redteam_kernels2`).

- Processor state that outlives a launch: clang accepts target builtins in OpenCL C, and on PoCL
  `__builtin_ia32_ldmxcsr` switches on flush-to-zero and denormals-are-zero for the runtime thread,
  where it stays for every later kernel of the worker (the seed timed beside the candidate, the next
  candidates of a search). `__builtin_ia32_rdtsc` and `__builtin_readcyclecounter` give a kernel a
  clock, `__builtin_frame_address` the worker's stack. A built program calling any of these is
  refused, whatever the spelling (a macro can paste the builtin's name together).
- `__local` memory that outlives a program: PoCL keeps each runtime thread's local memory as the
  last work-group left it, across launches, programs and requests. A search re-measures its
  finalists on one inputs seed (byte-identical inputs, run by run), so a finalist could answer
  from what the one before it computed on those inputs, correct at every checked run and with
  none of the work. The worker now overwrites every thread's local memory before each request.
  (Program-scope `global` variables and `static` ones, the other memory that outlives a launch,
  need OpenCL C 2.0; PoCL builds at 1.2 and refuses them, and no candidate chooses build options.)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from sandboxes import LocalSandbox, Sandbox
from tests.conftest import opencl_usable, require_tool
from tools.kernels import SUITE, Harness, Worker
from tools.kernels._backend import KernelCompileError, intrinsics_refused
from tools.kernels._task import Size

pytestmark = [pytest.mark.opencl]

SAXPY = SUITE["saxpy"].seed
START = "int i = get_global_id(0) * VEC;"

FLUSH_TO_ZERO = "__builtin_ia32_ldmxcsr(__builtin_ia32_stmxcsr() | 0x8040);"
"""MXCSR bits 15 (flush-to-zero) and 6 (denormals-are-zero) on: denormal inputs read and results stored as 0."""

STATE_CHEATS: dict[str, tuple[str, str, str, str]] = {
    # name: (task, source, which, a phrase the rejection must contain), as `KERNEL_CHEATS`
    "switches-on-flush-to-zero": (
        "saxpy",
        SAXPY.replace(START, f"{FLUSH_TO_ZERO}\n    {START}"),
        "train",
        "llvm.x86.sse.ldmxcsr",
    ),
    "flush-to-zero-pasted-by-a-macro": (
        "saxpy",
        "#define PASTE(a, b) a##b\n"
        + SAXPY.replace(START, f"PASTE(__builtin_ia32_, ldmxcsr)(PASTE(__builtin_, ia32_stmxcsr)() | 0x8040); {START}"),
        "train",
        "llvm.x86.sse.ldmxcsr",
    ),
    "reads-the-time-stamp-counter": (
        "saxpy",
        SAXPY.replace(START, f"if (__builtin_ia32_rdtsc() == 0) return;\n    {START}"),
        "train",
        "llvm.x86.rdtsc",
    ),
    "reads-the-cycle-counter": (
        "saxpy",
        SAXPY.replace(START, f"ulong cycles = __builtin_readcyclecounter();\n    if (!cycles) return;\n    {START}"),
        "train",
        "llvm.readcyclecounter",
    ),
    "takes-the-stack-address": (
        "saxpy",
        SAXPY.replace(START, f"if (__builtin_frame_address(0) == 0) return;\n    {START}"),
        "train",
        "llvm.frameaddress",
    ),
}


def factory(workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
    return LocalSandbox(workdir=workdir, ro_paths=tuple(ro_paths))


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    with Worker(factory, tmp_path_factory.mktemp("redteam3") / "worker") as shared:
        yield shared


@pytest.mark.parametrize("cheat", sorted(STATE_CHEATS))
def test_a_kernel_reaching_the_processor_state_is_refused(worker: Worker, cheat: str) -> None:
    """Right answers at every size (the saxpy seed's), so only the refusal of the builtin can reject them."""
    task, source, which, phrase = STATE_CHEATS[cheat]
    assert source != SUITE[task].seed, "the cheat did not change the seed: its replace() missed"
    harness = Harness(SUITE[task], worker, ceilings=None, repeats=3)
    evaluation = harness.evaluate(source, "heldout" if which == "heldout" else "train", seed=5)
    assert evaluation.status == "compile_error", evaluation.feedback()
    assert phrase in evaluation.feedback(), evaluation.feedback()
    assert "not allowed" in evaluation.feedback()


def test_the_seed_is_still_accepted_by_the_same_worker(worker: Worker) -> None:
    harness = Harness(SUITE["saxpy"], worker, ceilings=None, repeats=3)
    evaluation = harness.evaluate(SAXPY, seed=5)
    assert evaluation.ok, evaluation.feedback()


MATH_BUILTINS = r"""
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
__kernel void k(__global float* o, __global const float* a, __global int* ia, __local float* loc) {
    int i = get_global_id(0);
    float x = a[i];
    float4 v = vload4(0, a + 4 * i);
    float r = rsqrt(x) + native_rsqrt(x) + native_exp(x) + native_divide(x, 3.0f) + exp(x) + sin(x) + cos(x)
        + pow(x, 2.3f) + fmax(x, 1.0f) + clamp(x, 0.0f, 1.0f) + mad(x, x, x) + native_sqrt(x) + half_exp(x)
        + log(x) + tanh(x) + erf(x) + floor(x) + rint(x) + sqrt(x) + cbrt(x) + atan2(x, 1.0f) + fma(x, x, x)
        + hypot(x, x) + exp2(x) + log2(x) + native_recip(x) + ldexp(x, 2) + copysign(x, -1.0f);
    r += dot(v, v) + length(v) + normalize(v).x + convert_float(convert_int_rte(x)) + (float)popcount(ia[i])
        + (float)mad24(ia[i], 3, 1) + (float)mul_hi(ia[i], 7) + (float)add_sat(ia[i], 7) + (float)clz(ia[i])
        + (float)rotate(ia[i], 3) + select(1.0f, 2.0f, ia[i] > 0) + shuffle(v, (uint4)(3, 2, 1, 0)).x;
    atomic_add(ia, 1);
    atomic_max(ia + 2, i);
    loc[get_local_id(0)] = r;
    barrier(CLK_LOCAL_MEM_FENCE);
    event_t e = async_work_group_copy(loc, a, 16, 0);
    wait_group_events(1, &e);
    prefetch(a, 16);
    double d = (double)x * 2.0;
    r += (float)sqrt(d) + (float)exp(d);
    float8 h = vload8(0, a + 8 * i);
    float16 w = vload16(0, a);
    double4 q = convert_double4(v);
    float8 p = sin(h) + exp(h) + round(h) + fmin(h, h) + floor(h);
    float16 u = cos(w) + log(w) + rint(w) + fmax(w, w);
    double4 t = round(q) + exp(q) + fmin(q, q);
    vstore4(v * r, 0, o + 4 * i);
    o[i] = r + loc[0] + p.s0 + u.s3 + (float)t.x;
}
"""
"""Math an honest kernel may call; PoCL's vector math (SLEEF) calls arithmetic x86 intrinsics (round, blend,
min, convert), which must stay allowed."""


def test_math_builtins_and_every_seed_still_compile() -> None:
    """The refusal reads the built code: the library's math (SLEEF, PoCL's own) must not look like a builtin."""
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    from tools.kernels._opencl import OpenCLBackend

    backend = OpenCLBackend()
    backend.compile(MATH_BUILTINS, {})
    for task in SUITE.values():
        backend.compile(task.seed, task.parse(task.seed).params)
    with pytest.raises(KernelCompileError, match=r"llvm\.x86\.sse\.ldmxcsr"):
        backend.compile(STATE_CHEATS["switches-on-flush-to-zero"][1], SUITE["saxpy"].defaults())


def test_intrinsic_names_are_cut_from_the_string_table() -> None:
    """Names run together in the bitcode's string table; each is reported whole, once."""
    table = b"_Z13get_global_idjllvm.x86.sse.stmxcsrllvm.x86.sse.ldmxcsrllvm.readcyclecounter15.0.6x86_64"
    assert intrinsics_refused(table) == ["llvm.x86.sse.stmxcsr", "llvm.x86.sse.ldmxcsr", "llvm.readcyclecounter"]
    assert intrinsics_refused(b"llvm.fmuladd.f32llvm.sqrt.f32_Z9_cl_rsqrtfllvm.lifetime.start.p0") == []
    arithmetic = b"llvm.x86.avx.round.ps.256llvm.x86.avx.blendv.ps.256llvm.x86.avx512.mask.getexp.ps.512"
    assert intrinsics_refused(arithmetic) == []
    assert intrinsics_refused(arithmetic + b"llvm.x86.rdtscp_Z3foov") == ["llvm.x86.rdtscp"]


# -- __local memory that outlives a program ------------------------------------------------------------

REMEMBERS_THE_LAST_SIZE = """//@params LOCAL=64 VEC=1
__kernel void saxpy(const int n, const float a, __global const float* x, __global float* y) {
    volatile __local int memory[2];  // volatile: a read of memory never written is not folded away
    int i = get_global_id(0) * VEC;
    int earlier = memory[0] == 0x5eed && memory[1] != n;
    barrier(CLK_LOCAL_MEM_FENCE);
    if (get_local_id(0) == 0 && !earlier) { memory[0] = 0x5eed; memory[1] = n; }
    for (int k = 0; k < VEC; ++k) {
        if (i + k < n) y[i + k] = earlier ? NAN : a * x[i + k] + y[i + k];
    }
}
"""
"""saxpy that spoils its output (NaN) where it finds what a request for another size left in `__local`.

A kernel answering from an earlier evaluation's results needs exactly this knowledge; spoiling the
output instead makes the state's survival a wrong answer, which no timing noise can blur.
"""


def test_local_memory_does_not_carry_state_from_one_request_to_the_next(worker: Worker) -> None:
    harness = Harness(SUITE["saxpy"], worker, ceilings=None, repeats=3)
    first, second = SUITE["saxpy"].sizes[:2]
    evaluation = harness.evaluate(REMEMBERS_THE_LAST_SIZE, seed=6, sizes=[first, second, Size("again", first.dims)])
    assert evaluation.ok, evaluation.feedback()


def test_forget_local_reaches_every_runtime_thread() -> None:
    """After `forget_local` a work-group finds in `__local` the poison or its own launch's stamp, not an older one.

    Work-groups of one launch that run on the same thread see each other's stamp; a stamp of an earlier
    launch is what a kernel could use to tell its runs, programs or evaluations apart.
    """
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    import numpy as np

    from tools.kernels._opencl import OpenCLBackend

    backend = OpenCLBackend()
    source = """
__kernel void stamp(const uint mark, __global uint* found) {
    volatile __local uint memory[1];
    if (get_local_id(0) == 0) { found[get_group_id(0)] = memory[0]; memory[0] = mark; }
}
"""
    program = backend.compile(source, {})
    groups = 256
    found_buffer = backend.alloc(4 * groups)
    found = np.zeros(groups, np.uint32)

    def stamp(mark: int) -> set[int]:
        backend.elapsed([backend.launch(program, "stamp", (groups,), (1,), [np.uint32(mark), found_buffer])])
        backend.read(found_buffer, found)
        return set(found.tolist())

    # Launches land on either thread: some launch within a dozen finds a stamp of an earlier one.
    older = [stamp(mark) & set(range(1, mark)) for mark in range(1, 13)]
    assert any(older), "PoCL no longer keeps __local memory between launches: the test shows nothing"
    for mark in range(13, 33):
        backend.forget_local()
        assert stamp(mark) <= {0xFFFFFFFF, mark}, "a work-group found what an earlier launch left in __local"
    backend.release()
