"""The orchestrator: plans experiments, dispatches them to tools, applies gates, revises, writes up.

Workloads plug their proposers in through the `labgate.proposers` entry-point group (see
`agents.Proposer`); experiments execute against `agents.Execution`, locally or on a Ray worker.
"""

from agents._context import ProgressReporter, RunCancelledError, RunContext, SilentReporter
from agents._execution import Execution
from agents._graph import Orchestrator, RunState
from agents._markdown import render_markdown
from agents._policy import (
    BuiltinRevisionPolicy,
    JudgedExperiment,
    LLMRevisionPolicy,
    RevisionPolicy,
    default_policy,
)
from agents._proposer import Proposer, policy_for, proposer_for
from agents._runner import (
    RunLauncher,
    RunOptions,
    RunStateError,
    RunSummary,
    process_alive_here,
    summarize,
)
from agents._writer import write_report
from agents.cfd_search import SearchRevisionPolicy

__all__ = [
    "BuiltinRevisionPolicy",
    "Execution",
    "JudgedExperiment",
    "LLMRevisionPolicy",
    "Orchestrator",
    "ProgressReporter",
    "Proposer",
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
    "default_policy",
    "policy_for",
    "process_alive_here",
    "proposer_for",
    "render_markdown",
    "summarize",
    "write_report",
]
