"""The host's judgement of one trial: guards, read-only inputs, unwritten outputs, checked runs.

Everything here reads what the worker observed (see `_trial`) and compares it with what the
trusted host knows: the canary it asked for, the digest of the inputs it sent, the poison pattern,
and the task's reference for each checked run's own inputs. A size is correct only if every run
kept its guards and inputs intact, no run left a float output unwritten at the sampled places,
and every checked run (the first, a random timed one, the last) matches the reference; the first
and the later ones were poisoned with different bytes, so that no value is what an unwritten
element holds on all of them.
The reference may come from a `ReferenceCache`: outputs kept by the exact bytes of the inputs
they were computed from, so it only ever answers for inputs identical to ones it has seen.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from tools._workload import TaskError
from tools.kernels._task import HostProgram, KernelTask, Size
from tools.kernels._trial import POISON, checked_runs
from tools.kernels._variants import inputs_of

Reference = Callable[[Size, dict[str, np.ndarray]], Mapping[str, np.ndarray]]
"""The outputs one execution must produce at a size from given inputs (the task's, or a cache of it)."""


class ReferenceCache:
    """The task's reference outputs by the exact bytes of the inputs they were computed from.

    Evaluations that share an inputs seed (the finalists re-measured side by side, a gate's
    candidate and seed in one round) draw byte-identical inputs, so each checked run's reference
    is computed once for all of them. The key is a SHA-256 over the size and every input's name,
    dtype, shape and bytes (in the harness: the base inputs' digests and the run's variant, see
    `variant_key`), so an entry is never used for inputs that differ in a single bit, and what a
    candidate returned plays no part in it. Cached outputs are read-only; the least recently used
    go first beyond `capacity` bytes. Where hashing the inputs costs more than the reference itself
    (a cheap elementwise task with a large in-out buffer), that size is computed directly from then on.
    """

    def __init__(self, compute: Reference, capacity: int = 512 << 20) -> None:
        self.compute = compute
        self.capacity = capacity
        self.entries: OrderedDict[str, dict[str, np.ndarray]] = OrderedDict()
        self.nbytes = 0
        self.hits = 0
        self.misses = 0
        self.bypassed: set[tuple[int, ...]] = set()
        self._lock = threading.Lock()  # references of one size's checked runs may be asked for from several threads

    def outputs(
        self, size: Size, inputs: dict[str, np.ndarray], key: Callable[[], str] | None = None
    ) -> Mapping[str, np.ndarray]:
        """The reference at `size` for `inputs`; `key`, when given, names `inputs` exactly (`variant_key`)."""
        if size.dims in self.bypassed:
            return self.compute(size, inputs)
        started = time.perf_counter()
        key_text = key() if key is not None else input_key(size, inputs)
        hashed = time.perf_counter() - started
        with self._lock:
            cached = self.entries.get(key_text)
            if cached is not None:
                self.hits += 1
                self.entries.move_to_end(key_text)
                return cached
            self.misses += 1
        started = time.perf_counter()
        outputs = self.compute(size, inputs)  # outside the lock: the point of asking from threads
        if time.perf_counter() - started < hashed:
            with self._lock:
                self.bypassed.add(size.dims)
            return outputs
        frozen = {}
        for name, array in outputs.items():
            stored = np.asarray(array).view()  # a read-only view: no copy of what was just computed
            stored.flags.writeable = False
            frozen[name] = stored
        with self._lock:
            if key_text not in self.entries:
                self.nbytes += sum(array.nbytes for array in frozen.values())
            self.entries[key_text] = frozen
            self.entries.move_to_end(key_text)
            while self.nbytes > self.capacity and len(self.entries) > 1:
                _, evicted = self.entries.popitem(last=False)
                self.nbytes -= sum(array.nbytes for array in evicted.values())
        return frozen


def input_key(size: Size, inputs: Mapping[str, np.ndarray]) -> str:
    """SHA-256 naming a size and every input exactly: name, dtype, shape and the digest of its bytes."""
    key = hashlib.sha256(repr((size.dims, size.scalars)).encode())
    for name in sorted(inputs):
        data = np.asarray(inputs[name])
        digest = _digest(data)
        key.update(f"\0{name}\0{data.dtype.str}\0{data.shape}\0{digest}".encode())
    return key.hexdigest()


class Phases(dict[str, float]):
    """Seconds spent per phase of an evaluation, summed over sizes (what `bench/harness_cost.py` prints)."""

    @contextmanager
    def time(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - started)

    def add(self, name: str, seconds: float) -> None:
        self[name] = self.get(name, 0.0) + seconds


@dataclass
class Judgement:
    correct: bool = True
    error: float = 0.0
    tolerance: float = 0.0
    details: list[str] = field(default_factory=list)

    def fail(self, detail: str) -> None:
        self.correct = False
        if detail not in self.details:
            self.details.append(detail)


def _guards(program: HostProgram, faults: np.ndarray | None, judgement: Judgement) -> None:
    """Rows (run, buffer, side, first byte, count) of guard regions a run changed; any row rejects."""
    if faults is None or faults.ndim != 2 or faults.shape[1] != 5:
        judgement.fail("guard observations missing")
        return
    for run, position, side, first, count in faults.tolist():
        name = program.buffers[position].name if 0 <= position < len(program.buffers) else f"#{position}"
        if side == 0:
            judgement.fail(f"wrote before the start of buffer {name} (run {run}, {count} guard bytes changed)")
        else:
            judgement.fail(f"wrote past the end of buffer {name} (run {run}, {count} guard bytes from byte {first})")


def _digest(data: np.ndarray) -> str:
    """SHA-256 of the array's bytes, hashed in place (no copy: inputs can be tens of MB per run)."""
    return hashlib.sha256(np.ascontiguousarray(data).reshape(-1).view(np.uint8).data).hexdigest()


class BaseDigests:
    """SHA-256 of each base input's bytes, computed on first use and at most once per trial."""

    def __init__(self, base: Mapping[str, np.ndarray]) -> None:
        self.base = base
        self.known: dict[str, str] = {}

    def __getitem__(self, name: str) -> str:
        if name not in self.known:
            self.known[name] = _digest(np.asarray(self.base[name]))
        return self.known[name]


def variant_key(size: Size, digests: BaseDigests, variants: Mapping[str, np.ndarray], run: int) -> str:
    """SHA-256 naming `inputs_of(base, variants, run)` exactly, from the base's digests and the run's variant.

    A run's inputs are a function of the base bytes and that run's (index, value) arrays alone, so
    one hash of each base per trial and the few changed elements per run name them as surely as
    hashing every run's inputs whole would (two keys may name equal inputs; one key never names two).
    """
    key = hashlib.sha256(f"variant\0{size.dims!r}\0{size.scalars!r}".encode())
    for name in sorted(digests.base):
        data = np.asarray(digests.base[name])
        key.update(f"\0{name}\0{data.dtype.str}\0{data.shape}\0{digests[name]}".encode())
        for part in ("index", "value"):
            array = variants.get(f"variant{run}:{name}:{part}")
            if array is None:
                key.update(f"\0{part}:none".encode())
                continue
            array = np.ascontiguousarray(array)
            key.update(f"\0{part}\0{array.dtype.str}\0{array.shape}\0".encode())
            key.update(array.reshape(-1).view(np.uint8).data)
    return key.hexdigest()


FRESH_ATTEMPTS = 4
"""Whole new draws tried for a checked run whose answer is run 0's before its inputs are left as they are."""


def _answer(
    task: KernelTask,
    size: Size,
    base: dict[str, np.ndarray],
    variants: Mapping[str, np.ndarray],
    run: int,
    references: ReferenceCache | None,
    digests: BaseDigests,
    inputs: dict[str, np.ndarray] | None = None,
) -> Mapping[str, np.ndarray]:
    """The reference outputs of `run` (through the harness's cache, when it has one); `inputs`, when the
    caller already built them, are that run's."""
    inputs = inputs if inputs is not None else inputs_of(base, variants, run)
    if references is None:
        return task.reference(size, inputs)
    return references.outputs(size, inputs, partial(variant_key, size, digests, variants, run))


_SAME_CHUNK = 1 << 20
"""Bytes compared at a time by `_same_bytes`: answers that differ (nearly all) differ in the first chunk."""


def _same_bytes(one: np.ndarray, other: np.ndarray) -> bool:
    """Whether two arrays hold the same bytes, chunk by chunk, with no copy of either (lbm's answers are
    75 MB: copying both to compare them whole took a third of its references' time)."""
    first, second = np.ascontiguousarray(one), np.ascontiguousarray(other)
    if first.nbytes != second.nbytes:
        return False
    first_bytes, second_bytes = first.reshape(-1).view(np.uint8), second.reshape(-1).view(np.uint8)
    return all(
        np.array_equal(first_bytes[start : start + _SAME_CHUNK], second_bytes[start : start + _SAME_CHUNK])
        for start in range(0, first_bytes.size, _SAME_CHUNK)
    )


def _same(one: Mapping[str, np.ndarray], other: Mapping[str, np.ndarray]) -> bool:
    return sorted(one) == sorted(other) and all(_same_bytes(one[name], other[name]) for name in one)


_POOL_LOCK = threading.Lock()
_POOL: tuple[int, ThreadPoolExecutor] | None = None
"""The pool and the process that made it: a forked child inherits the object but none of its threads."""


def _reference_pool() -> ThreadPoolExecutor | None:
    """Threads for references side by side, one per core this process may use; None on one core, where
    threads would only add switching (made once per process, on first need)."""
    global _POOL
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if cores < 2:
        return None
    with _POOL_LOCK:
        if _POOL is None or _POOL[0] != os.getpid():
            _POOL = (os.getpid(), ThreadPoolExecutor(max_workers=cores, thread_name_prefix="labgate-reference"))
        return _POOL[1]


def _answers_side_by_side(
    task: KernelTask,
    size: Size,
    base: dict[str, np.ndarray],
    variants: Mapping[str, np.ndarray],
    runs: Sequence[int],
    references: ReferenceCache | None,
    digests: BaseDigests,
) -> dict[int, Mapping[str, np.ndarray]]:
    """The references of `runs`, computed at once where the task allows it (`concurrent_references`); nothing
    otherwise. They run after the worker has answered, so they share the cores with no timed launch."""
    runs = list(dict.fromkeys(runs))
    allowed = getattr(task, "concurrent_references", False)  # a task made without KernelTask: one at a time
    pool = _reference_pool() if len(runs) > 1 and allowed else None
    if pool is None:
        return {}
    if references is not None:
        for name in base:
            digests[name]  # hashed once here, not by every thread that keys its run on it
    futures = {run: pool.submit(_answer, task, size, base, variants, run, references, digests) for run in runs}
    return {run: future.result() for run, future in futures.items()}


def fresh_answers(
    task: KernelTask,
    size: Size,
    base: dict[str, np.ndarray],
    variants: dict[str, np.ndarray],
    checked: Sequence[int],
    draw: Callable[[], Mapping[str, np.ndarray]],
    references: ReferenceCache | None,
    digests: BaseDigests | None = None,
    answers: dict[int, Mapping[str, np.ndarray]] | None = None,
) -> set[int]:
    """Give every checked run after the first inputs whose answer differs from run 0's (in place);
    the runs whose inputs were drawn again. `answers` receives the reference outputs computed
    for the runs' final inputs, for `judge_trial` to use instead of computing them again.

    A few changed elements leave some answers as they were: a maximum over 2**20 values stayed the
    same in 97 % of runs, so a kernel that computed once and then returned the remembered answer
    (PoCL keeps `__local` memory between launches) was correct at every checked run, at 31x the
    seed. A checked run whose answer is run 0's gets a whole new draw instead, up to FRESH_ATTEMPTS
    times (an answer no input changes, a constant, stays as it is). It runs after the worker answered
    (a candidate that does not compile costs no reference), and where answers change it computes
    exactly the references the judge needs.
    """
    digests = digests if digests is not None else BaseDigests(base)
    known = answers if answers is not None else {}
    ahead = _answers_side_by_side(task, size, base, variants, [0, *checked], references, digests)

    def answer(run: int) -> Mapping[str, np.ndarray]:
        """The run's answer computed ahead, for its inputs as first drawn (taken once); else computed now."""
        computed = ahead.pop(run, None)
        return computed if computed is not None else _answer(task, size, base, variants, run, references, digests)

    first = known[0] = answer(0)
    redrawn: set[int] = set()
    for run in checked:
        if run == 0:
            continue
        for _ in range(FRESH_ATTEMPTS):
            known[run] = answer(run)  # after a new draw of its inputs, computed afresh
            if not _same(known[run], first):
                break
            redrawn.add(run)
            del known[run]  # its inputs change below
            fresh = draw()
            for name, data in base.items():
                variants[f"variant{run}:{name}:index"] = np.arange(np.asarray(data).size, dtype=np.uint32)
                variants[f"variant{run}:{name}:value"] = np.ascontiguousarray(np.asarray(fresh[name]).reshape(-1))
        else:
            if task.reference_from_user:
                # A task file's reference that no new draw of every input changes answers nothing about them:
                # a kernel writing the same constant passed its correctness gate, and the task's own seed failed.
                raise TaskError(
                    f"{task.name}: the reference gives the same answer for {FRESH_ATTEMPTS + 1} independent draws "
                    f"of every input at size {size.label}: it does not compute from its inputs (fix the task file's "
                    "reference)"
                )
    return redrawn


def _inputs_intact(
    program: HostProgram,
    digests: BaseDigests,
    reply: Mapping[str, Any],
    changes: np.ndarray | None,
    judgement: Judgement,
) -> None:
    """Read-only inputs as the worker saw them after every run, and its own copies of them at the end.

    Rows (run, buffer, first byte, count) name a run that left a read-only buffer different from
    what it was given; the final digests, of the copies the worker restored every run's inputs
    from (in-out buffers too), must be the host's own digests of the inputs it sent.
    """
    if changes is None or changes.ndim != 2 or changes.shape[1] != 4:
        judgement.fail("read-only input observations missing")
        return
    for run, position, first, count in changes.tolist():
        name = program.buffers[position].name if 0 <= position < len(program.buffers) else f"#{position}"
        judgement.fail(f"modified its read-only input buffer {name} (run {run}, {count} bytes from byte {first})")
    final = reply.get("final_digests")
    if not isinstance(final, dict):
        judgement.fail("read-only input digests missing")
        return
    for name in digests.base:
        if final.get(name) != digests[name]:
            judgement.fail(f"changed the worker's own copy of input {name} (a write outside its buffers)")


def _poisoned_runs(samples: np.ndarray, later: int = POISON) -> np.ndarray:
    """Rows (runs) of `samples` where some sampled element still holds its run's poison, byte for byte.

    Row 0 (the first run) was poisoned with POISON, every later row with `later` (`LATER_POISONS`).
    Any NaN counted before, so a task whose reference is NaN at some inputs (a square root of a
    negative input) had its honest kernels rejected; a NaN the device computes is never the all-ones
    pattern, nor any of the later ones (finite), while an element a run did not write always is.
    """
    rows = np.ascontiguousarray(samples).reshape(len(samples), -1)
    elements = rows.view(np.uint8).reshape(len(samples), rows.shape[1], rows.dtype.itemsize)
    poison = np.full(len(samples), later & 0xFF, np.uint8)
    poison[:1] = POISON
    return np.flatnonzero(np.any(np.all(elements == poison[:, None, None], axis=2), axis=1))


def _written(program: HostProgram, raw: Mapping[str, np.ndarray], judgement: Judgement, later: int = POISON) -> None:
    """Float outputs sampled after every run: the poison there is what a run did not overwrite.

    Integer outputs are not sampled (any poison is a valid integer); the checked runs, poisoned with
    two different bytes (`LATER_POISONS`), find an integer a kernel left unwritten.
    """
    specs = {spec.name: spec for spec in program.buffers}
    for name in program.outputs:
        samples = raw.get(f"sample:{name}")
        if samples is None:
            judgement.fail(f"samples of output {name} missing")
            continue
        if np.dtype(specs[name].dtype).kind not in "fc":
            continue
        unwritten = _poisoned_runs(samples, later)
        if unwritten.size:
            judgement.fail(
                f"left output {name} unwritten or NaN at sampled places (run {int(unwritten[0])}); "
                "a read past the end of a buffer gets huge values and NaN"
            )


def _asked_for(reply: Mapping[str, Any], checked: Sequence[int], fractions: Sequence[float]) -> bool:
    """Whether the runs the host's random `fractions` point at are among the `checked` ones returned.

    The worker turns the fractions into run numbers (`checked_runs`); the host repeats that from the
    reply's own count of timed runs, so a reply that checked only the runs a kernel worked on (the
    first and the last, always checked) and dropped the random one is refused, not trusted.
    """
    if not fractions:
        return True
    timed = len(reply.get("times", []))
    first_timed = int(reply.get("first_timed", 0))
    if timed < 1 or first_timed < 1 or first_timed + timed != int(reply.get("runs", 0)):
        return False
    return set(checked_runs(first_timed, timed, list(fractions))) <= set(checked)


def _accepts_nothing(
    task: KernelTask,
    size: Size,
    name: str,
    got: np.ndarray,
    expected: Mapping[str, np.ndarray],
    inputs: dict[str, np.ndarray],
) -> str:
    """Why the task's check cannot tell an answer from none at this size, or "".

    A task file whose tolerance exceeded every output (atol 1e-2 on outputs of about 1e-3) accepted a
    kernel that wrote zeros, at 5x the seed's speed, through every gate. An output of all zeros must
    fail wherever the reference is not all zeros itself; where it passes, nothing the task judges
    means anything, and the size is failed for every candidate, the seed included.
    """
    want = expected[name].reshape(-1)
    with np.errstate(invalid="ignore"):
        if not np.any(want != 0) or not task.check_output(size, name, np.zeros_like(got), expected, inputs).ok:
            return ""
        largest = float(np.nanmax(np.abs(want))) if want.size else 0.0
    return (
        f"the task cannot judge output {name} at size {size.label}: its check accepts all zeros, where the "
        f"reference reaches {largest:.3g} (a tolerance as large as the outputs, or inputs drawn too small for it)"
    )


def judge_trial(
    task: KernelTask,
    size: Size,
    program: HostProgram,
    base: dict[str, np.ndarray],
    variants: Mapping[str, np.ndarray],
    reply: dict[str, Any],
    raw: Mapping[str, np.ndarray],
    *,
    references: ReferenceCache | None = None,
    phases: Phases | None = None,
    fractions: Sequence[float] = (),
    digests: BaseDigests | None = None,
    answers: Mapping[int, Mapping[str, np.ndarray]] | None = None,
    poison: int = POISON,
) -> Judgement:
    """Every check of one size's trial; the details name the first run each problem was seen in.

    The expected outputs come from the task's reference, through `references` when given (the
    harness's cache of it, keyed by the inputs' bytes). `fractions` are the random checks the host
    sent: the runs they point at must be among those the worker returned (`_asked_for`). `poison` is
    the byte the host asked the worker to poison every run after the first with (`LATER_POISONS`).
    """
    phases = phases if phases is not None else Phases()
    judgement = Judgement()
    runs = int(reply.get("runs", 0))
    checked = [int(run) for run in reply.get("checked", [])]
    if not checked or checked[0] != 0 or checked[-1] != runs - 1 or not _asked_for(reply, checked, fractions):
        judgement.fail("the worker did not return the runs the host asked to check")
    _guards(program, raw.get("guard_faults"), judgement)
    _written(program, raw, judgement, poison)
    with phases.time("judge_digests"):
        digests = digests if digests is not None else BaseDigests(base)
        _inputs_intact(program, digests, reply, raw.get("input_changes"), judgement)
    specs = {spec.name: spec for spec in program.buffers}
    for run in checked:
        if not 0 <= run < runs:
            judgement.fail(f"checked run {run} out of range")
            continue
        inputs = inputs_of(base, variants, run)
        expected: Mapping[str, np.ndarray]
        with phases.time("reference"):
            if answers is not None and run in answers:
                expected = answers[run]
            else:
                expected = _answer(task, size, base, variants, run, references, digests, inputs)
        with phases.time("output_checks"):
            for name in program.outputs:
                data = raw.get(f"{name}@{run}")
                spec = specs[name]
                if data is None or data.size != spec.nbytes:
                    judgement.fail(f"output {name} of run {run} not returned")
                    continue
                got = data.view(spec.dtype)
                check = task.check_output(size, name, got, expected, inputs)
                judgement.error = max(judgement.error, check.error)
                judgement.tolerance = max(judgement.tolerance, check.tolerance)
                if not check.ok:
                    judgement.fail(f"{name} (run {run}): {check.detail or 'out of tolerance'}")
                if run == checked[0]:
                    blind = _accepts_nothing(task, size, name, got, expected, inputs)
                    if blind:
                        judgement.fail(blind)
    return judgement
