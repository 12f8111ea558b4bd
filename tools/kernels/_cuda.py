"""The CUDA backend (CuPy + NVRTC) for NVIDIA GPUs, running the same OpenCL C suite.

Candidates are written in the OpenCL C subset the suite uses; a prelude maps it onto CUDA
(address-space qualifiers, work-item functions, barriers, float2/float4 arithmetic, vload/vstore).
A candidate that uses OpenCL features outside the prelude fails to compile here with NVRTC's own
message. Not verified on GPU hardware in this repository's development environment (see README).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from tools.kernels._backend import NO_ASSEMBLY_DEFINES, Backend, DeviceInfo, KernelCompileError, KernelLaunchError

CUDA_PRELUDE = r"""
#define __kernel extern "C" __global__
#define __global
#define __local __shared__
#define __constant __constant__ const
#define INFINITY __int_as_float(0x7f800000)
#define M_PI_F 3.14159265358979323846f
#define as_float(x) __int_as_float(x)
#define as_int(x) __float_as_int(x)
#define as_uint(x) ((unsigned int)__float_as_int(x))
#define __private
#define restrict __restrict__
#define CLK_LOCAL_MEM_FENCE 1
#define CLK_GLOBAL_MEM_FENCE 2
#define barrier(flags) __syncthreads()
#define mem_fence(flags) __threadfence()
typedef unsigned int uint;
typedef unsigned char uchar;
typedef unsigned long ulong;
__device__ inline size_t get_global_id(int d) {
  return d == 0 ? blockIdx.x * (size_t)blockDim.x + threadIdx.x
       : d == 1 ? blockIdx.y * (size_t)blockDim.y + threadIdx.y : blockIdx.z * (size_t)blockDim.z + threadIdx.z; }
__device__ inline size_t get_local_id(int d) { return d == 0 ? threadIdx.x : d == 1 ? threadIdx.y : threadIdx.z; }
__device__ inline size_t get_group_id(int d) { return d == 0 ? blockIdx.x : d == 1 ? blockIdx.y : blockIdx.z; }
__device__ inline size_t get_local_size(int d) { return d == 0 ? blockDim.x : d == 1 ? blockDim.y : blockDim.z; }
__device__ inline size_t get_num_groups(int d) { return d == 0 ? gridDim.x : d == 1 ? gridDim.y : gridDim.z; }
__device__ inline size_t get_global_size(int d) { return get_num_groups(d) * get_local_size(d); }
__device__ inline float mad(float a, float b, float c) { return fmaf(a, b, c); }
__device__ inline float native_rsqrt(float x) { return rsqrtf(x); }
__device__ inline float native_sqrt(float x) { return sqrtf(x); }
__device__ inline float native_exp(float x) { return __expf(x); }
__device__ inline float native_log(float x) { return __logf(x); }
__device__ inline float native_sin(float x) { return __sinf(x); }
__device__ inline float native_cos(float x) { return __cosf(x); }
__device__ inline float native_recip(float x) { return __frcp_rn(x); }
__device__ inline float native_divide(float a, float b) { return __fdividef(a, b); }
__device__ inline float rsqrt(float x) { return rsqrtf(x); }
__device__ inline float sincos(float x, float* c) { float s; sincosf(x, &s, c); return s; }
__device__ inline float2 make_float2(float s) { return make_float2(s, s); }
__device__ inline float4 make_float4(float s) { return make_float4(s, s, s, s); }
__device__ inline float2 operator+(float2 a, float2 b) { return make_float2(a.x + b.x, a.y + b.y); }
__device__ inline float2 operator-(float2 a, float2 b) { return make_float2(a.x - b.x, a.y - b.y); }
__device__ inline float2 operator*(float2 a, float2 b) { return make_float2(a.x * b.x, a.y * b.y); }
__device__ inline float2 operator*(float s, float2 a) { return make_float2(s * a.x, s * a.y); }
__device__ inline float2 operator*(float2 a, float s) { return make_float2(s * a.x, s * a.y); }
__device__ inline float4 operator+(float4 a, float4 b) { return make_float4(a.x+b.x, a.y+b.y, a.z+b.z, a.w+b.w); }
__device__ inline float4 operator-(float4 a, float4 b) { return make_float4(a.x-b.x, a.y-b.y, a.z-b.z, a.w-b.w); }
__device__ inline float4 operator*(float4 a, float4 b) { return make_float4(a.x*b.x, a.y*b.y, a.z*b.z, a.w*b.w); }
__device__ inline float4 operator*(float s, float4 a) { return make_float4(s*a.x, s*a.y, s*a.z, s*a.w); }
__device__ inline float4 operator*(float4 a, float s) { return make_float4(s*a.x, s*a.y, s*a.z, s*a.w); }
__device__ inline float4& operator+=(float4& a, float4 b) { a = a + b; return a; }
__device__ inline float2& operator+=(float2& a, float2 b) { a = a + b; return a; }
#define vload4(i, p) (((const float4*)(p))[(i)])
#define vstore4(v, i, p) (((float4*)(p))[(i)] = (v))
#define vload2(i, p) (((const float2*)(p))[(i)])
#define vstore2(v, i, p) (((float2*)(p))[(i)] = (v))
#define convert_float(x) ((float)(x))
#define convert_int(x) ((int)(x))
"""
PRELUDE_LINES = CUDA_PRELUDE.count("\n")
NVRTC_OPTIONS = ("-default-device", "-std=c++17", *NO_ASSEMBLY_DEFINES)
"""Inline assembly's keywords are macros here as in every OpenCL compile: a keyword pasted together with `##`
(`CAT(as, m)("mov.u64 %0, %%globaltimer;" ...)`) passes the text check and would read the GPU's clock."""
_VECTOR_LITERAL = re.compile(r"\((float[234]|int[234]|uint[234])\)\s*\(")
# OpenCL's qualifiers without underscores. They cannot be macros: CUDA's own `__global__`, `__shared__` and
# `__constant__` expand to `__location__(global)` and so on, and an empty `global` silently turns every
# kernel into a host function that NVRTC drops. They are reserved words in OpenCL C, never identifiers.
_BARE_QUALIFIER = re.compile(r"(?<![\w])(kernel|global|local|constant|private)(?![\w])")


