"""Kernel tasks of one's own in shapes the suite never sends: NaN references, integer outputs, other folders.

Each test is a defect a user's task file met: a reference or seed read from outside the task's
folder, an honest kernel rejected where the reference is NaN, a reference whose float or
transposed answer was cast into the output without a word, a u32 scalar wrapped, and a held-out
size that was a searched one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from sandboxes import LocalSandbox, Sandbox
from tests.conftest import opencl_usable, require_tool
from tools import Catalog, TaskError
from tools.kernels import Harness, KernelsWorkload, KernelTask, _judge, kernel_task, open_harness, read_definition_files
from tools.kernels._judge import ReferenceCache
from tools.kernels._reference_run import run_reference
from tools.kernels._task import Size, exact_check
from tools.kernels._trial import checked_runs
from tools.kernels._variants import draw_variants, inputs_of

EXAMPLES = Path(__file__).resolve().parent.parent / "tools" / "kernels" / "examples"

SQRT_SEED = """
__kernel void root(const int n, __global const float* x, __global float* y) {
    int i = get_global_id(0);
    if (i < n) y[i] = sqrt(x[i]);
}
"""
SQRT_REFERENCE = """
import numpy as np


def reference(x):
    with np.errstate(invalid="ignore"):
        return np.sqrt(x)
