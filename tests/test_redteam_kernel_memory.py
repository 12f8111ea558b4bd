"""Kernel gates against a candidate that reads the trusted seed's answers out of the worker's memory.

On a CPU device every buffer, every runtime thread's stack and `__local` memory is plain memory of
the worker process, and a kernel can form pointers to it (the address of a private variable, pointer
arithmetic on a buffer). The worker runs the task's seed right beside every timed candidate run, on
that run's inputs (the rival), and a gate evaluates the seed and the candidate one after the other
on the same inputs. A candidate that found the seed's outputs could copy them: correct at every
checked run, at the speed of a copy.
- The rival shares the candidate's buffers, and every candidate run starts by rewriting all of them.
- What the seed's work-groups left in the runtime threads' stacks (PoCL keeps an hmc work-group's
  private arrays there: its final chain positions) was still there when the candidate's next run
  started. The worker now overwrites the stacks and the `__local` bytes between a rival run and the
  candidate run that follows it, and before every request.
- Outputs a request read back (kept for the reply, sampled) and buffers it freed went back to the
  allocator as they were: the next request on the same inputs found the seed's answer to its first
  run in the worker's heap. The worker now overwrites the buffers before it frees them and the
  read-back copies once the reply is sent.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sandboxes import LocalSandbox, Sandbox
from tests.conftest import opencl_usable, require_tool
from tools.kernels import SUITE, Harness, Worker
from tools.kernels._task import Size

pytestmark = [pytest.mark.opencl]

HMC = SUITE["hmc"]

READS_ITS_STACK = """//@params LOCAL=64
// Each group's first work-item copies a slice of its runtime thread's stack, from just below its own
// variables downwards, into x (slice g for group g): the stack a seed's work-group ran on a moment ago.
__kernel void hmc(const int chains, const int d, const int iters, const int steps, const float eps,
                  __global const uint* keys, __global const float* inv_var, __global float* x, __global int* accepted) {
    int c = get_global_id(0);
    if (c >= chains) return;
    accepted[c] = 0;
    if (get_local_id(0) != 0) return;
    volatile int here = 0;
    // The address of `here` without a cast the worker refuses: null plus an offset, found by comparisons.
    __private char* zero = 0;
    ulong lo = 0, hi = ~0UL;
    for (int k = 0; k < 64; ++k) {
        ulong mid = lo + (hi - lo) / 2;
        if (zero + mid < (__private char*)&here) lo = mid + 1; else hi = mid;
    }
    volatile const ulong* below = (volatile const ulong*)(zero + ((lo & ~7UL) - 8));
    int words = (int)get_local_size(0) * d / 2;
    int group = get_group_id(0);
    __global ulong* slice = (__global ulong*)(x + group * (int)get_local_size(0) * d);
    for (int k = 0; k < words; ++k) slice[k] = below[-(long)(group * words + k)];
}
"""
"""Not a sampler: what it returns is the memory it read. 32 groups of 64 items at c2048 read 128 KiB of stack,
where the seed's work-group kept its 64 chains' final positions about 40 KiB deep."""


KEEPS_WHAT_IT_FINDS = SUITE["nbody"].seed.replace(
    "    float4 pi = i < n ? pos[i] : (float4)(0.0f);\n",
    "    float4 pi = i < n ? pos[i] : (float4)(0.0f);\n"
    "    if (i < n) {\n"
    "        float4 there = acc[i];\n"
    "        // An answer already in place (w = 0, finite, not a poison's 1e36): the seed's for these inputs.\n"
    "        if (there.w == 0.0f && fabs(there.x) < 1e30f && fabs(there.y) < 1e30f && fabs(there.z) < 1e30f) return;\n"
    "    }\n",
)
"""The nbody seed that keeps whatever answer it finds in its output buffer, which the seed beside it shares."""


def factory(workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
    return LocalSandbox(workdir=workdir, ro_paths=tuple(ro_paths))


class Recording(Worker):
    """The real worker, whose replies (with the outputs of the runs it kept) the test also reads."""

    def __init__(self, workdir: Path) -> None:
        super().__init__(factory, workdir)
        self.replies: list[tuple[dict[str, Any], dict[str, np.ndarray]]] = []
        self.sent: tuple[dict[str, Any], dict[str, np.ndarray]] = ({}, {})

    def request(
        self, header: Mapping[str, Any], arrays: Mapping[str, np.ndarray], timeout: float, **options: Any
    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        reply, raw = super().request(header, arrays, timeout, **options)
        if header.get("op") == "evaluate":
            self.sent = (dict(header), dict(arrays))
            self.replies.append((reply, raw))
        return reply, raw


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recording]:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    shared = Recording(tmp_path_factory.mktemp("memory") / "worker")
    with shared:
        yield shared


@pytest.fixture(scope="module")
def trusted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """The worker the seed runs in as the rival: one of its own, as a gate's harness has."""
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    with Worker(factory, tmp_path_factory.mktemp("memory") / "trusted") as own:
        yield own


