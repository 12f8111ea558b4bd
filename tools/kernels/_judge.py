"""The host's judgement of one trial: guards, read-only inputs, unwritten outputs, checked runs.

Everything here reads what the worker observed (see `_trial`) and compares it with what the
trusted host knows: the canary it asked for, the digest of each run's inputs, the poison pattern,
and the task's reference for each checked run's own inputs. A size is correct only if every run
kept its guards and inputs intact, no run left a float output unwritten at the sampled places,
and every checked run (the first, a random timed one, the last) matches the reference.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tools.kernels._task import HostProgram, KernelTask, Size
from tools.kernels._variants import inputs_of


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
    return hashlib.sha256(np.ascontiguousarray(data).view(np.uint8).tobytes()).hexdigest()


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
) -> Judgement:
    """Every check of one size's trial; the details name the first run each problem was seen in."""
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
    run_inputs: dict[int, dict[str, np.ndarray]] = {}
    for run in range(min(runs, len(digests))):
        inputs = inputs_of(base, variants, run)
        seen = digests[run] if isinstance(digests[run], dict) else {}
        for name in read_only:
            if seen.get(name) != _digest(inputs[name]):
                judgement.fail(f"modified its read-only input buffer {name} (run {run})")
        if run in checked:
            run_inputs[run] = inputs
    specs = {spec.name: spec for spec in program.buffers}
    for run in checked:
        if run not in run_inputs:
            judgement.fail(f"checked run {run} out of range")
            continue
        expected = task.reference(size, run_inputs[run])
        for name in program.outputs:
            data = raw.get(f"{name}@{run}")
            spec = specs[name]
            if data is None or data.size != spec.nbytes:
                judgement.fail(f"output {name} of run {run} not returned")
                continue
            check = task.check(size, name, data.view(spec.dtype), expected[name].reshape(-1), run_inputs[run])
            judgement.error = max(judgement.error, check.error)
            judgement.tolerance = max(judgement.tolerance, check.tolerance)
            if not check.ok:
                text = check.detail or "out of tolerance"
                judgement.fail(f"{name} (run {run}): {text}")
    return judgement
