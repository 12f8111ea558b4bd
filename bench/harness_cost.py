"""Where the seconds of one harness evaluation go, per task, through the sandboxed worker.

For each task, in one process:
  search    `--evaluations` evaluations as a search makes them: a fresh inputs seed each, and a source
            the worker has not compiled yet (the seed with a unique comment), after one untimed
            evaluation that starts the worker. Prints seconds per evaluation and the mean seconds per
            phase (`Evaluation.phases`): host side parse, host_program, inputs, variants, judge_digests,
            reference, output_checks; worker side worker_compile, worker_setup, worker_prepare,
            worker_launch (kernels, waited for), worker_observe (guards, read-only inputs compared, read-back),
            worker_release; ipc (the round trip beyond the worker's own phases: pipes, framing, sandbox);
            other (the rest of the wall time: guards, samples and timing judged on the host).
  shared    what the reference cache buys where evaluations share an inputs seed (a search re-measuring
            its finalists, a gate's candidate and seed in one round): `--finalists` distinct sources
            on one seed, with the cache on and off alternating round by round (`--rounds` rounds, each
            on a new seed), as seconds per evaluation and the ratio on/off.
Prints one line per task and arm, then a JSON line with everything.

Usage: .venv/bin/python bench/harness_cost.py [--tasks saxpy,heat2d,nbody,lbm] [--evaluations 6]
       [--rounds 2] [--finalists 3] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sandboxes import LocalSandbox, Sandbox
from tools.kernels import SUITE, Evaluation, Harness, open_harness

PHASES = (
    "parse",
    "host_program",
    "inputs",
    "variants",
    "ipc",
    "worker_compile",
    "worker_setup",
    "worker_prepare",
    "worker_launch",
    "worker_observe",
    "worker_release",
    "judge_digests",
    "reference",
    "output_checks",
)


def factory(workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
    return LocalSandbox(workdir=workdir, ro_paths=tuple(ro_paths))


def fresh_source(source: str, tag: str) -> str:
    """The same kernel under a source the worker has not built: what a search's next candidate costs."""
    return f"{source}\n// harness_cost {tag}\n"


def phases_of(evaluation: Evaluation) -> dict[str, float]:
    recorded: dict[str, float] = getattr(evaluation, "phases", {})
    phases = {name: recorded.get(name, 0.0) for name in PHASES}
    phases["other"] = max(0.0, evaluation.wall_seconds - sum(recorded.values()))
    return phases


def search_like(harness: Harness, evaluations: int, seed: int) -> dict[str, Any]:
    task = harness.task
    harness.evaluate(fresh_source(task.seed, "warm"), seed=seed)
    walls: list[float] = []
    totals = dict.fromkeys((*PHASES, "other"), 0.0)
    for index in range(evaluations):
        started = time.perf_counter()
        evaluation = harness.evaluate(fresh_source(task.seed, f"search {index}"), seed=seed + 1 + index)
        walls.append(time.perf_counter() - started)
        if not evaluation.ok:
            raise SystemExit(f"{task.name}: the seed failed its own evaluation: {evaluation.feedback()}")
        for name, seconds in phases_of(evaluation).items():
            totals[name] += seconds
    return {
        "seconds_per_evaluation": statistics.fmean(walls),
        "median_seconds": statistics.median(walls),
        "phases": {name: seconds / evaluations for name, seconds in totals.items()},
    }


def shared_seed(harness: Harness, rounds: int, finalists: int, seed: int) -> dict[str, Any]:
    """Cache on and off, alternating which goes first, each round on a seed of its own."""
    task = harness.task
    seconds: dict[str, list[float]] = {"on": [], "off": []}
    for index in range(rounds):
        arms = ("on", "off") if index % 2 == 0 else ("off", "on")
        for arm in arms:
            harness.use_reference_cache(arm == "on")
            for finalist in range(finalists):
                source = fresh_source(task.seed, f"round {index} {arm} {finalist}")
                started = time.perf_counter()
                evaluation = harness.evaluate(source, seed=seed + 1000 + index, repeats=9)
                seconds[arm].append(time.perf_counter() - started)
                if not evaluation.ok:
                    raise SystemExit(f"{task.name}: the seed failed its own evaluation: {evaluation.feedback()}")
    on, off = statistics.fmean(seconds["on"]), statistics.fmean(seconds["off"])
    return {"on": on, "off": off, "ratio": on / off}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", default="saxpy,heat2d,nbody,lbm")
    parser.add_argument("--evaluations", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--finalists", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    names = [name.strip() for name in args.tasks.split(",") if name.strip()]
    unknown = [name for name in names if name not in SUITE]
    if unknown:
        raise SystemExit(f"unknown task(s) {', '.join(unknown)}; known: {', '.join(sorted(SUITE))}")
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="harness-cost-") as scratch:
        for name in names:
            task = SUITE[name]
            with open_harness(task, Path(scratch) / name / "worker", factory) as harness:
                search = search_like(harness, args.evaluations, args.seed)
                shared = shared_seed(harness, args.rounds, args.finalists, args.seed) if args.rounds > 0 else None
            report[name] = {"search": search, "shared": shared}
            ranked = sorted(search["phases"].items(), key=lambda item: -item[1])
            phases = ", ".join(f"{phase} {seconds:.3f}" for phase, seconds in ranked if seconds >= 0.0005)
            print(f"{name}: search {search['seconds_per_evaluation']:.2f} s per evaluation ({phases})")
            if shared is not None:
                print(
                    f"{name}: shared seed, {args.finalists} finalists: cache on {shared['on']:.2f} s, "
                    f"off {shared['off']:.2f} s per evaluation, ratio {shared['ratio']:.2f}"
                )
            sys.stdout.flush()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
