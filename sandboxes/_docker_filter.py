"""The local backend's seccomp program (`_seccomp.py`) in force inside Docker containers too.

The engine's default profile is an allow-list of its own, but the one shipped with Docker 20.10
allows `socket(AF_VSOCK, ...)` (vsock reaches the host of a virtual machine; no network namespace
stops it) and `io_uring_setup`. An engine profile replacing the default would drop the default's
rules, so labgate adds its program on top instead: every command starts through labgate-filter
(`_filter_exec.c`), a static binary mounted read-only into the container, which installs the
program and then runs the command. Seccomp filters stack, so both the engine's and labgate's apply.
Without a C compiler and a static C library there is no filter binary and `describe()` says so.
"""

from __future__ import annotations

import os
from pathlib import Path

from sandboxes._launch import built_program
from sandboxes._seccomp import keyring_program

FILTER_TARGET = "/.labgate-filter"
"""Where the binary is mounted in every container."""

_SOURCE = Path(__file__).with_name("_filter_exec.c")


def filter_binary() -> Path | None:
    """The static labgate-filter binary, built on first use; None where this machine has no program
    (`keyring_program`), it cannot be built, or it is switched off (`LABGATE_DOCKER_FILTER=0`)."""
    if os.environ.get("LABGATE_DOCKER_FILTER", "1") == "0" or keyring_program() is None:
        return None
    return built_program(_SOURCE, "labgate-filter", static=True)


def filter_prefix(binary: Path | None) -> list[str]:
    """What a container's command starts with so that the program is in force (nothing without a binary)."""
    program = keyring_program()
    if binary is None or program is None:
        return []
    return [FILTER_TARGET, program.hex()]
