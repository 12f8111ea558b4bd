"""Kernel gates against candidates written to get a wrong or unearned answer accepted.

Each cheat below is a kernel (or, where the cheat needs device state OpenCL C cannot express, a
device that behaves like such a kernel) that an optimizer could produce: it must be rejected,
with a reason naming what it did. Honest controls (the suite's seeds, hand-optimised kernels)
must be accepted under the same checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest

from sandboxes import LocalSandbox, Sandbox
from tests.conftest import opencl_usable, require_tool
from tools.kernels import SUITE, Harness, Worker
from tools.kernels._physics import impossible
from tools.kernels._task import Work
from tools.kernels._trial import LATER_POISONS, POISON

pytestmark = [pytest.mark.opencl]


def factory(workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
    return LocalSandbox(workdir=workdir, ro_paths=tuple(ro_paths))


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    with Worker(factory, tmp_path_factory.mktemp("hostile") / "worker") as shared:
        yield shared


def judge(worker: Any, name: str, source: str, which: str = "train", seed: int = 17) -> tuple[str, str]:
    harness = Harness(SUITE[name], cast(Worker, worker), ceilings=None, repeats=4)
    evaluation = harness.evaluate(source, "heldout" if which == "heldout" else "train", seed=seed)
    return evaluation.status, evaluation.feedback()


# -- cheats written as kernels ---------------------------------------------------------------------

SAXPY = SUITE["saxpy"].seed
HEAT = SUITE["heat2d"].seed
GRADSHAF = SUITE["gradshaf"].seed
HMC = SUITE["hmc"].seed
NBODY = SUITE["nbody"].seed
LJ = SUITE["lj"].seed

KERNEL_CHEATS: dict[str, tuple[str, str, str, str]] = {
    # name: (task, source, which, a phrase the rejection must contain)
    "store-4KiB-past-the-end": (
        "saxpy",
        SAXPY.replace(
            "int i = get_global_id(0) * VEC;", "int i = get_global_id(0) * VEC;\n    if (i == 0) y[n + 1024] = 0.0f;"
        ),
        "train",
        "wrote past the end of buffer y",
    ),
    "flag-before-the-start": (
        "saxpy",
        SAXPY.replace(
            "int i = get_global_id(0) * VEC;",
            "int i = get_global_id(0) * VEC;\n    if (y[-1] == 7.0f) return;\n    if (i == 0) y[-1] = 7.0f;",
        ),
        "train",
        "wrote before the start of buffer y",
    ),
    "launch-counter-in-a-flag-past-the-end": (
        "saxpy",
        SAXPY.replace(
            "int i = get_global_id(0) * VEC;",
            "int i = get_global_id(0) * VEC;\n    if (y[n + 3] > 0.5f) return;\n    if (i == 0) y[n + 3] = 1.0f;",
        ),
        "train",
        "wrote past the end of buffer y",
    ),
    "relies-on-zero-initialised-output": (
        "heat2d",
        HEAT.replace("out[i] = u[i] + r *", "out[i] += u[i] + r *"),
        "train",
        "INCORRECT",
    ),
    "accepted-counter-relies-on-zero-init": (
        "hmc",
        HMC.replace("accepted[c] = count;", "accepted[c] += count;"),
        "train",
        "INCORRECT",
    ),
    "skips-the-reduction": (
        "gradshaf",
        GRADSHAF.replace(
            "if (lid == 0) partial[get_group_id(0)] = scratch[0];", "if (lid == 0) partial[get_group_id(0)] = 1.0f;"
        ),
        "train",
        "max over partial",
    ),
    "reduces-only-the-first-group": (
        "gradshaf",
        GRADSHAF.replace("i < n; i += get_global_size(0)", "i < n / 16; i += get_global_size(0)"),
        "train",
        "max over partial",
    ),
    "sweep-assumes-max-is-one": (
        "gradshaf",
        GRADSHAF.replace("float q = psi[k] / pmax;", "float q = psi[k];"),
        "train",
        "out (run 0)",
    ),
    "reduction-cached-before-the-buffer": (
        "gradshaf",
        GRADSHAF.replace(
            "    __local float scratch[LOCAL_R];",
            "    __local float scratch[LOCAL_R];\n"
            "    if (partial[-2] == psi[0]) { partial[get_group_id(0)] = partial[-1]; return; }",
        ).replace(
            "if (lid == 0) partial[get_group_id(0)] = scratch[0];",
            "if (lid == 0) { partial[get_group_id(0)] = scratch[0]; partial[-2] = psi[0]; partial[-1] = scratch[0]; }",
        ),
        "train",
        "wrote before the start of buffer partial",
    ),
    "draws-from-the-target-directly": (
        "hmc",
        HMC.replace(
            "    for (int k = 0; k < d; ++k) x[c * d + k] = q[k];\n    accepted[c] = count;",
            "    for (int k = 0; k < d; ++k) {\n"
            "        float u1 = uniform01(keys[0] ^ 0x9e3779b9U, 2u * (c * d + k));\n"
            "        float u2 = uniform01(keys[0] ^ 0x9e3779b9U, 2u * (c * d + k) + 1u);\n"
            "        x[c * d + k] = sqrt(-2.0f * log(u1)) * cos(2.0f * M_PI_F * u2) / sqrt(iv[k]);\n"
            "    }\n    accepted[c] = count;",
        ),
        "train",
        "reference trajectory ends",
    ),
    "skips-a-twelfth-of-the-chains": (
        "hmc",
        HMC.replace(
            "    float q[MAXD], p[MAXD], q0[MAXD], iv[MAXD];",
            "    float q[MAXD], p[MAXD], q0[MAXD], iv[MAXD];\n"
            "    if (c * 100 >= chains * 92) {\n"
            "        for (int k = 0; k < d; ++k) {\n"
            "            float u1 = uniform01(keys[0] ^ 0x9e3779b9U, 2u * (c * d + k));\n"
            "            float u2 = uniform01(keys[0] ^ 0x9e3779b9U, 2u * (c * d + k) + 1u);\n"
            "            x[c * d + k] = sqrt(-2.0f * log(u1)) * cos(2.0f * M_PI_F * u2) * rsqrt(inv_var[k]);\n"
            "        }\n"
            "        accepted[c] = 8;\n"
            "        return;\n"
            "    }",
        ),
        "train",
        "of chains end where their reference trajectory ends",
    ),
    "writes-into-its-input": (
        "lj",
        LJ.replace("__global const float4* pos", "__global float4* pos").replace(
            "force[i] = ", "pos[i].w = 1.0f;\n    force[i] = "
        ),
        "train",
        "modified its read-only input buffer pos",
    ),
    "no-tail-for-sizes-not-a-multiple-of-four": (
        "saxpy",
        """//@params LOCAL=64 VEC=4
