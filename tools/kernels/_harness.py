"""The harness: one candidate, every size of a task, judged against the trusted reference.

Per size it draws fresh inputs from a recorded seed, runs the fixed host program in the worker,
checks the outputs (and the guard bytes after every buffer) against the NumPy reference, and
times the median of repeated runs with device events. Fitness is the geometric mean over sizes
of roofline time over measured time (1.0 = at this device's ceiling); any failing size gives 0.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import statistics
import time
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from tools.kernels._client import Worker, WorkerCrashedError, WorkerTimeoutError
from tools.kernels._task import CandidateError, KernelTask, Size, Work
from tools.kernels._worker import CANARY

GUARD_BYTES = 4096
Status = Literal["ok", "incorrect", "compile_error", "invalid", "timeout", "crash", "launch_error"]


class SizeResult(BaseModel):
    label: str
    dims: list[int]
    correct: bool
    error: float = 0.0
    tolerance: float = 0.0
    detail: str = ""
    seconds: float = 0.0
    gbps: float = 0.0
    gflops: float = 0.0
    fraction: float = 0.0
    bound: str = ""

    def line(self) -> str:
        head = f"{self.label} ({'x'.join(str(d) for d in self.dims)}): "
        verdict = "correct" if self.correct else "INCORRECT"
        text = f"{head}{verdict} (max_abs {self.error:.3g}, tol {self.tolerance:.3g})"
        if self.detail:
            text += f" {self.detail}"
        if self.seconds > 0:
            text += (
                f"; {self.seconds * 1e3:.3f} ms, {self.gbps:.1f} GB/s, {self.gflops:.1f} GFLOP/s, "
                f"{100 * self.fraction:.1f}% of the {self.bound} ceiling"
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
    """Evaluates candidates of one task through one worker; ceilings come from the device cache."""

    def __init__(
        self,
        task: KernelTask,
        worker: Worker,
        ceilings: dict[str, Any] | None = None,
        *,
        timeout: float = 60.0,
        warmup: int = 1,
        repeats: int = 5,
    ) -> None:
        self.task = task
        self.worker = worker
        self.ceilings = ceilings
        self.timeout = timeout
        self.warmup = warmup
        self.repeats = repeats

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
    ) -> Evaluation:
        task = self.task
        seed = secrets.randbits(31) if seed is None else seed
        started = time.perf_counter()
        base = {"task": task.name, "source_sha256": source_digest(source), "which": which, "seed": seed}
        try:
            candidate = task.parse(source)
        except CandidateError as error:
            return Evaluation(**base, status="invalid", message=str(error))
        base["params"] = candidate.params
        results: list[SizeResult] = []
        compile_seconds = 0.0
        rng = np.random.default_rng(seed)
        for size in task.sizes_named(which):
            program = task.host(size, candidate.params)
            inputs = task.inputs(size, rng)
            request = {
                "op": "evaluate",
                "source": candidate.source,
                "defines": candidate.params,
                "buffers": [{"name": b.name, "dtype": b.dtype, "count": b.count} for b in program.buffers],
                "launches": [launch.as_json() for launch in program.launches],
                "outputs": list(program.outputs),
                "guard": GUARD_BYTES,
                "warmup": self.warmup,
                "repeats": repeats or self.repeats,
            }
            try:
                reply, raw = self.worker.request(request, inputs, self.timeout)
            except WorkerTimeoutError:
                message = (
                    f"no answer within {self.timeout:g} s at size {size.label} ({size.describe()}): "
                    "the worker was killed"
                )
                return Evaluation(
                    **base, status="timeout", message=message, sizes=results, wall_seconds=time.perf_counter() - started
                )
            except WorkerCrashedError as error:
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
            results.append(self._judge(size, program.buffers, program.outputs, inputs, reply, raw))
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

    def _judge(
        self,
        size: Size,
        buffers: Any,
        outputs: tuple[str, ...],
        inputs: dict[str, np.ndarray],
        reply: dict[str, Any],
        raw: dict[str, np.ndarray],
    ) -> SizeResult:
        task = self.task
        specs = {spec.name: spec for spec in buffers}
        expected = task.reference(size, inputs)
        worst_error, worst_tol, details, correct = 0.0, 0.0, [], True
        for spec in buffers:
            tail = raw.get(spec.name, raw.get(f"guard:{spec.name}"))
            if tail is None:
                correct = False
                details.append(f"buffer {spec.name} not returned")
                continue
            guard = tail[-GUARD_BYTES:] if spec.name in raw else tail
            if guard.size != GUARD_BYTES or np.any(guard != CANARY):
                correct = False
                details.append(f"wrote past the end of buffer {spec.name}")
        for name in outputs:
            spec = specs[name]
            got = raw[name][: spec.nbytes].view(spec.dtype)
            check = task.check(size, name, got, expected[name].reshape(-1), inputs)
            worst_error = max(worst_error, check.error)
            worst_tol = max(worst_tol, check.tolerance)
            if not check.ok:
                correct = False
                details.append(f"{name}: {check.detail}" if check.detail else f"{name} out of tolerance")
        times = [float(t) for t in reply.get("times", [])]
        seconds = statistics.median(times) if times else 0.0
        work = task.work(size)
        result = SizeResult(
            label=size.label,
            dims=list(size.dims),
            correct=correct,
            error=worst_error,
            tolerance=worst_tol,
            detail="; ".join(details),
            seconds=seconds,
            gbps=work.bytes / seconds / 1e9 if seconds > 0 else 0.0,
            gflops=work.flops / seconds / 1e9 if seconds > 0 else 0.0,
        )
        if self.ceilings and seconds > 0:
            working_set = sum(spec.nbytes for spec in buffers)
            bandwidth = self.ceilings["triad_gbps"].get(working_set) or _nearest(
                self.ceilings["triad_gbps"], working_set
            )
            best, bound = roofline_seconds(work, bandwidth, float(self.ceilings["fma_gflops"]))
            result.fraction = best / seconds
            result.bound = bound
        return result


def _nearest(table: dict[int, float], nbytes: int) -> float:
    """Bandwidth of the probed working set closest in log-size (params can change the buffers)."""
    if not table:
        raise ValueError("no bandwidth ceiling measured")
    key = min(table, key=lambda k: abs(math.log(k) - math.log(max(nbytes, 1))))
    return table[key]
