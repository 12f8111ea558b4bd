"""Compile-only check of the CUDA translation with NVRTC, no GPU or driver needed.

NVRTC is a plain library (pip `nvidia-cuda-nvrtc-cu12`, part of the `cuda` extra); calling it
through ctypes tells whether a kernel's CUDA spelling compiles on machines without a GPU.
"""

from __future__ import annotations

import ctypes
import glob
import importlib.util
import re
from collections.abc import Sequence
from pathlib import Path

from tools.kernels._cuda import NVRTC_OPTIONS, translate


def find_nvrtc() -> Path | None:
    """The NVRTC shared library from the pip wheels, or None when it is not installed.

    CUDA 12's wheel puts it under `nvidia/cuda_nvrtc/lib`, CUDA 13's under `nvidia/cu13/lib`.
    """
    try:
        spec = importlib.util.find_spec("nvidia")
    except ModuleNotFoundError:
        return None
    for location in (spec.submodule_search_locations or []) if spec else []:
        found = sorted(glob.glob(str(Path(location) / "*" / "lib" / "libnvrtc.so*")))
        plain = [name for name in found if ".alt." not in name and "builtins" not in name]
        if plain:
            return Path(plain[0])
    return None


_ENTRY = re.compile(r"^\.(?:visible|weak)\s+\.entry\s+([A-Za-z_]\w*)", re.MULTILINE)


def nvrtc_compile(source: str, defines: dict[str, int], arch: str = "compute_80", library: Path | None = None) -> str:
    """Compile the translated kernel; returns "" on success, else NVRTC's log (candidate line numbers)."""
    return nvrtc_kernels(source, defines, arch, library)[0]


def nvrtc_kernels(
    source: str, defines: dict[str, int], arch: str = "compute_80", library: Path | None = None
) -> tuple[str, list[str]]:
    """NVRTC's log ("" on success) and the kernel entry points in the PTX it made.

    A translation can compile and still hold no kernel (a qualifier macro that erases `__global__`),
    so a compile-only check must look at what came out, not only at the status.
    """
    path = library or find_nvrtc()
    if path is None:
        raise FileNotFoundError("NVRTC is not installed (pip install nvidia-cuda-nvrtc-cu12)")
    lib = ctypes.CDLL(str(path))
    program = ctypes.c_void_p()
    if lib.nvrtcCreateProgram(ctypes.byref(program), translate(source).encode(), b"kernel.cu", 0, None, None):
        raise RuntimeError("nvrtcCreateProgram failed")
    try:
        options: Sequence[str] = [
            *NVRTC_OPTIONS,
            *(f"-D{k}={v}" for k, v in defines.items()),
            f"--gpu-architecture={arch}",
        ]
        argv = (ctypes.c_char_p * len(options))(*[option.encode() for option in options])
        status = lib.nvrtcCompileProgram(program, len(options), argv)
        size = ctypes.c_size_t()
        lib.nvrtcGetProgramLogSize(program, ctypes.byref(size))
        log = ctypes.create_string_buffer(size.value)
        lib.nvrtcGetProgramLog(program, log)
        if status != 0:
            return log.value.decode(errors="replace"), []
        lib.nvrtcGetPTXSize(program, ctypes.byref(size))
        ptx = ctypes.create_string_buffer(size.value)
        lib.nvrtcGetPTX(program, ptx)
        return "", _ENTRY.findall(ptx.value.decode(errors="replace"))
    finally:
        lib.nvrtcDestroyProgram(ctypes.byref(program))
