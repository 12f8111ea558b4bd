"""Overhead of running the cavity task through labgate versus running OpenFOAM by hand.

Three ways, interleaved in one process so that machine noise hits all of them alike:
  direct   blockMesh && icoFoam on each case's files, cases side by side, no sandbox, no store
  sandbox  the same commands through the local sandbox (bubblewrap + rlimits + cgroup)
  agent    `agent run cfd/cavity` with the same cases: sandbox, store, gates, figures, report
The cases are the task's own (Re 100 and 400 on 64x64), run concurrently in every arm as the
agent does on a multi-core machine; `--re 100` measures a single case instead.
Prints each median and the ratios to direct; the goal for agent/direct is <= 1.10.

Usage: .venv/bin/python bench/sandbox_overhead.py [--repeats 3] [--re 100 [--re 400 ...]]
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
from pathlib import Path

from sandboxes import LocalSandbox
from tools.cfd import CavityParams, OpenFOAMConfig, cavity_case

REPO = Path(__file__).resolve().parent.parent


def write_case(directory: Path, params: CavityParams) -> None:
    for relative, text in cavity_case(params).items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def run_direct(directory: Path, params: CavityParams) -> float:
    write_case(directory, params)
    env = {**os.environ, **OpenFOAMConfig().environment()}
    start = time.perf_counter()
    for command, log in (("blockMesh", "log.blockMesh"), ("icoFoam", "log.icoFoam")):
        with (directory / log).open("w") as handle:
            subprocess.run([command], cwd=directory, env=env, stdout=handle, stderr=subprocess.STDOUT, check=True)
    return time.perf_counter() - start


def run_sandboxed(directory: Path, params: CavityParams) -> float:
    write_case(directory, params)
    sandbox = LocalSandbox(workdir=directory)
    env = OpenFOAMConfig().environment()
    start = time.perf_counter()
    for command in ("blockMesh > log.blockMesh 2>&1", "icoFoam > log.icoFoam 2>&1"):
        result = sandbox.exec(["sh", "-c", command], timeout=600, env=env)
        if not result.success:
            raise RuntimeError(f"{command} failed: {result.stderr}")
    return time.perf_counter() - start


def side_by_side(run_one: object, root: Path, cases: list[CavityParams]) -> float:
    """Wall time of running every case at once, each in its own thread (the solvers are processes)."""
    from concurrent.futures import ThreadPoolExecutor

    assert callable(run_one)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(cases)) as pool:
        list(pool.map(lambda item: run_one(root / f"re{item[1].re:g}-{item[0]}", item[1]), enumerate(cases)))
    return time.perf_counter() - start


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--re", type=int, action="append", help="Reynolds numbers (default: the task's 100, 400)")
    args = parser.parse_args()
    reynolds = args.re or [100, 400]
    cases = [CavityParams(re=value, cells=64) for value in reynolds]
    times: dict[str, list[float]] = {"direct": [], "sandbox": [], "agent": []}
    root = Path(tempfile.mkdtemp(prefix="labgate-bench-"))
    try:
        for repeat in range(args.repeats):
            times["direct"].append(side_by_side(run_direct, root / f"direct-{repeat}", cases))
            times["sandbox"].append(side_by_side(run_sandboxed, root / f"sandbox-{repeat}", cases))
            times["agent"].append(run_agent(root / f"home-{repeat}", reynolds))
            print(f"repeat {repeat + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()), flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    medians = {name: statistics.median(values) for name, values in times.items()}
    shape = ", ".join(f"Re {c.re:g} ({c.cells}x{c.cells}, {c.steps} steps)" for c in cases)
    print(f"cavity {shape}; {args.repeats} repeats, cases side by side on {os.cpu_count()} cores")
    for name, value in medians.items():
        print(f"  {name:8s} median {value:6.2f} s   ratio to direct {value / medians['direct']:.3f}")
    print(
        json.dumps(
            {
                "benchmark": "sandbox_overhead",
                "median_seconds": {k: round(v, 3) for k, v in medians.items()},
                "sandbox_over_direct": round(medians["sandbox"] / medians["direct"], 3),
                "agent_over_direct": round(medians["agent"] / medians["direct"], 3),
                "goal_agent_over_direct": 1.10,
            }
        )
    )


if __name__ == "__main__":
    main()
