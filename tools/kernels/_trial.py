"""One evaluation request inside the worker: every run starts from poisoned outputs and restored inputs.

The worker runs the host program many times (a first run, warm-up runs, timed runs). A candidate
could remember state between runs (a launch counter, last run's output, a flag in a guard or
scratch buffer), so before every run the worker
- restores every input buffer from the host's bytes, with this run's own variant applied (a few
  elements changed, so no two runs see the same inputs and a remembered answer is wrong),
- fills every output and scratch buffer with a poison pattern: 0xFF bytes (NaN for floats, -1 for
  signed integers) before the first run, and a byte the host drew for this request before every
  later run (`LATER_POISONS`), so that no fixed value is what an unwritten element holds,
(and once per request, before its first run, the device's `__local` memory, which PoCL keeps from one
program to the next, is overwritten: `Backend.forget_local`),
and after every run it reads back the guard bytes on both sides of every buffer (reporting any
that lost the canary: where, and how many), every read-only input buffer (reporting any byte that
differs from what that run uploaded: where, and how many), and the outputs at host-chosen sample
positions; the full outputs of the runs the host asked about (the first, a random timed one, the
last) go back whole. The comparison runs at memory speed, where a SHA-256 per run cost a third
of a memory-bound evaluation; the worker's own copies of the inputs, which a kernel writing
outside its buffers could reach, are hashed once at the end, and the host compares those digests
with its own. No duration that counts is taken here: the host brackets every launch with its own
clock (`_host_link`, `_host_clock`), since a kernel can rewrite this process's memory. The task's
trusted seed, when a speed ratio is wanted, runs in a worker of its own (`rival_session`), on the
same run's inputs, which the host schedules right beside each timed run of the candidate's; at the
end of a request every output buffer and every read-back copy of an output is overwritten, before
it is freed, so that the next request on the same inputs finds none of them. A request may also name
a yardstick (the bandwidth probe at this size's working set; a harness with a trusted worker runs it
there instead): it runs just before the candidate's first run, prepared as a candidate's run is, so
that a fraction of the bandwidth ceiling compares runs taken at nearly the same moment under the same
conditions. The worker never sees a reference and decides nothing: the host judges all of it. The
reply says where the worker's seconds went (`phases`), so that the host can tell its own costs, the
worker's and the pipe's apart.
"""

from __future__ import annotations

import hashlib
import mmap
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from tools.kernels._arena import buffer_bytes
from tools.kernels._backend import Backend, KernelCompileError, KernelLaunchError
from tools.kernels._host_link import Link, LocalLink
from tools.kernels._protocol import ProtocolError
from tools.kernels._variants import RunInputs

GUARD_WORDS = (0x7EA5A5A5, 0x7FC5A5A5, 0x7FC5A5A5, 0xFEA5A5A5)
"""The guard pattern, 32-bit words: +1.1e38, NaN, NaN, -1.1e38 as float32 (+3e307, -1.2e302 as float64).

A kernel that reads past its buffers (a vector or tile loop with no tail) must not get away with it
at the held-out sizes: guard bytes that read as a number near zero (0xA5 bytes are -2.9e-16 as
float32) added nothing to a sum, so a missing tail stayed correct there. The element just outside
either end is a huge positive value (a maximum or a sum goes wrong), a vector read also gets NaN
(which a distance, a product or a sum carries to the output; a huge position alone would only make
a gravitational term vanish) and a huge negative value, and as int32 these are indices far outside
any buffer. A value read and then selected away stays harmless.
"""
POISON = 0xFF
LATER_POISONS = (0x7C, 0x7D, 0x7E, 0x7F, 0xFC, 0xFD, 0xFE)
"""Poison bytes of every run after the first (the host draws one per request and sends it as `poison`).

Filled with 0xFF alone, an output a kernel leaves unwritten read as -1 (integers) or NaN (floats)
on every run, so a kernel that stored only the elements whose answer is not -1 (an index, or -1
for "none") was exact at every checked run, and one leaving unwritten the rare elements whose
reference is NaN (a square root of a negative input) passed whenever the sampled places missed
them. The first run is checked with 0xFF and the later checked runs with one of these, so an
element left unwritten is wrong at one of them whatever its answer: as float32 each of these
repeated is a finite value beyond 1e36 in magnitude (1e291 as float64), as int32 beyond 2e9 in
magnitude, and never -1 or NaN.
"""
TIMING_BUDGET = 0.25
"""Seconds of timed runs a request aims for: slow kernels get fewer repeats (at least 3)."""
YARDSTICK_WARMUP = 3
"""Untimed yardstick runs first: in a new worker the first 72 MB probe ran at 15, 16 and 26 GB/s after one
warm-up run, then at 38 (fresh memory); a run of this size costs about 2 ms."""


