"""The harness's reference cache and phase timing, against an in-process worker that needs no device.

The worker here is honest arithmetic (each run's outputs are the task's reference for that run's
own inputs) or a replay of what it answered for an earlier input draw: the replay is exactly a
kernel that is correct only for the first draw, and the cache must never let it through.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, ClassVar

import numpy as np
import pytest

from tools.kernels import SUITE, Harness
from tools.kernels._judge import BaseDigests, ReferenceCache, _same_bytes, fresh_answers, variant_key
from tools.kernels._task import Size, _allclose_whole, allclose_check
from tools.kernels._trial import checked_runs, differing_bytes
from tools.kernels._variants import _changed, draw_variants, inputs_of

TASK = SUITE["saxpy"]
SIZES = [Size("small", (4096,)), Size("large", (20000,))]


class ArithmeticWorker:
    """Answers like a correct kernel; with `replay` set, returns the outputs it gave for the first draw instead."""

    def __init__(self) -> None:
        self.first: dict[tuple[int, int], dict[str, np.ndarray]] = {}
        self.replay = False

    def request(
        self, header: Mapping[str, Any], arrays: Mapping[str, np.ndarray], timeout: float
    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        buffers = {str(spec["name"]): spec for spec in header["buffers"]}
        base = {name: arrays[name] for name, spec in buffers.items() if spec["role"] in ("in", "inout")}
        warmup, timed = int(header["warmup"]), int(header["repeats"])
        runs = 1 + warmup + timed
        checked = checked_runs(1 + warmup, timed, [float(u) for u in header["check"]])
        count = int(next(iter(buffers.values()))["count"])
        payload: dict[str, np.ndarray] = {
            "guard_faults": np.zeros((0, 5), np.int32),
            "input_changes": np.zeros((0, 4), np.int64),
        }
        samples: dict[str, list[np.ndarray]] = {name: [] for name in header["outputs"]}
        for run in range(runs):
            inputs = inputs_of(base, arrays, run)
            size = Size("any", (count,))
            outputs = {
                name: np.asarray(value, np.float32).reshape(-1) for name, value in TASK.reference(size, inputs).items()
            }
            if self.replay:
                outputs = self.first[(count, run)]
            else:
                self.first.setdefault((count, run), outputs)
            for name in header["outputs"]:
                samples[name].append(outputs[name][arrays[f"sample:{name}"].astype(np.int64)])
                if run in checked:
                    payload[f"{name}@{run}"] = outputs[name].view(np.uint8)
        for name, rows in samples.items():
            payload[f"sample:{name}"] = np.stack(rows)
        reply = {
            "ok": True,
            "times": [1e-3] * timed,
            "rival_times": [],
            "runs": runs,
            "first_timed": 1 + warmup,
            "checked": checked,
            "final_digests": {
                name: hashlib.sha256(np.ascontiguousarray(data).data).hexdigest() for name, data in base.items()
            },
            "phases": {"launch": 0.0},
        }
        return reply, payload


def slow_reference(calls: list[int]) -> Any:
    """The task's reference, counted, and slower than hashing the inputs (so the cache never steps aside)."""

    def compute(size: Size, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        calls.append(1)
        time.sleep(0.05)  # well above hashing even on a loaded machine: 3 ms was not, and the cache stepped aside
        return TASK.reference(size, inputs)

    return compute


def harness_with(worker: ArithmeticWorker, calls: list[int]) -> Harness:
    harness = Harness(TASK, worker, ceilings=None, repeats=3)  # type: ignore[arg-type]
    harness.references = ReferenceCache(slow_reference(calls))
    return harness


def test_a_shared_seed_reuses_references_and_a_new_seed_computes_its_own() -> None:
    calls: list[int] = []
    harness = harness_with(ArithmeticWorker(), calls)
    first = harness.evaluate(TASK.seed, seed=3, sizes=SIZES)
    assert first.ok, first.feedback()
    computed = len(calls)
    assert computed == sum(len(size.checked_runs) for size in first.sizes) >= 2 * len(SIZES)
    # Another finalist on the same seed: the same first inputs (their references come from the cache), and
    # later runs' variants of its own request (a kernel cannot have kept them from the first one).
    again = harness.evaluate(TASK.seed + "\n// another finalist\n", seed=3, sizes=SIZES)
    assert again.ok, again.feedback()
    assert harness.references is not None and harness.references.hits == len(SIZES)
    assert len(calls) == 2 * computed - len(SIZES), "only the first runs' references may come from the cache"
    before = len(calls)
    other = harness.evaluate(TASK.seed, seed=4, sizes=SIZES)
    assert other.ok, other.feedback()
    fresh = sum(len(size.checked_runs) for size in other.sizes)
    assert len(calls) == before + fresh, "a new input draw must compute every reference afresh"


def test_a_kernel_correct_only_for_the_first_input_draw_is_caught_with_the_cache_warm() -> None:
    calls: list[int] = []
    worker = ArithmeticWorker()
    harness = harness_with(worker, calls)
    assert harness.evaluate(TASK.seed, seed=3, sizes=SIZES).ok
    worker.replay = True
    # On the same seed the replayed first run is right (the same base inputs), but every later run has
    # inputs of this request's own: the answers kept from the first request are wrong there.
    same = harness.evaluate(TASK.seed, seed=3, sizes=SIZES)
    assert same.status == "incorrect", same.feedback()
    assert "y (run 0)" not in same.feedback() and "y (run " in same.feedback(), same.feedback()
    # On a new draw only the inputs changed; a cache that answered by size (or by seed) would pass it.
    replayed = harness.evaluate(TASK.seed, seed=4, sizes=SIZES)
    assert replayed.status == "incorrect"
    assert all(not size.correct for size in replayed.sizes)
    assert "y (run 0)" in replayed.feedback()


def test_one_changed_bit_in_any_input_misses_the_cache() -> None:
    calls: list[int] = []
    cache = ReferenceCache(slow_reference(calls))
    size = Size("small", (4096,))
    inputs = TASK.inputs(size, np.random.default_rng(0))
    expected = cache.outputs(size, inputs)
    assert cache.outputs(size, {name: value.copy() for name, value in inputs.items()}) is expected
    for name in inputs:
        changed = {key: value.copy() for key, value in inputs.items()}
        changed[name].view(np.uint32)[17] ^= 1
        outputs = cache.outputs(size, changed)
        assert outputs is not expected
        np.testing.assert_array_equal(outputs["y"], TASK.reference(size, changed)["y"])
    assert len(calls) == 1 + len(inputs)
    assert not expected["y"].flags.writeable, "a cached reference must not be changeable by a check"


def test_a_variant_key_names_the_run_inputs_exactly() -> None:
    """The judge keys a run by its base inputs' digests and its variant; any changed bit is another key."""
    size = Size("small", (4096,))
    rng = np.random.default_rng(0)
    base = TASK.inputs(size, rng)
    variants = draw_variants(base, lambda: TASK.inputs(size, rng), 4, rng)
    key = variant_key(size, BaseDigests(base), variants, 2)
    assert variant_key(size, BaseDigests({k: v.copy() for k, v in base.items()}), dict(variants), 2) == key
    assert variant_key(size, BaseDigests(base), variants, 3) != key
    assert variant_key(Size("other", (4096, 1)), BaseDigests(base), variants, 2) != key
    for name in base:
        changed = {k: v.copy() for k, v in base.items()}
        changed[name].view(np.uint32)[17] ^= 1
        assert variant_key(size, BaseDigests(changed), variants, 2) != key
        for part in ("index", "value"):
            altered = dict(variants)
            array = altered[f"variant2:{name}:{part}"].copy()
            array.view(np.uint32)[0] ^= 1
            altered[f"variant2:{name}:{part}"] = array
            assert variant_key(size, BaseDigests(base), altered, 2) != key, (name, part)


def test_the_cache_keyed_by_variants_answers_like_the_reference_for_every_run() -> None:
    calls: list[int] = []
    cache = ReferenceCache(slow_reference(calls))
    size = Size("small", (4096,))
    rng = np.random.default_rng(1)
    base = TASK.inputs(size, rng)
    variants = draw_variants(base, lambda: TASK.inputs(size, rng), 4, rng)
    digests = BaseDigests(base)
    for _ in range(2):
        for run in range(4):
            inputs = inputs_of(base, variants, run)
            outputs = cache.outputs(size, inputs, partial(variant_key, size, digests, variants, run))
            np.testing.assert_array_equal(outputs["y"], TASK.reference(size, inputs)["y"])
    assert len(calls) == 4, "each run's reference is computed once and found again by its key"


def test_phases_account_for_where_the_seconds_went() -> None:
    harness = harness_with(ArithmeticWorker(), [])
    evaluation = harness.evaluate(TASK.seed, seed=5, sizes=SIZES)
    assert evaluation.ok
    for phase in ("parse", "host_program", "inputs", "variants", "ipc", "judge_digests", "reference", "output_checks"):
        assert phase in evaluation.phases, phase
    # Each size's checked runs' references (3 ms each) run side by side, one per core at most.
    cores = len(os.sched_getaffinity(0))
    least = sum(-(-len(size.checked_runs) // cores) for size in evaluation.sizes)
    assert evaluation.phases["reference"] >= 0.003 * least
    assert sum(evaluation.phases.values()) <= evaluation.wall_seconds + 1e-6


@pytest.mark.parametrize("count", [1, 2, 5, 64, 1000, 1 << 20])
def test_changed_elements_keep_their_distribution(count: int) -> None:
    """The geometric-gap draw picks each element with the same probability as one coin per element."""
    rng = np.random.default_rng(count)
    draws = [_changed(count, rng) for _ in range(4000 if count < 5000 else 8)]
    probability = min(0.5, max(1 / 64, 4.0 / count))
    picked = np.concatenate(draws)
    assert all(np.all(np.diff(d.astype(np.int64)) > 0) for d in draws)
    assert picked.size == 0 or (picked.min() >= 0 and picked.max() < count)
    mean = picked.size / (len(draws) * count)
    spread = np.sqrt(probability * (1 - probability) / (len(draws) * count))
    assert abs(mean - probability) < 5 * spread
    if count >= 64:
        # No part of the buffer is favoured: the first and second half are picked alike.
        halves = np.bincount((picked >= count // 2).astype(np.int64), minlength=2)
        assert abs(int(halves[0]) - int(halves[1])) < 5 * np.sqrt(picked.size) + 2


def test_chunked_allclose_agrees_with_the_whole_array_comparison() -> None:
    rng = np.random.default_rng(1)
    for case in range(12):
        count = int(rng.integers(70_000, 300_000))
        expected = rng.standard_normal(count) * 10.0 ** int(rng.integers(-3, 3))
        got = (expected + rng.standard_normal(count) * 1e-6).astype(np.float32)
        if case % 4 == 1:
            got[int(rng.integers(count))] = np.nan
        if case % 4 == 2:
            got[int(rng.integers(count))] += 1.0
        if case % 4 == 3:
            expected[int(rng.integers(count))] = np.inf
        chunked, whole = allclose_check(got, expected, 1e-5), _allclose_whole(got, expected, 1e-5)
        assert (chunked.ok, chunked.detail) == (whole.ok, whole.detail)
        assert np.array_equal([chunked.error, chunked.tolerance], [whole.error, whole.tolerance], equal_nan=True)
    ties = np.zeros(200_000, np.float32)
    ties[[5, 150_000]] = 1.0
    assert allclose_check(ties, np.zeros(200_000), 1e-5) == _allclose_whole(ties, np.zeros(200_000), 1e-5)


@pytest.mark.parametrize("length", [1, 7, 8, 4096, (1 << 19) + 3, 3 << 19])
def test_differing_bytes_finds_the_first_change_and_counts_them_all(length: int) -> None:
    """The worker's read-only check: word-wise by chunks where it can, byte-wise elsewhere, never a miss."""
    rng = np.random.default_rng(length)
    wanted = rng.integers(0, 256, length, dtype=np.uint8)
    assert differing_bytes(wanted.copy(), wanted) == (0, 0)
    for changes in (1, 2, 5):
        seen = wanted.copy()
        # Include the last byte and, for long buffers, both sides of the first chunk boundary.
        places = {length - 1, *rng.integers(0, length, changes - 1).tolist()}
        if length > (1 << 19):
            places |= {(1 << 19) - 1, 1 << 19}
        positions = np.array(sorted(places))
        seen[positions] ^= np.uint8(0x80)
        assert differing_bytes(seen, wanted) == (int(positions[0]), positions.size)
        assert differing_bytes(seen, wanted, chunk=64) == (int(positions[0]), positions.size)


def test_warm_up_runs_are_checked_like_any_other() -> None:
    """Untimed is not unchecked: a kernel wrong only at its second launch (the warm-up) passed the correctness
    gate while the checked runs were the first, the drawn timed ones and the last."""
    for warmup in (1, 2, 3):
        first_timed = 1 + warmup
        checked = checked_runs(first_timed, 5, [0.0, 0.5])
        assert set(range(first_timed)) <= set(checked), (warmup, checked)
        assert first_timed + 4 in checked


class _TimedSaxpy(type(TASK)):  # type: ignore[misc]
    """saxpy whose reference notes the thread it ran on and takes a while (so overlap shows in the clock)."""

    concurrent_references = True
    threads: ClassVar[list[int]] = []
    spans: ClassVar[list[tuple[float, float]]] = []

    def reference(self, size: Size, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        type(self).threads.append(threading.get_ident())
        started = time.monotonic()
        time.sleep(0.05)
        type(self).spans.append((started, time.monotonic()))
        return dict(TASK.reference(size, inputs))


def _answers(
    task: Any, checked: list[int], cache: bool, seed: int = 7
) -> tuple[dict[int, Any], set[int], Callable[[int], np.ndarray]]:
    """`fresh_answers` for saxpy inputs drawn from `seed`: the answers, the runs drawn again, and the reference of
    a run's final inputs (what its answer must be)."""
    size = Size("small", (4096,))
    rng = np.random.default_rng(seed)
    base = TASK.inputs(size, rng)
    variants = draw_variants(base, lambda: TASK.inputs(size, rng), 6, rng)
    answers: dict[int, Any] = {}
    redrawn = fresh_answers(
        task,
        size,
        base,
        variants,
        checked,
        lambda: TASK.inputs(size, rng),
        ReferenceCache(task.reference) if cache else None,
        answers=answers,
    )
    return answers, redrawn, lambda run: TASK.reference(size, inputs_of(base, variants, run))["y"]


@pytest.mark.parametrize("cache", [True, False])
def test_checked_runs_references_are_computed_side_by_side_where_the_task_allows(cache: bool) -> None:
    """A size's checked runs' references run at once on a machine of several cores (after the worker has answered,
    so beside no timed launch), with the answers of one at a time; a task that does not allow it stays on one thread."""
    task = _TimedSaxpy()
    _TimedSaxpy.threads, _TimedSaxpy.spans = [], []
    answers, redrawn, expected = _answers(task, [0, 2, 5], cache)
    assert sorted(answers) == [0, 2, 5] and not redrawn
    for run in answers:
        np.testing.assert_array_equal(answers[run]["y"], expected(run))
    assert len(_TimedSaxpy.threads) == 3
    if len(os.sched_getaffinity(0)) >= 2:
        assert threading.get_ident() not in _TimedSaxpy.threads
        spans = sorted(_TimedSaxpy.spans)
        assert any(later[0] < earlier[1] for earlier, later in itertools.pairwise(spans)), (
            "the three references ran one after another"
        )
    _TimedSaxpy.concurrent_references = False
    try:
        _TimedSaxpy.threads = []
        again, _, _ = _answers(task, [0, 2, 5], cache)
        assert set(_TimedSaxpy.threads) == {threading.get_ident()}
        for run in answers:
            np.testing.assert_array_equal(again[run]["y"], answers[run]["y"])
    finally:
        _TimedSaxpy.concurrent_references = True


def test_a_run_whose_answer_computed_ahead_repeats_run_0_is_drawn_again_and_computed_anew() -> None:
    """An answer computed ahead that equals run 0's (a remembered answer would pass there) is not used: the run's
    inputs are drawn again and its reference computed for them."""
    task = _TimedSaxpy()
    lock = threading.Lock()
    calls = 0

    def repeating(size: Size, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The first three answers (run 0's and the two computed ahead) are one constant, as a kernel's
        remembered answer is; later ones are the reference's."""
        nonlocal calls
        with lock:
            calls += 1
            mine = calls
        return {"y": np.full(4096, 2.0, np.float32)} if mine <= 3 else dict(TASK.reference(size, inputs))

    task.reference = repeating  # type: ignore[method-assign]
    answers, redrawn, expected = _answers(task, [0, 2, 5], cache=False, seed=11)
    assert redrawn == {2, 5}
    for run in (2, 5):
        np.testing.assert_array_equal(answers[run]["y"], expected(run))
        assert not np.array_equal(answers[run]["y"], answers[0]["y"])


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int8, np.uint32])
def test_chunked_byte_comparison_agrees_with_comparing_the_bytes_whole(dtype: Any) -> None:
    rng = np.random.default_rng(3)
    for count in (0, 1, 7, (1 << 20) // np.dtype(dtype).itemsize, 3_000_001):
        one = rng.integers(0, 100, count).astype(dtype)
        assert _same_bytes(one, one.copy())
        if count == 0:
            continue
        for place in {0, count // 2, count - 1, min(count - 1, (1 << 20) // np.dtype(dtype).itemsize)}:
            other = one.copy()
            other.view(np.uint8)[place * np.dtype(dtype).itemsize] ^= 1
            assert _same_bytes(one, other) == (one.tobytes() == other.tobytes()) is False
    assert not _same_bytes(np.zeros(4), -np.zeros(4)), "bytes, not values: -0.0 is another answer"
    assert _same_bytes(np.full(3, np.nan), np.full(3, np.nan))
    assert not _same_bytes(np.zeros(4, np.float32), np.zeros(4, np.float64))
    strided = np.arange(10.0)[::2]
    assert _same_bytes(strided, strided.copy())


def test_a_forked_process_computes_references_side_by_side_with_threads_of_its_own() -> None:
    """The pool's threads do not survive a fork: a child that used the parent's pool would wait forever."""
    task = _TimedSaxpy()
    _answers(task, [0, 2, 5], cache=False)  # the parent's pool exists now
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: answers within the alarm, or dies of it; never returns into the test runner
        try:
            os.close(read)
            signal.alarm(20)
            answers, _, expected = _answers(task, [0, 2, 5], cache=False)
            same = all(np.array_equal(answers[run]["y"], expected(run)) for run in answers)
            os.write(write, b"ok" if same and len(answers) == 3 else b"wrong")
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as reply:
        said = reply.read()
    _, status = os.waitpid(pid, 0)
    assert said == b"ok", (said, status)