"""


def sqrt_definition(tolerance: Any) -> dict[str, Any]:
    """y = sqrt(x) of inputs in [-1, 1]: the reference is NaN at every negative input."""
    return {
        "contract": "y[i] = sqrt(x[i]) for i < n (NaN where x[i] < 0)",
        "dims": ["n"],
        "sizes": {"small": {"n": 4096}},
        "heldout": {"h": {"n": [1000, 3000]}},
        "args": [
            {"name": "n", "type": "i32", "value": "n"},
            {
                "name": "x",
                "type": "buffer",
                "dtype": "float32",
                "shape": "n",
                "role": "in",
                "init": {"uniform": [-1, 1]},
            },
            {"name": "y", "type": "buffer", "dtype": "float32", "shape": "n", "role": "out"},
        ],
        "launches": [{"kernel": "root", "global": ["n"]}],
        "tolerance": tolerance,
        "work": {"bytes": "8 * n", "flops": "n"},
        "reference": "reference.py",
        "seed": "seed.cl",
        "files": {"reference.py": SQRT_REFERENCE, "seed.cl": SQRT_SEED},
    }


# -- files from beside the task file only -------------------------------------------------------------


def _params(reference: str) -> dict[str, Any]:
    return {"kernel": "mine", "definition": {"reference": reference, "seed": "seed.cl"}}


@pytest.mark.parametrize(
    "name", ["../elsewhere/reference.py", "/ABSOLUTE/reference.py", "sub/../../elsewhere/reference.py"]
)
def test_a_reference_outside_the_task_folder_is_bad_input(tmp_path: Path, name: str) -> None:
    """`reference: /home/me/other/reference.py` (or `../`) read that file into the recorded run."""
    folder, elsewhere = tmp_path / "task", tmp_path / "elsewhere"
    (folder / "sub").mkdir(parents=True)
    elsewhere.mkdir()
    (folder / "seed.cl").write_text(SQRT_SEED)
    (elsewhere / "reference.py").write_text(SQRT_REFERENCE)
    name = name.replace("/ABSOLUTE", str(elsewhere))
    with pytest.raises(
        TaskError, match=r"params\.definition\.reference: .*(must name a file in|leads outside) the task file.s folder"
    ):
        read_definition_files(_params(name), folder)


def test_a_link_leading_out_of_the_task_folder_is_bad_input(tmp_path: Path) -> None:
    folder, elsewhere = tmp_path / "task", tmp_path / "elsewhere"
    folder.mkdir()
    elsewhere.mkdir()
    (elsewhere / "reference.py").write_text(SQRT_REFERENCE)
    (folder / "seed.cl").write_text(SQRT_SEED)
    os.symlink(elsewhere / "reference.py", folder / "reference.py")
    with pytest.raises(TaskError, match=r"params\.definition\.reference: .*leads outside"):
        read_definition_files(_params("reference.py"), folder)


def test_files_in_the_task_folder_and_its_subfolders_are_read(tmp_path: Path) -> None:
    (tmp_path / "ref").mkdir()
    (tmp_path / "ref" / "reference.py").write_text(SQRT_REFERENCE)
    (tmp_path / "seed.cl").write_text(SQRT_SEED)
    files = read_definition_files(_params("ref/reference.py"), tmp_path)["definition"]["files"]
    assert files == {"ref/reference.py": SQRT_REFERENCE, "seed.cl": SQRT_SEED}


def test_a_task_file_naming_a_reference_outside_its_folder_is_refused_when_loaded(tmp_path: Path) -> None:
    folder = tmp_path / "conv1d"
    shutil.copytree(EXAMPLES / "conv1d", folder)
    data = yaml.safe_load((folder / "task.yaml").read_text())
    data["params"]["definition"]["reference"] = str(EXAMPLES / "conv1d" / "reference.py")
    (folder / "task.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(TaskError, match=r"params\.definition\.reference: .*task file's folder"):
        Catalog([KernelsWorkload()]).load(str(folder / "task.yaml"))


# -- NaN where the reference is NaN --------------------------------------------------------------------


def test_exact_equality_holds_nan_where_the_reference_is_nan() -> None:
    want = np.array([1.0, np.nan, 2.0], np.float32)
    assert exact_check(np.array([1.0, np.nan, 2.0], np.float32), want).ok
    assert not exact_check(np.array([1.0, 0.0, 2.0], np.float32), want).ok
    assert not exact_check(np.array([np.nan, np.nan, 2.0], np.float32), want).ok
    assert exact_check(np.array([3, -1], np.int32), np.array([3, -1], np.int32)).ok
    # Bit for bit, a zero's sign counts (under `!=` -0.0 equalled +0.0); a NaN's payload does not.
    assert not exact_check(np.array([0.0], np.float32), np.array([-0.0], np.float32)).ok
    assert exact_check(np.array([-0.0, -np.nan], np.float32), np.array([-0.0, np.nan], np.float32)).ok


def test_only_the_poison_pattern_counts_as_unwritten() -> None:
    computed_nan = np.array([[1.0, np.nan], [2.0, 3.0]], np.float32)
    assert _judge._poisoned_runs(computed_nan).size == 0
    poisoned = computed_nan.copy()
    poisoned.view(np.uint32)[1, 0] = 0xFFFFFFFF
    assert _judge._poisoned_runs(poisoned).tolist() == [1]
    doubles = np.zeros((3, 4), np.float64)
    doubles.view(np.uint64)[2, 3] = 0xFFFFFFFFFFFFFFFF
    assert _judge._poisoned_runs(doubles).tolist() == [2]


def factory(workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
    return LocalSandbox(workdir=workdir, ro_paths=tuple(ro_paths))


@pytest.fixture
def harness_of(tmp_path: Path) -> Iterator[Any]:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    opened: list[Any] = []

    def open_one(task: KernelTask) -> Harness:
        context = open_harness(task, tmp_path / f"worker{len(opened)}", factory, cache_dir=tmp_path / "ceilings")
        opened.append(context)
        return context.__enter__()

    yield open_one
    for context in opened:
        context.__exit__(None, None, None)


@pytest.mark.opencl
@pytest.mark.parametrize("tolerance", ["exact", {"rtol": 1e-6, "atol": 0.0}], ids=["exact", "rtol"])
def test_an_honest_kernel_is_accepted_where_the_reference_is_nan(harness_of: Any, tolerance: Any) -> None:
    """sqrt of inputs in [-1, 1]: the seed computes the reference's NaN and was rejected ("left output y
    unwritten or NaN at sampled places", and under `exact` NaN != NaN); kernels writing 0 there, or
    leaving those elements unwritten, still fail."""
    task = kernel_task("roots", sqrt_definition(tolerance))
    harness = harness_of(task)
    evaluation = harness.evaluate(task.seed, seed=5, repeats=3)
    assert evaluation.status == "ok", evaluation.feedback()
    zero = task.seed.replace("y[i] = sqrt(x[i]);", "y[i] = x[i] < 0.0f ? 0.0f : sqrt(x[i]);")
    assert harness.evaluate(zero, seed=5, repeats=3).status == "incorrect"
    skip = task.seed.replace("if (i < n)", "if (i < n && x[i] >= 0.0f)")
    assert harness.evaluate(skip, seed=5, repeats=3).status == "incorrect", "unwritten elements stay poisoned"
    half = task.seed.replace("if (i < n)", "if (i < n / 2)")
    assert harness.evaluate(half, seed=5, repeats=3).status == "incorrect"


# -- what a Python reference returns -------------------------------------------------------------------


def _request(source: str, dtype: str, shape: list[int]) -> dict[str, Any]:
    count = int(np.prod(shape))
    spec = {"name": "y", "dtype": dtype, "role": "out", "shape": shape, "count": count}
    return {
        "op": "reference",
        "kind": "python",
        "filename": "reference.py",
        "source": source,
        "function": "reference",
        "exact": True,
        "sizes": {"n": count},
        "scalars": {},
        "buffers": [{"name": "x", "dtype": dtype, "role": "in", "shape": shape, "count": count}, spec],
        "outputs": [spec],
    }


def _reference_of(source: str, dtype: str, shape: list[int], x: np.ndarray) -> tuple[dict[str, Any], Any]:
    return run_reference(None, _request(source, dtype, shape), {"x": x})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("return x / 2", "is int32 but the reference returned 1.5 at element 1"),
        ("return np.full(x.shape, np.nan)", "is int32 but the reference returned nan at element 0"),
        ("return x.astype(np.float64) * 1e10", "not whole int32 numbers"),
        ("return x.astype(np.complex128)", "complex"),
    ],
)
def test_float_answers_for_an_integer_output_are_an_error_not_a_cast(body: str, message: str) -> None:
    """`x / 2` for an int32 output was truncated toward zero and the kernel judged against that."""
    x = np.array([2, 3, 4, 5], np.int32)
    reply, _ = _reference_of(f"import numpy as np\ndef reference(x):\n    {body}\n", "int32", [4], x)
    assert reply["ok"] is False and message in reply["error"], reply


def test_whole_float_answers_and_wrapping_integers_still_serve() -> None:
    x = np.array([2, 3, 4, 5], np.int32)
    reply, arrays = _reference_of("def reference(x):\n    return x * 2.0\n", "int32", [4], x)
    assert reply["ok"] and arrays["y"].tolist() == [4, 6, 8, 10]
    reply, arrays = _reference_of(
        "import numpy as np\ndef reference(x):\n    return x.astype(np.int64) + 2**32\n", "int32", [4], x
    )
    assert reply["ok"] and arrays["y"].tolist() == [2, 3, 4, 5], "integer answers wrap as the device's do"


def test_an_answer_in_another_arrangement_of_the_declared_shape_is_an_error() -> None:
    """A transpose's reference that forgot `.T` returned (m, n) for an (n, m) output and was compared flat."""
    x = np.arange(6, dtype=np.float32)
    source = "def reference(x):\n    return x.T.copy().T.reshape(2, 3)\n"
    reply, _ = _reference_of(source, "float32", [3, 2], x)
    assert reply["ok"] is False and "has shape (2, 3); its declared shape is (3, 2)" in reply["error"], reply
    reply, _ = _reference_of("def reference(x):\n    return x.reshape(-1)\n", "float32", [3, 2], x)
    assert reply["ok"], "a flat answer holds the declared order"


