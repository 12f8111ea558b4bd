"""Side-by-side measurement of a candidate and its task's seed, by the gate's own harness.

Gates never reuse a number the search reported: they read the candidate's source from the
recorded artifact, draw a fresh seed (recorded in the verdict) for inputs and, held out, for the
sizes themselves, and time the candidate and the trusted seed in interleaved rounds (size by size:
candidate, seed, then seed, candidate, ...) in one worker so that machine noise and drift hit both
alike. When a speed decision is asked for, the seed also runs right beside every timed candidate
run, on the same inputs and alternating who goes first, and a round's ratio per size is the median
over those adjacent pairs; otherwise ratios compare each one's fastest timed run.

A speed decision is made with its uncertainty: each round gives one log speed ratio (geometric
mean over sizes of seed time / candidate time); rounds continue until the 95% confidence interval
of the mean ratio (corrected for looking after every round: `_t_quantile`) lies wholly above the
threshold ("faster"), wholly below it ("slower"), or the round or time budget is spent ("inconclusive",
which a gate does not accept).

Held out, the candidate is also checked once, untimed, at sizes of other kinds (`_check_residue_sizes`):
2, 4, 8 or 16 times an odd prime, a composite odd part, plain random integers. The drawn sizes are
primes and the search's multiples of large powers of two, so without them a kernel wrong at every
size of the form 4k + 2, or wherever the odd part has a small factor, passed every judging run.
Every judging run, held out or not, also checks the timed sizes' own shapes once under each other input
distribution and scale the task declares (`_check_other_inputs`): checked only at sizes of other kinds,
a kernel wrong on unusual inputs wherever every side was prime passed both gates.
"""

from __future__ import annotations

import functools
import math
import secrets
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from sandboxes import LocalSandbox, Sandbox
from tools import SandboxFactory
from tools.kernels import Evaluation, Harness, KernelTask, Size, Worker, open_harness

MIN_ROUNDS = 3
MAX_ROUNDS = 16
REPEATS = 7
"""Timed runs per size and round (slow kernels get fewer, see the worker's timing budget)."""
BUDGET_SECONDS = 600.0
"""Wall-clock budget of one speed decision; rounds stop when it is spent (the decision is then inconclusive)."""


@functools.lru_cache(maxsize=256)
def _t_quantile(degrees: int, looks: int) -> float:
    """The Student t quantile that makes an interval cover with 95% confidence at every one of `looks` looks.

    Rounds are looked at after each one and stop at the first decision, so a plain 95% interval at each look
    errs far more often than 5%: simulated at a true speed ratio equal to the threshold (log ratios with a
    0.05 spread, looks at rounds 3-16) it said "faster" 10.6% of the time, not 2.5%. Each look's interval is
    therefore drawn at 1 - 0.05 / looks (Bonferroni: valid whatever the stopping rule)."""
    from scipy.stats import t  # the gate's decision only: a search never imports it

    return float(t.ppf(1 - 0.025 / max(1, looks), degrees))


RESIDUE_STREAM = 0x2E7E
"""Mixed into the input seed for the inputs of the correctness-only held-out sizes."""
ALONE_STREAM = 0x41_0E
"""Mixed into the input seed for the inputs of the correctness check in a worker of its own (`clean_harness`)."""
OTHER_INPUTS_STREAM = 0x07_4E
"""Mixed into the input seed for the inputs of the timed shapes' checks under other distributions and scales."""

SpeedVerdict = Literal["faster", "slower", "inconclusive"]