__kernel void saxpy(const int n, const float a, __global const float* x, __global float* y) {
    int i = get_global_id(0) * 4;
    if (i + 3 < n) vstore4(a * vload4(0, x + i) + vload4(0, y + i), 0, y + i);
}
""",
        "heldout",
        "never",
    ),
    "hard-coded-for-square-grids": (
        "heat2d",
        HEAT.replace(
            "int x0 = get_global_id(0) * VEC;", "int x0 = get_global_id(0) * VEC;\n    const int rows = nx;"
        ).replace("y == ny - 1", "y == rows - 1"),
        "heldout",
        "INCORRECT",
    ),
    "includes-a-host-file": (
        "saxpy",
        '#include "/etc/passwd"\n' + SAXPY,
        "train",
        "may not read other files",
    ),
    "include-hidden-behind-a-comment-and-a-splice": (
        "saxpy",
        '#/* the compiler sees #include */ \\\n  include "/etc/hostname"\n' + SAXPY,
        "train",
        "may not read other files",
    ),
    "more-local-memory-than-the-device-has": (
        "saxpy",
        SAXPY.replace(
            "int i = get_global_id(0) * VEC;",
            "__local float hoard[1 << 28];\n    hoard[get_local_id(0)] = 1.0f;\n"
            "    barrier(CLK_LOCAL_MEM_FENCE);\n    if (hoard[0] > 2.0f) return;\n    int i = get_global_id(0) * VEC;",
        ),
        "train",
        "bytes of __local memory; the device has",
    ),
    "stores-through-a-forged-pointer": (
        "saxpy",
        SAXPY.replace(
            "int i = get_global_id(0) * VEC;",
            "int i = get_global_id(0) * VEC;\n    if (i == 0) *((__global float*)(ulong)64) = 1.0f;",
        ),
        "train",
        "converts between pointers and integers",  # refused before it runs (it once ended in SIGSEGV)
    ),
    "source-too-large-to-frame": (
        "saxpy",
        SAXPY + ("// " + "x" * 1000 + "\n") * 2000,
        "train",
        "bytes; at most",
    ),
    "truncated-mantissa": (
        "nbody",
        NBODY.replace(
            "float inv = rsqrt(dx * dx + dy * dy + dz * dz + eps2);",
            "float inv = as_float(as_int(rsqrt(dx * dx + dy * dy + dz * dz + eps2)) & 0xFFFFC000);",
        ),
        "train",
        "INCORRECT",
    ),
}


@pytest.mark.parametrize("cheat", sorted(KERNEL_CHEATS))
@pytest.mark.slow
def test_kernel_cheats_are_rejected(worker: Worker, cheat: str) -> None:
    task, source, which, phrase = KERNEL_CHEATS[cheat]
    assert source != SUITE[task].seed, "the cheat did not change the seed: its replace() missed"
    status, feedback = judge(worker, task, source, which)
    if phrase == "never":
        # Held-out sizes are primes drawn per judging run: not a multiple of four.
        assert status == "incorrect", feedback
        return
    assert status in ("incorrect", "crash", "launch_error", "invalid", "compile_error"), feedback
    assert phrase in feedback, feedback


# -- cheats that need device state: a device that behaves like such a kernel -----------------------


class InProcessWorker:
    """The worker's own trial code on an in-process backend (so a test can make the device lie)."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend

    def request(
        self, header: Mapping[str, Any], arrays: Mapping[str, np.ndarray], timeout: float
    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        from tools.kernels._trial import evaluate

        return evaluate(self.backend, dict(header), dict(arrays))


POISONS = frozenset((POISON, *LATER_POISONS))
"""Every byte a run's outputs are poisoned with (the first run's, and each size's later runs')."""


def lying_backend(kind: str) -> Any:
    """A PoCL backend playing a kernel with memory across launches, or a tampered clock.

    - "work-once": the first run computes; later runs return at once (a launch counter kept in
      device memory), reporting the first run's time so that only the checks can tell.
    - "replay": later runs return the first run's outputs (a cache of the answer), at the first
      run's time.
    - "too-fast": honest work, but the clock reports a thousandth of it.
    - "scribble-input": honest work, then run 1 changes one byte of the first input buffer on the
      device (a kernel using its read-only input as scratch).
    - "checked-only": a launch counter (PoCL keeps `__local` memory between launches) tells the
      kernel its run; it works on the first, the warm-up and the last run (always checked) and
      returns at once on the timed runs between, which only the one random check could catch.
    - "checked-only-half": the same, but doing half the work on those runs (too little a gap to
      call skipping): its speed must then be no better than its checked runs show.
    - "scribble-copy": run 1 changes one byte of the worker's own copy of each input before it is
      uploaded (a kernel writing outside its buffers into the worker's memory), so that device and
      copy agree and only the final digests can tell.

    Runs are the candidate's own: the bandwidth yardstick's launches (its own program, run before the
    candidate's when the harness has measured ceilings) pass through untouched and are not counted.
    """
    from tools.kernels._opencl import OpenCLBackend

    class Lying(OpenCLBackend):
        def __init__(self) -> None:
            super().__init__()
            self.runs = 0
            self.first = 0.0
            self.snapshot: list[tuple[Any, int, np.ndarray]] = []
            self.poisoned: list[tuple[Any, int, int]] = []
            self.staged: list[tuple[Any, int, int]] = []
            self.honest: list[float] = []
            self.probes: set[str] = set()
            self.probing = False

        def compile(self, source: str, defines: dict[str, int]) -> Any:
            program = super().compile(source, defines)
            if source.startswith("__kernel void triad("):  # the yardstick's program (`triad_source`)
                # By the program's key, not id(): a freed yardstick's id came back as the next candidate's.
                self.probes.add(program[0])
            return program

        def write(self, buffer: Any, data: np.ndarray, offset: int = 0) -> None:
            raw = np.ascontiguousarray(data).reshape(-1).view(np.uint8)
            if offset > 0 and raw.size > 0 and int(raw[0]) in POISONS and bool(np.all(raw == raw[0])):
                self.poisoned.append((buffer, offset, raw.size))
            elif offset > 0 and raw.size > 64:
                self.staged.append((buffer, offset, raw.size))
                if kind == "scribble-copy" and self.runs == 1:
                    data.reshape(-1).view(np.uint8)[raw.size - 3] ^= 0x40
            super().write(buffer, data, offset)

        def idle(self) -> bool:
            """Whether this run does no work: all after the first, or (checked-only) all never checked for sure."""
            if kind in ("work-once", "replay"):
                return self.runs > 0
            return kind.startswith("checked-only") and 2 <= self.runs < LAST_RUN

        def launch(self, program: Any, kernel: str, global_size: Any, local_size: Any, args: Any) -> Any:
            self.probing = program[0] in self.probes
            if self.probing:
                return super().launch(program, kernel, global_size, local_size, args)
            if self.idle():
                return None
            return super().launch(program, kernel, global_size, local_size, args)

        def elapsed(self, events: Sequence[Any]) -> float:
            if self.probing:
                return super().elapsed(events)
            real = [event for event in events if event is not None]
            seconds = super().elapsed(real) if real else self.first
            if kind == "checked-only" and not real:
                seconds = self.first / 50  # an early return costs next to nothing
            elif kind == "checked-only-half" and not real:
                seconds = min(self.honest) / 2  # half the work: within any noise factor
            elif kind.startswith("checked-only"):
                self.honest.append(seconds)
            if self.runs == 0:
                self.first = seconds
                for buffer, offset, size in self.poisoned:
                    copy = np.empty(size, np.uint8)
                    self.read(buffer, copy, offset)
                    self.snapshot.append((buffer, offset, copy))
            elif kind == "replay":
                for buffer, offset, copy in self.snapshot:
                    super().write(buffer, copy, offset)
            elif kind == "scribble-input" and self.runs == 1 and self.staged:
                buffer, offset, size = self.staged[0]
                byte = np.empty(1, np.uint8)
                self.read(buffer, byte, offset + size // 2)
                super().write(buffer, byte ^ np.uint8(1), offset + size // 2)
            self.runs += 1
            self.poisoned.clear()
            self.staged.clear()
            return seconds / 1000.0 if kind == "too-fast" else seconds

        def release(self) -> None:
            super().release()
            # The worker overwrites its outputs before release: nothing recorded may outlive the buffers.
            self.runs, self.snapshot, self.poisoned, self.staged = 0, [], [], []

    return Lying()


DEVICE_CHEATS: list[tuple[str, str, str]] = [
    # (lying device, task, a phrase the rejection must contain)
    ("work-once", "saxpy", "y (run"),
    ("work-once", "nbody", "unwritten"),
    ("replay", "nbody", "acc (run"),
    ("replay", "gradshaf", "(run"),
    ("scribble-input", "saxpy", "modified its read-only input buffer x (run 1, 1 bytes from byte"),
    ("scribble-input", "lj", "modified its read-only input buffer pos (run 1"),
    ("scribble-copy", "saxpy", "changed the worker's own copy of input x"),
]


@pytest.mark.parametrize(
    ("kind", "task", "phrase"),
    # lj builds cell lists for every run's whole new draw: over 10 s on two cores.
    [pytest.param(*case, marks=pytest.mark.slow) if case[1] == "lj" else case for case in DEVICE_CHEATS],
)
def test_state_across_launches_is_caught(kind: str, task: str, phrase: str) -> None:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    status, feedback = judge(InProcessWorker(lying_backend(kind)), task, SUITE[task].seed)
    assert status == "incorrect", feedback
    assert phrase in feedback, feedback
    if kind == "replay":
        # The first run is honest; what gives the replay away is a later run's own inputs.
        assert "(run 0)" not in feedback


MEASURED = {
    "triad_gbps": {1 << 20: 30.0},
    "update_gbps": {1 << 20: 30.0},
    "triad_width": {1 << 20: 4},
    "update_width": {1 << 20: 4},
    "fma_gflops": 1000.0,
}
"""Ceilings as a measured device has them: every bandwidth-bound size then runs the yardstick first."""


@pytest.mark.parametrize(("kind", "task", "phrase"), [case for case in DEVICE_CHEATS if case[1] == "saxpy"])
def test_state_across_launches_is_caught_beside_the_yardstick(kind: str, task: str, phrase: str) -> None:
    """With measured ceilings the bandwidth yardstick runs on the same device before the candidate's runs;
    the cheats stay cheats (they count only the candidate's launches) and are still caught."""
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    harness = Harness(SUITE[task], cast(Worker, InProcessWorker(lying_backend(kind))), ceilings=MEASURED, repeats=4)
    evaluation = harness.evaluate(SUITE[task].seed, seed=17)
    assert any(result.ceiling_gbps for result in evaluation.sizes), "no size ran the yardstick"
    assert evaluation.status == "incorrect", evaluation.feedback()
    assert phrase in evaluation.feedback(), evaluation.feedback()


REPEATS = 4
LAST_RUN = 1 + 1 + REPEATS - 1
"""The last run of a `judge` trial (first run, one warm-up, REPEATS timed): always checked."""


class CheckSpy:
    """A worker that records the random check each request asks for, and runs nothing."""

    def __init__(self) -> None:
        self.checks: list[float] = []

    def request(
        self, header: Mapping[str, Any], arrays: Mapping[str, np.ndarray], timeout: float
    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        self.checks.append(float(header["check"][0]))
        return {"ok": False, "stage": "launch", "error": "only watching"}, {}


def seed_checking_only_the_last_run(task: str) -> int:
    """An inputs seed whose one random check lands on the last timed run: all a checked-only kernel needs."""
    for seed in range(200):
        spy = CheckSpy()
        Harness(SUITE[task], cast(Worker, spy), repeats=REPEATS).evaluate(
            SUITE[task].seed, seed=seed, sizes=SUITE[task].sizes[:1]
        )
        if int(spy.checks[0] * REPEATS) == REPEATS - 1:
            return seed
    raise AssertionError("no seed checks the last run")


def test_work_done_only_on_the_runs_always_checked_is_caught() -> None:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    seed = seed_checking_only_the_last_run("saxpy")
    harness = Harness(SUITE["saxpy"], cast(Worker, InProcessWorker(lying_backend("checked-only"))), repeats=REPEATS)
    evaluation = harness.evaluate(SAXPY, seed=seed, sizes=SUITE["saxpy"].sizes[:1])
    assert evaluation.status == "incorrect", evaluation.feedback()
    assert "work skipped where no one looked" in evaluation.feedback()


class OneSlowCheckedRun:
    """The real worker's trial, except that in the first reply every checked timed run took 20x longer,
    as one interrupt or preemption on a busy machine makes a microsecond kernel's single checked run look."""

    def __init__(self, backend: Any) -> None:
        self.inner = InProcessWorker(backend)
        self.requests = 0

    def request(
        self, header: Mapping[str, Any], arrays: Mapping[str, np.ndarray], timeout: float
    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        reply, raw = self.inner.request(header, arrays, timeout)
        self.requests += 1
        if self.requests == 1:
            first = int(reply["first_timed"])
            times = [float(t) for t in reply["times"]]
            for run in reply["checked"]:
                if 0 <= int(run) - first < len(times):
                    times[int(run) - first] *= 20.0
            reply = {**reply, "times": times}
        return reply, raw


def test_one_slow_checked_run_of_an_honest_kernel_is_asked_again_not_rejected() -> None:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    from tools.kernels._opencl import OpenCLBackend

    seed = seed_checking_only_the_last_run("saxpy")
    worker = OneSlowCheckedRun(OpenCLBackend())
    harness = Harness(SUITE["saxpy"], cast(Worker, worker), repeats=REPEATS)
    evaluation = harness.evaluate(SAXPY, seed=seed, sizes=SUITE["saxpy"].sizes[:1])
    assert evaluation.status == "ok", evaluation.feedback()
    assert worker.requests == 2  # the doubtful timing was asked again, once


def test_a_speed_is_never_better_than_its_checked_runs_show() -> None:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    seed = seed_checking_only_the_last_run("saxpy")
    device = lying_backend("checked-only-half")
    harness = Harness(SUITE["saxpy"], cast(Worker, InProcessWorker(device)), repeats=REPEATS)
    evaluation = harness.evaluate(SAXPY, seed=seed, sizes=SUITE["saxpy"].sizes[:1])
    assert evaluation.status == "ok", evaluation.feedback()
    (size,) = evaluation.sizes
    checked = min(device.honest[2:])  # the timed runs that did the work: the checked ones
    assert size.seconds >= checked and size.best_seconds >= checked, (size.seconds, device.honest)


CEILINGS = {"device": {}, "fma_gflops": 50.0, "triad_gbps": {1 << 20: 40.0, 1 << 26: 15.0}}
"""Round figures of this kind of CPU; the physics check needs only their order of magnitude."""


def test_a_result_faster_than_physics_allows_is_rejected_not_recorded() -> None:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    harness = Harness(SUITE["nbody"], cast(Worker, InProcessWorker(lying_backend("too-fast"))), ceilings=CEILINGS)
    evaluation = harness.evaluate(SUITE["nbody"].seed, seed=3)
    assert evaluation.status == "incorrect"
    assert evaluation.fitness == 0.0
    assert "faster than physically possible" in evaluation.feedback()


def test_physics_bound_uses_the_best_ceiling_with_its_margin() -> None:
    work = Work(bytes=12e6, flops=2e6)
    floor = 12e6 / 40e9  # the best bandwidth anywhere, not the DRAM figure
    assert impossible([floor], work, CEILINGS) == ""
    assert impossible([floor / 2.9], work, CEILINGS) == ""
    assert "faster than physically possible" in impossible([floor / 3.1], work, CEILINGS)
    assert "faster than physically possible" in impossible([0.0, 1.0], work, CEILINGS)
    assert impossible([1e-12], work, None) == ""


# -- honest controls ---------------------------------------------------------------------------------

VECTOR_SAXPY = """//@params LOCAL=128 VEC=4
__kernel void saxpy(const int n, const float a, __global const float* x, __global float* y) {
    int i = get_global_id(0) * 4;
    if (i + 3 < n) {
        vstore4(a * vload4(0, x + i) + vload4(0, y + i), 0, y + i);
    } else {
        for (int k = i; k < n; ++k) y[k] = a * x[k] + y[k];
    }
}
"""

FAST_GRADSHAF = """//@params LOCAL_R=256 LX=64 LY=1
__kernel void psi_max(const int n, __global const float* psi, __global float* partial) {
    __local float scratch[LOCAL_R];
    int lid = get_local_id(0);
    float m0 = -INFINITY, m1 = -INFINITY;
    int stride = get_global_size(0);
    int i = get_global_id(0);
    for (; i + stride < n; i += 2 * stride) { m0 = fmax(m0, psi[i]); m1 = fmax(m1, psi[i + stride]); }
    if (i < n) m0 = fmax(m0, psi[i]);
    scratch[lid] = fmax(m0, m1);
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = LOCAL_R / 2; s > 0; s >>= 1) {
        if (lid < s) scratch[lid] = fmax(scratch[lid], scratch[lid + s]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) partial[get_group_id(0)] = scratch[0];
}

__kernel void jacobi(const int nr, const int nz, const float r0, const float h, const int groups,
                     __global const float* psi, __global const float* partial, __global float* out) {
    int i = get_global_id(0), j = get_global_id(1);
    float pmax = partial[0];
    for (int g = 1; g < groups; ++g) pmax = fmax(pmax, partial[g]);
    if (i >= nr || j >= nz) return;
    int k = j * nr + i;
    float centre = psi[k];
    if (i == 0 || j == 0 || i == nr - 1 || j == nz - 1) { out[k] = centre; return; }
    float inv = 1.0f / pmax;
    float r = r0 + i * h;
    float a = h / (2.0f * r);
    float q = centre * inv;
    float source = r * r * (1.0f - q * q);
    out[k] = ((1.0f - a) * psi[k + 1] + (1.0f + a) * psi[k - 1] + psi[k + nr] + psi[k - nr] + h * h * source) * 0.25f;
}
"""

HONEST = {
    "saxpy-seed": ("saxpy", SAXPY),
    "gradshaf-seed": ("gradshaf", GRADSHAF),
    "hmc-seed": ("hmc", HMC),
    "lj-seed": ("lj", LJ),
    "saxpy-vectorised": ("saxpy", VECTOR_SAXPY),
    "gradshaf-unrolled-reduction": ("gradshaf", FAST_GRADSHAF),
}


@pytest.mark.parametrize("control", sorted(HONEST))
@pytest.mark.slow
def test_honest_kernels_are_accepted_at_trained_and_drawn_heldout_sizes(worker: Worker, control: str) -> None:
    task, source = HONEST[control]
    for which, seed in (("train", 5), ("heldout", 6), ("heldout", 7)):
        status, feedback = judge(worker, task, source, which, seed=seed)
        assert status == "ok", f"{which}: {feedback}"


def test_heldout_sizes_are_drawn_per_seed_and_avoid_easy_shapes() -> None:
    from tools.kernels._heldout import is_prime

    task = SUITE["heat2d"]
    harness = Harness(task, cast(Worker, None), ceilings=None)
    drawn = {harness.sizes_for("heldout", seed) for seed in range(6)}
    assert len(drawn) == 6, "every judging seed draws its own held-out sizes"
    for sizes in drawn:
        assert [size.label for size in sizes] == [size.label for size in task.heldout]
        for size, centre in zip(sizes, task.heldout, strict=True):
            assert len(set(size.dims)) == len(size.dims), f"{size.dims} is square"
            assert all(is_prime(d) for d in size.dims)
            assert all(0.75 * c <= d <= 1.3 * c for d, c in zip(size.dims, centre.dims, strict=True))
    assert harness.sizes_for("heldout", 4) == harness.sizes_for("heldout", 4)


def test_worker_starts_isolated_and_ignores_planted_modules(tmp_path: Path) -> None:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    workdir = tmp_path / "worker"
    workdir.mkdir()
    marker = tmp_path / "planted-ran"
    payload = f"import pathlib\npathlib.Path({str(marker)!r}).write_text('imported')\nraise SystemExit(3)\n"
    for name in ("numpy.py", "sitecustomize.py", "usercustomize.py", "tools.py", "argparse.py"):
        (workdir / name).write_text(payload)

    def unsandboxed(workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
        # Without bubblewrap the planted files are really visible at the worker's working directory.
        return LocalSandbox(workdir=workdir, ro_paths=tuple(ro_paths), isolation=False)

    with Worker(unsandboxed, workdir) as own:
        device = own.ensure()
        assert device.get("name")
        evaluation = Harness(SUITE["saxpy"], own, ceilings=None, repeats=3).evaluate(SAXPY, seed=1)
    assert evaluation.status == "ok", evaluation.feedback()
    assert not marker.exists()


def test_an_output_is_never_close_to_an_infinite_or_nan_reference_unless_it_matches() -> None:
    """A reference that overflows at some inputs (a task file's `1 / x` at x = 0) checks those elements too.

    Before, an infinite reference value made the suite's scale infinite (every finite output "close")
    and a task file's tolerance skip the element.
    """
    from functools import partial

    from tools.kernels._task import Check, allclose_check
    from tools.kernels._user_task import tolerance_check

    want = np.array([1.0, np.inf, 2.0, np.nan])
    anything = np.array([1.0, 0.0, 2.0, 5.0], np.float32)
    matching = np.array([1.0, np.inf, 2.0, np.nan], np.float32)
    checks: list[Callable[[np.ndarray], Check]] = [
        partial(allclose_check, expected=want, tolerance=1e-5),
        partial(tolerance_check, expected=want, rtol=1e-3, atol=1e-6),
    ]
    for check in checks:
        missed = check(anything)
        assert not missed.ok and "reference is not finite" in missed.detail, missed
        assert check(matching).ok
        assert not check(np.array([1.0, np.inf, 2.5, np.nan], np.float32)).ok
