"""Parsing OpenFOAM solver logs: time steps, residuals, continuity errors and fatal errors."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from runs import UntrustedFileMissingError, read_untrusted_path_text

_TIME = re.compile(r"^Time = ([0-9.eE+-]+)\s*$")
_RESIDUAL = re.compile(
    r"Solving for (\w+), Initial residual = ([0-9.eE+-]+|nan|inf|-?nan), Final residual = ([0-9.eE+-]+|nan|inf|-?nan)"
)
_CONTINUITY = re.compile(r"time step continuity errors : sum local = ([0-9.eE+-]+|nan|-?nan|inf)")
# Lines that only appear when a solver dies: OpenFOAM's own fatal errors and its signal handlers'
# stack traces (the banner's "Floating point exception trapping enabled" is not one of them).
_FATAL_MARKERS = (
    "FOAM FATAL ERROR",
    "FOAM FATAL IO ERROR",
    "sigFpe::sigHandler",
    "sigSegv::sigHandler",
    "FOAM aborting",
)
_COURANT = re.compile(r"Courant Number mean: ([0-9.eE+-]+|nan) max: ([0-9.eE+-]+|nan|inf)")


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


@dataclass
class SolverLog:
    """What a solver log says happened, step by step."""

    times: list[float] = field(default_factory=list)
    residuals: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    continuity: list[float] = field(default_factory=list)
    courant_max: list[float] = field(default_factory=list)
    ended: bool = False
    converged: bool = False
    """A steady solver stopped early because every residual met its residualControl target."""
    fatal: list[str] = field(default_factory=list)
    non_finite: bool = False
    n_lines: int = 0

    @property
    def last_time(self) -> float | None:
        return self.times[-1] if self.times else None


def parse_solver_log(text: str) -> SolverLog:
    log = SolverLog()
    lines = text.splitlines()
    log.n_lines = len(lines)
    current_time = 0.0
    seen_in_step: set[str] = set()
    for index, line in enumerate(lines):
        stripped = line.strip()
        if match := _TIME.match(stripped):
            current_time = _number(match.group(1))
            log.times.append(current_time)
            seen_in_step = set()
            continue
        if match := _RESIDUAL.search(line):
            name, initial = match.group(1), _number(match.group(2))
            if not math.isfinite(initial) or not math.isfinite(_number(match.group(3))):
                log.non_finite = True
            # Keep the first solve of each field per time step (the PISO corrector repeats p).
            if name not in seen_in_step:
                log.residuals.setdefault(name, []).append((current_time, initial))
                seen_in_step.add(name)
            continue
        if match := _CONTINUITY.search(line):
            value = _number(match.group(1))
            log.continuity.append(value)
            if not math.isfinite(value):
                log.non_finite = True
            continue
        if match := _COURANT.search(line):
            value = _number(match.group(2))
            log.courant_max.append(value)
            if not math.isfinite(value):
                log.non_finite = True
            continue
        if any(marker in line for marker in _FATAL_MARKERS):
            log.fatal.append(" ".join(part.strip() for part in lines[index : index + 6] if part.strip())[:500])
        if "solution converged in" in stripped:
            log.converged = True
        if stripped == "End":
            log.ended = True
    return log


MAX_LOG_BYTES = 128 << 20
"""The largest solver log read from a case: far above any run labgate makes, far below host memory."""


def read_solver_log(path: Path, *, within: Path | None = None) -> SolverLog:
    """Parse a solver log; a missing log reads as empty (the gates say so).

    No link below `within` is followed (without it only the log itself is checked).

    Raises:
        UntrustedFileError: the log is a link, a special file, larger than `MAX_LOG_BYTES` or
            unreadable; its message names the file and why.
    """
    try:
        text = read_untrusted_path_text(path, within=within, max_bytes=MAX_LOG_BYTES)
    except UntrustedFileMissingError:
        text = ""
    return parse_solver_log(text)
