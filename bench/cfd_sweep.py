"""Parallel sweep throughput: 8 cavity cases through `agent run`, all cores versus one at a time.

Both arms run the same task file (8 Reynolds numbers on a 32x32 cavity, solver-log and deliverables
gates) through the real CLI, alternating arms on every repeat so that machine noise hits both alike.
Prints each median wall time and the throughput ratio sequential/parallel; the ceiling is the number
of cores (2.0 on the 2-core development machine), minus the serial parts (start-up, plan, write-up).

Usage: .venv/bin/python bench/cfd_sweep.py [--repeats 2] [--workers N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TASK = """\
extends: cfd/cavity
title: cavity sweep for the throughput benchmark
params: {cells: 32, convective_times: 10}
sweep: {re: [100, 150, 200, 250, 300, 350, 400, 450]}
gates: [solver-log, deliverables]
gate_options: {}
budget: {experiments: 8, iterations: 1}

"""


def run(home: Path, task: Path, workers: int) -> float:
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "run", str(task), "--workers", str(workers), "--json"],
        cwd=REPO,
        env={**os.environ, "LABGATE_HOME": str(home)},
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    summary = json.loads(result.stdout)
    # Both arms must run the same 8 solver runs; whether the gates accept each case is not what is measured.
    if summary["status"] != "finished" or len(summary["accepted"]) + len(summary["rejected"]) != 8:
        raise RuntimeError(f"sweep did not run 8 cases: {summary['reason'] or summary}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="labgate-sweep-"))
    task = root / "sweep.yaml"
    task.write_text(TASK)
    times: dict[str, list[float]] = {"sequential": [], "parallel": []}
    for repeat in range(args.repeats):
        order = ("sequential", "parallel") if repeat % 2 == 0 else ("parallel", "sequential")
        for arm in order:
            workers = 1 if arm == "sequential" else args.workers
            times[arm].append(run(root / f"{arm}-{repeat}", task, workers))
        print(f"repeat {repeat + 1}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in times.items()), flush=True)
    medians = {arm: statistics.median(values) for arm, values in times.items()}
    ratio = medians["sequential"] / medians["parallel"]
    print(f"8 cavity cases (32x32, 10 L/U); {args.repeats} repeats; {os.cpu_count()} cores; {args.workers} workers")
    print(f"  sequential median {medians['sequential']:.1f} s, parallel median {medians['parallel']:.1f} s")
    print(f"  throughput ratio parallel/sequential {ratio:.2f} (limit {args.workers:.1f})")
    print(
        json.dumps(
            {
                "benchmark": "cfd_sweep",
                "cases": 8,
                "workers": args.workers,
                "median_seconds": {k: round(v, 2) for k, v in medians.items()},
                "throughput_ratio": round(ratio, 3),
                "limit": float(args.workers),
            }
        )
    )


if __name__ == "__main__":
    main()
