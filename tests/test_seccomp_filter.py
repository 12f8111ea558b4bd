"""The local backend's seccomp program, run by a small classic-BPF interpreter for every ABI it filters.

A live sandbox can only exercise the host's own ABI; the compat ABIs (i386 on x86_64, arm on
aarch64) a candidate could bring as binaries are checked here instruction by instruction, against
the same struct seccomp_data layout the kernel hands the filter.
"""

from __future__ import annotations

import errno
import struct

import pytest

from sandboxes._seccomp import _AUDIT_ARCH, _X32_BIT, AF_VSOCK, keyring_program

ALLOW = 0x7FFF0000
EPERM = 0x00050000 | errno.EPERM
EOPNOTSUPP = 0x00050000 | errno.EOPNOTSUPP
FALLOCATE = {"x86_64": 285, "i386": 324, "aarch64": 47, "arm": 352}


def run_filter(program: bytes, arch: str, nr: int, *args: int) -> int:
    """What the filter returns for one call: loads of the data's words, equality jumps and returns only."""
    words = [*args, *([0] * (6 - len(args)))]
    data = struct.pack("=iIQ6Q", nr, _AUDIT_ARCH[arch], 0, *words)
    code = [struct.unpack_from("=HBBI", program, at) for at in range(0, len(program), 8)]
    accumulator, pc = 0, 0
    for _ in range(len(code) + 1):
        op, true, false, k = code[pc]
        if op == 0x20:
            (accumulator,) = struct.unpack_from("=I", data, k)
            pc += 1
        elif op == 0x15:
            pc += 1 + (true if accumulator == k else false)
        elif op == 0x06:
            return k
        else:
            raise AssertionError(f"unexpected BPF opcode {op:#x}")
    raise AssertionError("the filter ran off its end")


# (abi, add_key, keyctl, socket, socketcall or None, read)
ABIS = [
    ("x86_64", 248, 250, 41, None, 0),
    ("i386", 286, 288, 359, 102, 3),
    ("aarch64", 217, 219, 198, None, 63),
    ("arm", 309, 311, 281, None, 3),
]
MACHINE_OF = {"x86_64": "x86_64", "i386": "x86_64", "aarch64": "aarch64", "arm": "aarch64"}


@pytest.mark.parametrize(("abi", "add_key", "keyctl", "socket_nr", "socketcall", "read"), ABIS)
def test_each_abi_refuses_keyrings_vsock_and_io_uring_and_allows_the_rest(
    abi: str, add_key: int, keyctl: int, socket_nr: int, socketcall: int | None, read: int
) -> None:
    program = keyring_program(MACHINE_OF[abi])
    assert program is not None
    assert run_filter(program, abi, add_key) == EPERM
    assert run_filter(program, abi, keyctl, 1) == EPERM
    assert run_filter(program, abi, 425) == EPERM  # io_uring_setup
    assert run_filter(program, abi, socket_nr, AF_VSOCK, 1) == EPERM
    for family in (1, 2, 10, 16):  # unix, inet, inet6, netlink
        assert run_filter(program, abi, socket_nr, family, 1) == ALLOW
    assert run_filter(program, abi, read, AF_VSOCK) == ALLOW  # the family test applies to socket only
    # fallocate reserves disk faster than the watch polls: refused as a filesystem without it would.
    assert run_filter(program, abi, FALLOCATE[abi], 3, 0, 0, 1 << 30) == EOPNOTSUPP
    if socketcall is not None:
        assert run_filter(program, abi, socketcall, 1) == EPERM  # SYS_SOCKET: the family is behind a pointer
        assert run_filter(program, abi, socketcall, 3) == ALLOW  # SYS_CONNECT


def test_x32_calls_are_filtered_like_x86_64_ones() -> None:
    program = keyring_program("x86_64")
    assert program is not None
    assert run_filter(program, "x86_64", _X32_BIT | 250) == EPERM
    assert run_filter(program, "x86_64", _X32_BIT | 41, AF_VSOCK) == EPERM
    assert run_filter(program, "x86_64", _X32_BIT | 41, 2) == ALLOW
    assert run_filter(program, "x86_64", _X32_BIT | FALLOCATE["x86_64"]) == EOPNOTSUPP


def test_another_architecture_is_allowed_and_an_unknown_machine_gets_no_filter() -> None:
    program = keyring_program("x86_64")
    assert program is not None
    assert run_filter(program, "aarch64", 219) == ALLOW  # an ABI this machine cannot run
    assert keyring_program("riscv64") is None


def test_the_file_size_cap_is_the_smaller_of_the_file_and_disk_limits() -> None:
    """One byte over `disk_bytes` (so a file stopped there is still named a disk breach); a zero is a limit too."""
    from sandboxes._base import Limits, rlimit_values

    def fsize(**limits: int | None) -> int | None:
        return rlimit_values(Limits(**limits), 10.0, False).get("fsize")  # type: ignore[arg-type]

    assert fsize(file_bytes=1 << 30, disk_bytes=8 << 20) == (8 << 20) + 1
    assert fsize(file_bytes=4 << 20, disk_bytes=8 << 20) == 4 << 20
    assert fsize(file_bytes=0, disk_bytes=None) == 0
    assert fsize(file_bytes=1 << 30, disk_bytes=0) == 1
    assert fsize(file_bytes=None, disk_bytes=None) is None
