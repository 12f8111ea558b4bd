"""Kernel gates against more candidates written to get a wrong or unearned answer accepted.

Outputs left unwritten where the answer is what the poison reads as (an integer -1, a float NaN),
state kept in program-scope memory, stacks and loops that never end, reductions that race: each
must end in a verdict that names it, never in an accepted result or a broken harness. The honest
kernels of the same task files must still be accepted.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest
import yaml

from tests.conftest import opencl_usable, require_tool
from tests.test_kernel_gates_hostile import FAST_GRADSHAF, factory
from tools import Catalog
from tools.kernels import SUITE, Harness, KernelsWorkload, KernelTask, Worker, kernel_task
from tools.kernels._judge import _poisoned_runs
from tools.kernels._trial import LATER_POISONS, POISON

pytestmark = [pytest.mark.opencl]


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    with Worker(factory, tmp_path_factory.mktemp("hostile2") / "worker") as shared:
        yield shared


# -- outputs left holding the poison -----------------------------------------------------------------

SIGN_INDEX_SEED = """//@params LOCAL=64
__kernel void sign_index(const int n, __global const float* x, __global int* y) {
    int i = get_global_id(0);
    if (i >= n) return;
    y[i] = x[i] >= 0.0f ? i : -1;
}
"""
SQRT_SEED = """//@params LOCAL=64
__kernel void root(const int n, __global const float* x, __global float* y) {
    int i = get_global_id(0);
    if (i >= n) return;
    y[i] = sqrt(x[i]);
}
"""
POISON_TASKS: dict[str, dict[str, Any]] = {
    # An integer answer that is -1 for half the elements: what 0xFF bytes read as.
    "sign_index": {
        "seed": SIGN_INDEX_SEED,
        "reference": "def reference(n, x):\n    return np.where(x >= 0, np.arange(n), -1).astype(np.int32)\n",
        "x": {"uniform": [-1, 1]},
        "y": "int32",
        "tolerance": "exact",
    },
    # A float answer that is NaN at one element in 2000 (a square root of a negative input): rare enough
    # that the sampled places missed all of them in half of the evaluations.
    "root": {
        "seed": SQRT_SEED,
        "reference": (
            "def reference(n, x):\n"
            "    with np.errstate(invalid='ignore'):\n"
            "        return np.sqrt(x.astype(np.float64))\n"
        ),
        "x": {"uniform": [-0.0005, 1]},
        "y": "float32",
        "tolerance": {"rtol": 1.0e-5, "atol": 1.0e-6},
    },
}
POISON_CHEATS = {
    # name: (task, the seed's line, the cheat's line)
    "stores-only-answers-other-than-minus-one": (
        "sign_index",
        "y[i] = x[i] >= 0.0f ? i : -1;",
        "if (x[i] >= 0.0f) y[i] = i;",
    ),
    "leaves-the-nan-answers-unwritten": ("root", "y[i] = sqrt(x[i]);", "if (x[i] >= 0.0f) y[i] = sqrt(x[i]);"),
}


def poison_task(folder: Path, name: str) -> KernelTask:
    """A task file of one elementwise kernel (`POISON_TASKS`), written to `folder` and loaded as the CLI would."""
    spec = POISON_TASKS[name]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "seed.cl").write_text(spec["seed"])
    (folder / "reference.py").write_text("import numpy as np\n\n\n" + spec["reference"])
    definition = {
        "title": name,
        "contract": f"__kernel void {name}(const int n, __global const float* x, __global {spec['y']}* y)",
        "dims": ["n"],
        "sizes": {"small": {"n": 4096}, "large": {"n": 65536}},
        "heldout": {"heldout": {"n": [20000, 40000]}},
        "args": [
            {"name": "n", "type": "i32", "value": "n"},
            {"name": "x", "type": "buffer", "dtype": "float32", "shape": "n", "role": "in", "init": spec["x"]},
            {"name": "y", "type": "buffer", "dtype": spec["y"], "shape": "n", "role": "out"},
        ],
        "launches": [{"kernel": name, "global": ["n"], "local": ["LOCAL"]}],
        "tunables": {"LOCAL": [64, 0, 128]},
        "tolerance": spec["tolerance"],
        "work": {"bytes": "8 * n", "flops": "n"},
        "reference": "reference.py",
        "seed": "seed.cl",
    }
    document = {
        "id": f"kernels/{name}",
        "workload": "kernels",
        "title": name,
        "goal": "an elementwise kernel whose answer is sometimes what the poison reads as",
        "gates": ["kernel-correctness"],
        "budget": {"experiments": 1, "iterations": 1, "wall_seconds": 600, "experiment_seconds": 300},
        "params": {"kernel": name, "search": "one-plus-one", "evaluations": 2, "definition": definition},
    }
    path = folder / "task.yaml"
    path.write_text(yaml.safe_dump(document))
    loaded = Catalog([KernelsWorkload()]).load(str(path))
    return kernel_task(loaded.params["kernel"], loaded.params["definition"])


def judge_user_task(
    worker: Worker, task: KernelTask, workdir: Path, sources: Mapping[str, str], seeds: Sequence[int]
) -> dict[tuple[str, int], tuple[str, str]]:
    """(status, feedback) of every source at every inputs seed, at the task's own sizes."""
    found: dict[tuple[str, int], tuple[str, str]] = {}
    with task.reference_sandbox(workdir, factory, "opencl"):
        harness = Harness(task, worker, ceilings=None, repeats=3)
        for label, source in sources.items():
            for seed in seeds:
                evaluation = harness.evaluate(source, seed=seed)
                found[(label, seed)] = (evaluation.status, evaluation.feedback())
    return found


