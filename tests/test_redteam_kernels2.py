"""Kernel gates against a second round of attacks (see `test_kernel_gates_hostile` and `test_redteam_kernels`).

- Reads past the end of a buffer: a tile or reduction loop with no tail reads the guard bytes at the
  held-out sizes. Guard bytes of 0xA5 read as -2.9e-16, which adds nothing to a sum or a maximum, so
  such a kernel was correct at every drawn size; the guards now read as huge values and NaN.
- An input distribution its buffer's dtype holds as one value (`uniform: [1.0, 1.00000001]` of a
  float32 buffer): every run's inputs were the same, and the host looked for a changed element
  forever. It is bad input now, and the variant draw gives up with an error instead of hanging.
- An answer updated from the last run's: runs whose inputs share 63/64 of their elements let a
  compute-bound kernel redo only the changed part; compute-bound tasks now draw whole new inputs per run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest
import yaml

from sandboxes import LocalSandbox, Sandbox
from tests.conftest import opencl_usable, require_tool
from tools import TaskError
from tools.kernels import SUITE, Harness, Worker, kernel_task
from tools.kernels._definition import read_definition_files
from tools.kernels._trial import guard_pattern
from tools.kernels._variants import draw_variants

CONV1D = Path(__file__).resolve().parent.parent / "tools" / "kernels" / "examples" / "conv1d"


def factory(workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
    return LocalSandbox(workdir=workdir, ro_paths=tuple(ro_paths))


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    with Worker(factory, tmp_path_factory.mktemp("redteam2") / "worker") as shared:
        yield shared


# -- reads past the end of a buffer ----------------------------------------------------------------------

TILE_WITHOUT_TAIL = """//@params LOCAL=64 TILE=1
__kernel void nbody(const int n, const float eps2, __global const float4* pos, __global float4* acc) {
    int i = get_global_id(0);
    float4 pi = pos[i];
    float ax = 0.0f, ay = 0.0f, az = 0.0f;
    __local float4 tile[LOCAL];
    int lid = get_local_id(0);
    for (int base = 0; base < n; base += LOCAL) {
        tile[lid] = pos[base + lid];
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int k = 0; k < LOCAL; ++k) {
            float4 pj = tile[k];
            float dx = pj.x - pi.x, dy = pj.y - pi.y, dz = pj.z - pi.z;
            float inv = rsqrt(dx * dx + dy * dy + dz * dz + eps2);
            float s = pj.w * inv * inv * inv;
            ax += dx * s; ay += dy * s; az += dz * s;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (i < n) acc[i] = (float4)(ax, ay, az, 0.0f);
}
"""
"""The tiled nbody seed without its bounds check on loads: right wherever n is a multiple of LOCAL."""

READ_PAST_CHEATS: dict[str, tuple[str, str, str, str]] = {
    # name: (task, source, which, a phrase the rejection must contain), as `KERNEL_CHEATS`
    "tile-loads-past-the-end": (
        "nbody",
        TILE_WITHOUT_TAIL,
        "heldout",
        "non-finite value",
    ),
    "reduction-reads-past-the-end": (
        "gradshaf",
        SUITE["gradshaf"].seed.replace(
            "i < n; i += get_global_size(0)", "i < ((n + 255) & ~255); i += get_global_size(0)"
        ),
        "heldout",
        "max over partial",
    ),
}


@pytest.mark.parametrize("cheat", sorted(READ_PAST_CHEATS))
def test_a_kernel_reading_past_its_buffers_fails_at_heldout_sizes(worker: Worker, cheat: str) -> None:
    task, source, which, phrase = READ_PAST_CHEATS[cheat]
    assert source != SUITE[task].seed, "the cheat did not change the seed: its replace() missed"
    harness = Harness(SUITE[task], worker, ceilings=None, repeats=3)
    assert harness.evaluate(source, "train", seed=3).ok, "right at the search's sizes: the cheat is a fair test"
    evaluation = harness.evaluate(source, "heldout" if which == "heldout" else "train", seed=4)
    assert evaluation.status == "incorrect", evaluation.feedback()
    assert phrase in evaluation.feedback(), evaluation.feedback()


@pytest.mark.parametrize("before", [True, False])
def test_the_element_just_outside_a_buffer_is_huge_and_a_vector_read_gets_nan(before: bool) -> None:
    guard = guard_pattern(4096, before)
    near = guard[-16:] if before else guard[:16]
    as_float = near.view(np.float32)
    first = as_float[-1] if before else as_float[0]
    assert first > 1e37, as_float
    assert np.isnan(as_float).any() and (as_float < -1e37).any(), as_float
    double = near[-8:].view(np.float64)[0] if before else near[:8].view(np.float64)[0]
    assert double > 1e300
    assert not np.all(guard == 0xFF), "guards must differ from the output poison"


# -- input distributions a buffer holds as one value -------------------------------------------------------


def conv1d_definition() -> dict[str, Any]:
    data = yaml.safe_load((CONV1D / "task.yaml").read_text())
    params = read_definition_files(data["params"], CONV1D)
    return cast(dict[str, Any], params["definition"])


@pytest.mark.parametrize(
    ("init", "field"),
    [
        ({"uniform": [1.0, 1.00000001]}, "uniform"),
        ({"normal": [3.0, 1e-12]}, "normal"),
        ({"normal": [0.0, 1e-50]}, "normal"),  # -0.0 and 0.0: one value
        ({"integers": [16777216, 16777217]}, "integers"),  # float32 rounds both to 2**24
    ],
)
def test_a_distribution_its_dtype_holds_as_one_value_is_bad_input(init: dict[str, Any], field: str) -> None:
    definition = conv1d_definition()
    definition["args"][1]["init"] = init
    with pytest.raises(TaskError, match=re.escape(f"params.definition.args[1].init.{field}: ")):
        kernel_task("conv1d", definition)


def test_narrow_distributions_with_two_values_still_load() -> None:
    for init in ({"uniform": [1.0, 1.0000002]}, {"normal": [3.0, 1e-6]}, {"integers": [0, 1]}):
        definition = conv1d_definition()
        definition["args"][1]["init"] = init
        task = kernel_task("conv1d", definition)
        assert np.unique(task.inputs(task.sizes[0], np.random.default_rng(1))["x"]).size >= 2


@pytest.mark.timeout(60)
def test_constant_inputs_are_an_error_not_a_hang() -> None:
    base = {"x": np.ones(64, np.float32)}
    with pytest.raises(ValueError, match="inputs are constant"):
        draw_variants(base, lambda: {"x": np.ones(64, np.float32)}, 4, np.random.default_rng(1))


# -- answers updated from the last run's -------------------------------------------------------------------


class VariantSpy:
    """A worker that keeps the arrays of each request, and runs nothing."""

    def __init__(self) -> None:
        self.arrays: list[Mapping[str, np.ndarray]] = []

    def request(
        self, header: Mapping[str, Any], arrays: Mapping[str, np.ndarray], timeout: float
    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        self.arrays.append(arrays)
        return {"ok": False, "stage": "launch", "error": "only watching"}, {}


@pytest.mark.parametrize(("task", "whole"), [("nbody", True), ("fft3d", True), ("saxpy", False), ("heat2d", False)])
def test_compute_bound_runs_share_no_inputs_and_memory_bound_runs_change_a_few(task: str, whole: bool) -> None:
    """An nbody kernel that kept each work-group's last inputs and answer in `__local` memory (PoCL keeps it
    between launches) and updated the answer from the bodies that changed since (all-pairs work only where
    more than MAXC had) was correct at every checked run and held-out size, at 2.4x the seed's speed: each
    run shared 63/64 of its inputs with the last. With a whole new draw per run it falls back to the
    all-pairs work every time. Memory-bound tasks keep the cheap variants: finding the changed elements
    costs the whole read there, and every output must be written anyway.
    """
    spy = VariantSpy()
    Harness(SUITE[task], cast(Worker, spy), repeats=3).evaluate(SUITE[task].seed, seed=2, sizes=SUITE[task].sizes[:1])
    (arrays,) = spy.arrays
    for key, index in arrays.items():
        if key.startswith("variant") and key.endswith(":index"):
            count = arrays[key.split(":")[1]].size
            assert (index.size == count) is whole, (key, index.size, count)
