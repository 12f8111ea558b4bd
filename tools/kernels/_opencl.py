"""The OpenCL backend (pyopencl): PoCL on any CPU here, and GPU drivers where present."""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from tools.kernels._backend import NO_ASSEMBLY_DEFINES, Backend, DeviceInfo, KernelCompileError, KernelLaunchError

_PROGRAM_CACHE = 48
"""Built programs kept per worker: a search revisits its incumbents, not thousands of old candidates."""


class OpenCLBackend(Backend):
    name = "opencl"

    def __init__(self, platform: int | None = None, device: int = 0) -> None:
        import pyopencl as cl

        self._cl = cl
        platforms = cl.get_platforms()
        if not platforms:
            raise RuntimeError("no OpenCL platform found (install pocl-opencl-icd or a GPU driver)")
        chosen = platforms[platform or 0]
        devices = chosen.get_devices()
        self.device = devices[device]
        self.context = cl.Context([self.device])
        self.queue = cl.CommandQueue(self.context, properties=cl.command_queue_properties.PROFILING_ENABLE)
        self._programs: OrderedDict[str, Any] = OrderedDict()
        self._kernels: dict[tuple[str, str], Any] = {}
        # PoCL aborts when a buffer still bound to a kernel argument is freed: keep every one alive.
        self._buffers: list[Any] = []

    def info(self) -> DeviceInfo:
        device = self.device
        return DeviceInfo(
            backend=self.name,
            name=str(device.name).strip(),
            vendor=str(device.platform.name).strip(),
            driver=str(device.driver_version).strip(),
            compute_units=int(device.max_compute_units),
            max_work_group=int(device.max_work_group_size),
        )

    def compile(self, source: str, defines: dict[str, int]) -> Any:
        options = [*(f"-D{name}={value}" for name, value in sorted(defines.items())), *NO_ASSEMBLY_DEFINES]
        key = hashlib.sha256((source + "\0" + " ".join(options)).encode()).hexdigest()
        program = self._programs.get(key)
        if program is None:
            try:
                program = self._cl.Program(self.context, source).build(options=options)
            except self._cl.RuntimeError as error:
                raise KernelCompileError(_build_log(error)) from None
            self._programs[key] = program
            while len(self._programs) > _PROGRAM_CACHE:
                evicted, _ = self._programs.popitem(last=False)
                self._kernels = {name: k for name, k in self._kernels.items() if name[0] != evicted}
        self._programs.move_to_end(key)
        return (key, program)

    def alloc(self, nbytes: int) -> Any:
        buffer = self._cl.Buffer(self.context, self._cl.mem_flags.READ_WRITE, max(nbytes, 4))
        self._buffers.append(buffer)
        return buffer

    def write(self, buffer: Any, data: np.ndarray, offset: int = 0) -> None:
        self._cl.enqueue_copy(self.queue, buffer, np.ascontiguousarray(data), dst_offset=offset, is_blocking=True)

    def read(self, buffer: Any, out: np.ndarray, offset: int = 0) -> None:
        self._cl.enqueue_copy(self.queue, out, buffer, src_offset=offset, is_blocking=True)

    def region(self, buffer: Any, offset: int, nbytes: int) -> Any:
        view = buffer.get_sub_region(offset, max(nbytes, 4))
        self._buffers.append(view)
        return view

    def launch(
        self,
        program: Any,
        kernel: str,
        global_size: Sequence[int],
        local_size: Sequence[int] | None,
        args: Sequence[Any],
    ) -> Any:
        key, built = program
        handle = self._kernels.get((key, kernel))
        try:
            if handle is None:
                handle = self._cl.Kernel(built, kernel)
                self._check_local_memory(kernel, handle)
                self._kernels[(key, kernel)] = handle
            handle.set_args(*args)
            return self._cl.enqueue_nd_range_kernel(
                self.queue, handle, tuple(global_size), tuple(local_size) if local_size else None
            )
        except (self._cl.LogicError, self._cl.RuntimeError) as error:
            raise KernelLaunchError(f"launch of {kernel} failed: {error}") from None

    def _check_local_memory(self, kernel: str, handle: Any) -> None:
        """Refuse a kernel whose `__local` arrays exceed the device's local memory before it runs.

        PoCL does not refuse such a launch: it asserts inside the runtime and takes the worker down,
        and the candidate would be reported as a crash instead of as what it asked for.
        """
        cl = self._cl
        needed = int(handle.get_work_group_info(cl.kernel_work_group_info.LOCAL_MEM_SIZE, self.device))
        available = int(self.device.local_mem_size)
        if needed > available:
            raise KernelLaunchError(
                f"kernel {kernel} declares {needed} bytes of __local memory; the device has {available}"
            )

    def elapsed(self, events: Sequence[Any]) -> float:
        try:
            self._cl.wait_for_events(list(events))
            return float(sum((event.profile.end - event.profile.start) * 1e-9 for event in events))
        except self._cl.RuntimeError as error:
            raise KernelLaunchError(f"kernel execution failed: {error}") from None

    def release(self) -> None:
        self.queue.finish()
        for buffer in reversed(self._buffers):
            buffer.release()
        self._buffers.clear()


def _build_log(error: Exception) -> str:
    """The compiler's own messages (with <source>:line:col), without pyopencl's framing."""
    text = re.sub(r"\S*tempfile_\w+\.cl", "<kernel>", str(error))
    noise = ("Build on <pyopencl.Device", "clBuildProgram failed", "(options:", "Device ")
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith(noise)]
    return "\n".join(lines[-60:]) or text
