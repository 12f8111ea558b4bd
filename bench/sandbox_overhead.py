"""Overhead of running the cavity task through labgate's sandboxes versus running OpenFOAM by hand.

Every arm is interleaved in one process so that machine noise hits all of them alike.

Part 1, the cavity task (Re 100 and 400 on 64x64, cases side by side as the agent runs them):
  direct       blockMesh then icoFoam on each case's files, no sandbox, no store: the shell script the
               workload runs in its sandbox (`run_steps`: both utilities in one sandboxed command)
  local        the same script through the local sandbox (bubblewrap + rlimits + cgroup)
  docker-cold  the same commands in the docker sandbox, a new container per experiment
  docker-warm  the same, from a run's pool of warm containers (reset between experiments)
  agent        `agent run cfd/cavity` with the same cases: sandbox, store, gates, figures, report
Part 2, per-experiment overhead: many tiny cavity experiments (8x8 cells, a few steps) in sequence,
so that what the sandbox adds per experiment (start, exec, reset, hand-back) is not hidden by the
solver; reported in milliseconds per experiment and as ratios to direct.
Part 3 (`--empty N`): N experiments per arm whose two commands do nearly nothing (`cat` of an input
file), interleaved one by one between the arms, so that the sandbox's own cost is measured without
a solver's noise: milliseconds per experiment, median of the per-experiment times.

The docker arms run when an engine answers and the openfoam image is built (`agent images build
openfoam`); `--no-docker` leaves them out. The goal for agent/direct is <= 1.10.

`--previous REV` adds a `local-previous` arm: the local sandbox as it was at git revision REV, loaded
beside today's, so that what a change to the local backend costs per experiment is measured side by
side (the goal for hardening: <= 10 ms per experiment). `--no-cavity` runs part 2 only.

Usage: .venv/bin/python bench/sandbox_overhead.py [--repeats 3] [--re 100 [--re 400 ...]] [--tiny 20]
       [--previous HEAD~2] [--no-cavity]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sandboxes import (
    DockerSandboxConfig,
    DockerSandboxes,
    LocalSandbox,
    Sandbox,
    SandboxError,
    get_sandbox,
)
from tools.cfd import CavityParams, OpenFOAMConfig, cavity_case
from tools.cfd.openfoam._commands import CaseStep, run_steps, step_script

REPO = Path(__file__).resolve().parent.parent
STEPS = (CaseStep("mesh", ("blockMesh",), "log.blockMesh"), CaseStep("solve", ("icoFoam",), "log.icoFoam"))
"""The cavity's two utilities, run as the workload runs them (`run_steps`: one sandboxed script)."""
COMMANDS = tuple(f"{' '.join(step.argv)} > {step.log} 2>&1" for step in STEPS)
RunOne = Callable[[Path, CavityParams], float]


def write_case(directory: Path, params: CavityParams) -> None:
    for relative, text in cavity_case(params).items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def run_direct(directory: Path, params: CavityParams) -> float:
    write_case(directory, params)
    env = {**os.environ, **OpenFOAMConfig().environment()}
    start = time.perf_counter()
    # The same shell script the sandboxed arms run, so that the difference is the sandbox alone.
    subprocess.run(["sh", "-c", step_script(STEPS)], cwd=directory, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def run_in(make: Callable[[Path], Sandbox]) -> RunOne:
    """An arm that makes its sandbox per experiment (timed: making it is part of the overhead)."""

    def run(directory: Path, params: CavityParams) -> float:
        write_case(directory, params)
        start = time.perf_counter()
        sandbox = make(directory)
        try:
            for outcome in run_steps(sandbox, STEPS, OpenFOAMConfig(), timeout=600):
                if outcome.returncode != 0:
                    raise RuntimeError(f"{outcome.name} failed in {sandbox.name}: see {directory / outcome.log}")
        finally:
            sandbox.close()
        return time.perf_counter() - start

    return run


def side_by_side(run_one: RunOne, root: Path, cases: list[CavityParams]) -> float:
    """Wall time of running every case at once, each in its own thread (the solvers are processes)."""
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(cases)) as pool:
        list(pool.map(lambda item: run_one(root / f"re{item[1].re:g}-{item[0]}", item[1]), enumerate(cases)))
    return time.perf_counter() - start


def in_sequence(run_one: RunOne, root: Path, cases: list[CavityParams]) -> float:
    start = time.perf_counter()
    for index, case in enumerate(cases):
        run_one(root / f"case-{index}", case)
    return time.perf_counter() - start


def empty_experiment(make: Callable[[Path], Sandbox] | None, directory: Path) -> float:
    """One experiment of two trivial commands (through `make`'s sandbox, or directly when it is None)."""
    directory.mkdir(parents=True)
    (directory / "input.txt").write_text("input\n")
    command = ["sh", "-c", "cat input.txt > output.txt"]
    start = time.perf_counter()
    if make is None:
        for _ in COMMANDS:
            subprocess.run(command, cwd=directory, check=True)
        return time.perf_counter() - start
    sandbox = make(directory)
    try:
        for _ in COMMANDS:
            if not sandbox.exec(command, timeout=60).success:
                raise RuntimeError(f"a trivial command failed in {sandbox.name}")
    finally:
        sandbox.close()
    return time.perf_counter() - start


