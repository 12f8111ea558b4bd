"""Execution backends: the only place labgate runs tools and candidates' code."""

from sandboxes._base import (
    GIB,
    MIB,
    ExecResult,
    Limits,
    OutputLimitExceededError,
    Sandbox,
    SandboxError,
    SandboxPathError,
    SandboxProcess,
    SandboxTimeoutError,
    SandboxUnavailableError,
    is_secret_name,
    sandbox_environment,
)
from sandboxes._config import LocalSandboxConfig, SandboxConfig, get_sandbox
from sandboxes._local import LocalSandbox

__all__ = [
    "GIB",
    "MIB",
    "ExecResult",
    "Limits",
    "LocalSandbox",
    "LocalSandboxConfig",
    "OutputLimitExceededError",
    "Sandbox",
    "SandboxConfig",
    "SandboxError",
    "SandboxPathError",
    "SandboxProcess",
    "SandboxTimeoutError",
    "SandboxUnavailableError",
    "get_sandbox",
    "is_secret_name",
    "sandbox_environment",
]
