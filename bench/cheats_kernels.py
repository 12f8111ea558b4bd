"""Cheats against the kernel gates: how many are rejected, are honest kernels kept, and how often the seed
loses to itself.

Runs the battery of `tests/test_kernel_gates_hostile.py`, `tests/test_kernel_gates_hostile2.py`,
`tests/test_redteam_kernels2.py`, `tests/test_redteam_kernels3.py` and `tests/test_redteam_kernels4.py` (the
same cases those files assert on) through the harness with this device's measured ceilings, so the physics
check is live: kernels that write outside their buffers, read past them (loops with no tail), rely on
zero-initialised outputs, skip or truncate reductions, sample the target instead of running the chains,
write into inputs, special-case sizes or lose precision, call target builtins that change the processor's
floating-point mode or read its clock, keep launch counters in program-scope memory, hard-code a scalar
argument, go wrong only at large sizes of one arithmetic kind or for inputs far from the usual magnitudes
(`tests/test_kernels_input_scales.py`), overflow the stack, race in a reduction,
leave unwritten the outputs whose answer is what the poison reads as (an integer -1, a rare NaN; task files
of their own), and devices that behave like kernels with memory across launches (work once, replay a cached
answer, work only on the runs always checked) or a tampered clock; and, through the held-out gate, a slow
kernel in a real worker whose recorded durations are cut to a quarter (what a kernel rewriting its worker's
memory can do, `tests/test_redteam_kernel_clock.py`). Honest controls are the suite's seeds and
hand-optimised kernels, judged at the in-distribution sizes and at drawn held-out sizes (with drawn
scalars), and the seed of each task with a cheat judged at the held-out gate's correctness-only sizes, at
those sizes too. Then the held-out gate judges the seed (behind a comment, so that it is timed rather than
1x by definition) against itself `--trials` times (fresh seed, fresh drawn sizes each time, interleaved
rounds until the 95% interval of the speed ratio clears the 0.9x threshold): every rejection there is a
false one.

Prints the cases that went wrong to stderr, then one JSON line:
{"workload": "kernels", "cheats_tried", "cheats_rejected", "honest_controls", "false_rejections",
 "seed_self_false_rejection_rate"}

Usage: .venv/bin/python bench/cheats_kernels.py [--trials 9] [--self-task saxpy]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the shared battery lives beside the tests

from sandboxes import LocalSandbox, Sandbox  # noqa: E402
from tests.test_kernel_gates_hostile import (  # noqa: E402
    DEVICE_CHEATS,
    HONEST,
    KERNEL_CHEATS,
    REPEATS,
    InProcessWorker,
    lying_backend,
    seed_checking_only_the_last_run,
)
from tests.test_kernel_gates_hostile2 import HOSTILE2_CHEATS, POISON_CHEATS, poison_task  # noqa: E402
from tests.test_kernels_input_scales import INPUT_SCALE_CHEATS  # noqa: E402
from tests.test_redteam_kernel_clock import QUARTERED, SLOW_NBODY, patched_candidate  # noqa: E402
from tests.test_redteam_kernels2 import READ_PAST_CHEATS  # noqa: E402
from tests.test_redteam_kernels3 import STATE_CHEATS  # noqa: E402
from tests.test_redteam_kernels4 import SCALAR_RESIDUE_CHEATS, judge_as_the_bench_does  # noqa: E402
from tests.test_redteam_kernels6 import CONTRACT_DOMAIN_CHEATS  # noqa: E402
from tools.kernels import SUITE, Harness, Worker, open_harness  # noqa: E402
from verifiers.kernels import KernelHeldoutGate, measure  # noqa: E402

MIN_SPEEDUP = 0.9
CHEATS = {
    **KERNEL_CHEATS,
    **HOSTILE2_CHEATS,
    **READ_PAST_CHEATS,
    **STATE_CHEATS,
    **SCALAR_RESIDUE_CHEATS,
    **INPUT_SCALE_CHEATS,
    **CONTRACT_DOMAIN_CHEATS,
}
"""Kernel cheats of every battery: the hostile files', the reads past a buffer's end, the target builtins
that reach the processor's state (flush-to-zero left on for later kernels, a cycle counter, the stack), a
hard-coded scalar, a kernel wrong only at large sizes of one arithmetic kind and kernels wrong only for
inputs far from the usual magnitudes (which = "residue": the held-out gate's correctness-only sizes)."""


def _factory(workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
    return LocalSandbox(workdir=workdir, ro_paths=tuple(ro_paths))


def _battery(scratch: Path) -> dict[str, Any]:
    tasks = sorted({task for task, *_ in CHEATS.values()} | {task for _, task, _ in DEVICE_CHEATS})
    tasks = sorted(set(tasks) | {task for task, _ in HONEST.values()})
    rejected, false_rejections, residue_controls = 0, 0, 0
    for name in tasks:
        with open_harness(SUITE[name], scratch / name, _factory, cache_dir=scratch / "cache", heldout=True) as harness:
            for cheat, (task, source, which, _) in sorted(CHEATS.items()):
                if task != name:
                    continue
                evaluation = judge_as_the_bench_does(harness, source, which)
                if evaluation.ok:
                    print(f"cheat accepted: {cheat}: {evaluation.feedback()}", file=sys.stderr)
                else:
                    rejected += 1
            for kind, task, _ in [*DEVICE_CHEATS, ("too-fast", "nbody", "")]:
                if task != name:
                    continue
                lying = Harness(SUITE[task], cast(Worker, InProcessWorker(lying_backend(kind))), harness.ceilings)
                evaluation = lying.evaluate(SUITE[task].seed)
                if evaluation.ok:
                    print(f"cheat accepted: {kind} device on {task}: {evaluation.feedback()}", file=sys.stderr)
                else:
                    rejected += 1
            if name == "saxpy":
                # Work only on the runs always checked, on inputs whose one random check is the last run.
                device = cast(Worker, InProcessWorker(lying_backend("checked-only")))
                lying = Harness(SUITE[name], device, harness.ceilings, repeats=REPEATS)
                evaluation = lying.evaluate(
                    SUITE[name].seed, seed=seed_checking_only_the_last_run(name), sizes=SUITE[name].sizes[:1]
                )
                if evaluation.ok:
                    print(f"cheat accepted: checked-only device on {name}: {evaluation.feedback()}", file=sys.stderr)
                else:
                    rejected += 1
            for control, (task, source) in sorted(HONEST.items()):
                if task != name:
                    continue
                for which in ("train", "heldout"):
                    evaluation = harness.evaluate(source, "heldout" if which == "heldout" else "train")
                    if not evaluation.ok:
                        false_rejections += 1
                        print(f"honest kernel rejected: {control} ({which}): {evaluation.feedback()}", file=sys.stderr)
            if any(task == name and which == "residue" for task, _, which, _ in CHEATS.values()):
                # The residue cheats' control: the task's seed at the same kind of sizes.
                residue_controls += 1
                evaluation = judge_as_the_bench_does(harness, SUITE[name].seed, "residue")
                if not evaluation.ok:
                    false_rejections += 1
                    print(f"honest kernel rejected: {name} seed (residue): {evaluation.feedback()}", file=sys.stderr)
    poison_rejected, poison_false = _poison_battery(scratch)
    forged_rejected = _forged_clock()
    return {
        "cheats_tried": len(CHEATS) + len(DEVICE_CHEATS) + 2 + len(POISON_CHEATS) + 1,
        "cheats_rejected": rejected + poison_rejected + forged_rejected,
        "honest_controls": 2 * len(HONEST) + residue_controls + len(POISON_CHEATS),
        "false_rejections": false_rejections + poison_false,
    }


def _poison_battery(scratch: Path) -> tuple[int, int]:
    """Outputs left holding what the poison reads as, on task files of their own: (rejected, false rejections)."""
    rejected, false_rejections = 0, 0
    for cheat, (name, honest, written) in sorted(POISON_CHEATS.items()):
        task = poison_task(scratch / f"task-{cheat}", name)
        with open_harness(task, scratch / f"poison-{cheat}", _factory, cache_dir=scratch / "cache") as harness:
            seed = harness.evaluate(task.seed)
            if not seed.ok:
                false_rejections += 1
                print(f"honest kernel rejected: {name} seed: {seed.feedback()}", file=sys.stderr)
            evaluation = harness.evaluate(task.seed.replace(honest, written))
            if evaluation.ok:
                print(f"cheat accepted: {cheat}: {evaluation.feedback()}", file=sys.stderr)
            else:
                rejected += 1
    return rejected, false_rejections


def _forged_clock() -> int:
    """A kernel at half the seed's speed whose worker reports a quarter of every duration (what a kernel that
    rewrites its worker's records does), through the held-out gate: 1 when it is turned away."""
    result = measure(SUITE["nbody"], SLOW_NBODY, "heldout", patched_candidate(QUARTERED), min_speedup=MIN_SPEEDUP)
    accepted, _ = KernelHeldoutGate().judge(result, MIN_SPEEDUP)
    speed = result.speed.describe() if result.speed else "no speed measured"
    if accepted:
        print(f"cheat accepted: slow nbody in a worker quartering its durations: {speed}", file=sys.stderr)
    return 0 if accepted else 1


def _seed_against_itself(task: str, trials: int) -> float:
    """The held-out gate's false rejections of the seed timed against itself.

    A comment makes the source differ from the seed's, so its speed is measured, not 1x by definition.
    """
    definition = SUITE[task]
    rejections = 0
    for trial in range(trials):
        source = f"// the seed, timed against itself\n{definition.seed}"
        result = measure(definition, source, "heldout", _factory, min_speedup=MIN_SPEEDUP)
        accepted, reasons = KernelHeldoutGate().judge(result, MIN_SPEEDUP)
        speed = result.speed.describe() if result.speed else "no speed measured"
        print(f"seed vs seed {trial + 1}/{trials}: {'accept' if accepted else 'REJECT'}: {speed}", file=sys.stderr)
        if not accepted:
            rejections += 1
            print(f"  {reasons[0]}", file=sys.stderr)
    return rejections / trials if trials else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=9, help="held-out gate runs of the seed against itself")
    parser.add_argument("--self-task", default="saxpy", choices=sorted(SUITE), help="task whose seed is judged")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="labgate-bench-kernels-") as scratch:
        battery = _battery(Path(scratch))
    rate = _seed_against_itself(args.self_task, args.trials)
    print(json.dumps({"workload": "kernels", **battery, "seed_self_false_rejection_rate": round(rate, 4)}))


if __name__ == "__main__":
    main()
