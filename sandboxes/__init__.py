"""Execution backends: the only place labgate runs tools and candidates' code."""

from sandboxes._base import (
    GIB,
    MIB,
    ExecResult,
    Limits,
    OutputLimitExceededError,
    ResourceLimitError,
    Sandbox,
    SandboxCommandError,
    SandboxError,
    SandboxPathError,
    SandboxProcess,
    SandboxTimeoutError,
    SandboxUnavailableError,
    is_secret_name,
    sandbox_environment,
)
from sandboxes._cgroup import yield_cpu
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
from sandboxes._engine import connect as connect_engine
from sandboxes._images import (
    BASE_IMAGE,
    DEFAULT_MIRROR,
    BuildOutcome,
    ImageBuildError,
    ImageStatus,
    build_images,
    image_names,
    image_reference,
    image_statuses,
    needs_internet,
    resolve_image,
)
from sandboxes._launch import only_owner_can_change
from sandboxes._local import LocalSandbox, isolation_gaps

__all__ = [
    "BASE_IMAGE",
    "DEFAULT_MIRROR",
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
    "ResourceLimitError",
    "Sandbox",
    "SandboxCommandError",
    "SandboxConfig",
    "SandboxError",
    "SandboxPathError",
    "SandboxPool",
    "SandboxProcess",
    "SandboxTimeoutError",
    "SandboxUnavailableError",
    "build_images",
    "connect_engine",
    "get_sandbox",
    "image_names",
    "image_reference",
    "image_statuses",
    "is_secret_name",
    "isolation_gaps",
    "needs_internet",
    "only_owner_can_change",
    "open_sandboxes",
    "resolve_image",
    "sandbox_environment",
    "yield_cpu",
]
