"""A seccomp filter for the local backend: no kernel keyring, no vsock, no io_uring, no tracing.

A child inherits its parent's session keyring, and a user namespace does not change that: a
candidate under bubblewrap could list and read every key labgate's session holds (a systemd
service's private keyring, a login's `pam_keyinit` one, Kerberos or CIFS credentials kept there)
because possessing the keyring grants the possessor's permissions whatever the uid. Docker's
default profile refuses the keyring calls for this reason; this filter does the same for
bubblewrap (`--seccomp FD`): `add_key`, `request_key` and `keyctl` fail with EPERM.

A network namespace does not isolate vsock, the channel between a virtual machine and its host, so
`socket(AF_VSOCK, ...)` fails with EPERM too (Docker's default profile refuses it as well). The i386
ABI's `socketcall` passes the family behind a pointer a filter cannot read, so its socket creation is
refused whatever the family. `io_uring_setup` is refused because io_uring creates sockets (and does
other calls) without passing through this filter. `ptrace`, `process_vm_readv`/`process_vm_writev` and
`pidfd_getfd` are refused: with no Yama LSM a command may trace any process of its own uid, and in a Docker
container that includes the shell wrapping it. A red-team payload turned its wrapper's `wait4` into
`exit_group(0)` (the wrapper's `kill -9 -1` never ran, the exec reported 0 while forked chains went on
rewriting the results), did the same to the warm container's reset (its process lived into the next
experiment's container), and forged an OpenFOAM step script's reports. No tool labgate runs traces (Open MPI's
single-copy transport is switched off in the sandbox's environment instead). `io_setup` (Linux native AIO) is
refused: its contexts come from one kernel-wide pool (`fs.aio-max-nr`, 65536 here) that no rlimit or cgroup
counts, and one sandbox took all of it, so root processes on the host got EAGAIN; no tool labgate runs uses
it. `fallocate` fails with EOPNOTSUPP, as on a filesystem without it: it reserves gigabytes in microseconds,
faster than the disk watch polls (40 files of 64 MiB in 24 ms), while `posix_fallocate` then falls back to
writing, at the write rate the watch is sized for. Every other call is allowed. Machines of an architecture
not listed here get no filter (`keyring_filter()` returns None) and `describe()` says so.
"""

from __future__ import annotations

import errno
import functools
import os
import platform
import struct
from dataclasses import dataclass

_X32_BIT = 0x40000000  # x86_64's x32 ABI numbers its calls with this bit set; they reach the same kernel code
_AUDIT_ARCH = {"x86_64": 0xC000003E, "i386": 0x40000003, "aarch64": 0xC00000B7, "arm": 0x40000028}
_IO_URING_SETUP = 425  # the same number on every ABI here
_PIDFD_GETFD = 438  # likewise


@dataclass(frozen=True)
class _Calls:
    """One ABI's numbers for the calls the filter looks at."""

    denied: tuple[int, ...]  # add_key, request_key, keyctl, io_uring_setup, the tracing calls, io_setup
    unsupported: tuple[int, ...]  # fallocate
    socket: tuple[int, ...]  # refused when the family (first argument) is AF_VSOCK
    socketcall: int | None = None  # i386's multiplexer: its SYS_SOCKET is refused


def _x86_64_and_x32(numbers: tuple[int, ...]) -> tuple[int, ...]:
    return numbers + tuple(_X32_BIT | number for number in numbers)


# A machine also runs its compat ABI's binaries (i386 on x86_64, arm on aarch64), which a candidate may
# bring along, so both are filtered.
_CALLS = {
    "x86_64": _Calls(
        # ptrace, process_vm_readv and process_vm_writev have x32 numbers of their own (521, 539, 540)
        denied=_x86_64_and_x32((248, 249, 250, _IO_URING_SETUP, 101, 310, 311, _PIDFD_GETFD, 521, 539, 540, 206, 543)),
        unsupported=_x86_64_and_x32((285,)),
        socket=_x86_64_and_x32((41,)),
    ),
    "i386": _Calls(
        denied=(286, 287, 288, _IO_URING_SETUP, 26, 347, 348, _PIDFD_GETFD, 245),
        unsupported=(324,),
        socket=(359,),
        socketcall=102,
    ),
    "aarch64": _Calls(
        denied=(217, 218, 219, _IO_URING_SETUP, 117, 270, 271, _PIDFD_GETFD, 0), unsupported=(47,), socket=(198,)
    ),
    "arm": _Calls(
        denied=(309, 310, 311, _IO_URING_SETUP, 26, 376, 377, _PIDFD_GETFD, 243), unsupported=(352,), socket=(281,)
    ),
}
_MACHINES = {"x86_64": ("x86_64", "i386"), "aarch64": ("aarch64", "arm")}

