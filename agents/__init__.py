"""The orchestrator: plans experiments, dispatches them to tools, applies gates, revises, writes up."""

from agents import (
    kernel_search,  # registers the kernels experiment driver
    proof_search,  # registers the `proofs` driver
)
from agents._context import ProgressReporter, RunCancelledError, RunContext, SilentReporter
from agents._drivers import ExperimentDriver, driver_for, register_driver, run_with_workload
from agents._graph import Orchestrator, RunState
from agents._markdown import render_markdown
from agents._policy import (
    BuiltinRevisionPolicy,
    JudgedExperiment,
    LLMRevisionPolicy,
    RevisionPolicy,
    policy_for,
    register_policy,
)
from agents._runner import (
    RunLauncher,
    RunOptions,
    RunStateError,
    RunSummary,
    VerdictSummary,
    process_alive_here,
    summarize,
)
from agents._writer import write_report
from agents.cfd_search import SearchRevisionPolicy, search_policy

register_policy("cfd", search_policy)

__all__ = [
    "BuiltinRevisionPolicy",
    "ExperimentDriver",
    "JudgedExperiment",
    "LLMRevisionPolicy",
    "Orchestrator",
    "ProgressReporter",
    "RevisionPolicy",
    "RunCancelledError",
    "RunContext",
    "RunLauncher",
    "RunOptions",
    "RunState",
    "RunStateError",
    "RunSummary",
    "SearchRevisionPolicy",
    "SilentReporter",
    "VerdictSummary",
    "driver_for",
    "kernel_search",
    "policy_for",
    "process_alive_here",
    "proof_search",
    "register_driver",
    "register_policy",
    "render_markdown",
    "run_with_workload",
    "summarize",
    "write_report",
]