# -- scalars and held-out sizes ------------------------------------------------------------------------


def test_a_u32_scalar_that_does_not_fit_is_bad_input() -> None:
    """`value: n - 5000` of a u32 reached the kernel at n = 4096 as 4294966392."""
    definition = sqrt_definition("exact")
    definition["args"].insert(1, {"name": "key", "type": "u32", "value": "n - 5000"})
    with pytest.raises(TaskError, match=r"params\.definition\.args\[1\]\.value: -904 .* does not fit a u32"):
        kernel_task("roots", definition)
    definition["args"][1]["value"] = "n * 1048576"
    with pytest.raises(TaskError, match="does not fit a u32"):
        kernel_task("roots", definition)
    definition["args"][1]["value"] = "n + 5000"
    kernel_task("roots", definition)


def test_a_held_out_size_that_is_a_searched_size_is_bad_input() -> None:
    """`heldout: {h: {n: 4096}}` beside the search size 4096 let a kernel answering only n == 4096 pass."""
    definition = sqrt_definition("exact")
    definition["heldout"] = {"h": {"n": 4096}}
    with pytest.raises(TaskError, match=r"params\.definition\.heldout\.h: only holds sizes the search runs"):
        kernel_task("roots", definition)
    definition["heldout"] = {"other": {"n": 3001}, "h": {"n": [4096, 4096]}}
    with pytest.raises(TaskError, match=r"heldout\.h: "):
        kernel_task("roots", definition)
    # 7919 is the only prime in [7919, 7920]: every draw is the searched size.
    definition["sizes"] = {"small": {"n": 4096}, "prime": {"n": 7919}}
    definition["heldout"] = {"h": {"n": [7919, 7920]}}
    with pytest.raises(TaskError, match=r"heldout\.h: only holds sizes the search runs"):
        kernel_task("roots", definition)
    for fine in ({"n": 4097}, {"n": [4096, 4200]}, {"n": [7919, 7940]}):
        definition["heldout"] = {"h": fine}
        kernel_task("roots", definition)


