"""The harness: one candidate, every size of a task, judged against the trusted reference.

Per size it draws fresh inputs from a recorded seed (and a variant of them for every run, see
`_variants`), runs the fixed host program in the worker many times, and judges what the worker
observed (`_judge`): guards on both sides of every buffer, untouched read-only inputs, no output
left unwritten, and the reference at the first, a random timed and the last run. Times are the
device's, held within the host's own bracket of each launch (`_host_clock`: the worker's process is
the candidate's to rewrite); a time below the physical bound is a rejection (`_physics`), and no
size reports a speed better than its checked timed runs show (`verified_timing`: a kernel that
counts its launches cannot score the runs on which it skipped the work). The rival and the yardstick
run in a trusted worker of their own (`Harness.trusted`). Held-out sizes are drawn per evaluation
from the seed (`KernelTask.draw_heldout`). Fitness is the geometric mean over sizes
of roofline time over the median measured time (1.0 = at this device's ceiling); any failing size gives 0.

Evaluations that share an inputs seed draw the same base inputs, and the harness keeps the reference
outputs it computed by the exact bytes of the inputs (`ReferenceCache`), so re-measuring several
finalists on one seed computes each first run's reference once; the later runs' variants are drawn
per request (`_request_variants`), so no worker is ever sent the same variant twice. Every
evaluation records where its seconds went (`Evaluation.phases`, see `bench/harness_cost.py`).
"""

from __future__ import annotations

import hashlib
import math
import secrets
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from tools._workload import TaskError
from tools.kernels._client import Worker, WorkerCrashedError, WorkerTimeoutError
from tools.kernels._host_clock import RivalError
from tools.kernels._host_link import split_runs
from tools.kernels._judge import BaseDigests, Judgement, Phases, ReferenceCache, fresh_answers, judge_trial
from tools.kernels._physics import impossible
from tools.kernels._task import BufferSpec, CandidateError, HostProgram, KernelTask, Size, Work
from tools.kernels._trial import LATER_POISONS, checked_runs
from tools.kernels._variants import draw_variants

GUARD_MIN, GUARD_MAX = 64 << 10, 4 << 20
"""Guard bytes on each side of every buffer: a sixteenth of the largest buffer within these bounds."""
SAMPLES = 1024
"""Output elements sampled after every run to see that the run wrote them."""
SKIP_FACTOR = 4.0
"""Checked timed runs this many times slower than every unchecked one: work skipped on the unchecked."""
HELDOUT_STREAM = 0x4E1D
SCALAR_STREAM = 0x5CA1
"""Mixed into the seed for the scalar arguments drawn per size (`KernelTask.draw_scalars`)."""
VARIANT_STREAM = 0x7A41
"""Mixed with the seed and the request count for each request's input variants (`Harness._request_variants`)."""
POISON_STREAM = 0x9015
"""Mixed into the seed for the poison byte of each size's later runs (`LATER_POISONS`): inputs stay as they were."""
Status = Literal["ok", "incorrect", "compile_error", "invalid", "timeout", "crash", "launch_error"]


