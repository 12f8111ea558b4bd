"""Where OpenFOAM lives on this machine and how to run its utilities in a sandbox."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from runs import LabgateError
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


STEP_MARK = "labgate-step"
"""What the step script writes on its own output before and after each step (the steps write to their logs)."""
_MARK_LINE = re.compile(rf"^{STEP_MARK} (\d+) (start|end) (\d+(?:\.\d+)?)(?: (\d+))?$")


class StepReportError(LabgateError, RuntimeError):
    """The step script's own report of its steps is not one it could have written.

    Its steps write to their logs, but a process inside the sandbox can still reach the script's output
    (through /proc); a report that does not follow the script, or disagrees with the exit status the
    sandbox itself saw, is refused rather than believed."""


def run_steps(
    sandbox: Sandbox,
    steps: Sequence[CaseStep],
    config: OpenFOAMConfig,
    *,
    timeout: float,
    limits: Limits | None = None,
) -> list[StepOutcome]:
    """Run the steps in order within one wall-clock budget; stop at the first failure.

    All steps run in one sandboxed shell: each sandbox command costs a namespace set-up (a few ms
    locally, ~40 ms as a docker exec), which a tiny case pays once instead of once per utility. The
    shell reports each step's start, end and exit status on its own output (`STEP_MARK` lines), and the
    sandbox's exit status is checked against that report (`StepReportError`). The shell is the sandbox's
    guarded one (`Sandbox.shell`): a step that wrote into an ordinary shell's memory through `/proc/1/mem`
    forged a report and an exit status that agreed, and the trusted step after it never ran.

    Raises:
        StepReportError: the report was tampered with.
    """
    if not steps:
        return []
    started = time.monotonic()
    try:
        script = [sandbox.shell, "-c", step_script(steps)]
        result = sandbox.exec(script, timeout=timeout, limits=limits, env=config.environment())
    except SandboxTimeoutError as error:
        partial = error.partial.stdout if error.partial is not None else ""
        return _outcomes(steps, partial, None, time.monotonic() - started)
    return _outcomes(steps, result.stdout, result.returncode, time.monotonic() - started)


def step_script(steps: Sequence[CaseStep]) -> str:
    """The shell script running `steps` in order, reporting each on its own output, stopping at a failure.

    The lines are built from labgate's own constants (argv of OpenFOAM utilities and a log name), never
    from user text. Times are read from /proc/uptime by the shell's own `read`, so reporting forks nothing.
    """
    lines = []
    for index, step in enumerate(steps):
        lines.append(
            f"read t _ < /proc/uptime; echo {STEP_MARK} {index} start $t; "
            f"{' '.join(step.argv)} > {step.log} 2>&1; s=$?; "
            f"read t _ < /proc/uptime; echo {STEP_MARK} {index} end $t $s; "
            '[ "$s" -eq 0 ] || exit "$s"'
        )
    return "\n".join(lines) + "\n"


def _outcomes(steps: Sequence[CaseStep], output: str, returncode: int | None, elapsed: float) -> list[StepOutcome]:
    """The steps' outcomes from the script's report; `returncode` None when the sandbox stopped it at its limit."""
    outcomes: list[StepOutcome] = []
    opened: float | None = None
    for line in (line for line in output.splitlines() if line.strip()):
        match = _MARK_LINE.match(line)
        done = len(outcomes)
        if match is None or int(match.group(1)) != done or done >= len(steps):
            raise StepReportError(f"the step report has a line the step script does not write: {line[:120]!r}")
        if done and outcomes[-1].returncode != 0:
            raise StepReportError(f"the step report goes on after {outcomes[-1].name} failed")
        at, code = float(match.group(3)), match.group(4)
        if match.group(2) == "start" and opened is None and code is None:
            opened = at
        elif match.group(2) == "end" and opened is not None and code is not None:
            outcomes.append(StepOutcome(steps[done].name, int(code), max(0.0, at - opened), steps[done].log))
            opened = None
        else:
            raise StepReportError(f"the step report is out of order at {line[:120]!r}")
    failed = outcomes[-1] if outcomes and outcomes[-1].returncode != 0 else None
    if returncode is None and opened is None and (failed is not None or len(outcomes) == len(steps)):
        # The script exits right after its last step's end and after a failing step's: a report of every
        # step done (or of a failure) that the time limit then cut is one a step wrote and then hung.
        said = "every step ended" if failed is None else f"{failed.name} failed"
        raise StepReportError(
            f"the step script ran out of time after its report says {said}, after which it exits at once: "
            f"a step wrote into the report"
        )
    if returncode is None:  # out of time: the step running (or about to start) is the one that ran out
        if failed is None and len(outcomes) < len(steps):
            spent = max(0.0, elapsed - sum(o.seconds for o in outcomes))
            step = steps[len(outcomes)]
            outcomes.append(StepOutcome(step.name, None, spent, step.log, timed_out=True))
        return outcomes
    if opened is not None:
        raise StepReportError(f"the step script exited with {returncode} in the middle of {steps[len(outcomes)].name}")
    if failed is None and (returncode != 0 or len(outcomes) != len(steps)):
        raise StepReportError(
            f"the step script exited with {returncode} after reporting {len(outcomes)} of {len(steps)} steps done"
        )
    if failed is not None and failed.returncode != returncode:
        raise StepReportError(f"{failed.name} reported code {failed.returncode}, the script exited with {returncode}")
    return outcomes
