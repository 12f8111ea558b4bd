"""Side-by-side measurement of a candidate and its task's seed, by the gate's own harness.

Gates never reuse a number the search reported: they read the candidate's source from the
recorded artifact, draw fresh inputs from a new seed (recorded in the verdict), and time the
candidate and the trusted seed alternately in one worker so that machine noise hits both alike.
"""

from __future__ import annotations

import math
import secrets
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sandboxes import LocalSandbox, Sandbox
from tools import SandboxFactory
from tools.kernels import Evaluation, KernelTask, open_harness


@dataclass
class SideBySide:
    candidate: Evaluation
    seed: Evaluation
    input_seed: int

    def speedup(self) -> float:
        """Geometric mean over sizes of seed time / candidate time (0 when either failed)."""
        if not (self.candidate.ok and self.seed.ok):
            return 0.0
        ratios = [
            s.seconds / c.seconds
            for c, s in zip(self.candidate.sizes, self.seed.sizes, strict=True)
            if c.seconds > 0 and s.seconds > 0
        ]
        return math.exp(sum(math.log(r) for r in ratios) / len(ratios)) if ratios else 0.0


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
) -> SideBySide:
    """Evaluate candidate and seed `rounds` times alternately; keep each one's fastest correct round."""
    input_seed = secrets.randbits(31)
    factory: SandboxFactory = sandbox_factory or default_factory
    runs: dict[str, list[Evaluation]] = {"candidate": [], "seed": []}
    with (
        tempfile.TemporaryDirectory(prefix="labgate-gate-") as scratch,
        open_harness(
            task, Path(scratch) / "worker", factory, backend=backend, timeout=timeout, heldout=which == "heldout"
        ) as harness,
    ):
        for round_index in range(rounds):
            for name, text in (("candidate", source), ("seed", task.seed)):
                runs[name].append(harness.evaluate(text, which, seed=input_seed + round_index))
            if not runs["candidate"][-1].ok:
                break
    return SideBySide(candidate=_pick(runs["candidate"]), seed=_pick(runs["seed"]), input_seed=input_seed)


def _pick(evaluations: list[Evaluation]) -> Evaluation:
    """The first failure if any round failed, else the fastest round."""
    failures = [e for e in evaluations if not e.ok]
    return failures[0] if failures else max(evaluations, key=lambda e: e.fitness)