def kept_outputs(reply: dict[str, Any], raw: dict[str, np.ndarray], name: str) -> dict[int, np.ndarray]:
    """The outputs `name` of the runs a reply kept whole, by run, as 8-byte words."""
    return {int(run): raw[f"{name}@{run}"].view(np.uint64) for run in reply["checked"] if f"{name}@{run}" in raw}


def meaningful(words: np.ndarray) -> np.ndarray:
    """Words that only an answer holds: both halves non-zero and neither a poison or guard pattern."""
    low, high = words & np.uint64(0xFFFFFFFF), words >> np.uint64(32)
    patterns = np.array([0xFFFFFFFF, 0x7EA5A5A5, 0x7FC5A5A5, 0xFEA5A5A5, *(b * 0x01010101 for b in range(256))])
    keep = (low != 0) & (high != 0) & ~np.isin(low, patterns) & ~np.isin(high, patterns)
    return np.unique(words[keep])


def test_a_candidate_finds_no_answer_of_the_seed_beside_it(worker: Recording, trusted: Worker) -> None:
    """A kernel keeping whatever answer it finds in its output computes every element itself.

    So it is correct and no faster than the seed beside it (a copy would be a hundred times faster at
    this size). When the seed ran in the candidate's own buffers, it kept the seed's answer where the
    seed went first; the seed now runs in a worker of its own, and every candidate run starts with its
    buffers rewritten (what the previous run left is an answer to other inputs, which the checked runs
    reject).
    """
    assert SUITE["nbody"].seed != KEEPS_WHAT_IT_FINDS
    harness = Harness(SUITE["nbody"], worker, ceilings=None, warmup=1, repeats=5, trusted=trusted)
    evaluation = harness.evaluate(
        KEEPS_WHAT_IT_FINDS, seed=3, sizes=[Size("n2048", (2048,))], rival=SUITE["nbody"].seed
    )
    # Rejected (it kept an answer to other inputs) or correct and no faster: either way it gained nothing.
    assert evaluation.status in ("ok", "incorrect"), evaluation.feedback()
    if evaluation.ok:
        (size,) = evaluation.sizes
        # Far below the hundredfold of a copy; a loaded machine's noise alone reached 3.2x (two test workers).
        assert size.paired_log_ratio is not None and size.paired_log_ratio < math.log(10), size.paired_log_ratio


