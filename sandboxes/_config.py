"""Choosing a backend by name: a discriminated union of configs and one factory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from sandboxes._base import Limits, Sandbox


class LocalSandboxConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["local"] = "local"
    unsafe_no_isolation: bool = False


SandboxConfig = Annotated[LocalSandboxConfig, Field(discriminator="type")]


def get_sandbox(
    config: LocalSandboxConfig,
    workdir: Path,
    *,
    limits: Limits | None = None,
    ro_paths: tuple[Path, ...] = (),
) -> Sandbox:
    """Build the backend a config names; heavy backends are imported only when chosen."""
    from sandboxes._local import LocalSandbox

    return LocalSandbox(
        workdir=workdir,
        limits=limits or Limits(),
        isolation=not config.unsafe_no_isolation,
        ro_paths=ro_paths,
    )