AF_VSOCK = 40
_SYS_SOCKET = 1  # socketcall's first argument for socket()

_LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_RET_K = 0x06  # BPF_RET | BPF_K
_RET_ALLOW = 0x7FFF0000
_RET_EPERM = 0x00050000 | errno.EPERM
_RET_EOPNOTSUPP = 0x00050000 | errno.EOPNOTSUPP
_NR_OFFSET = 0  # struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]
_ARCH_OFFSET = 4
_ARG0_OFFSET = 16  # the low word of args[0] on the little-endian machines listed


class _Program:
    """A BPF program written with named jump targets, resolved to the relative offsets BPF wants."""

    def __init__(self) -> None:
        self.code: list[tuple[int, str | None, str | None, int]] = []
        self.labels: dict[str, int] = {}

    def label(self, name: str) -> None:
        self.labels[name] = len(self.code)

    def load(self, offset: int) -> None:
        self.code.append((_LD_W_ABS, None, None, offset))

    def jump_if(self, value: int, target: str, otherwise: str | None = None) -> None:
        self.code.append((_JEQ_K, target, otherwise, value))

    def ret(self, value: int) -> None:
        self.code.append((_RET_K, None, None, value))

    def assemble(self) -> bytes:
        out = []
        for at, (code, true, false, k) in enumerate(self.code):
            offsets = [0 if name is None else self.labels[name] - at - 1 for name in (true, false)]
            assert all(0 <= offset < 256 for offset in offsets)
            out.append(struct.pack("=HBBI", code, offsets[0], offsets[1], k))
        return b"".join(out)


@functools.cache
def keyring_program(machine: str | None = None) -> bytes | None:
    """The filter as bubblewrap reads it (an array of `struct sock_filter`), or None for an unknown machine.

    Assembled once per process and machine: both backends ask for it at every command.

    For each ABI: if the call's architecture is that ABI's, deny its refused calls, look at the family
    of a `socket` call (and at the operation of `socketcall`), allow the rest; an unknown ABI is allowed.
    """
    abis = _MACHINES.get(machine or platform.machine())
    if abis is None:
        return None
    program = _Program()
    for abi in abis:
        calls = _CALLS[abi]
        program.label(f"{abi}:arch")
        program.load(_ARCH_OFFSET)
        program.jump_if(_AUDIT_ARCH[abi], f"{abi}:calls", f"{abi}:next")
        program.label(f"{abi}:calls")
        program.load(_NR_OFFSET)
        for number in calls.denied:
            program.jump_if(number, "deny")
        for number in calls.unsupported:
            program.jump_if(number, "unsupported")
        for number in calls.socket:
            program.jump_if(number, "socket")
        if calls.socketcall is not None:
            program.jump_if(calls.socketcall, "socketcall")
        program.ret(_RET_ALLOW)
        program.label(f"{abi}:next")
    program.ret(_RET_ALLOW)
    program.label("socket")
    program.load(_ARG0_OFFSET)
    program.jump_if(AF_VSOCK, "deny")
    program.ret(_RET_ALLOW)
    program.label("socketcall")
    program.load(_ARG0_OFFSET)
    program.jump_if(_SYS_SOCKET, "deny")
    program.ret(_RET_ALLOW)
    program.label("unsupported")
    program.ret(_RET_EOPNOTSUPP)
    program.label("deny")
    program.ret(_RET_EPERM)
    return program.assemble()


def keyring_filter() -> int | None:
    """A descriptor holding the program for `bwrap --seccomp`, positioned at its start; the caller closes it."""
    program = keyring_program()
    if program is None:
        return None
    fd = os.memfd_create("labgate-seccomp", os.MFD_CLOEXEC)
    os.write(fd, program)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd
