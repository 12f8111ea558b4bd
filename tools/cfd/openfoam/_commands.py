"""Where OpenFOAM lives on this machine and how to run its utilities in a sandbox."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from sandboxes import Limits, Sandbox, SandboxTimeoutError
from tools._workload import ToolUnavailableError

INSTALL_HINT = "install it with ./scripts/setup (Debian: apt-get install openfoam openfoam-examples)"


class OpenFOAMUnavailableError(ToolUnavailableError):
    """OpenFOAM, or one of the utilities a case runs, is not installed where `OpenFOAMConfig` points."""


class OpenFOAMConfig(BaseModel):
    """Where to find OpenFOAM; defaults match Debian's `openfoam` package."""

    model_config = ConfigDict(extra="forbid")

    bin_dir: Path = Path("/usr/bin")
    project_dir: Path = Path("/usr/share/openfoam")

    def environment(self) -> dict[str, str]:
        """Variables the solvers need inside the sandbox (they read etc/ files via WM_PROJECT_DIR)."""
        return {
            "WM_PROJECT_DIR": str(self.project_dir),
            "PATH": f"{self.bin_dir}:/usr/local/bin:/usr/bin:/bin",
            "FOAM_SIGFPE": "true",
        }

    def require(self, applications: Sequence[str]) -> None:
        """Raise a clear error naming what is missing, before any sandbox is started."""
        missing = [app for app in applications if shutil.which(app, path=str(self.bin_dir)) is None]
        if missing:
            raise OpenFOAMUnavailableError(
                f"OpenFOAM not found: {', '.join(missing)} missing from {self.bin_dir}; {INSTALL_HINT}"
            )
        if not (self.project_dir / "etc" / "controlDict").is_file():
            raise OpenFOAMUnavailableError(
                f"OpenFOAM not found: {self.project_dir}/etc/controlDict is missing; {INSTALL_HINT}"
            )

    def version(self) -> str | None:
        banner = self.project_dir / "etc" / "controlDict"
        if not banner.is_file():
            return None
        match = re.search(r"Version:\s+(\S+)", banner.read_text(errors="replace")[:2000])
        return match.group(1) if match else None


@dataclass(frozen=True)
class CaseStep:
    """One utility run inside the case directory, its output going to `log` in the case."""

    name: str
    argv: tuple[str, ...]
    log: str


@dataclass
class StepOutcome:
    name: str
    returncode: int | None
    seconds: float
    log: str
    timed_out: bool = False


def run_steps(
    sandbox: Sandbox,
    steps: Sequence[CaseStep],
    config: OpenFOAMConfig,
    *,
    timeout: float,
    limits: Limits | None = None,
) -> list[StepOutcome]:
    """Run the steps in order within one wall-clock budget; stop at the first failure."""
    deadline = time.monotonic() + timeout
    outcomes: list[StepOutcome] = []
    for step in steps:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            outcomes.append(StepOutcome(step.name, None, 0.0, step.log, timed_out=True))
            break
        # The shell line is built from labgate's own constants (argv of OpenFOAM utilities and a
        # log name), never from user text; it only adds the redirection into the log file.
        command = " ".join(step.argv) + f" > {step.log} 2>&1"
        start = time.monotonic()
        try:
            result = sandbox.exec(["sh", "-c", command], timeout=remaining, limits=limits, env=config.environment())
        except SandboxTimeoutError:
            outcomes.append(StepOutcome(step.name, None, time.monotonic() - start, step.log, timed_out=True))
            break
        outcomes.append(StepOutcome(step.name, result.returncode, time.monotonic() - start, step.log))
        if result.returncode != 0:
            break
    return outcomes