def empty_part(arms: dict[str, Callable[[Path], Sandbox] | None], root: Path, count: int) -> dict[str, float]:
    """Median milliseconds per trivial experiment for each arm, the arms taking turns experiment by experiment."""
    times: dict[str, list[float]] = {name: [] for name in arms}
    for index in range(count):
        names = list(arms)
        for name in names[index % len(names) :] + names[: index % len(names)]:
            times[name].append(empty_experiment(arms[name], root / f"empty-{name}-{index}"))
    medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
    print(f"part 3, {count} trivial experiments per arm (2 commands each), interleaved")
    for name, value in medians.items():
        print(f"  {name:14s} median {value:7.1f} ms per experiment   +{value - medians['direct']:6.1f} ms over direct")
    return medians


def run_agent(home: Path, reynolds: list[int]) -> float:
    start = time.perf_counter()
    values = ",".join(str(value) for value in reynolds)
    budget = str(len(reynolds))
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "run", "cfd/cavity", "--param", f"re={values}", "--budget", budget, "--json"],
        cwd=REPO,
        env={**os.environ, "LABGATE_HOME": str(home)},
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    summary = json.loads(result.stdout)
    if summary["status"] != "finished":
        raise RuntimeError(f"agent run failed: {summary['reason']}")
    return elapsed


class WarmPool:
    """A run's docker pool under `root`, warmed with `slots` containers before anything is timed."""

    def __init__(self, root: Path, slots: int) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.pool = DockerSandboxes("openfoam", shared_root=root)
        warm = [self.pool(root / f"warm-{index}") for index in range(slots)]
        for sandbox in warm:
            sandbox.exec(["true"], timeout=120)
        for sandbox in warm:
            sandbox.close()

    def __call__(self, directory: Path) -> Sandbox:
        return self.pool(directory)


def previous_local(revision: str) -> Callable[[Path], Sandbox]:
    """The local sandbox of `revision` (its _local, _cgroup and _process modules), beside today's."""
    package = "labgate_previous_sandboxes"
    sys.modules[package] = types.ModuleType(package)
    loaded: dict[str, types.ModuleType] = {}
    for name in ("_cgroup", "_process", "_local"):
        path = f"sandboxes/{name}.py"
        git = ["git", "show", f"{revision}:{path}"]
        shown = subprocess.run(git, cwd=REPO, capture_output=True, text=True, check=False)
        if shown.returncode != 0:
            raise SystemExit(f"cannot read {path} at {revision}: {shown.stderr.strip()}")
        text = shown.stdout
        for sibling in ("_cgroup", "_process"):
            text = text.replace(f"from sandboxes.{sibling} import", f"from {package}.{sibling} import")
        module = types.ModuleType(f"{package}.{name}")
        sys.modules[module.__name__] = module
        exec(compile(text, f"{revision}:{path}", "exec"), module.__dict__)
        loaded[name] = module
    sandbox_class = loaded["_local"].LocalSandbox
    return lambda directory: sandbox_class(workdir=directory)


def docker_available() -> str:
    """Why the docker arms cannot run, or "" when they can."""
    try:
        probe = DockerSandboxes("openfoam")
    except SandboxError as error:
        return str(error)
    probe.close()
    return ""