@pytest.mark.opencl
def test_a_kernel_taking_other_arguments_than_the_launch_passes_is_named(harness_of: Any) -> None:
    """A `__local float*` parameter (which a task file cannot pass) was `TypeError: set_args() missing 1
    required positional argument: 'arg3'`."""
    task = kernel_task("roots", sqrt_definition("exact"))
    local = SQRT_SEED.replace("__global float* y)", "__global float* y, __local float* scratch)")
    evaluation = harness_of(task).evaluate(local, seed=5, repeats=3)
    assert evaluation.status == "launch_error", evaluation.feedback()
    assert "root failed: the kernel takes 4 arguments and the launch passes 3" in evaluation.feedback(), (
        evaluation.feedback()
    )


@pytest.mark.opencl
def test_a_launch_naming_a_kernel_the_source_lacks_names_those_it_has(harness_of: Any) -> None:
    """`clCreateKernel failed: INVALID_KERNEL_NAME` was all a seed whose kernel had another name got."""
    task = kernel_task("roots", sqrt_definition("exact"))
    renamed = SQRT_SEED.replace("void root(", "void square_root(")
    evaluation = harness_of(task).evaluate(renamed, seed=5, repeats=3)
    assert evaluation.status == "launch_error", evaluation.feedback()
    assert "defines no kernel 'root' (it defines square_root)" in evaluation.feedback(), evaluation.feedback()


# -- answers a few changed inputs leave as they were -------------------------------------------------------