class SizeResult(BaseModel):
    label: str
    dims: list[int]
    scalars: dict[str, float] = Field(default_factory=dict)
    """The scalar arguments this size ran with (drawn from the evaluation's seed), by name."""
    input_scale: float = 1.0
    """What the task's scale-free inputs were multiplied by (`Size.input_scale`)."""
    distribution: str = ""
    """Which of the task's other input distributions drew the inputs (`Size.distribution`; "": the usual one)."""
    pinned: bool = False
    """A scalar had a pinned value here (`Size.pinned`): its time does not count toward a speed decision."""
    correct: bool
    error: float = 0.0
    tolerance: float = 0.0
    detail: str = ""
    seconds: float = 0.0
    gbps: float = 0.0
    gflops: float = 0.0
    fraction: float = 0.0
    """Of the roofline at the ceiling measured beside the timed runs (`ceiling_beside`), else at the cached one."""
    cached_fraction: float = 0.0
    """Of the roofline at the cached ceiling: the probe's fastest run, measured once per device and working set."""
    ceiling_gbps: float = 0.0
    """The bandwidth ceiling `fraction` was computed against (GB/s): the yardstick's median, or the cached one."""
    bound: str = ""
    best_seconds: float = 0.0
    """The fastest checked timed run: what speed comparisons use, since interference only ever adds time.

    Checked, because a run whose outputs nobody compared may not have done the work (`verified_timing`).
    """
    paired_log_ratio: float | None = None
    """Median over timed runs of log(rival time / this run's time), each rival run right beside its pair."""
    runs: int = 0
    checked_runs: list[int] = Field(default_factory=list)

    def line(self) -> str:
        shape = "x".join(str(d) for d in self.dims)
        drawn = "".join(f"; {name}={value:.6g}" for name, value in self.scalars.items())
        if self.input_scale != 1.0:
            drawn += f"; inputs x{self.input_scale:.0e}"
        if self.distribution:
            drawn += f"; {self.distribution} inputs"
        head = f"{self.label} ({shape}{drawn}): "
        verdict = "correct" if self.correct else "INCORRECT"
        text = f"{head}{verdict} (max_abs {self.error:.3g}, tol {self.tolerance:.3g})"
        if self.detail:
            text += f" {self.detail}"
        if self.seconds > 0:
            text += (
                f"; {self.seconds * 1e3:.3f} ms, {self.gbps:.1f} GB/s, {self.gflops:.1f} GFLOP/s, "
                f"{100 * self.fraction:.1f}% of the {self.bound} ceiling"
            )
            if self.bound == "bandwidth" and self.ceiling_gbps > 0:
                text += f" ({self.ceiling_gbps:.1f} GB/s)"
            if self.fraction > 1.0:
                # A fitness above 1 reads as beating the hardware; said where it is shown, not only in a log.
                text += (
                    " [above the measured ceiling: the task's declared work overstates what the kernel moves or"
                    " computes, or the ceiling was measured low under load]"
                )
        return text


class Evaluation(BaseModel):
    """Everything one evaluation measured; what proposers see (through `feedback`) and searches log."""

    task: str
    source_sha256: str
    params: dict[str, int] = Field(default_factory=dict)
    which: Literal["train", "heldout"] = "train"
    status: Status
    message: str = ""
    fitness: float = 0.0
    sizes: list[SizeResult] = Field(default_factory=list)
    seed: int = 0
    wall_seconds: float = 0.0
    compile_seconds: float = 0.0
    phases: dict[str, float] = Field(default_factory=dict)
    """Seconds per phase (host and worker), summed over sizes: where `wall_seconds` went."""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def seconds_by_size(self) -> dict[str, float]:
        return {size.label: size.seconds for size in self.sizes}

    def feedback(self) -> str:
        """Structured diagnostics for a proposer: compile log with line numbers, or per-size results."""
        if self.status in ("compile_error", "invalid", "timeout", "crash", "launch_error"):
            return f"{self.status}: {self.message}"
        lines = [f"fitness {self.fitness:.4f} (geometric mean of fraction of ceiling; 0 if any size fails)"]
        lines += [f"  {size.line()}" for size in self.sizes]
        return "\n".join(lines)