def report(title: str, times: dict[str, list[float]], per: int = 1) -> dict[str, float]:
    medians = {name: statistics.median(values) for name, values in times.items() if values}
    print(title)
    for name, value in medians.items():
        extra = ""
        if per > 1 and name != "direct":
            extra = f"   +{(value - medians['direct']) / per * 1000:7.1f} ms per experiment"
        print(f"  {name:12s} median {value:7.2f} s   ratio to direct {value / medians['direct']:.3f}{extra}")
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--re", type=int, action="append", help="Reynolds numbers (default: the task's 100, 400)")
    parser.add_argument("--tiny", type=int, default=20, help="tiny experiments per arm in part 2 (0 skips it)")
    parser.add_argument("--no-docker", action="store_true", help="leave out the docker arms")
    parser.add_argument("--no-agent", action="store_true", help="leave out the agent arm")
    parser.add_argument("--no-cavity", action="store_true", help="leave out part 1 (the 64x64 cavity and agent)")
    parser.add_argument("--previous", metavar="REV", help="add the local sandbox of git revision REV as an arm")
    parser.add_argument("--empty", type=int, default=0, help="trivial experiments per arm in part 3 (0 skips it)")
    args = parser.parse_args()
    reynolds = args.re or [100, 400]
    cases = [CavityParams(re=value, cells=64) for value in reynolds]
    tiny = [CavityParams(re=100, cells=8, convective_times=0.5, snapshots=1) for _ in range(args.tiny)]

    why_not = "left out (--no-docker)" if args.no_docker else docker_available()
    if why_not:
        print(f"docker arms skipped: {why_not}")
    root = Path(tempfile.mkdtemp(prefix="labgate-bench-"))
    big: dict[str, list[float]] = {"direct": [], "local": [], "docker-cold": [], "docker-warm": [], "agent": []}
    small: dict[str, list[float]] = {"direct": [], "local": [], "docker-cold": [], "docker-warm": []}
    if args.previous:
        big["local-previous"] = []
        small["local-previous"] = []
    pools: list[DockerSandboxes] = []
    try:
        arms: dict[str, Callable[[Path], RunOne]] = {
            "direct": lambda _: run_direct,
            "local": lambda _: run_in(lambda d: LocalSandbox(workdir=d)),
        }
        if args.previous:
            previous = previous_local(args.previous)
            arms["local-previous"] = lambda _: run_in(previous)
        if not why_not:
            cold = DockerSandboxConfig(image="openfoam", reuse=False)
            arms["docker-cold"] = lambda _: run_in(lambda d: get_sandbox(cold, d))

            def warm_arm(base: Path) -> RunOne:
                warm = WarmPool(base, len(cases))
                pools.append(warm.pool)
                return run_in(warm)

            arms["docker-warm"] = warm_arm
        for repeat in range(args.repeats):
            # The arms take turns going first, so that a burst of load elsewhere does not always hit one.
            names = list(arms)
            order = names[repeat % len(names) :] + names[: repeat % len(names)]
            for name in order if not args.no_cavity else ():
                base = root / f"{name}-{repeat}"
                big[name].append(side_by_side(arms[name](base), base, cases))
            if not args.no_agent and not args.no_cavity:
                big["agent"].append(run_agent(root / f"home-{repeat}", reynolds))
            if tiny:
                for name in order:
                    make = arms[name]
                    base = root / f"tiny-{name}-{repeat}"
                    small[name].append(in_sequence(make(base), base, tiny))
            for pool in pools:
                pool.close()
            pools.clear()
            line = ", ".join(f"{k} {v[-1]:.2f} s" for k, v in big.items() if v)
            print(f"repeat {repeat + 1}: {line}", flush=True)
    finally:
        for pool in pools:
            pool.close()
        shutil.rmtree(root, ignore_errors=True)

    shape = ", ".join(f"Re {c.re:g} ({c.cells}x{c.cells}, {c.steps} steps)" for c in cases)
    big_medians: dict[str, float] = {}
    if not args.no_cavity:
        big_medians = report(
            f"part 1, cavity {shape}; {args.repeats} repeats, side by side on {os.cpu_count()} cores", big
        )
    small_medians: dict[str, float] = {}
    if tiny:
        small_medians = report(
            f"part 2, {len(tiny)} tiny cavity experiments in sequence (8x8, {tiny[0].steps} steps)", small, len(tiny)
        )
    result: dict[str, object] = {
        "benchmark": "sandbox_overhead",
        "median_seconds": {k: round(v, 3) for k, v in big_medians.items()},
        "ratios_to_direct": {k: round(v / big_medians["direct"], 3) for k, v in big_medians.items() if big_medians},
        "goal_agent_over_direct": 1.10,
    }
    if small_medians:
        result["tiny_median_seconds"] = {k: round(v, 3) for k, v in small_medians.items()}
        result["tiny_ratios_to_direct"] = {k: round(v / small_medians["direct"], 3) for k, v in small_medians.items()}
        result["tiny_overhead_ms_per_experiment"] = {
            k: round((v - small_medians["direct"]) / len(tiny) * 1000, 1) for k, v in small_medians.items()
        }
        if "local-previous" in small_medians:
            added = (small_medians["local"] - small_medians["local-previous"]) / len(tiny) * 1000
            print(f"  local over local-previous: {added:+.1f} ms per experiment (goal <= +10 ms)")
            result["local_over_previous_ms_per_experiment"] = round(added, 1)
    if args.empty:
        empty_arms: dict[str, Callable[[Path], Sandbox] | None] = {
            "direct": None,
            "local": lambda d: LocalSandbox(workdir=d),
        }
        if args.previous:
            empty_arms["local-previous"] = previous_local(args.previous)
        scratch = Path(tempfile.mkdtemp(prefix="labgate-bench-empty-"))
        try:
            empty = empty_part(empty_arms, scratch, args.empty)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        result["empty_ms_per_experiment"] = {k: round(v, 1) for k, v in empty.items()}
        if "local-previous" in empty:
            added = empty["local"] - empty["local-previous"]
            print(f"  local over local-previous: {added:+.1f} ms per experiment (goal <= +10 ms)")
            result["empty_local_over_previous_ms"] = round(added, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
