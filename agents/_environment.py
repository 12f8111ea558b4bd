"""What a run records about where it ran: versions of labgate, its libraries and the tools."""

from __future__ import annotations

import os
import platform
import socket
import sys
from importlib import metadata
from typing import Any

_PACKAGES = (
    "labgate",
    "pydantic",
    "sqlmodel",
    "sqlalchemy",
    "numpy",
    "matplotlib",
    "langgraph",
    "typer",
    "openai",
)


def package_versions() -> dict[str, str]:
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def environment_record(tools: dict[str, str], sandbox: dict[str, Any], seed: int, llm: str) -> dict[str, Any]:
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "host": socket.gethostname(),
        "cpus": os.cpu_count() or 1,
        "packages": package_versions(),
        "tools": tools,
        "sandbox": sandbox,
        "seed": seed,
        "llm": llm,
    }
