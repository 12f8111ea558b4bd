"""Refuse kernels that turn pointers into numbers or numbers into pointers (PoCL's CPU device).

On PoCL's CPU device a kernel runs as native code inside the worker process. A kernel that takes the
address of a variable as an integer, and makes pointers out of integers, can walk from its own stack to
the thread's TLS, libc, the loader's list of libraries and the Python interpreter's frames, and there
rewrite the worker's state: a red-team kernel swapped the seed's compiled kernel in place of its own
(every later launch ran the seed, so a wrong kernel passed the held-out gate) and another rewrote the
timed runs' durations (the seed scored 837x faster than itself). Array indexing and pointer arithmetic
need none of this: the suite's seeds and the search's rewrites compile to code with no such conversion.

The check reads the LLVM bitcode PoCL keeps in the built program (the code its kernels are compiled
from) through the LLVM library PoCL itself loaded into this process, and refuses every conversion
between pointers and integers (`ptrtoint`, `inttoptr`) and every pointer value stored to or loaded from
memory (the same conversion done through a union or a reinterpreted slot, which the optimiser may leave
as a store and a load).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import re
import struct
import sys
from collections.abc import Iterator
from pathlib import Path

from runs import LabgateError

POCL_MAGIC = b"poclbin\0"
BITCODE_MAGIC = b"BC\xc0\xde"

_REFUSED = re.compile(
    r"\b(?P<cast>ptrtoint|inttoptr)\b"
    r"|\b(?P<memory>(?:store|load)\s+(?:atomic\s+|volatile\s+)*(?:<\d+\s+x\s+)?ptr\b)"
    r"|\b(?P<exchange>(?:atomicrmw|cmpxchg)\b[^\n]*,\s*ptr\b)"
)
"""In LLVM's text form (opaque pointers): a cast between pointer and integer, or a pointer-typed value
moved through memory (`store ptr %p, ...`, `%v = load ptr, ...`, an atomic exchange of one)."""


_EVENT = re.compile(r"(%[\w.]+) = (?:tail )?call ptr @_Z\d+\w*async_work_group\w*\(")
"""An event an async copy returned (PoCL returns the event it was given: null, or an earlier event)."""
_STORED = re.compile(r"store (?:volatile )?ptr (%[\w.]+|null), ")


class PointerCastError(LabgateError):
    """The built program converts between pointers and integers, or its code could not be read to tell."""


def pointer_forging(binary: bytes) -> str:
    """Why a built program may not run, or "" (a binary that is not PoCL's is not read: other devices keep
    kernels out of the worker's memory)."""
    if not binary.startswith(POCL_MAGIC):
        return ""
    text = _module_text(_bitcode(binary))
    events = set(_EVENT.findall(text))
    for found in _REFUSED.finditer(text):
        line = text[text.rfind("\n", 0, found.start()) + 1 : text.find("\n", found.end())].strip()
        stored = _STORED.match(line)
        if stored is not None and (stored.group(1) in events or stored.group(1) == "null"):
            continue  # an async copy's event kept for wait_group_events: no address of anything
        if "printf" in _function_at(text, found.start()):
            return (
                "kernel calls printf: PoCL's printf is code that moves pointers through memory, which candidates "
                "may not run (on a CPU device it reaches the worker's own memory)"
            )
        return (
            "kernel code converts between pointers and integers or moves a pointer through memory "
            f"({line[:160]}): on a CPU device that reaches the worker's own memory; index buffers instead"
        )
    return ""


def _function_at(text: str, position: int) -> str:
    """The name of the function whose body holds `position` in a module's text ("" outside any)."""
    start = text.rfind("\ndefine ", 0, position)
    found = _DEFINED.search(text, start + 1) if start >= 0 else None
    return found.group(1) if found is not None else ""


_DEFINED = re.compile(r"define [^\n]*?@([\w.$]+)\(")


def _bitcode(binary: bytes) -> bytes:
    at = binary.find(BITCODE_MAGIC)
    if at < 4:
        raise PointerCastError("the built program holds no LLVM bitcode to check")
    (size,) = struct.unpack("<I", binary[at - 4 : at])
    if size <= len(BITCODE_MAGIC) or at + size > len(binary):
        raise PointerCastError("the built program's bitcode has no readable length")
    return binary[at : at + size]


@functools.cache
def _llvm() -> ctypes.CDLL:
    """The LLVM library this process already maps (PoCL's), whose bitcode format matches the binaries."""
    with Path("/proc/self/maps").open() as maps:
        paths = sorted({line.split()[-1] for line in maps if "/libLLVM" in line and line.rstrip().endswith(".so.1")})
    if not paths:
        raise PointerCastError("no LLVM library is loaded to read the built program's code")
    library = ctypes.CDLL(paths[0])
    library.LLVMContextCreate.restype = ctypes.c_void_p
    library.LLVMContextDispose.argtypes = [ctypes.c_void_p]
    library.LLVMCreateMemoryBufferWithMemoryRangeCopy.restype = ctypes.c_void_p
    library.LLVMCreateMemoryBufferWithMemoryRangeCopy.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p]
    library.LLVMDisposeMemoryBuffer.argtypes = [ctypes.c_void_p]
    library.LLVMParseBitcodeInContext2.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)]
    library.LLVMParseBitcodeInContext2.restype = ctypes.c_int
    library.LLVMPrintModuleToString.argtypes = [ctypes.c_void_p]
    library.LLVMPrintModuleToString.restype = ctypes.c_void_p
    library.LLVMDisposeMessage.argtypes = [ctypes.c_void_p]
    library.LLVMDisposeModule.argtypes = [ctypes.c_void_p]
    return library


def _module_text(bitcode: bytes) -> str:
    llvm = _llvm()
    context = llvm.LLVMContextCreate()
    buffer = llvm.LLVMCreateMemoryBufferWithMemoryRangeCopy(bitcode, len(bitcode), b"kernel")
    module = ctypes.c_void_p()
    try:
        with _quiet_stderr():  # LLVM warns that PoCL's debug info has no version: noise in the worker's log
            failed = llvm.LLVMParseBitcodeInContext2(context, buffer, ctypes.byref(module))
        if failed:
            raise PointerCastError("the built program's bitcode could not be read")
        printed = llvm.LLVMPrintModuleToString(module)
        try:
            return ctypes.string_at(printed).decode(errors="replace")
        finally:
            llvm.LLVMDisposeMessage(printed)
    finally:
        if module:
            llvm.LLVMDisposeModule(module)
        llvm.LLVMDisposeMemoryBuffer(buffer)  # parsed whole: the module holds nothing of it
        llvm.LLVMContextDispose(context)


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
