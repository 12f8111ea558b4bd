"""The kernel gates: correctness at the in-distribution sizes, then held-out sizes evaluated once.

Both read the candidate from the recorded `candidate-kernel` artifact and re-run the harness on it
themselves (fresh inputs, recorded seed), next to the task's trusted seed kernel.
- kernel-correctness: every in-distribution size correct; reports fitness and speedup over the seed.
- kernel-heldout: every held-out size (drawn afresh for this judging run, plus sizes of every arithmetic
  kind around each held-out centre, checked for correctness only) correct, and the held-out
  speedup over the seed at least `min_speedup` (default 0.9) with 95% confidence: a candidate
  that fails or regresses on sizes the search never saw is rejected, and one whose speed the
  interleaved rounds could not pin down within their budget is "inconclusive", not accepted.
Every size of both is also subject to the harness's own checks: guards, poisoned outputs, fresh
inputs per run, checked timed runs, and the physical lower bound on time.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from runs import GateResult
from tools import TaskError
from tools.kernels import kernel_task, parse_params
from verifiers._gate import Gate, GateContext
from verifiers._options import GateOptions
from verifiers.kernels._measure import SideBySide, measure


def _read_candidate(context: GateContext) -> tuple[str, list[str]] | str:
    item = context.outcome.file_for("candidate-kernel")
    if item is None:
        return "the experiment produced no candidate-kernel file"
    path = context.path(item.path)
    if not path.is_file():
        return f"candidate kernel {item.path} is missing"
    return path.read_text(errors="replace"), context.digests([item.path])


def failure(result: SideBySide) -> str:
    """The first thing that went wrong with the candidate, in words."""
    candidate = result.candidate
    if candidate.message:
        return f"{candidate.status}: {candidate.message}"
    bad = next((size for size in candidate.sizes if not size.correct), None)
    return f"incorrect at {bad.label} ({'x'.join(str(d) for d in bad.dims)}): {bad.detail}" if bad else candidate.status


def size_reasons(result: SideBySide) -> list[str]:
    lines = []
    for index, size in enumerate(result.candidate.sizes):
        seed = result.seed.sizes[index] if index < len(result.seed.sizes) else None
        ratio = (
            f", {seed.seconds / size.seconds:.2f}x the seed" if seed and size.seconds > 0 and seed.seconds > 0 else ""
        )
        lines.append(size.line() + ratio)
    return lines


class KernelOptions(GateOptions):
    min_speedup: float = Field(
        default=0.9, gt=0, le=1000, description="kernel-heldout: held-out speedup over the seed required"
    )


class _KernelGate(Gate):
    which: Literal["train", "heldout"]
    Options = KernelOptions
    options: KernelOptions

    def judge(self, result: SideBySide, min_speedup: float) -> tuple[bool, list[str]]:
        raise NotImplementedError

    def check(self, context: GateContext) -> GateResult:
        read = _read_candidate(context)
        if isinstance(read, str):
            return self.verdict("reject", [read])
        source, evidence = read
        try:
            params = parse_params(context.task.params, context.task.id)
            task = kernel_task(params.kernel, params.definition)
        except TaskError as error:
            return self.verdict("reject", [str(error)], evidence=evidence)
        min_speedup = self.options.min_speedup
        result = measure(
            task,
            source,
            self.which,
            context.sandbox_factory,
            timeout=params.eval_timeout,
            backend=params.backend,
            min_speedup=min_speedup if self.which == "heldout" else None,
        )
        accepted, reasons = self.judge(result, min_speedup)
        prefix = "held-out" if self.which == "heldout" else "in-distribution"
        metrics = {
            f"{prefix} fitness": result.candidate.fitness,
            f"{prefix} seed fitness": result.seed.fitness,
            f"{prefix} speedup over seed": result.speedup(),
            "input seed": float(result.input_seed),
        }
        if result.speed is not None:
            metrics[f"{prefix} speedup CI low"] = result.speed.low
            metrics[f"{prefix} speedup CI high"] = result.speed.high
        sizes = ", ".join(f"{size.label} {'x'.join(str(d) for d in size.dims)}" for size in result.candidate.sizes)
        reasons.append(
            f"fresh inputs (and sizes: {sizes}) from seed {result.input_seed}; "
            f"candidate sha256 {result.candidate.source_sha256[:12]}"
        )
        return self.verdict("accept" if accepted else "reject", reasons, evidence=evidence, metrics=metrics)


class KernelCorrectnessGate(_KernelGate):
    name = "kernel-correctness"
    which = "train"

    def judge(self, result: SideBySide, min_speedup: float) -> tuple[bool, list[str]]:
        candidate = result.candidate
        if not candidate.ok:
            return False, [f"candidate rejected in-distribution: {failure(result)}", *size_reasons(result)]
        return True, [
            f"correct at all {len(candidate.sizes)} in-distribution sizes; fitness {candidate.fitness:.4f} "
            f"(seed {result.seed.fitness:.4f}), speedup over the seed {result.speedup():.2f}x",
            *size_reasons(result),
        ]


class KernelHeldoutGate(_KernelGate):
    name = "kernel-heldout"
    which = "heldout"

    def judge(self, result: SideBySide, min_speedup: float) -> tuple[bool, list[str]]:
        candidate = result.candidate
        if not candidate.ok:
            return False, [
                f"fails on held-out sizes the search never saw: {failure(result)}",
                *size_reasons(result),
            ]
        speed = result.speed
        if speed is None:
            return False, [
                "held-out speed inconclusive, not accepted: no speed ratio could be measured",
                *size_reasons(result),
            ]
        if speed.verdict == "slower":
            return False, [
                f"regresses on held-out sizes: {speed.describe()}, wholly below the minimum {min_speedup:g}x",
                *size_reasons(result),
            ]
        if speed.verdict == "inconclusive":
            return False, [
                f"held-out speed inconclusive, not accepted: {speed.describe()} neither clears nor falls below "
                f"the minimum {min_speedup:g}x within the measuring budget",
                *size_reasons(result),
            ]
        return True, [
            f"correct at all {len(candidate.sizes)} held-out sizes, {speed.describe()}",
            *size_reasons(result),
        ]
