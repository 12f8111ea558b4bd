"""The CUDA backend runs the same suite on an NVIDIA GPU; skipped where there is none (CI has none)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from sandboxes import LocalSandbox, Sandbox
from tests.conftest import require_tool
from tools.kernels import SUITE, Harness, Worker


def _gpu_available() -> bool:
    try:
        import cupy

        return int(cupy.cuda.runtime.getDeviceCount()) > 0
    except Exception:  # noqa: BLE001 - no CuPy, no driver or no device all mean no GPU
        return False


def factory(workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
    # The GPU device nodes must be visible to the worker; run it without the namespace sandbox.
    return LocalSandbox(workdir=workdir, ro_paths=tuple(ro_paths), isolation=False)


@pytest.mark.gpu
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SUITE))
def test_seed_runs_correctly_on_the_cuda_backend(tmp_path: Path, name: str) -> None:
    if not _gpu_available():
        pytest.skip("no NVIDIA GPU with CuPy here")
    with Worker(factory, tmp_path / "worker", backend="cuda") as worker:
        assert worker.ensure()["backend"] == "cuda"
        harness = Harness(SUITE[name], worker, ceilings=None, repeats=3)
        for which in ("train", "heldout"):
            evaluation = harness.evaluate(SUITE[name].seed, which, seed=3)
            assert evaluation.status == "ok", evaluation.feedback()


@pytest.mark.parametrize("name", sorted(SUITE))
def test_every_seed_and_tunable_value_compiles_with_nvrtc(name: str) -> None:
    """Compile-only (no GPU needed): the CUDA spelling of each seed, for every allowed tunable value."""
    from tools.kernels._nvrtc import find_nvrtc, nvrtc_kernels

    require_tool(find_nvrtc() is not None, "NVRTC (pip install -e '.[dev]' or '.[cuda]')")
    task = SUITE[name]
    defaults = task.parse(task.seed).params
    declared = set(re.findall(r"__kernel\s+void\s+(\w+)", task.seed))
    assert declared
    configurations = [defaults] + [{**defaults, k: v} for k, values in task.tunables.items() for v in values]
    for params in configurations:
        log, kernels = nvrtc_kernels(task.seed, params)
        assert log == "", params
        assert set(kernels) == declared, (params, kernels)


def test_bare_opencl_qualifiers_still_make_kernels() -> None:
    """`kernel`/`global`/`local` without underscores are OpenCL C too; they must not erase `__global__`."""
    from tools.kernels._nvrtc import find_nvrtc, nvrtc_kernels

    require_tool(find_nvrtc() is not None, "NVRTC (pip install -e '.[dev]' or '.[cuda]')")
    source = (
        "kernel void scale(global float* x, const int n) {\n"
        "  local float tile[64];\n"
        "  int i = get_global_id(0); int l = get_local_id(0);\n"
        "  tile[l] = i < n ? x[i] : 0.0f; barrier(CLK_LOCAL_MEM_FENCE);\n"
        "  if (i < n) x[i] = 2.0f * tile[l];\n"
        "}\n"
    )
    assert nvrtc_kernels(source, {}) == ("", ["scale"])


def test_nvrtc_reports_errors_in_the_candidates_own_line_numbers() -> None:
    from tools.kernels._nvrtc import find_nvrtc, nvrtc_compile

    require_tool(find_nvrtc() is not None, "NVRTC (pip install -e '.[dev]' or '.[cuda]')")
    from tools.kernels._cuda import _shift_lines

    log = nvrtc_compile("__kernel void k(__global float* x) {\n  x[0] = ;\n}\n", {})
    assert "error" in log
    assert "(2)" in _shift_lines(log)


def test_the_ceiling_probes_compile_for_cuda_at_the_widths_it_has() -> None:
    """The probes measure the ceilings every fraction is judged against; each must compile to its kernels."""
    from tools.kernels._cuda import CudaBackend
    from tools.kernels._nvrtc import find_nvrtc, nvrtc_kernels
    from tools.kernels._probes import FMA_OPS, FMA_WIDTHS, TRIAD_WIDTHS, fma_source, triad_source

    require_tool(find_nvrtc() is not None, "NVRTC (pip install -e '.[dev]' or '.[cuda]')")
    widths = CudaBackend.vector_widths
    assert [w for w in TRIAD_WIDTHS if w in widths] and [w for w in FMA_WIDTHS if w in widths]
    for width in [w for w in TRIAD_WIDTHS if w in widths]:
        assert nvrtc_kernels(triad_source(width), {}) == ("", ["triad", "update"])
    for op in FMA_OPS:
        for width in [w for w in FMA_WIDTHS if w in widths]:
            assert nvrtc_kernels(fma_source(width, op), {}) == ("", ["fma_peak"])


def test_inline_assembly_pasted_together_does_not_compile_with_nvrtc() -> None:
    """`CAT(as, m)` passes the text check on `asm`; the keyword is a macro in every CUDA compile, as in OpenCL's,
    so the pasted one names no assembly and the kernel does not compile (it would read the GPU's clock)."""
    from tools.kernels._nvrtc import find_nvrtc, nvrtc_kernels

    require_tool(find_nvrtc() is not None, "NVRTC (pip install -e '.[dev]' or '.[cuda]')")
    source = (
        "#define CAT(a, b) a##b\n"
        "__kernel void saxpy(const int n, const float a, __global const float* x, __global float* y) {\n"
        "    unsigned long long t;\n"
        '    CAT(as, m) volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));\n'
        "    int i = get_global_id(0);\n"
        "    if (i < n) y[i] = a * x[i] + y[i] + (float)(t & 0);\n"
        "}\n"
    )
    log, kernels = nvrtc_kernels(source, {})
    assert "inline_assembly_is_not_allowed" in log and kernels == []
    honest = source.replace('    CAT(as, m) volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));\n', "    t = 0;\n")
    assert nvrtc_kernels(honest, {}) == ("", ["saxpy"])
