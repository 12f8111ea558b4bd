"""Kernel search on every task: seed vs. best found, in-distribution and held-out, next to kernel_tuner.

For each task of the suite, in one process so that machine noise hits every arm alike:
  search    the built-in proposer with code transformations (islands / MAP-Elites) at a fixed budget of
            evaluations, through the sandboxed harness (fitness = geometric mean over the three sizes of
            fraction of ceiling)
  tunables  the same search with rewrites switched off (tunables and unroll pragmas only), same budget
  tuner     kernel_tuner (random sampling) tuning the same seed's tunables with the same budget, on the
            task's middle in-distribution size, objective kernel time; only the task's main kernel
            (the host program's last launch) is timed, and work-group size 0 (runtime's choice) is left out
  judged    the seed, the search's winner and kernel_tuner's best configuration, re-measured side by side
            by our harness on fresh inputs (`--judge-rounds` rounds, 4 by default, in alternating
            order, best of each): in-distribution speedup over the seed, fraction of ceiling at the
            largest size (of the bandwidth probe measured beside the runs, and of the cached probe
            figure beside it), and held-out speedup and correctness on sizes neither search saw; the search
            and kernel_tuner are called a tie when closer than the seed's own spread across those
            rounds (`judged_noise`, at least 2 %)
  self      the false-rejection rate: the kernel-heldout gate's measurement of the seed against itself
            (`--self-checks` times); a rejection there is a rejection of a kernel exactly as fast as the seed
Prints one line per task, then a JSON line with everything.

Needs kernel_tuner: .venv/bin/pip install -e '.[bench]'
`--without-variants heat2d-rowblock,...` leaves those library variants out of the search arm: the search
as it was before a variant was added, to run beside a run with it (an unknown name is refused).

Usage: .venv/bin/python bench/kernel_search.py [--evaluations 24] [--tasks saxpy,heat2d] [--seed 0] [--self-checks 2]
       [--judge-rounds 4] [--without-variants NAME,...]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agents.kernel_search import BuiltinProposer, run_search, variant_of
from agents.kernel_search._library import variants_for
from agents.kernel_search._transforms import UseVariant
from sandboxes import LocalSandbox, Sandbox
from tools.kernels import SUITE, Evaluation, Harness, KernelSearchParams, KernelTask, open_harness, with_params
from tools.kernels._task import Arg, Size
from verifiers.kernels import measure

BLOCK_NAMES = ("LOCAL", "LX", "LY")


def factory(workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
    return LocalSandbox(workdir=workdir, ro_paths=tuple(ro_paths))


def _kt_argument(arg: Arg, buffers: dict[str, np.ndarray]) -> Any:
    if arg.kind == "buf":
        return buffers[str(arg.value)]
    return np.dtype({"i32": "int32", "u32": "uint32", "f32": "float32"}[arg.kind]).type(arg.value)


def kernel_tuner_best(task: KernelTask, size: Size, budget: int, seed: int) -> tuple[dict[str, int] | None, int, float]:
    """kernel_tuner's best configuration of the seed's tunables, the configurations it ran, and its wall time."""
    import kernel_tuner

    block_names = [name for name in BLOCK_NAMES if name in task.tunables]
    tune_params = {
        name: [v for v in values if not (name in block_names and v == 0)] for name, values in task.tunables.items()
    }
    rng = np.random.default_rng(seed)
    inputs = task.inputs(size, rng)
    program = task.host(size, task.defaults())
    buffers = {
        spec.name: (inputs[spec.name].copy() if spec.name in inputs else np.zeros(spec.count, dtype=spec.dtype))
        for spec in program.buffers
    }
    if "partial" in buffers and "psi" in buffers:  # gradshaf's sweep reads the reduction's partial maxima
        buffers["partial"][:] = buffers["psi"].max()
    main = program.launches[-1]
    arguments = [_kt_argument(arg, buffers) for arg in main.args]

    def launch_of(params: dict[str, Any]) -> Any:
        return task.host(size, {**task.defaults(), **{k: int(v) for k, v in params.items()}}).launches[-1]

    def global_size(params: dict[str, Any]) -> tuple[int, ...]:
        return tuple(launch_of(params).global_size)

    def divisor(axis: int) -> Any:
        return lambda params: (launch_of(params).local_size or (1, 1, 1))[axis] if axis < len(main.global_size) else 1

    started = time.perf_counter()
    results, _env = kernel_tuner.tune_kernel(
        main.kernel,
        task.seed,
        global_size,
        arguments,
        tune_params,
        grid_div_x=divisor(0),
        grid_div_y=divisor(1),
        grid_div_z=divisor(2),
        block_size_names=block_names,
        lang="OpenCL",
        strategy="random_sample",
        strategy_options={"max_fevals": budget},
        iterations=7,
        quiet=True,
        verbose=False,
        seed=seed,
    )
    elapsed = time.perf_counter() - started
    timed = [r for r in results if isinstance(r.get("time"), float) and math.isfinite(r["time"])]
    if not timed:
        return None, len(results), elapsed
    best = min(timed, key=lambda r: r["time"])
    return {name: int(best[name]) for name in task.tunables}, len(results), elapsed


def side_by_side(
    harness: Harness, sources: dict[str, str], which: str, seed: int, rounds: int
) -> tuple[dict[str, Evaluation], float]:
    """Each source's best of `rounds` alternating evaluations (its first failure, if any), and the noise:
    how far apart the seed's own rounds came out, relative to its best (0 when there is one round)."""
    runs: dict[str, list[Evaluation]] = {name: [] for name in sources}
    for round_index in range(rounds):
        order = list(sources.items())
        for name, source in order if round_index % 2 == 0 else order[::-1]:
            runs[name].append(harness.evaluate(source, which, seed=seed + round_index, repeats=9))  # type: ignore[arg-type]
    picked = {}
    for name, evaluations in runs.items():
        failures = [e for e in evaluations if not e.ok]
        picked[name] = failures[0] if failures else max(evaluations, key=lambda e: e.fitness)
    own = [e.fitness for e in runs["seed"] if e.ok]
    noise = (max(own) - min(own)) / max(own) if len(own) > 1 and max(own) > 0 else 0.0
    return picked, noise


