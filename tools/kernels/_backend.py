"""The device interface a kernel harness needs: compile, allocate, launch, time, read back.

Kept this small on purpose so that another native backend (CUDA today, Metal on Apple Silicon
later) is a few dozen lines: everything above it (host contract, checking, fitness) is shared.
Backends run only inside the sandboxed worker process, never in the trusted host.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from runs import LabgateError

INLINE_ASSEMBLY = ("asm", "__asm", "__asm__")
"""The keywords of inline assembly. On a CPU device a kernel is native code in the worker's own
process, and inline assembly there makes system calls (open a file, write a forged reply to the
host's pipe): task sources refuse the words (`KernelTask.parse`), and every OpenCL compile defines them
as macros (`NO_ASSEMBLY_DEFINES`) so that a keyword pasted together with `##` fails to compile.
"""
NO_ASSEMBLY_DEFINES = tuple(f"-D{word}=inline_assembly_is_not_allowed" for word in INLINE_ASSEMBLY)
_X86_STATE = (
    "sse.ldmxcsr",
    "sse.stmxcsr",
    "rdtsc",
    "rdpmc",
    "rdpid",
    "fxrstor",
    "fxsave",
    "xrstor",
    "xsave",
    "xsetbv",
    "xgetbv",
    "rdfsbase",
    "rdgsbase",
    "wrfsbase",
    "wrgsbase",
    "flags.read",
    "flags.write",
    "sse2.clflush",
    "clflushopt",
    "clwb",
    "wbinvd",
    "wbnoinvd",
    "invpcid",
    "sse3.monitor",
    "sse3.mwait",
    "monitorx",
    "mwaitx",
    "umonitor",
    "umwait",
    "tpause",
    "serialize",
    "ptwrite",
    "hreset",
    "xbegin",
    "xend",
    "xabort",
    "xtest",
    "incssp",
    "rdssp",
    "saveprevssp",
    "rstorssp",
    "wrss",
    "wruss",
    "setssbsy",
    "clrssbsy",
    "ldtilecfg",
    "sttilecfg",
    "tilerelease",
    "senduipi",
    "clui",
    "stui",
    "testui",
    "int",
)
"""x86 intrinsics (after `llvm.x86.`) that read or change processor state rather than compute: the SSE
control register (flush-to-zero, denormals-are-zero, rounding), time and performance counters, saved
register state, segment bases, flags, cache control, waiting, transactions, shadow stacks, tile config.
Arithmetic ones (min, max, round, blend, convert) stay allowed: PoCL's vector math library uses them."""

MACHINE_STATE_INTRINSICS = (
    *(b"llvm.x86." + name.encode() for name in _X86_STATE),
    b"llvm.readcyclecounter",
    b"llvm.frameaddress",
    b"llvm.returnaddress",
    b"llvm.addressofreturnaddress",
    b"llvm.sponentry",
    b"llvm.read_register",
    b"llvm.read_volatile_register",
    b"llvm.write_register",
    b"llvm.thread.pointer",
    b"llvm.set.rounding",
    b"llvm.set.fpenv",
    b"llvm.reset.fpenv",
    b"llvm.set.fpmode",
    b"llvm.reset.fpmode",
)
"""LLVM intrinsics that reach the processor rather than compute: a built program calling one is refused.

Clang accepts target builtins in OpenCL C. On a CPU device `__builtin_ia32_ldmxcsr` switches on
flush-to-zero and denormals-are-zero, and PoCL leaves that set in its threads for every later
kernel of the worker (the trusted seed timed beside the candidate, the next candidates of a search);
`__builtin_ia32_rdtsc` and `__builtin_readcyclecounter` are a clock inside the kernel, and
`__builtin_frame_address` the address of the worker's stack. None of these is arithmetic a task
asks for. Spellings vary (a macro can paste the name together), so the check reads what the
compiler built, where every such builtin is a call to one of these intrinsics (`intrinsics_refused`).
"""


def intrinsics_refused(binary: bytes) -> list[str]:
    """The machine-state intrinsics (`MACHINE_STATE_INTRINSICS`) a built program's code names, as they appear.

    LLVM keeps the names of called intrinsics in the bitcode's string table, one after another with
    no separator, so each name found is cut where the next string starts (`_NEXT_STRING`, or a mangled
    `_Z` name).
    """
    found: dict[str, int] = {}
    for prefix in MACHINE_STATE_INTRINSICS:
        start = binary.find(prefix)
        while start >= 0:
            match = _INTRINSIC_NAME.match(binary, start)
            name = match.group().decode() if match else prefix.decode()
            name = "llvm." + _NEXT_STRING.split(name[len("llvm.") :], maxsplit=1)[0].rstrip("._")
            found.setdefault(name, start)
            start = binary.find(prefix, start + len(prefix))
    return sorted(found, key=found.__getitem__)


_INTRINSIC_NAME = re.compile(rb"llvm\.[a-z0-9_.]+")
_NEXT_STRING = re.compile(r"llvm\.|pocl\.|(?<=[a-z])\d+\.\d+\.\d+")
"""Where the next string of the table starts: another intrinsic, PoCL's own, or the LLVM version (15.0.6)."""


class KernelCompileError(LabgateError):
    """The device compiler rejected a candidate; `log` holds its diagnostics with line numbers."""

    def __init__(self, log: str) -> None:
        super().__init__(log)
        self.log = log


class KernelLaunchError(LabgateError):
    """A launch failed at enqueue or execution time (bad argument, missing kernel, device error)."""


@dataclass(frozen=True)
class DeviceInfo:
    backend: str
    name: str
    vendor: str
    driver: str
    compute_units: int
    max_work_group: int

    @property
    def key(self) -> str:
        """Stable identity of the device for the ceilings cache."""
        text = f"{self.backend}|{self.vendor}|{self.name}|{self.driver}|{self.compute_units}"
        return "".join(char if char.isalnum() else "-" for char in text).strip("-")[:160]


class Backend(ABC):
    """One device with one context and queue, reused across every candidate of a search."""

    name: str
    # Vector widths the backend's kernel language has (`float4`...); the ceiling probes use only these.
    vector_widths: tuple[int, ...] = (1, 2, 4, 8, 16)

    @abstractmethod
    def info(self) -> DeviceInfo:
        """Which device this is."""

    @abstractmethod
    def compile(self, source: str, defines: dict[str, int]) -> Any:
        """A program handle; raises KernelCompileError. Backends cache programs by source and defines."""

    @abstractmethod
    def alloc(self, nbytes: int) -> Any:
        """A device buffer of `nbytes`; the backend keeps it alive until `release`."""

    shares_host_memory: bool = False
    """Kernels run in the worker's own memory (a CPU device): the host then places every run's inputs
    itself, in buffers made with `alloc_host` over memory it shares with the worker (`_arena`)."""

    def alloc_host(self, memory: np.ndarray) -> Any:
        """A device buffer whose storage is `memory` itself (no copy): what the host writes there, a kernel reads.

        Only backends that share host memory (`shares_host_memory`) make them; the backend keeps the
        buffer alive until `release`.
        """
        raise NotImplementedError(f"the {self.name} backend keeps its buffers in device memory")

    @abstractmethod
    def write(self, buffer: Any, data: np.ndarray, offset: int = 0) -> None:
        """Copy host data into the buffer at byte `offset` (blocking)."""

    @abstractmethod
    def read(self, buffer: Any, out: np.ndarray, offset: int = 0) -> None:
        """Copy `out.nbytes` bytes from byte `offset` of the buffer back into `out` (blocking)."""

    @abstractmethod
    def region(self, buffer: Any, offset: int, nbytes: int) -> Any:
        """A kernel-argument view of `nbytes` of `buffer` from byte `offset` (a multiple of 4096).

        The harness hands kernels such views so that guard bytes lie on both sides of every buffer.
        """

    @abstractmethod
    def launch(
        self,
        program: Any,
        kernel: str,
        global_size: Sequence[int],
        local_size: Sequence[int] | None,
        args: Sequence[Any],
    ) -> Any:
        """Enqueue one launch; `args` are buffers or NumPy scalars. Returns an event handle."""

    @abstractmethod
    def elapsed(self, events: Sequence[Any]) -> float:
        """Wait (blocking, no polling) for the events and return their summed device time in seconds."""

    @abstractmethod
    def release(self) -> None:
        """Free every buffer allocated since the last release."""

    def kernel_names(self, program: Any) -> frozenset[str] | None:
        """The kernels (entry points) a compiled program defines, or None where the backend cannot list them.

        The worker refuses a program defining kernels its launches never run: on a device whose kernels
        reach the worker's memory, a second, correct kernel in the same source could be put in place of
        the one judged (its compiled handle swapped into the launch), so a wrong named kernel passed.
        """
        return None

    def forget_local(self) -> None:  # noqa: B027 - a no-op unless the device keeps local memory
        """Overwrite the device's `__local` memory, so that no program reads what an earlier one left there.

        The worker calls it before every request (a size of one candidate's evaluation): a device that
        keeps `__local` memory from one program to the next (PoCL keeps each runtime thread's) would
        otherwise let a kernel reuse answers an earlier evaluation on the same inputs computed. Devices
        whose local memory does not outlive a launch need nothing.
        """

    def forget_launches(self) -> None:  # noqa: B027 - a no-op unless the device keeps kernel memory
        """Overwrite what the kernels launched since the last forget left in memory the next kernel can read.

        The worker calls it before the first run of every request: on a CPU device the runtime
        threads' stacks keep a finished work-group's private variables (PoCL stores each work-item's
        private arrays there), and their `__local` memory what the work-group declared, so a candidate
        reading its own uninitialised private or `__local` arrays, or past them, would find what the
        request before it computed (the same inputs' answers, for finalists re-measured on one seed).
        Devices whose private and local memory do not outlive a launch need nothing.
        """
