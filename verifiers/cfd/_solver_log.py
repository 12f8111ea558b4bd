"""The solver-log gate: did the solver run to its end time, without errors, and converge?"""

from __future__ import annotations

import math
import re
from pathlib import Path

from pydantic import Field

from runs import (
    Decision,
    GateResult,
    UntrustedFileError,
    UntrustedFileMissingError,
    read_untrusted_path_text,
    untrusted_listing,
)
from tools import ExperimentOutcome
from tools.cfd import (
    FoamParseError,
    RefusedOutputError,
    equation_relaxation,
    latest_time,
    read_solver_log,
    time_name_value,
)
from verifiers._gate import Gate, GateContext
from verifiers._options import GateOptions

_NUMERIC_TROUBLE = ("sigFpe", "nan", "Maximum number of iterations exceeded")


def disguised_times(case: Path) -> list[str]:
    """Directories of `case` that Python reads as a time but OpenFOAM does not ('1_000', ' 100', Arabic-Indic
    digits): the gates would judge the fields in one of them as the latest result while no solver wrote it."""
    found = []
    for name, kind in sorted(untrusted_listing(case).items()):
        try:
            value = float(name)
        except ValueError:
            continue
        if kind == "dir" and math.isfinite(value) and time_name_value(name) is None:
            found.append(name)
    return found


def _end_time(control_dict: str) -> float | None:
    match = re.search(r"^\s*endTime\s+([0-9.eE+-]+)\s*;", control_dict, re.MULTILINE)
    return float(match.group(1)) if match else None


def finished_run_problem(directory: Path, outcome: ExperimentOutcome) -> str | None:
    """Why the solver log of a run a gate made itself (a refined mesh, a held-out flow) shows no finished run:
    no log, a fatal error, non-finite residuals, the time limit, no final 'End'; None when it finished.
    How far its residuals fell is not judged here: the gate compares the run's answer, not its convergence."""
    log_rel = str(outcome.info.get("solver_log", ""))
    if not log_rel:
        return "none was recorded"
    try:
        log = read_solver_log(directory / log_rel, within=directory)
    except UntrustedFileError as error:
        return f"refused to read {log_rel}: {error.reason}"
    if log.n_lines == 0:
        return f"{log_rel} is missing or empty"
    if log.fatal:
        return f"the solver died: {log.fatal[0][:300]}"
    if log.non_finite:
        return "non-finite residuals or continuity errors: the solution diverged"
    if log.backwards:
        return f"the logged time does not increase ({log.backwards}): it holds more than one run"
    if any(step.get("timed_out") for step in outcome.info.get("steps", [])):
        return "the solver was killed at the experiment's time limit"
    if not log.ended:
        return "the log does not end with 'End': the solver stopped early"
    return None


DIVERGED_RATIO = 1e3
"""A continuity error or Courant number this many times its limit is no longer inaccuracy: the solution blew up."""
_DIVERGED = ": the solution diverged"

STALL_MIN_ITERATIONS = 200
"""Shorter histories are never called stalled: early iterations of a steady solver are noisy."""
_STALL_ADVICE = "refine or improve the mesh, change the numerics, or give the task a criterion this case can meet"


def _no_floor(field: str) -> float:
    return 0.0


def residual_stalled(values: list[float]) -> bool:
    """Whether a steady solver's residual stopped falling: its last quarter of iterations never got
    below half the lowest value of the quarter before. Doubling the iterations of such a run (the
    `rerun` remedy) only repeats the plateau, so the verdict must ask for a different change."""
    count = len(values)
    if count < STALL_MIN_ITERATIONS:
        return False
    quarter = count // 4
    before = min(values[-2 * quarter : -quarter])
    return min(values[-quarter:]) > 0.5 * before


class SolverLogOptions(GateOptions):
    continuity_max: float = Field(default=1e-3, gt=0, description="largest 'sum local' continuity error")
    residual_drop: float = Field(default=1e-3, gt=0, lt=1, description="last initial residual over its largest")
    residual_abs: float = Field(
        default=1e-5, gt=0, lt=1, description="an initial residual this small counts as converged anyway"
    )
    courant_max: float = Field(default=5.0, gt=0, description="largest Courant number of a transient solver")
    residual_ignore: list[str] = Field(
        default_factory=list,
        description="fields whose residual is meaningless for the case, e.g. p in a periodic channel where "
        "the pressure field itself is uniform and its normalised residual never falls",
    )