@pytest.mark.slow
def test_the_seed_beside_a_candidate_leaves_no_answer_on_the_runtime_threads_stacks(
    worker: Recording, trusted: Worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The candidate reads 128 KiB of each runtime thread's stack at its checked runs: none of the seed's answers.

    The seed first runs alone on the inputs (its kept outputs are the answers of the checked runs), then
    the reader runs on the same inputs with the seed beside every timed run. When the seed ran in the
    candidate's worker, the last checked run (the seed went first in that pair) found 512 of the seed's
    8-byte answer words for that run in the stack of each thread, until the worker overwrote the stacks
    between the two; the seed now runs beside it in a worker of its own.
    """
    # Both evaluations must check the same runs: the host sets the runs' count from its clock of the first
    # (near the timing budget here, so the seed alone and the reader got different counts); with a budget
    # no first run reaches, both get every repeat and the warm-up.
    monkeypatch.setattr("tools.kernels._trial.TIMING_BUDGET", 100.0)
    harness = Harness(HMC, worker, ceilings=None, warmup=1, repeats=5, trusted=trusted)
    size = Size("c2048", (2048, 16))
    seed = harness.evaluate(HMC.seed, seed=41, sizes=[size])
    assert seed.ok, seed.feedback()
    answers = kept_outputs(*worker.replies[-1], "x")
    harness.evaluate(READS_ITS_STACK, seed=41, sizes=[size], rival=HMC.seed)
    reply, raw = worker.replies[-1]
    assert reply["ok"] and reply["rival_times"], reply
    read = kept_outputs(reply, raw, "x")
    assert set(read) == set(answers) and len(read) >= 3, (sorted(read), sorted(answers))
    poison = np.frombuffer(bytes([int(worker.sent[0]["poison"])]) * 8, np.uint64)[0]
    wrote = [bool(np.any(words != poison)) for run, words in read.items() if run > 0]
    assert any(wrote), "the reader left x as the worker poisoned it: the test shows nothing"
    for run, words in read.items():
        found = np.intersect1d(meaningful(words), meaningful(answers[run]))
        assert found.size == 0, f"run {run}: {found.size} of the seed's answer words were on the stacks"


# -- what a request leaves in the worker's heap -------------------------------------------------------


def _scan_child(inbox: str, outbox: str, needles: np.ndarray, queue: Any) -> None:
    """A worker in a process of its own: serve the host's requests, then count the needles left in its memory.

    The needles are the answers' words multiplied by an odd constant, so that no copy of an answer
    comes from the test itself; every readable and writable mapping of the process is compared.
    """
    from tools.kernels._opencl import OpenCLBackend
    from tools.kernels._worker import WholeWrites, serve

    multiplier = np.uint64(0x9E3779B97F4A7C15)
    backend = OpenCLBackend()
    with open(inbox, "rb", buffering=0) as stream, WholeWrites(outbox, "wb") as sink:
        serve(backend, stream, sink)
    found = 0
    for chunk in writable_memory():
        hashed = np.frombuffer(chunk[: len(chunk) // 8 * 8], dtype=np.uint64) * multiplier
        found += int(np.count_nonzero(np.isin(hashed, needles, assume_unique=False)))
    queue.put(found)


def converse_over_fifos(
    inbox: Path, outbox: Path, header: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The host's side of one request to a worker serving on two FIFOs (`inbox` it reads, `outbox` it writes):
    each run's variant sent when asked, every launch clocked. Closing the inbox afterwards ends the worker."""
    from tools.kernels._host_clock import Conversation
    from tools.kernels._host_link import split_runs
    from tools.kernels._protocol import read_message, write_message

    with open(inbox, "wb", buffering=0) as to_worker, open(outbox, "rb", buffering=0) as from_worker:
        base, runs = split_runs(arrays)

        def write(message: Mapping[str, Any], parts: Mapping[str, np.ndarray]) -> None:
            write_message(to_worker, message, parts)

        write(header, base)
        return Conversation(write, lambda: read_message(from_worker), runs).serve()


def fifo_pair(folder: Path) -> tuple[Path, Path]:
    """Two named pipes in `folder`: the worker's inbox and outbox."""
    pair = folder / "inbox", folder / "outbox"
    for fifo in pair:
        os.mkfifo(fifo)
    return pair


def writable_memory(chunk_bytes: int = 1 << 21) -> Iterator[bytes]:
    """Every readable and writable mapping of this process (the vsyscall and vdso pages aside), in chunks.

    Read through /proc/self/mem, not by address: a region the runtime's threads unmap or shrink while the
    scan runs (a malloc arena trimming itself) then reads as an error instead of killing the process.
    """
    with open("/proc/self/maps") as maps:
        regions = [line.split() for line in maps]
    memory = os.open("/proc/self/mem", os.O_RDONLY)
    try:
        for fields in regions:
            low, high = (int(part, 16) for part in fields[0].split("-"))
            if not fields[1].startswith("rw") or (len(fields) > 5 and fields[5].startswith("[v")):
                continue
            for start in range(low, high, chunk_bytes):
                try:
                    yield os.pread(memory, min(chunk_bytes, high - start), start)
                except OSError:
                    continue
    finally:
        os.close(memory)


@pytest.mark.slow
def test_no_output_outlives_its_request_in_the_worker(worker: Recording, tmp_path: Path) -> None:
    """After a request, none of the outputs it computed is anywhere in the worker process's memory.

    Before the fix the kept outputs of the first run (and, depending on sizes, the freed buffers) stayed
    in the heap, where the next request on the same inputs (a gate's candidate right after its seed)
    could reach them.
    """
    task = SUITE["nbody"]
    harness = Harness(task, worker, ceilings=None, warmup=1, repeats=3)
    size = Size("n2048", (2048,))
    evaluation = harness.evaluate(task.seed, seed=7, sizes=[size])
    assert evaluation.ok, evaluation.feedback()
    reply, raw = worker.replies[-1]
    answers = np.concatenate([words for words in kept_outputs(reply, raw, "acc").values()])
    needles = np.unique(meaningful(answers) * np.uint64(0x9E3779B97F4A7C15))
    assert needles.size > 1000
    header, arrays = worker.sent
    inbox, outbox = fifo_pair(tmp_path)
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_scan_child, args=(str(inbox), str(outbox), needles, queue))
    child.start()
    reply, _ = converse_over_fifos(inbox, outbox, header, arrays)
    assert reply["ok"], reply
    found = queue.get(timeout=300)
    child.join(60)
    assert found == 0, f"{found} words of the outputs were still in the worker's memory after its request"


