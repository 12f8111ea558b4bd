"""Reaching the Docker engine: the `docker` package is imported here, and only when a docker backend is chosen.

Every failure to reach the engine becomes a `SandboxUnavailableError` that says what to do, so a
user without Docker gets one line instead of a connection traceback.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from sandboxes._base import SandboxUnavailableError

if TYPE_CHECKING:
    import docker

ENGINE_HINT = (
    "start the engine (`sudo systemctl start docker`, or `sudo dockerd &` where there is no systemd) "
    "or choose --sandbox local"
)


def docker_module() -> Any:
    """The `docker` package, or a clear error naming the extra that installs it."""
    try:
        import docker
    except ImportError:
        raise SandboxUnavailableError(
            "the docker backend needs the `docker` Python package: pip install 'labgate[docker]'"
        ) from None
    return docker


def engine_errors() -> tuple[type[BaseException], ...]:
    """What a call to the engine raises when the engine (not our code) fails: API errors, a dropped
    connection, a socket error. Used as `except engine_errors():`."""
    module = docker_module()
    import requests

    return (module.errors.DockerException, requests.exceptions.RequestException, OSError)


def engine_address() -> str:
    return os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")


def connect(timeout: float = 120.0) -> docker.DockerClient:
    """A client whose engine answered a ping; raises SandboxUnavailableError otherwise."""
    module = docker_module()
    try:
        client = module.from_env(timeout=int(timeout))
        client.ping()
    except module.errors.DockerException as error:
        reason = str(error)
        if "Permission denied" in reason:
            raise SandboxUnavailableError(
                f"the Docker engine at {engine_address()} refused this user: add it to the `docker` group "
                "(or run as root)"
            ) from None
        raise SandboxUnavailableError(
            f"no Docker engine answers at {engine_address()} ({_short(reason)}): {ENGINE_HINT}"
        ) from None
    return client  # type: ignore[no-any-return]


def _short(reason: str, limit: int = 160) -> str:
    reason = " ".join(reason.split())
    return reason if len(reason) <= limit else reason[: limit - 3] + "..."


def is_not_found(error: BaseException) -> bool:
    return type(error).__name__ in ("NotFound", "ImageNotFound")