@dataclass
class SpeedDecision:
    """The speed ratio's estimate and 95% interval against a threshold, from `rounds` paired rounds."""

    ratio: float
    low: float
    high: float
    rounds: int
    threshold: float
    verdict: SpeedVerdict

    @classmethod
    def of_the_seed_itself(cls, threshold: float) -> SpeedDecision:
        """The decision for a candidate whose source is the seed's, byte for byte: 1x by definition.

        Timing the seed against itself only measures the machine's noise; on a busy machine that noise
        alone can leave the interval straddling a threshold below 1 and turn a sound kernel away.
        """
        return cls(1.0, 1.0, 1.0, 0, threshold, "faster" if threshold <= 1.0 else "slower")

    def describe(self) -> str:
        if self.rounds == 0:
            return f"the seed itself, 1x by definition (threshold {self.threshold:g}x)"
        return (
            f"{self.ratio:.3f}x the seed (95% CI {self.low:.3f}-{self.high:.3f} over every look, {self.rounds} "
            f"interleaved rounds, threshold {self.threshold:g}x)"
        )


def interval(log_ratios: Sequence[float], looks: int = 1) -> tuple[float, float, float]:
    """Mean log ratio and its 95% confidence interval, corrected for `looks` looks (infinitely wide with fewer
    than two rounds)."""
    mean = statistics.fmean(log_ratios)
    if len(log_ratios) < 2:
        return mean, -math.inf, math.inf
    spread = statistics.stdev(log_ratios) / math.sqrt(len(log_ratios))
    quantile = _t_quantile(len(log_ratios) - 1, looks)
    return mean, mean - quantile * spread, mean + quantile * spread


def looks_of(max_rounds: int) -> int:
    """How many times rounds are looked at for a decision: after each from MIN_ROUNDS to `max_rounds`."""
    return max(1, max_rounds - MIN_ROUNDS + 1)


def decide(
    log_ratios: Sequence[float], threshold: float, *, final: bool, looks: int = looks_of(MAX_ROUNDS)
) -> SpeedDecision | None:
    """The decision once the interval clears the threshold, or (when `final`) an inconclusive one."""
    if not log_ratios:
        return None
    mean, low, high = interval(log_ratios, looks)
    cut = math.log(threshold)
    verdict: SpeedVerdict = "inconclusive"
    if len(log_ratios) >= MIN_ROUNDS and low >= cut:
        verdict = "faster"
    elif len(log_ratios) >= MIN_ROUNDS and high < cut:
        verdict = "slower"
    elif not final:
        return None
    return SpeedDecision(math.exp(mean), math.exp(low), math.exp(high), len(log_ratios), threshold, verdict)


def round_ratio(candidate: Evaluation, seed: Evaluation) -> float | None:
    """Mean over sizes of log(seed time / candidate time); None when a time is missing. Sizes where a scalar was
    pinned (`Size.pinned`) are checked but not counted, unless every size was.

    Per size, the paired ratio (the seed ran beside each timed candidate run) when there is one,
    else the ratio of the two evaluations' fastest timed runs.
    """
    counted = [index for index, size in enumerate(candidate.sizes) if not size.pinned]
    if not counted:  # every size pinned (at most half are, so only where a round has one size): count them all
        counted = list(range(len(candidate.sizes)))
    paired = [candidate.sizes[index].paired_log_ratio for index in counted]
    if paired and all(value is not None for value in paired):
        return statistics.fmean(value for value in paired if value is not None)
    if len(seed.sizes) != len(candidate.sizes):
        return None
    pairs = [(candidate.sizes[index].best_seconds, seed.sizes[index].best_seconds) for index in counted]
    if not pairs or any(c <= 0 or s <= 0 for c, s in pairs):
        return None
    return statistics.fmean(math.log(s / c) for c, s in pairs)


@dataclass
class SideBySide:
    candidate: Evaluation
    seed: Evaluation
    input_seed: int
    log_ratios: list[float] = field(default_factory=list)
    speed: SpeedDecision | None = None

    def speedup(self) -> float:
        """Geometric mean over rounds and sizes of seed time / candidate time (0 when either failed)."""
        if not (self.candidate.ok and self.seed.ok) or not self.log_ratios:
            return 0.0
        return math.exp(statistics.fmean(self.log_ratios))


