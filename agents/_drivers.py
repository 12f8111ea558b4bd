"""How an experiment is executed, per workload.

A CFD experiment is one solver run, so the workload's own `run` is the whole story. A kernel or
proof experiment is a search (propose, evaluate, correct, repeat) whose proposer lives in
`agents/`: such workloads register a driver here that runs their loop with the run's LLM (or the
built-in policy) and returns the winner as the experiment's outcome, for the gates to judge.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from agents._context import RunContext
from runs import ExperimentSpec
from tools import ExperimentOutcome

ExperimentDriver = Callable[[RunContext, ExperimentSpec, Path], ExperimentOutcome]

_DRIVERS: dict[str, ExperimentDriver] = {}


def register_driver(workload: str, driver: ExperimentDriver) -> None:
    _DRIVERS[workload] = driver


def run_with_workload(context: RunContext, spec: ExperimentSpec, directory: Path) -> ExperimentOutcome:
    """The default driver: the workload executes the experiment itself."""
    return context.workload.run(context.task, spec, directory, context.sandbox_factory)


def driver_for(workload: str) -> ExperimentDriver:
    return _DRIVERS.get(workload, run_with_workload)