class SolverLogGate(Gate):
    """Checks an OpenFOAM solver log and the time directories it left behind.

    Options: see `SolverLogOptions`.
    A steady solver that stopped early because its residualControl was met has reached its end.
    """

    name = "solver-log"
    Options = SolverLogOptions
    options: SolverLogOptions

    def check(self, context: GateContext) -> GateResult:
        options = self.options
        log_rel = str(context.outcome.info.get("solver_log", ""))
        log_path = context.path(log_rel) if log_rel else None
        evidence = context.digests([log_rel]) if log_rel else []
        if log_path is None:
            return self.verdict("reject", ["no solver log at (none recorded)"], evidence=evidence)
        try:
            log = read_solver_log(log_path, within=context.directory)
        except UntrustedFileError as error:
            return self.verdict("reject", [f"refused to read the solver log {log_rel}: {error.reason}"])
        if log.n_lines == 0:
            return self.verdict("reject", [f"no solver log at {log_rel}"], evidence=evidence)
        reasons: list[str] = []
        decision: Decision = "accept"

        def worse(new: Decision, reason: str) -> None:
            nonlocal decision
            order = {"accept": 0, "rerun": 1, "revise": 2, "reject": 3}
            reasons.append(reason)
            if order[new] > order[decision]:
                decision = new

        if log.fatal:
            numeric = any(marker.lower() in " ".join(log.fatal).lower() for marker in _NUMERIC_TROUBLE)
            if numeric:
                where = f" at t = {log.last_time:g}" if log.last_time is not None else ""
                worse("rerun", f"the solver died of a floating-point exception{where}: the solution diverged")
            else:
                worse("revise", f"solver error: {log.fatal[0][:300]}")
        if log.non_finite:
            worse("rerun", "non-finite residuals or continuity errors: the solution diverged")
        if log.backwards:
            # Two runs' output, appended or interleaved: an 'End' or a final residual may be the other run's.
            worse("reject", f"the logged time does not increase ({log.backwards}): the log holds more than one run")
        timed_out = any(step.get("timed_out") for step in context.outcome.info.get("steps", []))
        if timed_out:
            worse("reject", "the solver was killed at the experiment's time limit")
        if not log.ended and not log.fatal and not timed_out:
            worse("rerun", "the log does not end with 'End': the solver stopped early")

        case = context.path("case")
        control = case / "system" / "controlDict"
        try:
            end_time = _end_time(read_untrusted_path_text(control, within=context.directory, max_bytes=1 << 20))
        except UntrustedFileMissingError:
            end_time = None
        except UntrustedFileError as error:
            return self.verdict("reject", [f"refused to read case/system/controlDict: {error.reason}"])
        try:
            latest = latest_time(case)
        except RefusedOutputError as error:
            return self.verdict("reject", [f"refused to list the time directories: {error}"], evidence=evidence)
        if disguised := disguised_times(case):
            shown = ", ".join(repr(name) for name in disguised[:5])
            return self.verdict(
                "reject", [f"directories named like a time OpenFOAM would not write: {shown}"], evidence=evidence
            )
        last_logged = log.last_time
        metrics: dict[str, float] = {"time_steps": float(len(log.times))}
        if last_logged is not None and not math.isfinite(last_logged):
            # 'inf < endTime' and 'nan < endTime' are false: such a time would pass for the end of the run.
            return self.verdict(
                "reject", [f"the log's last time is {last_logged}, not a finite number"], evidence=evidence
            )
        # The other gates read the latest time directory: one the solver never reached holds fields this run
        # did not compute. The solver names its time directories as it logs their times, so the two read the
        # same float: one a little beyond (`100.00001` after `Time = 100`) is no rounding of the last time.
        if latest is not None and last_logged is not None and latest[0] > last_logged:
            worse(
                "reject",
                f"time directory {latest[1].name} lies beyond the last time the solver logged "
                f"({last_logged:g}): this run did not write it",
            )
        if end_time is not None:
            metrics["end_time"] = end_time
            tolerance = 1e-6 * max(1.0, abs(end_time))
            if log.converged and log.ended and last_logged is not None:
                metrics["converged_at"] = last_logged
            elif last_logged is None or last_logged < end_time - tolerance:
                where = "names no time step" if last_logged is None else f"stops at t = {last_logged:g}"
                worse("rerun", f"the log {where} before endTime = {end_time:g}")
            # A log that claims it reached the end while the time directories stop short means the
            # history was cut after the run; a crashed run is already covered above.
            reached = last_logged if log.converged and last_logged is not None else end_time
            if log.ended and (latest is None or latest[0] < reached - tolerance):
                found = "none" if latest is None else f"{latest[0]:g}"
                worse(
                    "reject",
                    f"the last time directory is {found}, not the final time {reached:g}: history truncated",
                )

        steady = not log.courant_max  # a steady solver logs no Courant numbers
        if log.continuity:
            worst = max(value if math.isfinite(value) else math.inf for value in log.continuity)
            metrics["continuity_max"] = worst
            limit = options.continuity_max
            # A steady solver's pseudo time step is 1, so its early continuity errors are large by
            # construction; what must be small is the error of the converged state.
            # Its size also scales with that pseudo time step, so a drop by `residual_drop` from the
            # peak counts as converged as well.
            judged = log.continuity[-1] if steady else worst
            settled = steady and judged <= worst * options.residual_drop
            if steady:
                metrics["continuity_final"] = judged
            if not math.isfinite(judged) or (judged > limit and not settled):
                which = "final continuity error" if steady else "continuity error"
                blown = not math.isfinite(judged) or judged > DIVERGED_RATIO * limit
                worse("rerun", f"{which} reached {judged:.3g} (limit {limit:g})" + (_DIVERGED if blown else ""))
        if log.courant_max:
            courant = max(value if math.isfinite(value) else math.inf for value in log.courant_max)
            metrics["courant_max"] = courant
            limit = options.courant_max
            if courant > limit:
                blown = courant > DIVERGED_RATIO * limit
                worse("rerun", f"Courant number reached {courant:.3g} (limit {limit:g})" + (_DIVERGED if blown else ""))

        ignored = set(options.residual_ignore)
        drop = options.residual_drop
        try:
            relaxation = equation_relaxation(case / "system" / "fvSolution", within=context.directory)
        except FoamParseError as error:
            # Without the factors, a small residual may be a relaxed one: only the drop counts.
            relaxation = _no_floor
            reasons.append(f"relaxation factors unreadable ({error}): residuals judged by their drop alone")
        if not log.residuals and not log.fatal:
            worse("reject", "the log records no linear-solver residuals")
        for field_name, history in sorted(log.residuals.items()):
            if field_name in ignored:
                continue
            values = [value for _, value in history if math.isfinite(value)]
            if not values:
                continue
            first_peak, last = max(values), values[-1]
            metrics[f"residual_{field_name}_final"] = last
            # A relaxed equation's residual reads about its factor times the unrelaxed one (`equation_relaxation`);
            # the drop, a ratio of two such residuals, needs no correction.
            floor = options.residual_abs * relaxation(field_name)
            if last > floor and last > drop * first_peak:
                shortfall = f"{field_name} residual fell only to {last:.3g} from {first_peak:.3g} (needs {drop:g}x)"
                if steady and residual_stalled(values):
                    worse("revise", f"{shortfall} and stalled: more iterations will not help; {_STALL_ADVICE}")
                else:
                    worse("rerun", shortfall)

        if decision == "accept":
            reasons.append(f"solver reached endTime in {len(log.times)} steps; residuals fell; continuity bounded")
        # What labgate left out of a user's case (their function objects, libs): said, never run.
        reasons += [f"not run from the case: {note}" for note in context.outcome.info.get("not_run", [])]
        return self.verdict(decision, reasons, evidence=evidence, metrics=metrics)
