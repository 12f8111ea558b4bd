"""Parsing OpenFOAM solver logs: time steps, residuals, continuity errors and fatal errors."""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path

from runs import UntrustedFileMissingError, read_untrusted_path_tail, read_untrusted_path_text

_TIME_STARTS = ("Time", "Engine time", "Crank angle")
"""How a line `_TIME` matches starts (the parser tries `_TIME` only on lines starting so)."""
_TIME = re.compile(rf"^(?:{'|'.join(_TIME_STARTS)}) = ([0-9.eE+-]+)(?:\s*(?:s|CA-deg))?\s*$")
"""A time step's first line: `Time = t`, or the engine solvers' `Engine time = t s` / `t CA-deg`."""
_RESIDUAL = re.compile(r"Solving for ([^,\s]+), Initial residual = ([^,\s]+), Final residual = ([^,\s]+)")
"""Any token stands where a number is logged: one no number reads ('NaN', 'Infinity', '1.#QNAN', a hex float)
is taken as non-finite, never skipped, so a diverged step cannot drop out of the history unseen. A field's
name is any word OpenFOAM writes, dotted phase names included (`e.air`, `alpha.water`, `U.airx`): read as
`\\w+`, every equation of an Euler multiphase case went unjudged, NaN residuals included."""
_CONTINUITY = re.compile(r"time step continuity errors : sum local = ([^,\s]+)")
# Lines that only appear when a solver dies: OpenFOAM's own fatal errors and its signal handlers'
# stack traces (the banner's "Floating point exception trapping enabled" is not one of them).
_FATAL_MARKERS = (
    "FOAM FATAL ERROR",
    "FOAM FATAL IO ERROR",
    "sigFpe::sigHandler",
    "sigSegv::sigHandler",
    "FOAM aborting",
)
_COURANT = re.compile(r"Courant Number mean: (\S+) max: (\S+)")


_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _number(text: str) -> float:
    """A logged number; NaN for anything else, the spellings of infinity included ('inf' reads as inf)."""
    if _DECIMAL.fullmatch(text):
        return float(text)
    return math.inf if text.lower().lstrip("+-") in ("inf", "infinity") else math.nan


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
    backwards: str | None = None
    """Where the logged time first fails to increase (`t = 2 after t = 5, line 40`): the output of more
    than one run, appended or interleaved, whose end says nothing about the run whose files remain."""

    @property
    def last_time(self) -> float | None:
        return self.times[-1] if self.times else None


_PARSED_KEPT = 4
_PARSED_MAX_CHARS = 16 << 20
_parsed: OrderedDict[str, SolverLog] = OrderedDict()
_parsed_lock = threading.Lock()


def parse_solver_log(text: str) -> SolverLog:
    """What the log `text` says (`SolverLog`); each call returns an object of its own.

    A case's log is parsed by the workload as the case ends and again by the solver-log gate, from the
    stored copy (the same text): the last few texts parsed are kept, keyed by the whole text (a hit is a
    full comparison, so only an identical log is answered from them), and a copy of the result is returned.
    """
    if len(text) > _PARSED_MAX_CHARS:
        return _parse_solver_log(text)
    with _parsed_lock:
        known = _parsed.get(text)
        if known is not None:
            _parsed.move_to_end(text)
    if known is None:
        known = _parse_solver_log(text)
        with _parsed_lock:
            _parsed[text] = known
            while len(_parsed) > _PARSED_KEPT:
                _parsed.popitem(last=False)
    return _copy(known)


def _copy(log: SolverLog) -> SolverLog:
    """`log` with lists and dictionaries of its own (their items, numbers and tuples, cannot change)."""
    return replace(
        log,
        times=list(log.times),
        residuals={name: list(values) for name, values in log.residuals.items()},
        continuity=list(log.continuity),
        courant_max=list(log.courant_max),
        fatal=list(log.fatal),
    )


def _parse_solver_log(text: str) -> SolverLog:
    log = SolverLog()
    lines = text.splitlines()
    log.n_lines = len(lines)
    current_time = 0.0
    seen_in_step: set[str] = set()
    # Each pattern is tried only on lines holding its literal text (`_TIME` also anchors it at the start): the
    # same matches as trying every pattern on every line, at a third of the cost (0.16 s to 0.05 s for a
    # 34,000-line cavity log, read once by the workload and once by the solver-log gate).
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith(_TIME_STARTS) and (match := _TIME.match(stripped)):
            current_time = _number(match.group(1))
            if log.times and log.backwards is None and not current_time > log.times[-1]:
                log.backwards = f"t = {current_time:g} after t = {log.times[-1]:g}, line {index + 1}"
            log.times.append(current_time)
            seen_in_step = set()
            # 'End' and the convergence message close the run only after its last step
            log.ended = log.converged = False
            continue
        if "Solving for " in line and (match := _RESIDUAL.search(line)):
            name, initial = match.group(1), _number(match.group(2))
            if not math.isfinite(initial) or not math.isfinite(_number(match.group(3))):
                log.non_finite = True
            # Keep the first solve of each field per time step (the PISO corrector repeats p).
            if name not in seen_in_step:
                log.residuals.setdefault(name, []).append((current_time, initial))
                seen_in_step.add(name)
            continue
        if "continuity errors" in line and (match := _CONTINUITY.search(line)):
            value = _number(match.group(1))
            log.continuity.append(value)
            if not math.isfinite(value):
                log.non_finite = True
            continue
        if "Courant Number" in line and (match := _COURANT.search(line)):
            value = _number(match.group(2))
            log.courant_max.append(value)
            if not math.isfinite(value):
                log.non_finite = True
            continue
        if ("FOAM" in line or "sigHandler" in line) and any(marker in line for marker in _FATAL_MARKERS):
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