def default_factory(workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
    return LocalSandbox(workdir=workdir, ro_paths=tuple(ro_paths))


def measure(
    task: KernelTask,
    source: str,
    which: Literal["train", "heldout"],
    sandbox_factory: SandboxFactory | None,
    *,
    rounds: int = 2,
    timeout: float = 60.0,
    backend: str = "opencl",
    min_speedup: float | None = None,
    max_rounds: int = MAX_ROUNDS,
    budget_seconds: float = BUDGET_SECONDS,
    input_seed: int | None = None,
) -> SideBySide:
    """Candidate and seed in interleaved rounds on the same sizes, fresh inputs per round.

    Without `min_speedup`, `rounds` rounds are run (correctness and a speed estimate). With it, rounds
    continue from MIN_ROUNDS until the speed decision is reached or `max_rounds`/`budget_seconds` is spent.
    """
    input_seed = secrets.randbits(31) if input_seed is None else input_seed
    if min_speedup is not None and source == task.seed:
        # Correctness still runs at every size; the seed's speed against itself needs no measuring.
        result = measure(
            task, source, which, sandbox_factory, rounds=rounds, timeout=timeout, backend=backend, input_seed=input_seed
        )
        if result.candidate.ok:
            result.speed = SpeedDecision.of_the_seed_itself(min_speedup)
        return result
    factory: SandboxFactory = sandbox_factory or default_factory
    runs: dict[str, list[Evaluation]] = {"candidate": [], "seed": []}
    log_ratios: list[float] = []
    speed: SpeedDecision | None = None
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="labgate-gate-") as scratch,
        open_harness(
            task, Path(scratch) / "worker", factory, backend=backend, timeout=timeout, heldout=which == "heldout"
        ) as harness,
    ):
        sizes = harness.sizes_for(which, input_seed)
        limit = max_rounds if min_speedup is not None else rounds
        for round_index in range(limit):
            # Size by size, candidate and seed back to back (order alternating): a pair shares the machine's mood.
            order = (("candidate", source), ("seed", task.seed))
            parts: dict[str, list[Evaluation]] = {"candidate": [], "seed": []}
            paired = min_speedup is not None
            for position, size in enumerate(sizes):
                for name, text in order if (round_index + position) % 2 == 0 else reversed(order):
                    if name == "seed" and paired and round_index > 0:
                        continue  # the seed runs beside every timed candidate run; its own check ran in round 0
                    inputs = input_seed + round_index * len(sizes) + position
                    rival = task.seed if name == "candidate" and paired else None
                    parts[name].append(
                        harness.evaluate(
                            text,
                            which,
                            seed=inputs,
                            sizes=[size],
                            repeats=REPEATS,
                            rival=rival,
                            trusted_code=name == "seed",
                        )
                    )
                if not parts["candidate"][-1].ok:
                    break
            for name, history in runs.items():
                if parts[name]:
                    history.append(_merge(parts[name]))
            if not (runs["candidate"][-1].ok and runs["seed"][-1].ok):
                break
            ratio = round_ratio(runs["candidate"][-1], runs["seed"][-1])
            if ratio is not None:
                log_ratios.append(ratio)
            if min_speedup is None:
                continue
            final = round_index + 1 >= limit or time.monotonic() - started > budget_seconds
            speed = decide(log_ratios, min_speedup, final=final, looks=looks_of(limit))
            if speed is not None:
                break
        if runs["candidate"] and runs["candidate"][-1].ok:
            with clean_harness(task, Path(scratch) / "clean", factory, backend=backend, timeout=timeout) as clean:
                _check_alone(clean, source, which, sizes, input_seed, runs["candidate"])
                if runs["candidate"][-1].ok:
                    _check_other_inputs(clean, source, which, sizes, input_seed, runs["candidate"])
                if which == "heldout" and runs["candidate"][-1].ok:
                    _check_residue_sizes(clean, source, input_seed, runs["candidate"])
    return SideBySide(
        candidate=_pick(runs["candidate"]),
        seed=_pick(runs["seed"]),
        input_seed=input_seed,
        log_ratios=log_ratios,
        speed=speed,
    )