class _Reduction:
    """Just what `fresh_answers` asks of a task: its reference (a maximum, a sum, or a constant)."""

    name = "reduction"

    def __init__(self, kind: str, *, from_user: bool = False) -> None:
        self.kind = kind
        self.calls = 0
        self.reference_from_user = from_user

    def reference(self, size: Any, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        self.calls += 1
        x = inputs["x"]
        value = {"max": x.max(), "sum": x.astype(np.float64).sum(), "constant": 1.0}[self.kind]
        return {"out": np.array([value])}


def _variants_of(
    kind: str, checked: list[int], *, from_user: bool = False
) -> tuple[_Reduction, dict[str, np.ndarray], dict[str, np.ndarray], set[int]]:
    rng = np.random.default_rng(11)
    task = _Reduction(kind, from_user=from_user)

    def draw() -> dict[str, np.ndarray]:
        return {"x": rng.uniform(0.0, 1.0, 1 << 16).astype(np.float32)}

    base = draw()
    variants = draw_variants(base, draw, 8, rng)
    redrawn = _judge.fresh_answers(task, Size("a", (1 << 16,)), base, variants, checked, draw, None)  # type: ignore[arg-type]
    return task, base, variants, redrawn


def test_every_checked_run_gets_an_answer_of_its_own() -> None:
    """A maximum over 2**16 values rarely moves when one element in 64 changes: a kernel returning the
    answer it remembered from run 0 (`__local` memory outlives a launch on PoCL) was right at every
    checked run, and its replayed runs made it 31x the seed."""
    checked = [0, 4, 7]
    task, base, variants, redrawn = _variants_of("max", checked)
    first = task.reference(None, inputs_of(base, variants, 0))["out"]
    for run in checked[1:]:
        assert task.reference(None, inputs_of(base, variants, run))["out"] != first, run
    assert redrawn


def test_answers_that_change_anyway_keep_their_few_changed_elements() -> None:
    _, base, variants, redrawn = _variants_of("sum", [0, 4, 7])
    assert not redrawn
    assert all(variants[f"variant{run}:x:index"].size < base["x"].size // 8 for run in range(1, 8))


def test_an_answer_no_input_changes_is_left_after_a_few_draws() -> None:
    task, _, _, redrawn = _variants_of("constant", [0, 4, 7])
    assert redrawn and task.calls <= 1 + 2 * (_judge.FRESH_ATTEMPTS + 1)


def test_a_task_files_reference_that_no_input_changes_is_the_tasks_fault() -> None:
    """Against such a reference a kernel writing the constant was correct, and the task's own seed was not."""
    with pytest.raises(TaskError, match=r"same answer for .* independent draws"):
        _variants_of("constant", [0, 4, 7], from_user=True)
    _variants_of("max", [0, 4, 7], from_user=True)  # an answer new draws change is no fault


MAX_DEFINITION: dict[str, Any] = {
    "contract": "out[0] = the largest of x[0..n)",
    "dims": ["n"],
    "sizes": {"a": {"n": 65536}},
    "heldout": {"h": {"n": [30000, 40000]}},
    "args": [
        {"name": "n", "type": "i32", "value": "n"},
        {"name": "x", "type": "buffer", "dtype": "float32", "shape": "n", "role": "in"},
        {"name": "out", "type": "buffer", "dtype": "float32", "shape": 1, "role": "out"},
    ],
    "launches": [{"kernel": "mx", "global": [256], "local": [256]}],
    "tolerance": "exact",
    "work": {"bytes": "4 * n", "flops": "n"},
    "reference": "reference.py",
    "seed": "seed.cl",
    "files": {"reference.py": "def reference(x):\n    return [x.max()]\n", "seed.cl": "__kernel void mx() {}\n"},
}


class RememberingWorker:
    """A kernel that computes the maximum at run 0 and returns that answer at every later run."""

    def request(
        self, header: Mapping[str, Any], arrays: Mapping[str, np.ndarray], timeout: float
    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        warmup, timed = int(header["warmup"]), int(header["repeats"])
        runs = 1 + warmup + timed
        checked = checked_runs(1 + warmup, timed, [float(u) for u in header["check"]])
        remembered = np.array([arrays["x"].max()], np.float32)
        payload: dict[str, np.ndarray] = {
            "guard_faults": np.zeros((0, 5), np.int32),
            "input_changes": np.zeros((0, 4), np.int64),
            "sample:out": np.stack([remembered] * runs),
        }
        for run in checked:
            payload[f"out@{run}"] = remembered.view(np.uint8)
        digest = hashlib.sha256(np.ascontiguousarray(arrays["x"]).data).hexdigest()
        reply = {
            "ok": True,
            "times": [1e-3] * timed,
            "rival_times": [],
            "runs": runs,
            "first_timed": 1 + warmup,
            "checked": checked,
            "final_digests": {"x": digest},
            "phases": {"launch": 0.0},
        }
        return reply, payload


def _maximum(size: Size, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {"out": np.array([inputs["x"].max()], np.float32)}


def test_a_kernel_remembering_its_first_answer_is_caught_where_the_answer_rarely_moves() -> None:
    """With one element in 64 changed per run, the maximum of 65536 values stayed as it was at every checked
    run of most trials: the remembering kernel passed them all."""
    task = kernel_task("maximum", MAX_DEFINITION)
    harness = Harness(task, RememberingWorker(), ceilings=None, repeats=3)  # type: ignore[arg-type]
    harness.references = ReferenceCache(_maximum)
    for seed in range(6):
        evaluation = harness.evaluate(task.seed, seed=seed, sizes=task.sizes)
        assert evaluation.status == "incorrect", (seed, evaluation.feedback())