def source_digest(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()


def roofline_seconds(work: Work, bandwidth_gbps: float, peak_gflops: float) -> tuple[float, str]:
    memory = work.bytes / (bandwidth_gbps * 1e9) if work.bytes > 0 else 0.0
    compute = work.flops / (peak_gflops * 1e9) if work.flops > 0 else 0.0
    return (memory, "bandwidth") if memory >= compute else (compute, "FMA")


class Harness:
    """Evaluates candidates of one task through one worker; ceilings come from the device cache.

    References are kept by the exact bytes of their inputs (`reference_cache`, on by default) for
    as long as the harness lives: one search, or one gate's measurement.
    """

    def __init__(
        self,
        task: KernelTask,
        worker: Worker,
        ceilings: dict[str, Any] | None = None,
        *,
        timeout: float = 60.0,
        warmup: int = 1,
        repeats: int = 5,
        reference_cache: bool = True,
        trusted: Worker | None = None,
    ) -> None:
        """`trusted`: a worker that only ever runs trusted code (the task's seed, the bandwidth yardstick);
        without it no rival can be asked for, and the yardstick runs in the candidate's own worker."""
        self.task = task
        self.worker = worker
        self.trusted = trusted
        self.ceilings = ceilings
        self._yardsticks: dict[tuple[str, tuple[int, ...]], tuple[str, int]] = {}
        self._measured: dict[tuple[str, int], list[float]] = {}
        """Every yardstick median (GB/s) this harness measured, per probe and working set (`ceiling_beside`)."""
        self.timeout = timeout
        self.warmup = warmup
        self.repeats = repeats
        self.references: ReferenceCache | None = ReferenceCache(task.reference) if reference_cache else None
        self._requests = 0
        """Evaluation requests this harness has made: each draws its runs' variants from a stream of its own."""

    def use_reference_cache(self, enabled: bool = True) -> None:
        """Start a new, empty reference cache, or (False) compute every reference afresh."""
        self.references = ReferenceCache(self.task.reference) if enabled else None

    @staticmethod
    def working_set(task: KernelTask, size: Size) -> int:
        """Bytes of every buffer the host program allocates (the triad probe runs at this size)."""
        return sum(spec.nbytes for spec in task.host(size, task.defaults()).buffers)

    def evaluate(
        self,
        source: str,
        which: Literal["train", "heldout"] = "train",
        *,
        seed: int | None = None,
        repeats: int | None = None,
        sizes: Sequence[Size] | None = None,
        rival: str | None = None,
        trusted_code: bool = False,
    ) -> Evaluation:
        """Judge `source` at every size of `which` (or at `sizes`); inputs and held-out sizes come from `seed`.

        With `rival` (a trusted kernel of the same task, such as its seed), the rival runs beside every
        timed run on the same inputs, in the trusted worker, and each size reports the paired speed
        ratio. `trusted_code`: `source` is trusted (the seed), and runs in the trusted worker.
        """
        if rival is not None and self.trusted is None:
            raise ValueError("a rival runs in a trusted worker of its own: this harness has none")
        worker = self.trusted if trusted_code and self.trusted is not None else self.worker
        task = self.task
        seed = secrets.randbits(31) if seed is None else seed
        started = time.perf_counter()
        phases = Phases()
        base = {"task": task.name, "source_sha256": source_digest(source), "which": which, "seed": seed}
        try:
            with phases.time("parse"):
                candidate = task.parse(source)
        except CandidateError as error:
            return Evaluation(**base, status="invalid", message=str(error))
        base["params"] = candidate.params
        base["phases"] = phases
        results: list[SizeResult] = []
        compile_seconds = 0.0
        rng = np.random.default_rng(seed)
        poisons = np.random.default_rng([seed, POISON_STREAM])
        chosen = tuple(sizes) if sizes is not None else self.sizes_for(which, seed)
        for size in chosen:
            with phases.time("host_program"):
                program = task.host(size, candidate.params)
            with phases.time("inputs"):
                inputs = task.draw_inputs(size, rng)
            runs = 1 + self.warmup + (repeats or self.repeats)
            with phases.time("variants"):
                specs = {spec.name: spec for spec in program.buffers}
                samples = {
                    f"sample:{name}": rng.integers(0, specs[name].count, min(SAMPLES, specs[name].count)).astype(
                        np.uint32
                    )
                    for name in program.outputs
                }
            fractions = [float(rng.random())]
            poison = int(LATER_POISONS[int(poisons.integers(len(LATER_POISONS)))])
            request = {
                "op": "evaluate",
                "source": candidate.source,
                "defines": candidate.params,
                "buffers": [
                    {"name": b.name, "dtype": b.dtype, "count": b.count, "role": b.role} for b in program.buffers
                ],
                "launches": [launch.as_json() for launch in program.launches],
                "outputs": list(program.outputs),
                "guard": guard_bytes(program),
                "warmup": self.warmup,
                "repeats": repeats or self.repeats,
                "variants": runs,
                "check": fractions,
                "poison": poison,
            }
            # A correctness-only size's speed is never compared: the yardstick would be a tenth of its cost.
            yardstick = None if size.correctness_only else self._yardstick(size)
            if yardstick and self.trusted is None:
                request["yardstick"] = yardstick
            rival_request: dict[str, Any] | None = None
            if rival is not None:
                rival_candidate = task.parse(rival)
                rival_program = task.host(size, rival_candidate.params)
                if rival_program.buffers == program.buffers:
                    rival_request = {
                        **request,
                        "source": rival_candidate.source,
                        "defines": rival_candidate.params,
                        "launches": [launch.as_json() for launch in rival_program.launches],
                    }
            digests = BaseDigests(inputs)
            answers: dict[int, Mapping[str, np.ndarray]] = {}
            variants: dict[str, np.ndarray] = {}
            redrawn: set[int] = set()
            checked: list[int] = []
            for attempt in range(FRESH_REQUESTS):
                answers.clear()
                with phases.time("variants"):
                    variants, draw = self._request_variants(size, inputs, runs, seed, variants, redrawn, checked)
                try:
                    asked = time.perf_counter()
                    beside = self._trusted_yardstick(yardstick)
                    reply, raw = self._request(worker, request, rival_request, inputs, variants, samples)
                    reply.update(beside)
                    _worker_phases(phases, reply, time.perf_counter() - asked)
                except WorkerTimeoutError:
                    message = (
                        f"no answer within {self.timeout:g} s at size {size.label} ({size.describe()}): "
                        "the worker was killed"
                    )
                    return Evaluation(
                        **base,
                        status="timeout",
                        message=message,
                        sizes=results,
                        wall_seconds=time.perf_counter() - started,
                    )
                except (WorkerCrashedError, RivalError) as error:
                    return Evaluation(
                        **base,
                        status="crash",
                        message=f"at size {size.label}: {error}",
                        sizes=results,
                        wall_seconds=time.perf_counter() - started,
                    )
                if not reply.get("ok"):
                    stage = str(reply.get("stage"))
                    status: Status = "compile_error" if stage == "compile" else "launch_error"
                    return Evaluation(
                        **base,
                        status=status,
                        message=str(reply.get("error", "")),
                        sizes=results,
                        wall_seconds=time.perf_counter() - started,
                    )
                compile_seconds += float(reply.get("compile_seconds", 0.0))
                # A checked run whose answer is run 0's cannot tell a remembered answer from the work:
                # its inputs are drawn again and the size runs again (only where that happened). The
                # checked runs are the worker's (it may time fewer than asked; `_asked_for` holds it to them).
                first_timed, timed = int(reply.get("first_timed", 1)), len(reply.get("times", []))
                checked = [run for run in checked_runs(first_timed, timed, fractions) if 0 < run < runs]
                if attempt == FRESH_REQUESTS - 1:
                    break
                with phases.time("reference"):  # the references the judge then reads from `answers`
                    redrawn = fresh_answers(
                        task, size, inputs, variants, checked, draw, self.references, digests, answers
                    )
                # Timed runs that look like work skipped where no one looked are asked again: a kernel
                # that skips does so every time, while one slow checked run of a microsecond kernel
                # (an interrupt, a preemption) rarely comes twice.
                if not redrawn and not _skipped_work(reply):
                    break
            judgement = judge_trial(
                task,
                size,
                program,
                inputs,
                variants,
                reply,
                raw,
                references=self.references,
                phases=phases,
                fractions=fractions,
                digests=digests,
                answers=answers,
                poison=poison,
            )
            own_seed = trusted_code and task.reference_from_user and source == task.seed
            results.append(self._result(size, program, judgement, reply, own_seed=own_seed))
        fitness = 0.0
        status_final: Status = "ok"
        if all(result.correct for result in results):
            fractions = [max(result.fraction, 1e-12) for result in results]
            fitness = math.exp(sum(math.log(f) for f in fractions) / len(fractions)) if self.ceilings else 0.0
        else:
            status_final = "incorrect"
        return Evaluation(
            **base,
            status=status_final,
            fitness=fitness,
            sizes=results,
            wall_seconds=time.perf_counter() - started,
            compile_seconds=compile_seconds,
        )

    def _trusted_yardstick(self, yardstick: dict[str, Any] | None) -> dict[str, Any]:
        """The yardstick's runs in the trusted worker, just before the candidate's request (none without one)."""
        if not yardstick or self.trusted is None:
            return {}
        asked = {"op": "yardstick", "yardstick": yardstick, "repeats": self.repeats}
        reply, _ = self.trusted.request(asked, {}, self.timeout)
        if not reply.get("ok"):
            raise RivalError(reply, "the bandwidth yardstick, in the trusted worker,")
        return {"yardstick_times": reply["yardstick_times"], "yardstick_bytes": reply["yardstick_bytes"]}

    def _request(
        self,
        worker: Worker,
        request: dict[str, Any],
        rival: dict[str, Any] | None,
        inputs: Mapping[str, np.ndarray],
        variants: Mapping[str, np.ndarray],
        samples: Mapping[str, np.ndarray],
    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """One size's request to `worker`, with the rival (if any) in the trusted worker beside its timed runs."""
        arrays = {**inputs, **variants, **samples}
        if rival is None or self.trusted is None:
            return worker.request(request, arrays, self.timeout)
        session = self.trusted.open_rival(rival, inputs, split_runs(variants)[1], self.timeout)
        try:
            return worker.request(request, arrays, self.timeout, rival=session)
        finally:
            try:
                session.close()  # the trusted worker's every failure reaches here as a RivalError
            except RivalError:
                self.trusted.kill()  # a session left mid-way: the next request starts a fresh trusted worker

    def _request_variants(
        self,
        size: Size,
        inputs: Mapping[str, np.ndarray],
        runs: int,
        seed: int,
        previous: Mapping[str, np.ndarray],
        redrawn: set[int],
        checked: Sequence[int],
    ) -> tuple[dict[str, np.ndarray], Callable[[], Mapping[str, np.ndarray]]]:
        """Every run's input variant for the next request, none of them sent to this worker before; and the
        draw of the task's inputs that `fresh_answers` uses for the runs it draws again after the reply.

        A kernel runs in the worker's address space and can keep anything it reads there until the worker
        ends (not only `__local` memory: any byte of the process). Requests on one seed draw the same base
        inputs (a gate's seed and candidate, the finalists re-measured on one seed, a size asked again), and
        with the same variants a kernel, or an earlier candidate of the same search, could have kept the
        later runs' inputs from an earlier request and computed their answers during the untimed first
        run. So the variants come from a stream of their own per request (the seed and this harness's
        request count), reproducible from both. On a request asked again, the runs `fresh_answers` drew
        whole after the last reply (`redrawn`, never sent) keep those inputs, and the other runs the last
        reply checked get whole draws (an elementwise one would often repeat run 0's answer again).
        """
        self._requests += 1
        rng = np.random.default_rng([seed, VARIANT_STREAM, self._requests])
        task = self.task

        def draw() -> Mapping[str, np.ndarray]:
            return task.draw_inputs(size, rng)

        variants = draw_variants(
            inputs,
            draw,
            runs,
            rng,
            whole=whole_variants(task, size),
            whole_runs=set(checked) - redrawn,
            skip=redrawn,
        )
        for run in redrawn:
            for name in inputs:
                for part in ("index", "value"):
                    key = f"variant{run}:{name}:{part}"
                    variants[key] = np.asarray(previous[key])
        return variants, draw

    def sizes_for(self, which: Literal["train", "heldout"], seed: int) -> tuple[Size, ...]:
        """The sizes one evaluation runs: the declared ones, or held-out ones drawn from `seed`.

        Each carries its own draw of the task's scalar arguments, from `seed` too: scalars are inputs,
        so no run, searched or judged, lets a kernel rely on the value it saw before.
        """
        if which == "train":
            sizes = self.task.sizes
        else:
            sizes = self.task.draw_heldout(np.random.default_rng([seed, HELDOUT_STREAM]))
        return self.task.draw_scalars(sizes, np.random.default_rng([seed, SCALAR_STREAM, int(which == "heldout")]))

    def residue_sizes(self, seed: int) -> tuple[Size, ...]:
        """The held-out sizes of other kinds (`KernelTask.draw_residues`) a judging run also checks, from `seed`,
        each with scalar arguments of its own."""
        sizes = self.task.draw_residues(np.random.default_rng([seed, HELDOUT_STREAM, 2]))
        return self.task.draw_scalars(sizes, np.random.default_rng([seed, SCALAR_STREAM, 2]))

    def other_input_sizes(self, sizes: Sequence[Size], seed: int) -> tuple[Size, ...]:
        """`sizes` again under every other input the task declares (`KernelTask.at_every_other_input`), from
        `seed`, each with scalar arguments of its own."""
        again = self.task.at_every_other_input(sizes, np.random.default_rng([seed, HELDOUT_STREAM, 3]))
        return self.task.draw_scalars(again, np.random.default_rng([seed, SCALAR_STREAM, 3]))

    def _result(
        self, size: Size, program: HostProgram, judgement: Judgement, reply: dict[str, Any], *, own_seed: bool = False
    ) -> SizeResult:
        """`own_seed`: the run is a task file's own seed, which cannot beat the physics floor unless the file
        over-declares its work (then every honest candidate would be refused as a cheat: the file is named)."""
        task = self.task
        times, rival_times = _timed(reply)
        work = task.work(size)
        too_fast = impossible(times, work, self.ceilings)
        if too_fast and own_seed:
            raise TaskError(
                f"{task.name}: the task's own seed ran {too_fast} at {size.describe()}: the declared work "
                "(params.definition.work) is more than the kernel can move or compute in that time"
            )
        if too_fast:
            judgement.fail(too_fast)
        timing = verified_timing(times, rival_times, reply)
        if timing.skipped:
            judgement.fail(timing.skipped)
        result = SizeResult(
            label=size.label,
            dims=list(size.dims),
            scalars=dict(size.scalars),
            input_scale=size.input_scale,
            distribution=size.distribution,
            pinned=bool(size.pinned),
            correct=judgement.correct,
            error=judgement.error,
            tolerance=judgement.tolerance,
            detail="; ".join(judgement.details),
            seconds=timing.seconds,
            best_seconds=timing.best,
            gbps=work.bytes / timing.seconds / 1e9 if timing.seconds > 0 else 0.0,
            gflops=work.flops / timing.seconds / 1e9 if timing.seconds > 0 else 0.0,
            runs=int(reply.get("runs", 0)),
            checked_runs=[int(run) for run in reply.get("checked", [])],
            paired_log_ratio=timing.paired,
        )
        seconds = timing.seconds
        if self.ceilings and seconds > 0:
            peak = float(self.ceilings["fma_gflops"])
            bandwidth = self._cached_bandwidth(size)
            best, bound = roofline_seconds(work, bandwidth, peak)
            result.fraction = result.cached_fraction = best / seconds
            result.bound = bound
            result.ceiling_gbps = bandwidth
            beside = ceiling_beside(reply)
            if beside is not None:
                measured = self._measured.setdefault(self._yardstick_for(size), [])
                measured.append(beside)
                result.ceiling_gbps = statistics.median(measured)
                result.fraction = roofline_seconds(work, result.ceiling_gbps, peak)[0] / seconds
        return result

    def measured_ceilings(self) -> dict[str, dict[str, float]]:
        """{probe: {working set: median GB/s}} of the yardsticks measured so far (`ceiling_beside`)."""
        found: dict[str, dict[str, float]] = {}
        for (kernel, working_set), rates in sorted(self._measured.items()):
            found.setdefault(f"{kernel}_gbps", {})[str(working_set)] = statistics.median(rates)
        return found

    def _yardstick_for(self, size: Size) -> tuple[str, int]:
        """The bandwidth probe ("triad" or "update") a size's fractions are of, and its working set.

        Both come from the task's own host program at its default parameters (as the ceilings were
        probed), never the candidate's: a candidate whose parameters add buffers it never touches
        would otherwise be scored against the slower bandwidth of a larger working set."""
        key = (size.label, tuple(size.dims))
        if key not in self._yardsticks:
            buffers = self.task.host(size, self.task.defaults()).buffers
            probe = _bandwidth_probe(buffers, self.ceilings or {})
            self._yardsticks[key] = ("update" if probe == "update_gbps" else "triad", sum(b.nbytes for b in buffers))
        return self._yardsticks[key]

    def _cached_bandwidth(self, size: Size) -> float:
        """The cached bandwidth ceiling (GB/s) at the size's working set (the nearest one probed)."""
        assert self.ceilings is not None
        kernel, working_set = self._yardstick_for(size)
        table = self.ceilings[f"{kernel}_gbps"]
        return float(table.get(working_set) or _nearest(table, working_set))

    def _yardstick(self, size: Size) -> dict[str, Any] | None:
        """The bandwidth probe to run before this size's timed runs (`Yardstick`), or None where the
        cached ceilings say the size is compute-bound (its fraction is of the FMA peak) or cached no
        probe width."""
        ceilings = self.ceilings
        if not ceilings:
            return None
        kernel, working_set = self._yardstick_for(size)
        widths: dict[int, int] = ceilings.get(f"{kernel}_width") or {}
        if not widths:
            return None
        _, bound = roofline_seconds(self.task.work(size), self._cached_bandwidth(size), float(ceilings["fma_gflops"]))
        if bound != "bandwidth":
            return None
        return {
            "kernel": kernel,
            "width": int(widths.get(working_set) or _nearest(widths, working_set)),
            "bytes": working_set,
        }


def _worker_phases(phases: Phases, reply: dict[str, Any], round_trip: float) -> None:
    """The worker's own phases, and what the round trip cost beyond them (pipes, framing, sandbox)."""
    inside = reply.get("phases")
    spent = 0.0
    if isinstance(inside, dict):
        for name, seconds in inside.items():
            if isinstance(seconds, (int, float)) and math.isfinite(seconds) and seconds >= 0:
                phases.add(f"worker_{name}", float(seconds))
                spent += float(seconds)
    phases.add("ipc", max(0.0, round_trip - spent))


def _timed(reply: dict[str, Any]) -> tuple[list[float], list[float]]:
    """A reply's timed runs and its rival's, in seconds."""
    return [float(t) for t in reply.get("times", [])], [float(t) for t in reply.get("rival_times", [])]


def _skipped_work(reply: dict[str, Any]) -> bool:
    """Whether a reply's timed runs say work was skipped on the unchecked ones (see `verified_timing`)."""
    return bool(verified_timing(*_timed(reply), reply).skipped)


def ceiling_beside(reply: dict[str, Any]) -> float | None:
    """The bandwidth ceiling measured right before the candidate's runs (GB/s): the yardstick's median.

    The yardstick (`Yardstick`) is the bandwidth probe run in the same request, prepared as every
    candidate run is (inputs uploaded, output poisoned), so a fraction compares medians taken under
    the same conditions. The cached ceiling is the probe's fastest back-to-back run at another
    moment; the harness's preparation of each run alone costs a third of it at a working set past
    the private caches (72 MB here: 56 GB/s back to back, 34-38 prepared, on an idle machine), so
    the best heat2d kernels scored 0.36-0.39 of it there and 0.6-0.8 of the yardstick. The harness
    scores against the median of every yardstick it measured at that working set (`Harness._measured`):
    one request's yardstick moved by up to 2x from one request to the next, independently of the
    candidate's own runs. None when the reply has no yardstick runs (a compute-bound size, an older
    worker): the cached ceiling then stands.
    """
    try:
        beside = [float(t) for t in reply.get("yardstick_times", [])]
        moved = float(reply.get("yardstick_bytes", 0))
    except (TypeError, ValueError):
        return None
    if not beside or not (math.isfinite(moved) and moved > 0) or not all(math.isfinite(t) and t > 0 for t in beside):
        return None
    return moved / statistics.median(beside) / 1e9


def _paired(times: list[float], rival_times: list[float]) -> float | None:
    pairs = [math.log(r / t) for t, r in zip(times, rival_times, strict=False) if t > 0 and r > 0]
    return statistics.median(pairs) if pairs and len(rival_times) == len(times) else None


@dataclass(frozen=True)
class Timing:
    """What a size's timed runs say, bounded by the runs whose outputs were checked."""

    seconds: float
    best: float
    paired: float | None
    skipped: str = ""
    """Why the timed runs look like work skipped where no one looked, or "" (a rejection when set)."""


def verified_timing(times: list[float], rival_times: list[float], reply: dict[str, Any]) -> Timing:
    """Median, fastest and paired ratio of the timed runs, never faster than a checked timed run shows.

    A kernel can keep state between launches (PoCL keeps each runtime thread's `__local` memory from
    one launch to the next), count its runs, and do the work only on the runs that are always checked
    (the first, the last) while returning early on the others; a single random check then misses it
    on one evaluation in `timed`, and the median of the unchecked runs would be its score. So the
    speed a size reports is no better than the fastest of its checked timed runs (for an honest
    kernel those are draws from the same distribution: a little noise, the same for every kernel),
    and checked runs that all took SKIP_FACTOR times longer than every unchecked one are a rejection.
    """
    seconds = statistics.median(times) if times else 0.0
    best = min(times) if times else 0.0  # without checked timed runs (an old worker): the plain figures
    paired = _paired(times, rival_times)
    first_timed = int(reply.get("first_timed", 0))
    positions = sorted({int(run) - first_timed for run in reply.get("checked", [])} & set(range(len(times))))
    if not positions:
        return Timing(seconds, best, paired)
    verified = [times[p] for p in positions]
    floor = min(verified)
    skipped = ""
    unverified = [t for p, t in enumerate(times) if p not in positions]
    if len(unverified) >= 2 and floor > 0 and max(unverified) * SKIP_FACTOR < floor:
        skipped = (
            f"work skipped where no one looked: every timed run whose outputs were checked took at least "
            f"{floor * 1e3:.4g} ms, every other at most {max(unverified) * 1e3:.4g} ms "
            f"(over {SKIP_FACTOR:g}x faster)"
        )
    if paired is not None and len(rival_times) == len(times):
        checked_pairs = [math.log(rival_times[p] / times[p]) for p in positions if times[p] > 0 and rival_times[p] > 0]
        if checked_pairs:
            paired = min(paired, max(checked_pairs))
    return Timing(max(seconds, floor), max(best, floor), paired, skipped)


INCREMENTAL_INTENSITY = 16.0
"""Useful FLOPs per compulsory byte above which every run gets a whole new draw of its inputs (`whole_variants`)."""


FRESH_REQUESTS = 3
"""Requests one size may take while checked runs still repeat run 0's answer (see `fresh_answers`)."""


def whole_variants(task: KernelTask, size: Size) -> bool:
    """Whether each run's inputs are a whole new draw rather than the first run's with a few elements changed.

    Elementwise variants change one element in 64, so a kernel that keeps the last run's inputs and
    outputs (PoCL keeps `__local` memory from one launch to the next) can update its answer from the
    changed elements alone: an nbody kernel doing so was correct at every checked run and at the
    held-out sizes, and 2.4x faster than the seed, where the all-pairs work is what the task measures.
    Where compute dominates (a compute-bound task, or more than INCREMENTAL_INTENSITY FLOPs per byte)
    that update is the saving, and a whole draw costs little next to the work; where memory traffic
    dominates, finding the changed elements costs the whole read and the outputs must all be written.
    That holds for a kernel; a worker whose control flow a kernel took over receives the changed indices
    with each variant and can patch a base answer it computed before any run's window (README, kernel
    process defences: open for memory-bound tasks, and whole draws alone would not close it).
    """
    if task.whole_variants or task.regime == "compute":
        return True
    work = task.work(size)
    return work.bytes > 0 and work.flops > INCREMENTAL_INTENSITY * work.bytes


def guard_bytes(program: HostProgram) -> int:
    """Guard size for one host program: wide enough that a store a few KiB or a few rows out lands in it.

    A multiple of 4096 bytes, so every device accepts the buffer that follows it as a sub-buffer.
    """
    largest = max((spec.nbytes for spec in program.buffers), default=0)
    return min(GUARD_MAX, max(GUARD_MIN, -(-largest // 16 // 4096) * 4096))


def _bandwidth_probe(buffers: Sequence[BufferSpec], ceilings: dict[str, Any]) -> str:
    """Which bandwidth ceiling a program's fraction is scored against: "update_gbps" or "triad_gbps".

    A program that writes only buffers it also reads (every written buffer `inout`, as saxpy's y) moves
    its bytes like the in-place update probe, with no write-allocate; scored against the triad it would
    exceed 1. Any separate output or scratch buffer means write-allocate traffic: the triad is the yardstick.
    """
    written = [spec for spec in buffers if spec.role != "in"]
    in_place = bool(written) and all(spec.role == "inout" for spec in written)
    return "update_gbps" if in_place and ceilings.get("update_gbps") else "triad_gbps"


def _nearest(table: Mapping[int, float], nbytes: int) -> float:
    """Bandwidth of the probed working set closest in log-size (params can change the buffers)."""
    if not table:
        raise ValueError("no bandwidth ceiling measured")
    key = min(table, key=lambda k: abs(math.log(k) - math.log(max(nbytes, 1))))
    return table[key]
