"""The CUDA backend on a real NVIDIA GPU: every suite task's seed judged at its search and held-out sizes,
then one short built-in search whose winner is re-checked at the held-out sizes.

The worker runs without the namespace sandbox (the GPU's device nodes must be visible to it), as
`tests/test_kernels_cuda.py` does. Fractions are of this GPU's ceilings as the harness measures them
(triad bandwidth per working set, FMA throughput), so they are comparable with the OpenCL numbers only
as fractions. Prints one line per task and a JSON line with everything; `--out FILE` also writes the JSON.

Needs CuPy with a CUDA driver (`pip install -e '.[cuda]'`) and a GPU.
Usage: python bench/cuda_check.py [--tasks saxpy,heat2d] [--search heat2d] [--evaluations 24] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agents.kernel_search import BuiltinProposer, run_search
from sandboxes import LocalSandbox, Sandbox
from tools.kernels import SUITE, Evaluation, KernelSearchParams, KernelTask, ceilings_record, open_harness

BACKEND = "cuda"


def factory(workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
    return LocalSandbox(workdir=workdir, ro_paths=tuple(ro_paths), isolation=False)


def gpu_description() -> dict[str, Any]:
    import cupy

    properties = cupy.cuda.runtime.getDeviceProperties(0)
    name = properties["name"]
    return {
        "name": name.decode() if isinstance(name, bytes) else str(name),
        "compute_capability": f"{properties['major']}.{properties['minor']}",
        "multiprocessors": int(properties["multiProcessorCount"]),
        "memory_gib": round(int(properties["totalGlobalMem"]) / 2**30, 1),
        "driver": int(cupy.cuda.runtime.driverGetVersion()),
        "runtime": int(cupy.cuda.runtime.runtimeGetVersion()),
        "cupy": cupy.__version__,
    }


def summary(evaluation: Evaluation) -> dict[str, Any]:
    return {
        "status": evaluation.status,
        "message": evaluation.message[:400],
        "fitness": evaluation.fitness,
        "sizes": [size.line() for size in evaluation.sizes],
    }


def check_seed(task: KernelTask, root: Path) -> dict[str, Any]:
    started = time.monotonic()
    with open_harness(task, root / task.name / "worker", factory, backend=BACKEND, heldout=True) as harness:
        train = harness.evaluate(task.seed, "train", seed=3)
        heldout = harness.evaluate(task.seed, "heldout", seed=4)
        ceilings = ceilings_record(harness)
    return {
        "task": task.name,
        "train": summary(train),
        "heldout": summary(heldout),
        "fma_gflops": ceilings["fma_gflops"],
        "triad_gbps": ceilings["triad_gbps"],
        "update_gbps": ceilings["update_gbps"],
        "seconds": time.monotonic() - started,
    }


def check_search(task: KernelTask, evaluations: int, root: Path) -> dict[str, Any]:
    params = KernelSearchParams(kernel=task.name, evaluations=evaluations, backend=BACKEND)
    started = time.monotonic()
    with open_harness(task, root / "search" / "worker", factory, backend=BACKEND, heldout=True) as harness:
        result = run_search(task, params, harness, BuiltinProposer(task, backend=BACKEND), seed=0, seconds=math.inf)
        winner = result["winner"]
        seed_train = harness.evaluate(task.seed, "train", seed=11)
        winner_train = harness.evaluate(winner.source, "train", seed=11)
        winner_heldout = harness.evaluate(winner.source, "heldout", seed=12)
    return {
        "task": task.name,
        "evaluations": len(result["evaluator"].individuals),
        "seed": summary(seed_train),
        "winner": summary(winner_train),
        "winner_heldout": summary(winner_heldout),
        "winner_params": winner_train.params,
        "winner_variant": next((line for line in winner.source.splitlines() if "// variant:" in line), "seed"),
        "seconds": time.monotonic() - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default=",".join(sorted(SUITE)))
    parser.add_argument("--search", default="heat2d", help="task for the short search ('' for none)")
    parser.add_argument("--evaluations", type=int, default=24)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--backend", choices=("cuda", "opencl"), default="cuda", help="opencl: a dry run of this script"
    )
    args = parser.parse_args()
    global BACKEND
    BACKEND = args.backend
    gpu = gpu_description() if BACKEND == "cuda" else {"name": "OpenCL dry run"}
    report: dict[str, Any] = {"gpu": gpu, "seeds": [], "search": None}
    print(json.dumps(report["gpu"]), flush=True)
    with tempfile.TemporaryDirectory(prefix="labgate-cuda-") as scratch:
        root = Path(scratch)
        for name in [n for n in args.tasks.split(",") if n]:
            try:
                row = check_seed(SUITE[name], root)
            except Exception as error:  # noqa: BLE001 - one task's failure is reported, the rest still run
                row = {"task": name, "error": f"{type(error).__name__}: {error}", "trace": traceback.format_exc()}
            report["seeds"].append(row)
            if "error" in row:
                print(f"{name:10s} ERROR {row['error']}", flush=True)
            else:
                print(
                    f"{name:10s} train {row['train']['status']} fitness {row['train']['fitness']:.3f}  "
                    f"held-out {row['heldout']['status']} fitness {row['heldout']['fitness']:.3f}  "
                    f"({row['seconds']:.1f} s)",
                    flush=True,
                )
        if args.search:
            try:
                report["search"] = check_search(SUITE[args.search], args.evaluations, root)
                search = report["search"]
                print(
                    f"search {args.search}: {search['evaluations']} evaluations, seed fitness "
                    f"{search['seed']['fitness']:.3f}, winner {search['winner']['fitness']:.3f}, held-out "
                    f"{search['winner_heldout']['status']}, {search['winner_variant']} ({search['seconds']:.1f} s)",
                    flush=True,
                )
            except Exception as error:  # noqa: BLE001 - reported in the JSON line
                report["search"] = {"error": f"{type(error).__name__}: {error}", "trace": traceback.format_exc()}
                print(f"search ERROR {report['search']['error']}", flush=True)
    line = json.dumps(report)
    print(line)
    if args.out is not None:
        args.out.write_text(line + "\n")
    failed = [row for row in report["seeds"] if "error" in row or row["train"]["status"] != "ok"]
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
