"""The device interface a kernel harness needs: compile, allocate, launch, time, read back.

Kept this small on purpose so that another native backend (CUDA today, Metal on Apple Silicon
later) is a few dozen lines: everything above it (host contract, checking, fitness) is shared.
Backends run only inside the sandboxed worker process, never in the trusted host.
"""

from __future__ import annotations

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