PROGRESS_TAIL_BYTES = 64 << 10
"""The end of a running solver's log read for its progress: several time steps of any solver labgate runs."""
_DELTA_T = re.compile(r"^deltaT = ([0-9.eE+-]+)\s*$")
_EXECUTION = re.compile(r"^ExecutionTime = ([0-9.eE+-]+) s")


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class SolverProgress:
    """Where a running solver is, from the end of its log: the latest simulated time, the time step, and
    per field the initial residual of its first solve in the latest step that solved it (None where
    non-finite), so a step still being written shows its new values beside the previous step's others."""

    time: float | None = None
    delta_t: float | None = None
    residuals: dict[str, float | None] = field(default_factory=dict)
    courant_max: float | None = None
    execution_seconds: float | None = None
    ended: bool = False
    """The log says the solver finished (`End`) or died (a fatal error): nothing more will come."""

    def summary(self) -> str:
        """One line for a person watching: `t = 0.25, Δt = 0.005, residuals Ux 1.2e-05, p 3.4e-06`."""
        parts = [f"t = {self.time:g}" if self.time is not None else "no time step yet"]
        if self.delta_t is not None:
            parts.append(f"Δt = {self.delta_t:g}")
        if self.courant_max is not None:
            parts.append(f"Courant max {self.courant_max:.3g}")
        if self.residuals:
            shown = ", ".join(
                f"{name} {'non-finite' if value is None else f'{value:.3g}'}" for name, value in self.residuals.items()
            )
            parts.append(f"residuals {shown}")
        if self.ended:
            parts.append("solver ended")
        return ", ".join(parts)

    def data(self) -> dict[str, object]:
        """The progress as JSON-safe values (no NaN), for an event."""
        return {
            "time": self.time,
            "delta_t": self.delta_t,
            "residuals": dict(self.residuals),
            "courant_max": self.courant_max,
            "execution_seconds": self.execution_seconds,
            "ended": self.ended,
        }


def parse_progress(tail: str, *, cut: bool = False) -> SolverProgress:
    """The progress a log's end shows; `cut` says the text starts mid-file (its first line may be partial,
    and is dropped)."""
    lines = tail.splitlines()
    if cut and lines:
        lines = lines[1:]
    times: list[float] = []
    delta_t: float | None = None
    residuals: dict[str, float | None] = {}
    solved_in_step: set[str] = set()
    courant: float | None = None
    execution: float | None = None
    ended = False
    for line in lines:
        stripped = line.strip()
        if match := _TIME.match(stripped):
            times.append(_number(match.group(1)))
            solved_in_step = set()
        elif match := _DELTA_T.match(stripped):
            delta_t = _finite(_number(match.group(1)))
        elif match := _RESIDUAL.search(line):
            if match.group(1) not in solved_in_step:  # the PISO corrector solves p again: keep the first
                solved_in_step.add(match.group(1))
                residuals[match.group(1)] = _finite(_number(match.group(2)))
        elif match := _COURANT.search(line):
            courant = _finite(_number(match.group(2)))
        elif match := _EXECUTION.match(stripped):
            execution = _finite(_number(match.group(1)))
        elif stripped == "End" or any(marker in line for marker in _FATAL_MARKERS):
            ended = True
    if delta_t is None and len(times) >= 2 and math.isfinite(times[-1] - times[-2]):
        delta_t = round(times[-1] - times[-2], 12)
    return SolverProgress(
        time=_finite(times[-1]) if times else None,
        delta_t=delta_t,
        residuals=dict(sorted(residuals.items())),  # a stable order whatever the tail starts with
        courant_max=courant,
        execution_seconds=execution,
        ended=ended,
    )


def read_solver_progress(
    path: Path, *, within: Path | None = None, max_bytes: int = PROGRESS_TAIL_BYTES
) -> SolverProgress | None:
    """The progress of a running solver from the last `max_bytes` of its log; None while there is no log.

    Only the end is read, so a log of any size costs the same; no link below `within` is followed.

    Raises:
        UntrustedFileError: the log is a link, a special file or unreadable; its message says which.
    """
    try:
        data, cut = read_untrusted_path_tail(path, within=within, max_bytes=max_bytes)
    except UntrustedFileMissingError:
        return None
    return parse_progress(data.decode("utf-8", errors="replace"), cut=cut)
