"""Choosing a backend by name: a discriminated union of configs and the factories that build them.

`get_sandbox` makes one sandbox; `open_sandboxes` makes the factory a whole run uses, which for
docker keeps warm containers between experiments and must be closed at the end of the run.
Heavy backends (the `docker` package) are imported only when chosen.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sandboxes._base import GIB, Limits, Sandbox

if TYPE_CHECKING:
    from sandboxes._docker_pool import DockerSandboxes


class LocalSandboxConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["local"] = "local"
    unsafe_no_isolation: bool = False


class DockerSandboxConfig(BaseModel):
    """A hardened container per experiment; the engine must be running and the image built (never pulled)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["docker"] = "docker"
    image: str = Field(
        min_length=1,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_./:@-]*$",
        description="a shipped image's name (sandboxes/images/<name>, e.g. 'openfoam') or an image reference",
    )
    cpus: float | None = Field(default=None, gt=0, le=1024, description="CPU quota per container; default all cores")
    reuse: bool = Field(default=True, description="share warm containers between a run's experiments where safe")
    tmp_bytes: int = Field(default=GIB, ge=1 << 20, description="size of the tmpfs mounted at /tmp")


SandboxConfig = Annotated[LocalSandboxConfig | DockerSandboxConfig, Field(discriminator="type")]


class SandboxPool:
    """The sandbox factory of one run: `pool(workdir, ro_paths=...)` makes a sandbox; `close()` releases what
    the run held. `ro_paths` are host paths the sandbox sees read-only at the same place (a worker's venv)."""

    def __call__(self, workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        raise NotImplementedError

    def close(self) -> None:
        """Nothing to release by default."""

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class _LocalPool(SandboxPool):
    def __init__(self, config: LocalSandboxConfig, limits: Limits | None, ro_paths: tuple[Path, ...]) -> None:
        self.config = config
        self.limits = limits
        self.ro_paths = ro_paths

    def __call__(self, workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
        return get_sandbox(self.config, workdir, limits=self.limits, ro_paths=(*self.ro_paths, *ro_paths))

    def describe(self) -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="labgate-probe-") as probe:
            return self(Path(probe)).describe()


class _DockerPool(SandboxPool):
    def __init__(self, sandboxes: DockerSandboxes) -> None:
        self.sandboxes = sandboxes

    def __call__(self, workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
        return self.sandboxes(workdir, ro_paths=ro_paths)

    def describe(self) -> dict[str, Any]:
        return self.sandboxes.describe()

    def close(self) -> None:
        self.sandboxes.close()


def _docker_sandboxes(
    config: DockerSandboxConfig, shared_root: Path | None, limits: Limits | None, ro_paths: Sequence[Path]
) -> DockerSandboxes:
    from sandboxes._docker_pool import DockerSandboxes

    return DockerSandboxes(
        config.image,
        shared_root=shared_root,
        limits=limits,
        ro_paths=ro_paths,
        cpus=config.cpus,
        tmp_bytes=config.tmp_bytes,
        reuse=config.reuse,
    )


def get_sandbox(
    config: LocalSandboxConfig | DockerSandboxConfig,
    workdir: Path,
    *,
    limits: Limits | None = None,
    ro_paths: tuple[Path, ...] = (),
) -> Sandbox:
    """Build the backend a config names around one directory; heavy backends are imported only when chosen."""
    if isinstance(config, DockerSandboxConfig):
        sandbox = _docker_sandboxes(config, None, limits, ro_paths)(workdir)
        sandbox.owns_pool = True
        return sandbox

    from sandboxes._local import LocalSandbox

    return LocalSandbox(
        workdir=workdir,
        limits=limits or Limits(),
        isolation=not config.unsafe_no_isolation,
        ro_paths=ro_paths,
    )


def open_sandboxes(
    config: LocalSandboxConfig | DockerSandboxConfig,
    *,
    shared_root: Path | None = None,
    limits: Limits | None = None,
    ro_paths: tuple[Path, ...] = (),
) -> SandboxPool:
    """The factory for a run whose experiment directories live under `shared_root`; close it when the run ends."""
    if isinstance(config, DockerSandboxConfig):
        return _DockerPool(_docker_sandboxes(config, shared_root, limits, ro_paths))
    return _LocalPool(config, limits, ro_paths)
