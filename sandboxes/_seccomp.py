"""A seccomp filter for the local backend that shuts the kernel keyring away from the sandbox.

A child inherits its parent's session keyring, and a user namespace does not change that: a
candidate under bubblewrap could list and read every key labgate's session holds (a systemd
service's private keyring, a login's `pam_keyinit` one, Kerberos or CIFS credentials kept there)
because possessing the keyring grants the possessor's permissions whatever the uid. Docker's
default profile refuses the keyring calls for this reason; this filter does the same for
bubblewrap (`--seccomp FD`): `add_key`, `request_key` and `keyctl` fail with EPERM, every other
call is allowed. Machines of an architecture not listed here get no filter (`keyring_filter()`
returns None) and `describe()` says so.
"""

from __future__ import annotations

import errno
import os
import platform
import struct

_X32_BIT = 0x40000000  # x86_64's x32 ABI numbers its calls with this bit set; they reach the same kernel code
_AUDIT_ARCH = {"x86_64": 0xC000003E, "i386": 0x40000003, "aarch64": 0xC00000B7, "arm": 0x40000028}
# (add_key, request_key, keyctl) of each ABI; a machine also runs its compat ABI's binaries (i386 on
# x86_64, arm on aarch64), which a candidate may bring along, so both are filtered.
_CALLS = {
    "x86_64": (248, 249, 250, _X32_BIT | 248, _X32_BIT | 249, _X32_BIT | 250),
    "i386": (286, 287, 288),
    "aarch64": (217, 218, 219),
    "arm": (309, 310, 311),
}
_MACHINES = {"x86_64": ("x86_64", "i386"), "aarch64": ("aarch64", "arm")}

_LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_RET_K = 0x06  # BPF_RET | BPF_K
_RET_ALLOW = 0x7FFF0000
_RET_EPERM = 0x00050000 | errno.EPERM
_NR_OFFSET = 0  # struct seccomp_data: int nr; __u32 arch; ...
_ARCH_OFFSET = 4


def _instruction(code: int, jump_true: int, jump_false: int, k: int) -> bytes:
    return struct.pack("=HBBI", code, jump_true, jump_false, k)


def keyring_program(machine: str | None = None) -> bytes | None:
    """The filter as bubblewrap reads it (an array of `struct sock_filter`), or None for an unknown machine.

    For each ABI: if the call's architecture is that ABI's, compare its number with the three keyring
    calls (a match jumps to the final EPERM return) and otherwise allow it; an unknown ABI is allowed.
    """
    abis = _MACHINES.get(machine or platform.machine())
    if abis is None:
        return None
    # Per ABI: check, load, the comparisons, allow, reload (not after the last); then allow, deny.
    length = sum(4 + len(_CALLS[abi]) for abi in abis) + 2
    deny = length - 1
    program = [_instruction(_LD_W_ABS, 0, 0, _ARCH_OFFSET)]
    for abi in abis:
        calls = _CALLS[abi]
        program.append(_instruction(_JEQ_K, 0, len(calls) + 2, _AUDIT_ARCH[abi]))
        program.append(_instruction(_LD_W_ABS, 0, 0, _NR_OFFSET))
        for number in calls:
            program.append(_instruction(_JEQ_K, deny - len(program) - 1, 0, number))
        program.append(_instruction(_RET_K, 0, 0, _RET_ALLOW))
        # The next ABI compares the architecture again, so it reloads it.
        program.append(_instruction(_LD_W_ABS, 0, 0, _ARCH_OFFSET))
    program.pop()
    program += [_instruction(_RET_K, 0, 0, _RET_ALLOW), _instruction(_RET_K, 0, 0, _RET_EPERM)]
    assert len(program) == length
    return b"".join(program)


def keyring_filter() -> int | None:
    """A descriptor holding the program for `bwrap --seccomp`, positioned at its start; the caller closes it."""
    program = keyring_program()
    if program is None:
        return None
    fd = os.memfd_create("labgate-seccomp", os.MFD_CLOEXEC)
    os.write(fd, program)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd
