"""The host's judgement of one trial: guards, read-only inputs, unwritten outputs, checked runs.

Everything here reads what the worker observed (see `_trial`) and compares it with what the
trusted host knows: the canary it asked for, the digest of each run's inputs, the poison pattern,
and the task's reference for each checked run's own inputs. A size is correct only if every run
kept its guards and inputs intact, no run left a float output unwritten at the sampled places,
and every checked run (the first, a random timed one, the last) matches the reference.
The reference may come from a `ReferenceCache`: outputs kept by the exact bytes of the inputs
they were computed from, so it only ever answers for inputs identical to ones it has seen.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tools.kernels._task import HostProgram, KernelTask, Size
from tools.kernels._variants import RunInputs, inputs_of

Reference = Callable[[Size, dict[str, np.ndarray]], Mapping[str, np.ndarray]]
"""The outputs one execution must produce at a size from given inputs (the task's, or a cache of it)."""


class ReferenceCache:
    """The task's reference outputs by the exact bytes of the inputs they were computed from.

    Evaluations that share an inputs seed (the finalists re-measured side by side, a gate's
    candidate and seed in one round) draw byte-identical inputs, so each checked run's reference
    is computed once for all of them. The key is a SHA-256 over the size and every input's name,
    dtype, shape and bytes (read-only inputs by the digest the judge computed of them anyway), so
    an entry is never used for inputs that differ in a single bit, and what a candidate returned
    plays no part in it. Cached outputs are read-only; the least recently used go first beyond
    `capacity` bytes. Where hashing the inputs costs more than the reference itself (a cheap
    elementwise task with a large in-out buffer), that size is computed directly from then on.
    """

    def __init__(self, compute: Reference, capacity: int = 512 << 20) -> None:
        self.compute = compute
        self.capacity = capacity
        self.entries: OrderedDict[str, dict[str, np.ndarray]] = OrderedDict()
        self.nbytes = 0
        self.hits = 0
        self.misses = 0
        self.bypassed: set[tuple[int, ...]] = set()

    def outputs(
        self, size: Size, inputs: dict[str, np.ndarray], known: Mapping[str, str] | None = None
    ) -> Mapping[str, np.ndarray]:
        """The reference at `size` for `inputs`; `known` holds SHA-256 digests of some inputs' bytes."""
        if size.dims in self.bypassed:
            return self.compute(size, inputs)
        started = time.perf_counter()
        key = input_key(size, inputs, known or {})
        hashed = time.perf_counter() - started
        cached = self.entries.get(key)
        if cached is not None:
            self.hits += 1
            self.entries.move_to_end(key)
            return cached
        self.misses += 1
        started = time.perf_counter()
        outputs = self.compute(size, inputs)
        if time.perf_counter() - started < hashed:
            self.bypassed.add(size.dims)
            return outputs
        frozen = {}
        for name, array in outputs.items():
            stored = np.asarray(array).view()  # a read-only view: no copy of what was just computed
            stored.flags.writeable = False
            frozen[name] = stored
        self.entries[key] = frozen
        self.nbytes += sum(array.nbytes for array in frozen.values())
        while self.nbytes > self.capacity and len(self.entries) > 1:
            _, evicted = self.entries.popitem(last=False)
            self.nbytes -= sum(array.nbytes for array in evicted.values())
        return frozen


def input_key(size: Size, inputs: Mapping[str, np.ndarray], known: Mapping[str, str]) -> str:
    """SHA-256 naming a size and every input exactly: name, dtype, shape and the digest of its bytes."""
    key = hashlib.sha256(repr(size.dims).encode())
    for name in sorted(inputs):
        data = np.asarray(inputs[name])
        digest = known.get(name) or _digest(data)
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


def _run_digests(
    base: Mapping[str, np.ndarray], variants: Mapping[str, np.ndarray], names: list[str], runs: int
) -> list[dict[str, str]]:
    """Digest of every read-only input as each run saw it (`inputs_of(base, variants, run)[name]`),
    without a full copy per run: a run costs its hash and its few changed elements."""
    inputs = RunInputs(base, variants, names)
    digests: list[dict[str, str]] = []
    for run in range(runs):
        with inputs.run(run) as seen:
            digests.append({name: _digest(seen[name]) for name in names})
    return digests


def _written(program: HostProgram, raw: Mapping[str, np.ndarray], judgement: Judgement) -> None:
    """Float outputs sampled after every run: a NaN there is the poison a run did not overwrite."""
    specs = {spec.name: spec for spec in program.buffers}
    for name in program.outputs:
        samples = raw.get(f"sample:{name}")
        if samples is None:
            judgement.fail(f"samples of output {name} missing")
            continue
        if np.dtype(specs[name].dtype).kind not in "fc":
            continue
        unwritten = np.flatnonzero(np.any(np.isnan(samples), axis=tuple(range(1, samples.ndim))))
        if unwritten.size:
            judgement.fail(f"left output {name} unwritten or NaN at sampled places (run {int(unwritten[0])})")


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
) -> Judgement:
    """Every check of one size's trial; the details name the first run each problem was seen in.

    The expected outputs come from the task's reference, through `references` when given (the
    harness's cache of it, keyed by the inputs' bytes).
    """
    phases = phases if phases is not None else Phases()
    judgement = Judgement()
    runs = int(reply.get("runs", 0))
    checked = [int(run) for run in reply.get("checked", [])]
    if not checked or checked[0] != 0 or checked[-1] != runs - 1:
        judgement.fail("the worker did not return the runs the host asked to check")
    _guards(program, raw.get("guard_faults"), judgement)
    _written(program, raw, judgement)
    digests = list(reply.get("digests", []))
    read_only = [spec.name for spec in program.buffers if spec.role == "in"]
    if len(digests) != runs:
        judgement.fail("input digests missing")
    with phases.time("judge_digests"):
        expected_digests = _run_digests(base, variants, read_only, min(runs, len(digests)))
    for run, wanted in enumerate(expected_digests):
        seen = digests[run] if isinstance(digests[run], dict) else {}
        for name in read_only:
            if seen.get(name) != wanted[name]:
                judgement.fail(f"modified its read-only input buffer {name} (run {run})")
    specs = {spec.name: spec for spec in program.buffers}
    for run in checked:
        if not 0 <= run < min(runs, len(digests)):
            judgement.fail(f"checked run {run} out of range")
            continue
        inputs = inputs_of(base, variants, run)
        expected: Mapping[str, np.ndarray]
        with phases.time("reference"):
            if references is None:
                expected = task.reference(size, inputs)
            else:
                expected = references.outputs(size, inputs, expected_digests[run])
        with phases.time("output_checks"):
            for name in program.outputs:
                data = raw.get(f"{name}@{run}")
                spec = specs[name]
                if data is None or data.size != spec.nbytes:
                    judgement.fail(f"output {name} of run {run} not returned")
                    continue
                check = task.check(size, name, data.view(spec.dtype), expected[name].reshape(-1), inputs)
                judgement.error = max(judgement.error, check.error)
                judgement.tolerance = max(judgement.tolerance, check.tolerance)
                if not check.ok:
                    text = check.detail or "out of tolerance"
                    judgement.fail(f"{name} (run {run}): {text}")
    return judgement