def translate(source: str) -> str:
    """OpenCL C spelled for NVRTC: the prelude, `__`-spelled qualifiers, `make_float4(...)` vector literals."""
    spelled = _BARE_QUALIFIER.sub(lambda m: f"__{m.group(1)}", source)
    return CUDA_PRELUDE + _VECTOR_LITERAL.sub(lambda m: f"make_{m.group(1)}(", spelled)


class CudaBackend(Backend):
    name = "cuda"
    vector_widths = (1, 2, 4)  # CUDA has no float8/float16

    def __init__(self, device: int = 0) -> None:
        import cupy

        self._cp = cupy
        self._device = cupy.cuda.Device(device)
        self._device.use()
        self._modules: dict[str, Any] = {}
        self._buffers: list[Any] = []

    def info(self) -> DeviceInfo:
        props = self._cp.cuda.runtime.getDeviceProperties(self._device.id)
        name = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
        return DeviceInfo(
            backend=self.name,
            name=name,
            vendor="NVIDIA",
            driver=str(self._cp.cuda.runtime.driverGetVersion()),
            compute_units=int(props["multiProcessorCount"]),
            max_work_group=int(props["maxThreadsPerBlock"]),
        )

    def compile(self, source: str, defines: dict[str, int]) -> Any:
        options = tuple(f"-D{name}={value}" for name, value in sorted(defines.items()))
        key = hashlib.sha256((source + "\0" + " ".join(options)).encode()).hexdigest()
        module = self._modules.get(key)
        if module is None:
            try:
                module = self._cp.RawModule(code=translate(source), options=(*NVRTC_OPTIONS, *options))
                module.compile()
            except self._cp.cuda.compiler.CompileException as error:
                raise KernelCompileError(_shift_lines(str(error))) from None
            self._modules[key] = (module, ())
        return self._modules[key]

    def alloc(self, nbytes: int) -> Any:
        buffer = self._cp.empty(max(nbytes, 4), dtype=self._cp.uint8)
        self._buffers.append(buffer)
        return buffer

    def write(self, buffer: Any, data: np.ndarray, offset: int = 0) -> None:
        flat = np.ascontiguousarray(data).reshape(-1).view(np.uint8)
        buffer[offset : offset + flat.size].set(flat)

    def read(self, buffer: Any, out: np.ndarray, offset: int = 0) -> None:
        out.view(np.uint8).reshape(-1)[:] = buffer[offset : offset + out.nbytes].get()

    def region(self, buffer: Any, offset: int, nbytes: int) -> Any:
        return buffer[offset : offset + max(nbytes, 4)]

    def launch(
        self,
        program: Any,
        kernel: str,
        global_size: Sequence[int],
        local_size: Sequence[int] | None,
        args: Sequence[Any],
    ) -> Any:
        module, _names = program
        block = (
            tuple(local_size)
            if local_size
            else tuple(min(256, size) if i == 0 else 1 for i, size in enumerate(global_size))
        )
        block3 = (*block, 1, 1)[:3]
        grid3 = tuple(-(-size // step) for size, step in zip((*global_size, 1, 1)[:3], block3, strict=True))
        start, end = self._cp.cuda.Event(), self._cp.cuda.Event()
        try:
            function = module.get_function(kernel)
            start.record()
            function(grid3, block3, tuple(args))
            end.record()
        except Exception as error:  # noqa: BLE001 - CuPy raises several kinds; the candidate's launch failed
            raise KernelLaunchError(f"launch of {kernel} failed: {error}") from None
        return (start, end)

    def elapsed(self, events: Sequence[Any]) -> float:
        total = 0.0
        try:
            for start, end in events:
                end.synchronize()
                total += self._cp.cuda.get_elapsed_time(start, end) * 1e-3
        except Exception as error:  # noqa: BLE001 - CuPy raises several kinds; the candidate's kernel failed
            raise KernelLaunchError(f"kernel execution failed: {error}") from None
        return total

    def release(self) -> None:
        self._cp.cuda.Device().synchronize()
        self._buffers.clear()


def _shift_lines(log: str) -> str:
    """NVRTC numbers lines including the prelude; report them in the candidate's own numbering."""

    def shift(match: re.Match[str]) -> str:
        return f"({int(match.group(1)) - PRELUDE_LINES})"

    return re.sub(r"(?<=\.cu)\((\d+)\)", shift, log)
