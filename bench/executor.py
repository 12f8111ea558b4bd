"""Throughput of an 8-case cavity sweep on the local executor versus Ray, on this machine.

Both arms run the same cases (Re 100, 8 mesh sizes) through `agent run`, interleaved, and the
script prints wall times, the overhead ratio ray/local, and an estimate of the sweep time on N
Ray nodes built from the measured per-case cost:

    T(N) = ray start-up + ceil(cases / (N * cores per node)) * mean case time + per-case transfer

The estimate assumes cases of equal cost and nodes like this one; it is printed next to the
numbers it is made from so that it can be checked.

Usage: .venv/bin/python bench/executor.py [--repeats 1]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from runs import RunStore

REPO = Path(__file__).resolve().parent.parent
CELLS = "24,26,28,30,32,34,36,38"


def sweep(executor: str, home: Path) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "api.cli",
            "run",
            "cfd/cavity",
            "--param",
            "re=100",
            "--param",
            f"cells={CELLS}",
            "--budget",
            "8",
            "--executor",
            executor,
            "--json",
        ],
        cwd=REPO,
        env={**os.environ, "LABGATE_HOME": str(home)},
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    summary = json.loads(result.stdout)
    if summary["status"] != "finished" or len(summary["accepted"]) != 8:
        raise RuntimeError(f"{executor} sweep did not finish cleanly: {summary['reason'] or summary['rejected']}")
    return elapsed, summary["run_id"]


def case_seconds(home: Path, run_id: str) -> list[float]:
    store = RunStore(home)
    return [float(e.outcome["info"]["execution_seconds"]) for e in store.experiments(run_id)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    walls: dict[str, list[float]] = {"local": [], "ray": []}
    cases: dict[str, list[float]] = {"local": [], "ray": []}
    with tempfile.TemporaryDirectory(prefix="labgate-executor-bench-") as root:
        for repeat in range(args.repeats):
            for executor in ("local", "ray"):
                home = Path(root) / f"{executor}-{repeat}"
                wall, run_id = sweep(executor, home)
                walls[executor].append(wall)
                cases[executor] += case_seconds(home, run_id)
                print(f"repeat {repeat + 1} {executor}: {wall:.1f} s", flush=True)
    local, ray = statistics.median(walls["local"]), statistics.median(walls["ray"])
    case_local = statistics.mean(cases["local"])
    case_ray = statistics.mean(cases["ray"])
    # What Ray adds per sweep beyond the cases themselves: start-up, scheduling, moving results.
    waves = math.ceil(8 / cores)
    overhead = max(0.0, ray - waves * case_ray)
    transfer = max(0.0, case_ray - case_local)
    print(f"8-case sweep on {cores} cores: local {local:.1f} s, ray {ray:.1f} s, ratio ray/local {ray / local:.2f}")
    print(f"mean case time: local {case_local:.2f} s, ray {case_ray:.2f} s; fixed Ray overhead ~{overhead:.1f} s")
    estimates = {}
    for total in (8, 256):
        for nodes in (1, 2, 4, 8):
            seconds = overhead + math.ceil(total / (nodes * cores)) * (case_local + transfer)
            estimates[f"{total}_cases_{nodes}_nodes"] = round(seconds, 1)
            print(f"  estimate: {total} cases on {nodes} node(s) of {cores} cores: {seconds:7.1f} s")
    print(
        json.dumps(
            {
                "benchmark": "executor",
                "local_seconds": round(local, 2),
                "ray_seconds": round(ray, 2),
                "ray_over_local": round(ray / local, 3),
                "case_seconds_local": round(case_local, 3),
                "estimates_seconds": estimates,
            }
        )
    )


if __name__ == "__main__":
    main()
