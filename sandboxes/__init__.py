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
from sandboxes._config import (
    DockerSandboxConfig,
    LocalSandboxConfig,
    SandboxConfig,
    SandboxPool,
    get_sandbox,
    open_sandboxes,
)
from sandboxes._docker import DockerSandbox
from sandboxes._docker_pool import DockerSandboxes
from sandboxes._images import (
    BASE_IMAGE,
    BuildOutcome,
    ImageBuildError,
    ImageStatus,
    build_images,
    image_names,
    image_reference,
    image_statuses,
    resolve_image,
)
from sandboxes._local import LocalSandbox

__all__ = [
    "BASE_IMAGE",
    "GIB",
    "MIB",
    "BuildOutcome",
    "DockerSandbox",
    "DockerSandboxConfig",
    "DockerSandboxes",
    "ExecResult",
    "ImageBuildError",
    "ImageStatus",
    "Limits",
    "LocalSandbox",
    "LocalSandboxConfig",
    "OutputLimitExceededError",
    "Sandbox",
    "SandboxConfig",
    "SandboxError",
    "SandboxPathError",
    "SandboxPool",
    "SandboxProcess",
    "SandboxTimeoutError",
    "SandboxUnavailableError",
    "build_images",
    "get_sandbox",
    "image_names",
    "image_reference",
    "image_statuses",
    "is_secret_name",
    "open_sandboxes",
    "resolve_image",
    "sandbox_environment",
]