@dataclass
class _Buffer:
    name: str
    role: str
    nbytes: int
    parent: Any
    view: Any


def _arg(views: Mapping[str, Any], spec: dict[str, Any]) -> Any:
    ((kind, value),) = spec.items()
    if kind == "buf":
        return views[str(value)]
    if kind == "i32":
        return np.int32(value)
    if kind == "u32":
        return np.uint32(value)
    if kind == "f32":
        return np.float32(value)
    raise ValueError(f"unknown argument kind {kind!r}")


def guard_pattern(nbytes: int, before: bool) -> np.ndarray:
    """The guard's bytes on one side of a buffer: GUARD_WORDS repeated, mirrored word by word before it.

    After the buffer the pattern starts at its end; before it the words run backwards from its start,
    so the element just outside either end reads as +1.1e38 (float32) or +3e307 (float64).
    """
    words = np.resize(np.array(GUARD_WORDS, np.uint32), -(-nbytes // 4))
    raw = np.ascontiguousarray(words[::-1] if before else words).view(np.uint8)
    return np.ascontiguousarray(raw[raw.size - nbytes :] if before else raw[:nbytes])


def differing_bytes(seen: np.ndarray, wanted: np.ndarray, chunk: int = 1 << 19) -> tuple[int, int]:
    """First byte where two equal-length byte arrays differ, and how many bytes differ ((0, 0) if none).

    Compared chunk by chunk as 8-byte words where the length allows: equal chunks (the usual case)
    cost one vectorised comparison, at several times the speed of hashing them.
    """
    first, count = 0, 0
    words = seen.size % 8 == 0
    for start in range(0, seen.size, chunk):
        a, b = seen[start : start + chunk], wanted[start : start + chunk]
        if words and np.array_equal(a.view(np.uint64), b.view(np.uint64)):
            continue
        changed = np.flatnonzero(a != b)
        if changed.size:
            first = first if count else start + int(changed[0])
            count += int(changed.size)
    return first, count


def checked_runs(first_timed: int, timed: int, fractions: list[float]) -> list[int]:
    """Run 0, the warm-up runs, the timed runs the host's random fractions point at, and the last timed run.

    The warm-up runs are untimed, so they were left unchecked too: a kernel wrong only at its second launch
    passed the correctness gate. Each is checked now; what a run computes counts whether or not it is timed."""
    picks = {0, first_timed + timed - 1, *range(1, first_timed)}
    picks.update(first_timed + min(timed - 1, int(u * timed)) for u in fractions)
    return sorted(picks)


def launch_all(backend: Backend, program: Any, launches: list[tuple[str, tuple[int, ...], Any, list[Any]]]) -> float:
    """Every launch of a host program, waited for; the device's own account of their seconds."""
    return backend.elapsed([backend.launch(program, *item) for item in launches])


def run_counts(first: float, request: Mapping[str, Any]) -> tuple[int, int]:
    """Warm-up and timed runs after a first run of `first` seconds: slow kernels get fewer (at least 3 timed).

    Every run needs inputs of its own: the host sent (or holds) `variants` of them.
    """
    warmup = int(request["warmup"]) if first < TIMING_BUDGET else 0
    timed = max(3, min(int(request["repeats"]), int(TIMING_BUDGET / max(first, 1e-6))))
    variants = int(request.get("variants", 1))
    timed = min(timed, variants - 1 - warmup)
    if timed < 1:
        raise ValueError(f"the host sent {variants} input variants; at least {2 + warmup} are needed")
    return warmup, timed


def launch_list(
    request: Mapping[str, Any], views: Mapping[str, Any]
) -> list[tuple[str, tuple[int, ...], Any, list[Any]]]:
    """The request's launches with their arguments bound: (kernel, global size, local size or None, args)."""
    return [
        (
            str(item["kernel"]),
            tuple(item["global"]),
            tuple(item["local"]) if item["local"] else None,
            [_arg(views, arg) for arg in item["args"]],
        )
        for item in request["launches"]
    ]


class Buffers(Protocol):
    """Where a trial's buffers live: a device (`Backend`), or the host's arena (`HostArena`)."""

    def alloc(self, nbytes: int) -> Any: ...
    def write(self, buffer: Any, data: np.ndarray, offset: int = 0) -> None: ...
    def read(self, buffer: Any, out: np.ndarray, offset: int = 0) -> None: ...
    def region(self, buffer: Any, offset: int, nbytes: int) -> Any: ...


class Trial:
    def __init__(
        self,
        backend: Buffers,
        request: dict[str, Any],
        arrays: dict[str, np.ndarray],
        link: Link | None,
        *,
        variant: Callable[[int], Mapping[str, np.ndarray]] | None = None,
    ) -> None:
        """`variant(r)`: run r's variant arrays; by default asked of the host (`link`) as run r begins.

        The host builds one too, over the buffers it fills itself (`HostArena` as the backend): it
        prepares and observes every run there (`staged`, `observe`) while the worker only launches."""
        self.backend = backend
        self.link = link
        self.request = request
        self.arrays = arrays
        self.guard = int(request["guard"])
        self.buffers: dict[str, _Buffer] = {}
        self.base: dict[str, np.ndarray] = {}
        self.before, self.after = guard_pattern(self.guard, True), guard_pattern(self.guard, False)
        for spec in request["buffers"]:
            name, role = str(spec["name"]), str(spec.get("role", "inout"))
            nbytes = buffer_bytes(spec)
            parent = backend.alloc(nbytes + 2 * self.guard)
            backend.write(parent, self.before)
            backend.write(parent, self.after, offset=self.guard + nbytes)
            self.buffers[name] = _Buffer(name, role, nbytes, parent, backend.region(parent, self.guard, nbytes))
            if role in ("in", "inout"):
                self.base[name] = np.ascontiguousarray(arrays[name]).reshape(-1)
        self.poison = np.full(max((b.nbytes for b in self.buffers.values()), default=0), POISON, np.uint8)
        self.later = int(request.get("poison", POISON)) & 0xFF
        """The poison byte of every run after the first (`LATER_POISONS`)."""
        self.launches = launch_list(request, {name: buffer.view for name, buffer in self.buffers.items()})
        self.outputs = [str(name) for name in request["outputs"]]
        self.faults: list[tuple[int, int, int, int, int]] = []
        self.changes: list[tuple[int, int, int, int]] = []
        self.samples: dict[str, list[np.ndarray]] = {name: [] for name in self.outputs}
        self.kept: dict[str, np.ndarray] = {}
        self.keep: set[int] = set()
        self.phases: dict[str, float] = {"prepare": 0.0, "launch": 0.0, "observe": 0.0}
        self.timing = False
        """Whether the run being prepared is a timed one (the host is told when it asks for the inputs)."""
        if variant is None:
            if link is None:
                raise ValueError("a trial needs its runs' variants: a link to the host or a function")
            asked = link
            variant = lambda run: asked.variant(run, self.timing)  # noqa: E731 - the link as it is now
        self.inputs = RunInputs(self.base, variant, list(self.base))
        self.scratch = np.empty(len(self.poison), np.uint8)
        """Where read-only inputs and unkept outputs are read back to, reused by every run."""

    def _prepare(self, index: int, inputs: Mapping[str, np.ndarray]) -> None:
        """Upload run `index`'s inputs (`inputs_of(base, arrays, index)`, byte for byte) and poison the rest."""
        started = time.perf_counter()
        backend = self.backend
        byte = POISON if index == 0 else self.later
        if self.poison.size and self.poison[0] != byte:
            self.poison.fill(byte)
        for buffer in self.buffers.values():
            staged = inputs.get(buffer.name)
            if staged is None:
                backend.write(buffer.parent, self.poison[: buffer.nbytes], offset=self.guard)
            else:
                backend.write(buffer.parent, staged.view(np.uint8), offset=self.guard)
        self.phases["prepare"] += time.perf_counter() - started

    @contextmanager
    def staged(self, index: int) -> Iterator[Mapping[str, np.ndarray]]:
        """Run `index` prepared in the buffers for a launch someone else starts; yields its inputs (for `observe`)."""
        with self.inputs.run(index) as inputs:
            self._prepare(index, inputs)
            yield inputs

    def observe(self, index: int, inputs: Mapping[str, np.ndarray]) -> None:
        """Read run `index` back (outputs, guards, read-only inputs) once its launch is over."""
        started = time.perf_counter()
        self._observe(index, inputs)
        self.phases["observe"] += time.perf_counter() - started

    def run(self, index: int, program: Any, *, timed: bool = False, observe: bool = True) -> float:
        """Prepare run `index`, launch it between the host's go and the worker's done, then observe it.

        `timed`: the host may schedule the rival beside it. `observe`: read back guards, inputs and
        outputs afterwards (a rival's runs are only timed).
        """
        self.timing = timed
        assert self.link is not None  # a trial without a link is the host's, which launches nothing
        with self.staged(index) as inputs:
            self.link.ready(index, timed)
            started = time.perf_counter()
            seconds = self._launch(program)
            self.link.done(index, seconds)
            self.phases["launch"] += time.perf_counter() - started
            if observe:
                self.observe(index, inputs)
        return seconds

    def warm(self, program: Any) -> None:
        """One untimed launch on the base inputs, unclocked: the device builds a kernel at its first launch."""
        with self.inputs.run(0) as inputs:
            self._prepare(0, inputs)
            self._launch(program)

    def _launch(self, program: Any) -> float:
        """Every launch of the host program, waited for; the device's own account of their seconds."""
        assert isinstance(self.backend, Backend)  # the host's trials (over its arena) launch nothing
        return launch_all(self.backend, program, self.launches)

    def input_digests(self) -> dict[str, str]:
        """SHA-256 of each input's working copy: what the host compares with its own (a kernel writing
        outside its buffers could reach the worker's copies)."""
        return {name: hashlib.sha256(work.view(np.uint8).data).hexdigest() for name, work in self.inputs.work.items()}

    def payload(self) -> dict[str, np.ndarray]:
        """The reply's arrays: the kept outputs, the guard faults, the changed inputs, the samples."""
        payload: dict[str, np.ndarray] = dict(self.kept)
        # One row per guard region a run changed: run, buffer position, side (0 before, 1 after), first byte, count.
        payload["guard_faults"] = np.array(self.faults, dtype=np.int32).reshape(-1, 5)
        # One row per read-only input a run changed: run, buffer position, first byte, count (int64: buffers reach GBs).
        payload["input_changes"] = np.array(self.changes, dtype=np.int64).reshape(-1, 4)
        for name, rows in self.samples.items():
            if rows:
                payload[f"sample:{name}"] = np.stack(rows)
        return payload

    def forget(self, kept: bool) -> None:
        """Overwrite every output a kernel of this request wrote, on the device and in the worker, before release.

        A buffer freed with outputs in it goes back to the allocator as it is, and so do the worker's
        arrays of read-back outputs: the next request, on the same inputs (a gate's candidate right
        after its seed, finalists re-measured on one seed), found the seed's answer to its first run
        in the worker's heap. `kept`: also the outputs kept for the reply (when there is none).
        """
        poison = self.poison
        for buffer in self.buffers.values():
            if buffer.role != "in":
                self.backend.write(buffer.parent, poison[: buffer.nbytes], offset=self.guard)
        self.scratch.fill(POISON)
        for rows in self.samples.values():
            for row in rows:
                row.fill(0)
        if kept:
            for data in self.kept.values():
                data.fill(POISON)

    def _observe(self, index: int, inputs: Mapping[str, np.ndarray]) -> None:
        """Read back the run's outputs, then its guards and read-only inputs.

        Outputs first, right after `done`: the host's clock has stopped, and a launch that reported
        itself finished while its work went on would have only this long to finish it.
        """
        backend, guard = self.backend, self.guard
        for name in self.outputs:
            buffer = self.buffers[name]
            # A run whose outputs go back whole gets arrays of its own; the others are only sampled.
            data = np.empty(buffer.nbytes, np.uint8) if index in self.keep else self.scratch[: buffer.nbytes]
            backend.read(buffer.parent, data, offset=guard)
            positions = self.arrays.get(f"sample:{name}")
            if positions is not None:
                dtype = np.dtype(str(self._dtype(name)))
                self.samples[name].append(data.view(dtype)[positions.astype(np.int64)].copy())
            if index in self.keep:
                self.kept[f"{name}@{index}"] = data
        seen = np.empty(guard, np.uint8)
        for position, buffer in enumerate(self.buffers.values()):
            for side, offset, pattern in ((0, 0, self.before), (1, guard + buffer.nbytes, self.after)):
                backend.read(buffer.parent, seen, offset=offset)
                changed = np.flatnonzero(seen != pattern)
                if changed.size:
                    self.faults.append((index, position, side, int(changed[0]), int(changed.size)))
            if buffer.role == "in":
                data = self.scratch[: buffer.nbytes]
                backend.read(buffer.parent, data, offset=guard)
                first, count = differing_bytes(data, inputs[buffer.name].view(np.uint8))
                if count:
                    self.changes.append((index, position, first, count))

    def _dtype(self, name: str) -> str:
        return next(str(spec["dtype"]) for spec in self.request["buffers"] if spec["name"] == name)


class Yardstick:
    """The bandwidth probe's kernel (`triad_source`) at one working set, run just before a candidate's runs.

    Each run starts as a candidate's does: its inputs uploaded again and its output poisoned, so the
    caches hold what a candidate's prepared run finds and the yardstick pays what the candidate pays.
    Its buffers are its own (a candidate never sees them), and it is timed by the same events.
    """

    def __init__(self, backend: Backend, spec: Mapping[str, Any]) -> None:
        from tools.kernels._probes import triad_elements, triad_source

        self.backend = backend
        self._mappings: list[mmap.mmap] = []
        self.kernel = str(spec["kernel"])
        if self.kernel not in ("triad", "update"):
            raise ValueError(f"unknown yardstick kernel {self.kernel!r}")
        width = int(spec["width"])
        count = triad_elements(int(spec["bytes"]), width)
        self.items = count // width
        self.bytes = 12 * count
        self.program = backend.compile(triad_source(width), {})
        self.ones = np.ones(count, np.float32)
        self.halves = np.full(count, 0.5, np.float32)
        self.poison = np.full(4 * count, POISON, np.uint8)
        self.a, self.b, self.c = (self._alloc(4 * count, bool(spec.get("placed"))) for _ in range(3))
        self.seconds = 0.0

    def _alloc(self, nbytes: int, placed: bool) -> Any:
        """A buffer like the candidate's: in shared pages where the host places the candidate's inputs.

        A kernel in such a buffer (4 KiB pages, no transparent huge pages for shared memory) ran a
        memory-bound pass about 1.4x slower than in the device's own allocation here; a yardstick in
        the device's memory would have lowered every fraction of it by as much.
        """
        if not placed or not self.backend.shares_host_memory:
            return self.backend.alloc(nbytes)
        shared = mmap.mmap(-1, nbytes, mmap.MAP_SHARED)
        self._mappings.append(shared)
        return self.backend.alloc_host(np.frombuffer(shared, np.uint8))

    def measure(self, repeats: int) -> list[float]:
        """YARDSTICK_WARMUP warm-up runs, then up to `repeats` timed runs within the timing budget (at least 3).

        They run before the candidate's first run: run after it, the yardstick's speed was the
        candidate's to change (one honest heat2d kernel left the next triad 40 % slower than another
        did, at a working set near the last-level cache, so its fraction rose by as much).
        """
        first = min(self.run() for _ in range(YARDSTICK_WARMUP))
        return [self.run() for _ in range(max(3, min(repeats, int(TIMING_BUDGET / max(first, 1e-6)))))]

    def run(self) -> float:
        started = time.perf_counter()
        backend = self.backend
        backend.write(self.a, self.ones.view(np.uint8) if self.kernel == "update" else self.poison)
        backend.write(self.b, self.ones)
        backend.write(self.c, self.halves)
        event = backend.launch(
            self.program, self.kernel, (self.items,), None, [self.a, self.b, self.c, np.float32(1.5)]
        )
        seconds = backend.elapsed([event])
        self.seconds += time.perf_counter() - started
        return seconds


def _unlaunched_kernels(backend: Backend, program: Any, request: dict[str, Any]) -> str:
    """Why the program may not run: it defines kernels no launch of the task runs (`Backend.kernel_names`)."""
    names = backend.kernel_names(program)
    if names is None:
        return ""
    launched = {str(item["kernel"]) for item in request["launches"]}
    extra = sorted(names - launched)
    if not extra or not launched <= names:
        return ""  # a launched kernel missing: the launch names it, and the kernels the source has
    return (
        f"the source defines kernels no launch runs ({', '.join(extra[:5])}): a candidate defines only the "
        "kernels its task launches (write other code as functions those kernels call)"
    )


def compile_request(backend: Backend, request: dict[str, Any]) -> tuple[Any, str]:
    """The request's program, or why it may not run (a compile log, or kernels no launch runs)."""
    try:
        program = backend.compile(str(request["source"]), {k: int(v) for k, v in request["defines"].items()})
    except KernelCompileError as error:
        return None, error.log
    return program, _unlaunched_kernels(backend, program, request)


def evaluate(
    backend: Backend,
    request: dict[str, Any],
    arrays: dict[str, np.ndarray],
    link: Link | None = None,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Compile, then run the host program once, for warm-up and timed; see the module docstring.

    `link`: the host, which sends run r's input variant as run r begins and clocks every launch
    (`HostLink`); without it (`LocalLink`) the variants are among `arrays` and the device's times stand.
    """
    link = link if link is not None else LocalLink(arrays)
    started = time.perf_counter()
    program, refused = compile_request(backend, request)
    if refused:
        return {"ok": False, "stage": "compile", "error": refused}, {}
    compile_seconds = time.perf_counter() - started
    trial: Trial | None = None
    payload: dict[str, np.ndarray] = {}
    try:
        started = time.perf_counter()
        # Nothing an earlier request's kernels left in `__local` memory reaches this one's (an answer
        # computed by an earlier evaluation on the same inputs, or a marker of which evaluation this is).
        # Nor what they left in the runtime threads' stacks (`Backend.forget_launches`).
        backend.forget_local()
        backend.forget_launches()
        trial = Trial(backend, request, arrays, link)
        setup_seconds = time.perf_counter() - started
        yardstick = Yardstick(backend, request["yardstick"]) if request.get("yardstick") else None
        yardstick_times = yardstick.measure(int(request["repeats"])) if yardstick is not None else []
        trial.keep = {0}
        first = trial.run(0, program)
        warmup, timed = run_counts(first, request)
        trial.keep = set(checked_runs(1 + warmup, timed, [float(u) for u in request.get("check", [])]))
        for index in range(1, 1 + warmup):
            trial.run(index, program)
        times = [trial.run(index, program, timed=True) for index in range(1 + warmup, 1 + warmup + timed)]
        payload = trial.payload()
    except KernelLaunchError as error:
        return {"ok": False, "stage": "launch", "error": str(error)}, {}
    finally:
        released = time.perf_counter()
        try:
            if trial is not None:
                trial.forget(kept=not payload)
        finally:
            backend.release()
        release_seconds = time.perf_counter() - released
    assert trial is not None  # every path that left it unset returned or raised
    reply = {
        "ok": True,
        "compile_seconds": compile_seconds,
        "times": times,
        "yardstick_times": yardstick_times,
        "yardstick_bytes": yardstick.bytes if yardstick is not None else 0,
        "first": first,
        "runs": 1 + warmup + timed,
        "first_timed": 1 + warmup,
        "checked": sorted(trial.keep),
        "final_digests": trial.input_digests(),
        "phases": {
            "compile": compile_seconds,
            "setup": setup_seconds,
            **trial.phases,
            "yardstick": yardstick.seconds if yardstick is not None else 0.0,
            "release": release_seconds,
        },
    }
    return reply, payload


def rival_session(
    backend: Backend, request: dict[str, Any], arrays: dict[str, np.ndarray], link: Link
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The task's trusted seed on the candidate's runs' inputs, one run per host command, only timed.

    It runs in a worker of its own, which no candidate ever ran in: a kernel sharing its process
    could make it slower (or swap its program), and it was the yardstick of every paired speed ratio.
    Once compiled it says `prepared`; then each `run` command (carrying that run's variant) is a
    prepared, clocked launch, until `end`.
    """
    program, refused = compile_request(backend, request)
    if refused:
        return {"ok": False, "stage": "compile", "error": refused}, {}
    holder: dict[str, Mapping[str, np.ndarray]] = {"arrays": {}}
    trial: Trial | None = None
    try:
        backend.forget_local()
        backend.forget_launches()
        trial = Trial(backend, request, arrays, link, variant=lambda run: holder["arrays"])
        trial.warm(program)
        link.tell({"op": "prepared"})
        while True:
            header, variant = link.command()
            if header.get("op") == "end":
                break
            run = header.get("run")
            if header.get("op") != "run" or not isinstance(run, int) or isinstance(run, bool) or run < 0:
                raise ProtocolError(f"expected a run or the end of the rival's session, got {str(header)[:200]}")
            holder["arrays"] = variant
            trial.run(run, program, timed=True, observe=False)
    except KernelLaunchError as error:
        return {"ok": False, "stage": "launch", "error": str(error)}, {}
    finally:
        try:
            if trial is not None:
                trial.forget(kept=True)
        finally:
            backend.release()
    return {"ok": True, "phases": trial.phases}, {}


def calibrate(link: Link, runs: int) -> dict[str, Any]:
    """Clocked handshakes around no launch, so the host learns what its bracket adds by itself.

    The host asks for them as a worker starts, before any candidate has run in it (`Worker.overhead`).
    """
    for index in range(runs):
        link.ready(index, True)
        link.done(index, 0.0)
    return {"ok": True}
