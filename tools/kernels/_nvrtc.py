"""Compile-only check of the CUDA translation with NVRTC, no GPU or driver needed.

NVRTC is a plain library (pip `nvidia-cuda-nvrtc-cu12`, part of the `cuda` extra); calling it
through ctypes tells whether a kernel's CUDA spelling compiles on machines without a GPU.
"""

from __future__ import annotations

import ctypes
import glob
import importlib.util
from collections.abc import Sequence
from pathlib import Path

from tools.kernels._cuda import NVRTC_OPTIONS, translate


def find_nvrtc() -> Path | None:
    """The NVRTC shared library from the pip wheel, or None when it is not installed."""
    try:
        spec = importlib.util.find_spec("nvidia.cuda_nvrtc")
    except ModuleNotFoundError:
        return None
    for location in (spec.submodule_search_locations or []) if spec else []:
        found = sorted(glob.glob(str(Path(location) / "lib" / "libnvrtc.so*")))
        plain = [name for name in found if ".alt." not in name]
        if plain:
            return Path(plain[0])
    return None


def nvrtc_compile(source: str, defines: dict[str, int], arch: str = "compute_80", library: Path | None = None) -> str:
    """Compile the translated kernel; returns "" on success, else NVRTC's log (candidate line numbers)."""
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
        return "" if status == 0 else log.value.decode(errors="replace")
    finally:
        lib.nvrtcDestroyProgram(ctypes.byref(program))