@contextmanager
def clean_harness(
    task: KernelTask, workdir: Path, factory: SandboxFactory, *, backend: str, timeout: float
) -> Iterator[Harness]:
    """A harness on a worker of its own that compiles nothing but the candidate (no ceilings, no seed).

    On PoCL's CPU device a kernel reads and writes its whole worker process: in the worker the seed runs
    in (as the rival beside every timed run, and in its own rounds), a candidate wrong away from the usual
    draws swapped the seed's compiled kernel into the worker's cache under its own key during its first
    run, and from then on every launch of "the candidate" ran the seed, through every held-out size and
    distribution. Correctness is therefore also judged where no trusted code was ever built.
    """
    worker = Worker(factory, workdir, backend, runs_candidates=True)
    try:
        with task.reference_sandbox(workdir.with_name(f"{workdir.name}-reference"), factory, backend):
            yield Harness(task, worker, None, timeout=timeout)
    finally:
        worker.kill()


def _check_alone(
    clean: Harness,
    source: str,
    which: Literal["train", "heldout"],
    sizes: Sequence[Size],
    input_seed: int,
    history: list[Evaluation],
) -> None:
    """Correctness, once, at the drawn sizes, on fresh inputs, in a worker no trusted kernel ran in
    (`clean_harness`); a failure joins `history`."""
    _check_once(clean, source, which, list(sizes), input_seed ^ ALONE_STREAM, 1, history)


def _check_other_inputs(
    clean: Harness,
    source: str,
    which: Literal["train", "heldout"],
    sizes: Sequence[Size],
    input_seed: int,
    history: list[Evaluation],
) -> None:
    """Correctness, once, at the timed sizes' own shapes under every other input distribution and scale the
    task declares (`Harness.other_input_sizes`); a failure joins `history`."""
    _check_once(
        clean,
        source,
        which,
        list(clean.other_input_sizes(sizes, input_seed)),
        input_seed ^ OTHER_INPUTS_STREAM,
        1,
        history,
    )


def _check_once(
    harness: Harness,
    source: str,
    which: Literal["train", "heldout"],
    sizes: list[Size],
    seed: int,
    repeats: int,
    history: list[Evaluation],
) -> None:
    """One correctness check at `sizes` (none: nothing to do); a failure joins `history`, after the sizes of the
    run it follows, so the verdict shows both."""
    if not sizes:
        return
    check = harness.evaluate(source, which, seed=seed, sizes=sizes, repeats=repeats)
    if not check.ok:
        history.append(check.model_copy(update={"sizes": [*_pick(history).sizes, *check.sizes]}))


def _check_residue_sizes(harness: Harness, source: str, input_seed: int, history: list[Evaluation]) -> None:
    """Correctness, once, at the held-out sizes of other kinds (`Harness.residue_sizes`); a failure joins `history`.

    Not timed: speed is judged at the drawn sizes.
    """
    _check_once(
        harness, source, "heldout", list(harness.residue_sizes(input_seed)), input_seed ^ RESIDUE_STREAM, 3, history
    )


def _merge(parts: list[Evaluation]) -> Evaluation:
    """One round's per-size evaluations as one: the first failure, or every size with the joint fitness."""
    failed = next((part for part in parts if not part.ok), None)
    if failed is not None:
        sizes = [size for part in parts[: parts.index(failed) + 1] for size in part.sizes]
        return failed.model_copy(update={"sizes": sizes})
    fitness = math.exp(statistics.fmean(math.log(max(part.fitness, 1e-300)) for part in parts))
    return parts[0].model_copy(
        update={
            "sizes": [size for part in parts for size in part.sizes],
            "fitness": fitness if all(part.fitness > 0 for part in parts) else 0.0,
            "wall_seconds": sum(part.wall_seconds for part in parts),
            "compile_seconds": sum(part.compile_seconds for part in parts),
        }
    )


def _pick(evaluations: list[Evaluation]) -> Evaluation:
    """The first failure if any round failed, else the round of median fitness."""
    failures = [e for e in evaluations if not e.ok]
    if failures:
        return failures[0]
    ordered = sorted(evaluations, key=lambda e: e.fitness)
    return ordered[len(ordered) // 2]
