"""The OpenCL backend (pyopencl): PoCL on any CPU here, and GPU drivers where present."""

from __future__ import annotations

import hashlib
import re
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from tools.kernels._backend import (
    NO_ASSEMBLY_DEFINES,
    Backend,
    DeviceInfo,
    KernelCompileError,
    KernelLaunchError,
    intrinsics_refused,
)
from tools.kernels._pointer_casts import PointerCastError, pointer_forging

_PROGRAM_CACHE = 48
"""Built programs kept per worker: a search revisits its incumbents, not thousands of old candidates."""
FORGET_GROUPS_PER_UNIT = 4
"""Work-groups per compute unit of one `forget_local` launch: with one per unit, one PoCL thread often took them all."""
FORGET_LAUNCHES = 8
"""Launches `forget_local` tries before it settles for the regions it reached."""
FORGET_PRIVATE_SECONDS = 2.0
"""How long `forget_launches` keeps launching before it gives up on a runtime thread it never reached.

On a loaded machine one PoCL thread often took every group of a launch (another process had the
other core), and a thread a wipe misses keeps what the seed left beside the candidate's next run:
a launch costs well under a millisecond, and the loop ends as soon as every thread was reached.
Thirty-two launches were not enough: at a load of 3 on 2 cores, 60 of 20,000 forgets ended with one
thread never reached, and the next launch read the launch before."""
FORGET_LINGER = 200_000
"""Polls of the count of threads reached that a group on an already-reached thread makes before it returns.

While it lingers (a fraction of a millisecond), the groups not yet handed out wait for another
thread: one the OS woke late takes them instead of the busy thread finishing them all in a blink."""
_FORGET_LOCAL = """
__kernel void forget_local(__global ulong* where) {
    __local uint region[WORDS];
    for (int i = get_local_id(0); i < WORDS; i += get_local_size(0)) region[i] = 0xFFFFFFFFu;
    barrier(CLK_LOCAL_MEM_FENCE);
    if (get_local_id(0) == 0) where[get_group_id(0)] = (ulong)(uintptr_t)region;
}
"""
FORGET_PRIVATE_BYTES = 1 << 20
"""Depth of each runtime thread's stack that `forget_launches` overwrites, below where every work-group starts.

An hmc seed's work-group (64 work-items, four private arrays each) left its answers 42 KiB deep; a
work-group of 1024 items with 1 KiB of private arrays each stays within this. The threads' stacks are 8 MiB.
"""
_FORGET_LAUNCHES = """
__kernel void forget_launches(__global ulong* where, __global const ulong* done, const int groups,
                              volatile __global int* fresh, const int missing) {
#if PRIVATE_WORDS > 0
    volatile ulong own[PRIVATE_WORDS];
    ulong thread = (ulong)(uintptr_t)own;
    // A thread an earlier launch, or an earlier group of this one, reached is not filled again.
    for (int g = 0; g < groups; ++g) {
        if (done[g] == thread || (g != get_group_id(0) && where[g] == thread)) {
            where[get_group_id(0)] = thread;
            for (int i = 0; i < LINGER && atomic_add(fresh, 0) < missing; ++i) {
            }
            return;
        }
    }
#else
    __local uint own[1];
    ulong thread = (ulong)(uintptr_t)own;
#endif
#if LOCAL_WORDS > 0
    // Volatile, as `own`: stores nothing reads again are otherwise compiled away.
    volatile __local uint region[LOCAL_WORDS];
    for (int i = 0; i < LOCAL_WORDS; ++i) region[i] = 0xFFFFFFFFu;
#endif
#if PRIVATE_WORDS > 0
    for (int i = 0; i < PRIVATE_WORDS; ++i) own[i] = 0xFFFFFFFFFFFFFFFFul;
#endif
    where[get_group_id(0)] = thread;
    atomic_inc(fresh);
}
"""


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
        self.shares_host_memory = bool(self.device.type & cl.device_type.CPU)
        self._programs: OrderedDict[str, Any] = OrderedDict()
        self._kernels: dict[tuple[str, str], tuple[Any, int]] = {}
        """Kernel handles by program and name, with the `__local` bytes each declares."""
        # PoCL aborts when a buffer still bound to a kernel argument is freed: keep every one alive.
        self._buffers: list[Any] = []
        self._forget: tuple[Any, Any] | None = None
        self._forget_kernels: dict[int, Any] = {}
        self._forget_where: tuple[Any, Any, Any] | None = None
        """`forget_launches`' buffers: the thread each group reached, those reached before, the count of new ones."""
        self._launched_local = 0
        """The most `__local` bytes a kernel launched since the last forget declared (`forget_launches`)."""

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
            _refuse_machine_state(program, self._cl)
            self._programs[key] = program
            while len(self._programs) > _PROGRAM_CACHE:
                evicted, _ = self._programs.popitem(last=False)
                self._kernels = {name: k for name, k in self._kernels.items() if name[0] != evicted}
        self._programs.move_to_end(key)
        return (key, program)

    def kernel_names(self, program: Any) -> frozenset[str] | None:
        _, built = program
        names = str(built.get_info(self._cl.program_info.KERNEL_NAMES))
        return frozenset(name for name in names.split(";") if name)

    def alloc(self, nbytes: int) -> Any:
        buffer = self._cl.Buffer(self.context, self._cl.mem_flags.READ_WRITE, max(nbytes, 4))
        self._buffers.append(buffer)
        return buffer

    def alloc_host(self, memory: np.ndarray) -> Any:
        if not self.shares_host_memory:
            raise NotImplementedError("a GPU keeps its buffers in its own memory")
        flags = self._cl.mem_flags.READ_WRITE | self._cl.mem_flags.USE_HOST_PTR
        buffer = self._cl.Buffer(self.context, flags, hostbuf=memory)
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
        cached = self._kernels.get((key, kernel))
        try:
            if cached is None:
                handle = self._kernel(built, kernel)
                cached = (handle, self._check_local_memory(kernel, handle))
                self._kernels[(key, kernel)] = cached
            handle, local_bytes = cached
            self._launched_local = max(self._launched_local, local_bytes)
            self._set_args(kernel, handle, args)
            return self._cl.enqueue_nd_range_kernel(
                self.queue, handle, tuple(global_size), tuple(local_size) if local_size else None
            )
        except (self._cl.LogicError, self._cl.RuntimeError) as error:
            raise KernelLaunchError(f"launch of {kernel} failed: {error}") from None

    def _kernel(self, built: Any, kernel: str) -> Any:
        """The program's kernel `kernel`; one it does not define is named with those it does.

        `clCreateKernel failed: INVALID_KERNEL_NAME` did not say that a task file's launch named a
        kernel its seed calls something else.
        """
        names = [name for name in str(built.kernel_names).split(";") if name]
        if kernel not in names:
            raise KernelLaunchError(
                f"launch of {kernel} failed: the source defines no kernel {kernel!r} "
                f"(it defines {', '.join(names) or 'none'})"
            )
        return self._cl.Kernel(built, kernel)

    def _set_args(self, kernel: str, handle: Any, args: Sequence[Any]) -> None:
        """Bind the launch's arguments; a count that differs from the kernel's is named as such.

        pyopencl said `TypeError: set_args() missing 1 required positional argument: 'arg3'` for a
        task file's kernel declaring a `__local float*` parameter the host cannot pass.
        """
        expected = int(handle.num_args)
        if expected != len(args):
            raise KernelLaunchError(
                f"launch of {kernel} failed: the kernel takes {expected} arguments and the launch passes "
                f"{len(args)} (the task's arguments; a __local array is declared inside the kernel, not passed)"
            )
        handle.set_args(*args)

    def _check_local_memory(self, kernel: str, handle: Any) -> int:
        """Refuse a kernel whose `__local` arrays exceed the device's local memory before it runs; else their bytes.

        PoCL does not refuse such a launch: it asserts inside the runtime and takes the worker down,
        and the candidate would be reported as a crash instead of as what it asked for. The bytes are
        what `forget_launches` overwrites after the kernel ran.
        """
        needed = int(handle.get_work_group_info(self._cl.kernel_work_group_info.LOCAL_MEM_SIZE, self.device))
        available = int(self.device.local_mem_size)
        if needed > available:
            raise KernelLaunchError(
                f"kernel {kernel} declares {needed} bytes of __local memory; the device has {available}"
            )
        return needed

    def forget_local(self) -> None:
        """Fill every runtime thread's `__local` memory with 0xFF bytes (see `Backend.forget_local`).

        PoCL gives each of its threads (one per compute unit) a region of local memory that work-groups
        of every program reuse as it was left. One launch of FORGET_GROUPS_PER_UNIT work-groups per
        compute unit, each filling the whole region, reaches every thread almost always; each group
        reports its region's address, and launches repeat (up to FORGET_LAUNCHES) until as many
        regions as compute units were filled. GPUs need no count: one launch covers what can be covered.
        """
        cl = self._cl
        units = max(1, int(self.device.max_compute_units))
        groups = FORGET_GROUPS_PER_UNIT * units
        if self._forget is None:
            source = _FORGET_LOCAL.replace("WORDS", str(int(self.device.local_mem_size) // 4))
            try:
                kernel = cl.Kernel(cl.Program(self.context, source).build(), "forget_local")
            except (cl.LogicError, cl.RuntimeError) as error:
                raise KernelLaunchError(f"the program clearing __local memory did not build: {error}") from None
            self._forget = (kernel, cl.Buffer(self.context, cl.mem_flags.READ_WRITE, 8 * groups))
        kernel, where = self._forget
        addresses = np.zeros(groups, np.uint64)
        width = min(64, int(self.device.max_work_group_size))
        filled: set[int] = set()
        cpu = bool(self.device.type & cl.device_type.CPU)
        for _ in range(FORGET_LAUNCHES):
            try:
                kernel.set_args(where)
                cl.enqueue_nd_range_kernel(self.queue, kernel, (groups * width,), (width,))
                cl.enqueue_copy(self.queue, addresses, where, is_blocking=True)
            except (cl.LogicError, cl.RuntimeError) as error:
                raise KernelLaunchError(f"clearing the device's __local memory failed: {error}") from None
            filled.update(int(a) for a in addresses)
            if not cpu or len(filled) >= units:
                break
        self._launched_local = 0

    def forget_launches(self) -> None:
        """Overwrite the runtime threads' stacks and the `__local` bytes recent kernels declared (see `Backend`).

        On a CPU device every work-group runs on one of PoCL's threads, from the same place in its stack,
        and keeps its private variables below it: one work-item per group fills FORGET_PRIVATE_BYTES of
        its stack from there and as many bytes of `__local` memory (which PoCL hands every work-group from
        the start of its thread's region) as the kernels launched since the last forget declared. Groups
        report their stack's address, and launches repeat (for up to FORGET_PRIVATE_SECONDS) until every
        thread was reached; a group on a thread already reached lingers meanwhile (FORGET_LINGER), so that
        a thread the OS woke late still finds groups to take. One never reached fails the request closed.
        A GPU keeps no stack between launches: only `__local` is filled there.
        """
        cl = self._cl
        cpu = bool(self.device.type & cl.device_type.CPU)
        # Rounded up to a power of two (4 KiB at least), so that few programs are ever built for this.
        local_words = 1 << max(10, (-(-self._launched_local // 4) - 1).bit_length()) if self._launched_local else 0
        if not cpu and not local_words:
            return
        kernel = self._forget_kernels.get(local_words)
        if kernel is None:
            source = (
                _FORGET_LAUNCHES.replace("LOCAL_WORDS", str(local_words))
                .replace("PRIVATE_WORDS", str(FORGET_PRIVATE_BYTES // 8 if cpu else 0))
                .replace("LINGER", str(FORGET_LINGER))
            )
            try:
                kernel = cl.Kernel(cl.Program(self.context, source).build(), "forget_launches")
            except (cl.LogicError, cl.RuntimeError) as error:
                raise KernelLaunchError(f"the program clearing kernel memory did not build: {error}") from None
            self._forget_kernels[local_words] = kernel
        units = max(1, int(self.device.max_compute_units))
        groups = FORGET_GROUPS_PER_UNIT * units
        if self._forget_where is None:
            flags = cl.mem_flags.READ_WRITE
            self._forget_where = (
                cl.Buffer(self.context, flags, 8 * groups),
                cl.Buffer(self.context, flags, 8 * groups),
                cl.Buffer(self.context, flags, 4),
            )
        where, done, fresh = self._forget_where
        addresses = np.zeros(groups, np.uint64)
        reached: set[int] = set()
        deadline = time.monotonic() + FORGET_PRIVATE_SECONDS
        try:
            while True:
                known = np.zeros(groups, np.uint64)
                known[: len(reached)] = sorted(reached)[:groups]
                cl.enqueue_copy(self.queue, done, known, is_blocking=True)
                cl.enqueue_copy(self.queue, where, np.zeros(groups, np.uint64), is_blocking=True)
                cl.enqueue_copy(self.queue, fresh, np.zeros(1, np.int32), is_blocking=True)
                kernel.set_args(where, done, np.int32(groups), fresh, np.int32(units - len(reached)))
                cl.enqueue_nd_range_kernel(self.queue, kernel, (groups,), (1,))
                cl.enqueue_copy(self.queue, addresses, where, is_blocking=True)
                reached.update(int(a) for a in addresses)
                if not cpu or len(reached) >= units or time.monotonic() > deadline:
                    break
        except (cl.LogicError, cl.RuntimeError) as error:
            raise KernelLaunchError(f"clearing the memory kernels left behind failed: {error}") from None
        if cpu and len(reached) < units:
            # Failing closed: a thread not reached still holds what the last kernels left on its stack.
            raise KernelLaunchError(
                f"clearing the memory kernels left behind reached {len(reached)} of the device's {units} "
                f"runtime threads in {FORGET_PRIVATE_SECONDS:g} s (is POCL_MAX_PTHREAD_COUNT below its compute units?)"
            )
        self._launched_local = 0

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


def _refuse_machine_state(program: Any, cl: Any) -> None:
    """Refuse a built program whose code calls a machine-state intrinsic (`MACHINE_STATE_INTRINSICS`).

    Read from the program's binaries (PoCL's hold the LLVM bitcode the kernels are built from), so a
    builtin spelled through macros is seen as the call it became.
    """
    for binary in program.get_info(cl.program_info.BINARIES):
        try:
            forging = pointer_forging(bytes(binary))
        except PointerCastError as error:
            raise KernelCompileError(f"{error}: the kernel cannot be checked for pointer forging") from None
        if forging:
            raise KernelCompileError(forging)
        refused = intrinsics_refused(bytes(binary))
        if refused:
            raise KernelCompileError(
                f"kernel calls {', '.join(refused)}: target builtins that read or change the processor's "
                "state (floating-point control such as flush-to-zero, cycle counters, stack addresses) are "
                "not allowed (a floating-point mode one kernel sets stays set for every later kernel of the worker)"
            )


def _build_log(error: Exception) -> str:
    """The compiler's own messages (with <source>:line:col), without pyopencl's framing."""
    text = re.sub(r"\S*tempfile_\w+\.cl", "<kernel>", str(error))
    noise = ("Build on <pyopencl.Device", "clBuildProgram failed", "(options:", "Device ")
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith(noise)]
    kept = "\n".join(line if len(line) <= 400 else line[:400] + " [...]" for line in lines[-60:])
    return kept or text[:BUILD_LOG_CHARS]


BUILD_LOG_CHARS = 24_000
"""The most of a compiler's log a verdict carries: 60 lines of at most 400 characters, or this much of an unsplit
log (a 30 KB identifier quoted in 25 messages made a 750 KB verdict)."""