@pytest.mark.parametrize("cheat", sorted(POISON_CHEATS))
def test_an_output_left_holding_what_the_poison_reads_as_is_rejected(
    worker: Worker, tmp_path: Path, cheat: str
) -> None:
    name, honest, written = POISON_CHEATS[cheat]
    task = poison_task(tmp_path / name, name)
    source = task.seed.replace(honest, written)
    assert source != task.seed, "the cheat did not change the seed: its replace() missed"
    # Seeds 0 and 3 are ones whose sampled places missed every NaN answer: only the checked runs can tell.
    found = judge_user_task(worker, task, tmp_path / "reference", {"seed": task.seed, "cheat": source}, (0, 3))
    for seed in (0, 3):
        status, feedback = found[("seed", seed)]
        assert status == "ok", feedback
        status, feedback = found[("cheat", seed)]
        assert status == "incorrect", feedback
        assert "elements differ" in feedback or "elements where the reference is not finite differ" in feedback


def test_the_first_run_and_the_later_ones_are_poisoned_with_different_bytes() -> None:
    """The later byte is drawn per size from the evaluation's seed, apart from the inputs' stream."""

    class Spy:
        def __init__(self) -> None:
            self.requests: list[Mapping[str, Any]] = []

        def request(
            self, header: Mapping[str, Any], arrays: Mapping[str, np.ndarray], timeout: float
        ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
            self.requests.append(dict(header))
            return {"ok": False, "stage": "launch", "error": "only watching"}, {}

    bytes_seen = set()
    for seed in range(24):
        spy = Spy()
        Harness(SUITE["saxpy"], cast(Worker, spy)).evaluate(SUITE["saxpy"].seed, seed=seed)
        later = int(spy.requests[0]["poison"])
        assert later in LATER_POISONS and later != POISON
        again = Spy()
        Harness(SUITE["saxpy"], cast(Worker, again)).evaluate(SUITE["saxpy"].seed, seed=seed)
        assert again.requests[0]["poison"] == later, "the poison is reproducible from the recorded seed"
        bytes_seen.add(later)
    assert len(bytes_seen) > 3


def test_unwritten_is_each_runs_own_poison() -> None:
    samples = np.zeros((3, 4), np.float32)
    samples.view(np.uint32)[0, 1] = 0x7F7F7F7F  # the later byte on the first run: a value the run wrote
    assert _poisoned_runs(samples, 0x7F).size == 0
    samples.view(np.uint32)[2, 3] = 0x7F7F7F7F
    assert _poisoned_runs(samples, 0x7F).tolist() == [2]
    samples.view(np.uint32)[1, 0] = 0xFFFFFFFF  # all ones after the first run: a NaN payload, not the poison
    assert _poisoned_runs(samples, 0x7F).tolist() == [2]
    samples.view(np.uint32)[0, 0] = 0xFFFFFFFF
    assert _poisoned_runs(samples, 0x7F).tolist() == [0, 2]
    for byte in LATER_POISONS:
        value = float(np.full(1, byte, np.uint8).repeat(4).view(np.float32)[0])
        assert np.isfinite(value) and abs(value) > 1e36, (byte, value)
        assert int(np.full(1, byte, np.uint8).repeat(4).view(np.int32)[0]) != -1


# -- device state, stacks and races: a verdict that names them -------------------------------------

SAXPY = SUITE["saxpy"].seed
START = "int i = get_global_id(0) * VEC;"

HOSTILE2_CHEATS: dict[str, tuple[str, str, str, str]] = {
    # name: (task, source, which, a phrase the rejection must contain)
    "launch-counter-in-a-program-scope-global": (
        "saxpy",
        "__global int launches = 0;\n" + SAXPY.replace(START, START + "\n    if (i == 0) launches++;"),
        "train",
        "program scope variable must reside in constant address space",
    ),
    "launch-counter-in-a-static-global": (
        "saxpy",
        SAXPY.replace(START, START + "\n    static __global int launches = 0;\n    if (i == 0) launches++;"),
        "train",
        "static local variable must reside in constant address space",
    ),
    "launch-counter-in-its-constant-table": (
        "saxpy",
        "__constant int table[4] = {0, 0, 0, 0};\n"
        + SAXPY.replace(
            START,
            START + "\n    __global volatile int* count = (__global volatile int*)(ulong)table;\n"
            "    if (count[0] > 12) return;\n    if (get_global_id(0) == 0) count[0] += 1;",
        ),
        "train",
        "killed by SIGSEGV",
    ),
    "private-array-beyond-the-stack": (
        "saxpy",
        SAXPY.replace(
            START,
            START + "\n    volatile float hoard[1 << 22];\n    hoard[get_global_id(0) & 1023] = 1.0f;\n"
            "    if (hoard[(get_global_id(0) * 7) & 1023] == 3.0f) return;",
        ),
        "train",
        "killed by SIGSEGV",
    ),
    "reduction-without-barriers": (
        "gradshaf",
        FAST_GRADSHAF.replace(
            "if (lid < s) scratch[lid] = fmax(scratch[lid], scratch[lid + s]);\n        barrier(CLK_LOCAL_MEM_FENCE);",
            "if (lid < s) scratch[lid] = fmax(scratch[lid], scratch[lid + s]);",
        ),
        "train",
        "max over partial",
    ),
}


@pytest.mark.parametrize("cheat", sorted(HOSTILE2_CHEATS))
def test_device_state_stacks_and_races_end_in_a_verdict(worker: Worker, cheat: str) -> None:
    task, source, which, phrase = HOSTILE2_CHEATS[cheat]
    assert source not in (SUITE[task].seed, FAST_GRADSHAF), "the cheat did not change its kernel: a replace() missed"
    evaluation = Harness(SUITE[task], worker, ceilings=None, repeats=3).evaluate(
        source, "heldout" if which == "heldout" else "train", seed=17, sizes=SUITE[task].sizes[:1]
    )
    assert evaluation.status in ("incorrect", "crash", "compile_error"), evaluation.feedback()
    assert phrase in evaluation.feedback(), evaluation.feedback()


@pytest.mark.slow
def test_a_kernel_that_hangs_only_at_heldout_sizes_times_out_and_the_worker_recovers(worker: Worker) -> None:
    hangs = SAXPY.replace(START, START + "\n    if ((n & (n - 1)) != 0) { while (1) { } }")
    harness = Harness(SUITE["saxpy"], worker, ceilings=None, repeats=3, timeout=5.0)
    assert harness.evaluate(hangs, seed=4, sizes=SUITE["saxpy"].sizes[:1]).status == "ok"  # a power of two
    evaluation = harness.evaluate(hangs, "heldout", seed=4)
    assert evaluation.status == "timeout", evaluation.feedback()
    assert "the worker was killed" in evaluation.feedback()
    after = harness.evaluate(SAXPY, "heldout", seed=4)
    assert after.status == "ok", after.feedback()