def speedup(seed: Evaluation, other: Evaluation) -> float:
    if not (seed.ok and other.ok):
        return 0.0
    ratios = [s.seconds / o.seconds for s, o in zip(seed.sizes, other.sizes, strict=True) if o.seconds > 0]
    return math.exp(sum(math.log(r) for r in ratios) / len(ratios)) if ratios else 0.0


def false_rejections(task: KernelTask, checks: int, seed: int) -> tuple[int, int]:
    """How often the held-out gate's measurement rejects the seed measured against itself (rejected, checks)."""
    rejected = 0
    for index in range(checks):
        result = measure(task, task.seed, "heldout", factory, min_speedup=0.9, input_seed=seed + 7 * index)
        if not result.candidate.ok or result.speed is None or result.speed.verdict != "faster":
            rejected += 1
    return rejected, checks


def _proposer(task: KernelTask, rewrites: bool, without: frozenset[str]) -> BuiltinProposer:
    """The built-in proposer, less the library variants named in `without`."""
    proposer = BuiltinProposer(task, rewrites=rewrites)
    proposer.transformations = [
        t for t in proposer.transformations if not (isinstance(t, UseVariant) and t.variant.name in without)
    ]
    return proposer


def _search(
    task: KernelTask,
    harness: Harness,
    evaluations: int,
    seed: int,
    rewrites: bool,
    without: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    params = KernelSearchParams(kernel=task.name, evaluations=evaluations)
    started = time.perf_counter()
    result = run_search(task, params, harness, _proposer(task, rewrites, without), seed=seed, seconds=math.inf)
    result["wall_seconds"] = time.perf_counter() - started
    return result


def bench_task(
    task: KernelTask,
    evaluations: int,
    seed: int,
    root: Path,
    self_checks: int,
    rounds: int,
    without: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    with open_harness(task, root / task.name / "worker", factory, heldout=True) as harness:
        searched = _search(task, harness, evaluations, seed, rewrites=True, without=without)
        plain = _search(task, harness, evaluations, seed, rewrites=False)
        try:
            tuned, configs, tuner_seconds = kernel_tuner_best(task, task.sizes[1], evaluations, seed)
            tuner_error = ""
        except Exception as error:  # noqa: BLE001 - kernel_tuner's own failure is reported, not fatal
            tuned, configs, tuner_seconds, tuner_error = None, 0, 0.0, f"{type(error).__name__}: {error}"
        sources = {"seed": task.seed, "search": searched["winner"].source, "tunables": plain["winner"].source}
        if tuned is not None:
            sources["tuner"] = with_params(task.seed, tuned)
        train, noise = side_by_side(harness, sources, "train", seed + 101, rounds)
        heldout, _ = side_by_side(harness, sources, "heldout", seed + 202, rounds)
    rejected, checks = false_rejections(task, self_checks, seed + 303) if self_checks else (0, 0)
    row: dict[str, Any] = {"task": task.name, "seed_fitness": train["seed"].fitness, "judged_rounds": rounds}
    row["without_variants"] = sorted(without)
    # Two arms closer than the seed's own spread across the judged rounds are not told apart (at least 2 %).
    band = max(0.02, noise)
    row["judged_noise"] = noise
    row.update(largest("seed", train["seed"]))
    for arm, result in (("search", searched), ("tunables", plain)):
        count = len(result["evaluator"].individuals)
        row.update(
            {
                f"{arm}_evaluations": count,
                f"{arm}_wall_seconds": result["wall_seconds"],
                f"{arm}_seconds_per_evaluation": float(result["search_seconds"]) / max(count, 1),
                f"{arm}_fitness": train[arm].fitness,
                **largest(arm, train[arm]),
                f"{arm}_speedup": speedup(train["seed"], train[arm]),
                f"{arm}_heldout_correct": heldout[arm].ok,
                f"{arm}_heldout_speedup": speedup(heldout["seed"], heldout[arm]),
                f"{arm}_params": train[arm].params,
                f"{arm}_winner": result["winner"].note,
                f"{arm}_variant": variant_of(result["winner"].source),
            }
        )
    row.update(
        tuner_configurations=configs,
        tuner_wall_seconds=tuner_seconds,
        tuner_seconds_per_configuration=tuner_seconds / configs if configs else None,
        tuner_error=tuner_error,
        seed_false_rejections=rejected,
        seed_self_checks=checks,
    )
    if "tuner" in train:
        row.update(
            tuner_params=tuned,
            tuner_fitness=train["tuner"].fitness,
            **largest("tuner", train["tuner"]),
            tuner_speedup=speedup(train["seed"], train["tuner"]),
            tuner_heldout_correct=heldout["tuner"].ok,
            tuner_heldout_speedup=speedup(heldout["seed"], heldout["tuner"]),
            better=(
                "search"
                if train["search"].fitness > (1 + band) * train["tuner"].fitness
                else "tuner"
                if train["tuner"].fitness > (1 + band) * train["search"].fitness
                else f"tie (within {100 * band:.0f}%, the seed's own spread)"
            ),
        )
    return row


def largest(arm: str, evaluation: Evaluation) -> dict[str, float]:
    """The largest size's fraction of the ceiling measured beside the runs, of the cached ceiling, and that ceiling."""
    size = evaluation.sizes[-1] if evaluation.sizes else None
    return {
        f"{arm}_largest_fraction": size.fraction if size else 0.0,
        f"{arm}_largest_cached_fraction": size.cached_fraction if size else 0.0,
        f"{arm}_largest_ceiling_gbps": size.ceiling_gbps if size else 0.0,
    }


def _fraction(row: dict[str, Any], name: str) -> str:
    return f"largest {row[f'{name}_largest_fraction']:.2f}, of cached {row[f'{name}_largest_cached_fraction']:.2f}"


def describe(row: dict[str, Any]) -> str:
    def arm(name: str) -> str:
        return (
            f"{name} {row[f'{name}_fitness']:.3g} ({_fraction(row, name)}, "
            f"{row[f'{name}_speedup']:.2f}x, held-out {'ok' if row[f'{name}_heldout_correct'] else 'FAIL'} "
            f"{row[f'{name}_heldout_speedup']:.2f}x, {row[f'{name}_evaluations']} evals, "
            f"{row[f'{name}_wall_seconds']:.0f} s)"
        )

    tuner = (
        f"tuner {row['tuner_fitness']:.3g} ({_fraction(row, 'tuner')}, {row['tuner_speedup']:.2f}x, "
        f"held-out {'ok' if row['tuner_heldout_correct'] else 'FAIL'} {row['tuner_heldout_speedup']:.2f}x, "
        f"{row['tuner_configurations']} configs, {row['tuner_wall_seconds']:.0f} s) -> {row['better']}"
        if "tuner_fitness" in row
        else f"tuner: none ({row['tuner_error'] or 'no valid configuration'})"
    )
    checks = (
        f"  seed-vs-seed rejected {row['seed_false_rejections']}/{row['seed_self_checks']}"
        if row["seed_self_checks"]
        else ""
    )
    return (
        f"{row['task']:9s} seed {row['seed_fitness']:.3g} ({_fraction(row, 'seed')})  "
        f"{arm('search')}  {arm('tunables')}  {tuner}{checks}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--evaluations", type=int, default=24)
    parser.add_argument("--tasks", default=",".join(SUITE))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--self-checks", type=int, default=2, help="seed-against-itself gate runs per task (0: none)")
    parser.add_argument("--judge-rounds", type=int, default=4, help="alternating rounds of the judged re-measurement")
    parser.add_argument("--without-variants", default="", help="library variants left out of the search arm")
    args = parser.parse_args()
    if args.evaluations < 1 or args.self_checks < 0 or args.judge_rounds < 1:
        sys.exit("--evaluations and --judge-rounds must be at least 1, and --self-checks at least 0")
    names = [name.strip() for name in args.tasks.split(",") if name.strip()]
    unknown = [name for name in names if name not in SUITE]
    if unknown:
        sys.exit(f"unknown tasks: {', '.join(unknown)}; known: {', '.join(SUITE)}")
    without = frozenset(name.strip() for name in args.without_variants.split(",") if name.strip())
    known = {variant.name for name in names for variant in variants_for(name)}
    if without - known:
        unknown_variants = ", ".join(sorted(without - known))
        sys.exit(f"unknown variants: {unknown_variants}; these tasks have: {', '.join(sorted(known))}")
    try:
        import kernel_tuner  # noqa: F401
    except ImportError:
        sys.exit("kernel_tuner is not installed: .venv/bin/pip install -e '.[bench]'")
    rows = []
    with tempfile.TemporaryDirectory(prefix="labgate-kbench-") as scratch:
        for name in names:
            row = bench_task(
                SUITE[name], args.evaluations, args.seed, Path(scratch), args.self_checks, args.judge_rounds, without
            )
            rows.append(row)
            print(describe(row), flush=True)
    print(
        json.dumps(
            {"benchmark": "kernel_search", "evaluations": args.evaluations, "cpus": os.cpu_count(), "tasks": rows}
        )
    )


if __name__ == "__main__":
    main()