STAMP = """
__kernel void stamp(const uint mark, __global uint* found) {
    volatile __local uint shared[64];
    volatile uint own[8192];
    if (get_local_id(0) == 0) {
        found[2 * get_group_id(0)] = shared[17];
        found[2 * get_group_id(0) + 1] = own[17];
        for (int i = 0; i < 64; ++i) shared[i] = mark;
        for (int i = 0; i < 8192; ++i) own[i] = mark;
    }
}
"""
"""Reads, then stamps, a `__local` array and a private one 32 KiB deep (nearer the top, PoCL's own calls
between launches overwrite the stack anyway); `own[17]` is near its deep end."""


def test_forget_launches_leaves_no_private_or_local_value_of_the_kernels_before() -> None:
    """After `forget_launches` a work-group's uninitialised arrays hold no value an earlier launch stored there.

    Without it, a launch of the same kernel finds the previous launch's stamp in both: PoCL runs every
    work-group of a thread from the same place in its stack and the same `__local` region.
    """
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    from tools.kernels._opencl import OpenCLBackend

    backend = OpenCLBackend()
    program = backend.compile(STAMP, {})
    groups = 64
    found_buffer = backend.alloc(8 * groups)
    found = np.zeros(2 * groups, np.uint32)

    def stamp(mark: int) -> tuple[set[int], set[int]]:
        backend.elapsed([backend.launch(program, "stamp", (groups,), (1,), [np.uint32(mark), found_buffer])])
        backend.read(found_buffer, found)
        return set(found[0::2].tolist()), set(found[1::2].tolist())

    older = [stamp(mark) for mark in range(1, 9)]
    assert any(shared & set(range(1, mark)) for mark, (shared, _) in enumerate(older, 1)), "no __local kept"
    assert any(own & set(range(1, mark)) for mark, (_, own) in enumerate(older, 1)), "no private memory kept"
    for mark in range(9, 25):
        backend.forget_launches()
        shared, own = stamp(mark)
        assert not (shared | own) & set(range(1, mark)), f"launch {mark} found an earlier launch's stamp"
    backend.release()


@pytest.mark.slow
def test_forget_launches_reaches_every_thread_on_a_machine_busier_than_its_cores() -> None:
    """With more busy processes than cores, no launch after a forget reads the launch before it.

    There one PoCL thread often finds every group of a launch before the OS runs the other: a wipe
    that gave up after a fixed number of launches left that thread's stack and `__local` memory as
    the last kernel left them in about 3 of 1,000 forgets.
    """
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    from tools.kernels._opencl import OpenCLBackend

    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range((os.cpu_count() or 1) + 1)]
    backend = OpenCLBackend()
    try:
        program = backend.compile(STAMP, {})
        groups = 64
        found_buffer = backend.alloc(8 * groups)
        found = np.zeros(2 * groups, np.uint32)
        leaks = []
        for mark in range(1, 3001):
            backend.forget_launches()
            backend.elapsed([backend.launch(program, "stamp", (groups,), (1,), [np.uint32(mark), found_buffer])])
            backend.read(found_buffer, found)
            if set(found.tolist()) & set(range(1, mark)):
                leaks.append(mark)
        assert not leaks, f"{len(leaks)} of 3000 launches found an earlier launch's stamp: {leaks[:10]}"
    finally:
        for process in busy:
            process.kill()
            process.wait()
        backend.release()
